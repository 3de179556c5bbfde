"""Driving an analysis: shards to workers, progress over frames, outputs assembled per video.

Distribution uses Ray's own pieces: a pool of model-replica actors (:class:`ray.util.ActorPool`)
takes work units (a shard, or a lockstep group of shards for dynamic cropping), Ray restarts dead
workers and retries their calls. ``num_workers=0`` runs the very same engine in this process,
without Ray.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field

from tqdm.auto import tqdm

from posering.analyze.engine import InferenceEngine, _groups
from posering.analyze.predictor import load_predictor, set_threads
from posering.analyze.settings import AnalysisSettings
from posering.analyze.shards import Shard
from posering.project.models import ModelRef

log = logging.getLogger("posering.analyze")


@dataclass
class Resources:
    """Where workers run: how many, and what each one holds."""

    num_workers: int = 1
    cpus_per_worker: float = 1.0
    gpus_per_worker: float = 0.0
    threads_per_worker: int | None = None
    device: str | None = "auto"
    address: str | None = None


@dataclass
class RunReport:
    failures: dict[str, str] = field(default_factory=dict)
    nodes: set[str] = field(default_factory=set)  # Ray node ids that analysed shards
    worker_peak_rss_mb: float = 0.0  # the largest resident memory of any worker
    # each video's work units, in the order they finished: the resident memory of the worker
    # that had just analysed it (flat over a long video: workers do not grow with its length)
    worker_rss_mb: dict[str, list[float]] = field(default_factory=dict)
    frames: int = 0
    seconds: float = 0.0


def work_units(shards: list[Shard], settings: AnalysisSettings) -> list[list[Shard]]:
    if settings.dynamic.enabled:
        return _groups(shards, settings.batch_size)
    return [[shard] for shard in shards]


def run_in_process(model_ref: ModelRef, settings: AnalysisSettings, shards: list[Shard],
                   resources: Resources, total_frames: int) -> RunReport:
    set_threads(resources.threads_per_worker)
    predictor, num_keypoints = load_predictor(model_ref, resources.device, settings.precision,
                                                  crops=settings.dynamic.enabled)
    report = RunReport()
    started = time.perf_counter()
    with (tqdm(total=total_frames, unit="frame", desc="analyzing", smoothing=0.1) as bar,
          InferenceEngine(predictor, num_keypoints, settings, bar.update) as engine):
        for unit in work_units(shards, settings):
            try:
                engine.run(unit)
            except Exception as exc:  # one bad video must not stop the others
                report.failures[unit[0].video] = f"{type(exc).__name__}: {exc}"
    report.frames, report.seconds = total_frames, time.perf_counter() - started
    return report


def run_on_ray(model_ref: ModelRef, settings: AnalysisSettings, shards: list[Shard],
               resources: Resources, total_frames: int) -> RunReport:
    from ray.util import ActorPool

    from posering.analyze.worker import FrameCounter, remote_worker_class
    from posering.ray_utils import ensure_ray, task_options

    ray = ensure_ray(resources.address)
    units = work_units(shards, settings)
    worker_class = remote_worker_class(resources.cpus_per_worker, resources.gpus_per_worker)
    # Named actors, so operators (and tests) can find a run's workers: posering-analyze-<run>-<i>.
    run_id = uuid.uuid4().hex[:8]
    counter_name = f"posering-frames-{run_id}"
    counter = FrameCounter.options(name=counter_name).remote()
    workers = [worker_class.options(name=f"posering-analyze-{run_id}-{i}", **task_options())
               .remote(model_ref, settings, resources.device, resources.threads_per_worker, counter_name)
               for i in range(max(1, min(resources.num_workers, len(units))))]
    pool = ActorPool(workers)
    for unit in units:
        pool.submit(lambda actor, u: actor.run.remote(u), unit)
    report = RunReport()
    started = time.perf_counter()
    with tqdm(total=total_frames, unit="frame", desc="analyzing", smoothing=0.1) as bar:
        while pool.has_next():
            try:
                result = pool.get_next_unordered(timeout=0.5)
            except TimeoutError:
                result = None
            except Exception as exc:  # a worker that died beyond its retries
                log.error("a worker failed: %s", exc)
                continue
            finally:
                done = ray.get(counter.total.remote())
                if done != bar.n:  # redraw only on progress: logs stay readable
                    bar.update(done - bar.n)
            if result and result["error"]:
                report.failures[result["video"]] = result["error"]
            elif result:
                report.nodes.add(result["node"])
                report.worker_peak_rss_mb = max(report.worker_peak_rss_mb, result["peak_rss_mb"])
                if result.get("rss_mb") is not None:
                    report.worker_rss_mb.setdefault(result["video"], []).append(result["rss_mb"])
        bar.update(ray.get(counter.total.remote()) - bar.n)
    for actor in [*workers, counter]:
        ray.kill(actor)
    report.frames, report.seconds = total_frames, time.perf_counter() - started
    return report
