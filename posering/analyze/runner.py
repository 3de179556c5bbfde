"""Driving an analysis: work units to model-replica workers, progress over frames.

One loop drives both paths; where the workers run is configuration. ``num_workers >= 1``: a pool
of :class:`~posering.analyze.worker.PoseWorker` actors (:class:`ray.util.ActorPool`) takes work
units (a shard, or a lockstep group of shards for dynamic cropping), and Ray restarts dead
workers and retries their calls. ``num_workers=0``: one PoseWorker in this process takes the
same units one after another, without Ray. A unit lost with a worker node beyond Ray's own
retries (Ray says the call "may or may not have been executed") is run again, up to ``ROUNDS``
passes: its finished shards have parts and are skipped. Before each new pass the driver waits
until Ray has restarted the lost node's workers (it takes Ray some seconds to declare a node
dead; calls to its workers meanwhile fail at once), and a unit still lost after the last pass
fails its video with a message that says so.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field

from tqdm.auto import tqdm

from posering.analyze.engine import _groups
from posering.analyze.settings import AnalysisSettings
from posering.analyze.shards import Shard, unit_key
from posering.analyze.worker import PoseWorker, ShardProgress
from posering.project.models import ModelRef
from posering.ray_utils import Resources

log = logging.getLogger("posering.analyze")
# Passes over the work units: units lost with a worker node beyond Ray's own retries run again.
ROUNDS = 3
# How long, before a new pass, to wait for Ray to restart the workers of a lost node.
RESTART_WAIT_S = 120.0


@dataclass
class RunReport:
    # per video, every error of its shards ("frames 250-499: ..."), in the order they came
    failures: dict[str, list[str]] = field(default_factory=dict)
    nodes: set[str] = field(default_factory=set)  # Ray node ids that analysed shards
    worker_peak_rss_mb: float = 0.0  # the largest resident memory of any worker
    # each video's work units, in the order they finished: the resident memory of the worker
    # that had just analysed it (flat over a long video: workers do not grow with its length)
    worker_rss_mb: dict[str, list[float]] = field(default_factory=dict)
    # one record per work unit analysed: video, frames, node, node_ip, started, finished (epoch
    # seconds on the worker) and attempts (more than 1 when Ray retried it on a restarted worker)
    units: list[dict] = field(default_factory=list)
    frames: int = 0
    seconds: float = 0.0

    def add(self, result: dict) -> None:
        video = result["video"]
        if result["errors"]:
            self.failures.setdefault(video, []).extend(result["errors"])
        if result.get("node"):
            self.nodes.add(result["node"])
        self.worker_peak_rss_mb = max(self.worker_peak_rss_mb, result["peak_rss_mb"])
        if result.get("rss_mb") is not None:
            self.worker_rss_mb.setdefault(video, []).append(result["rss_mb"])
        if not result["errors"]:
            unit = {key: result[key] for key in
                    ("video", "key", "first_frame", "frames", "node", "node_ip", "started", "finished")}
            self.units.append({**unit, "attempts": 1})


def work_units(shards: list[Shard], settings: AnalysisSettings) -> list[list[Shard]]:
    if settings.dynamic.enabled:
        return _groups(shards, settings.batch_size)
    return [[shard] for shard in shards]


def run_shards(model_ref: ModelRef, settings: AnalysisSettings, shards: list[Shard],
               resources: Resources, total_frames: int) -> RunReport:
    """Analyse every shard into its part file; per video, the errors of shards that failed."""
    units = work_units(shards, settings)
    report = RunReport()
    started = time.perf_counter()
    with tqdm(total=total_frames, unit="frame", desc="analyzing", smoothing=0.1) as bar:
        def show(done: int) -> None:
            if done != bar.n:  # redraw only on progress: logs stay readable
                bar.update(done - bar.n)

        if resources.num_workers == 0:
            workers = _LocalWorkers(model_ref, settings, resources, show)
        else:
            workers = _RayWorkers(model_ref, settings, resources, len(units))
        try:
            pending = units
            for round_ in range(ROUNDS):
                if round_:
                    log.warning("%d work units were lost with their workers: running them again once Ray has "
                                "restarted the workers", len(pending))
                    workers.wait_until_answering(RESTART_WAIT_S)
                for unit in pending:
                    workers.submit(unit)
                answered = _collect(workers, report, show)
                pending = [unit for unit in pending if unit_key(unit) not in answered]
                if not pending:
                    break
            for unit in pending:
                for shard in unit:
                    report.failures.setdefault(shard.video, []).append(
                        f"frames {shard.start}-{shard.stop - 1}: lost with their worker {ROUNDS} times; "
                        "analyze again to retry them (finished shards are kept)")
            attempts = workers.attempts()
            for unit in report.units:
                unit["attempts"] = attempts.get(unit["key"], 1)
        finally:
            workers.close()
    report.frames, report.seconds = total_frames, time.perf_counter() - started
    return report


def _collect(workers, report: RunReport, show) -> set[str]:
    """Results of every unit submitted, into ``report``; the keys of the units that answered. A
    call can fail beyond Ray's retries when its worker's node is lost: that unit is missing from
    the answer, and the caller runs it again."""
    answered: set[str] = set()
    while workers.has_next():
        try:
            result = workers.get_next_unordered(timeout=0.5)
        except TimeoutError:
            result = None
        except Exception as exc:  # a worker that died beyond its retries
            log.error("a worker failed: %s", exc)
            result = None
        show(workers.frames_done())
        if result is not None:
            answered.add(result["key"])
            report.add(result)
    return answered


class _LocalWorkers:
    """One PoseWorker in this process, taking the units one after another."""

    def __init__(self, model_ref: ModelRef, settings: AnalysisSettings, resources: Resources, show):
        self.progress = ShardProgress(on_total=show)
        self.worker = PoseWorker(model_ref, settings, resources.device, resources.threads_per_worker,
                                 self.progress)
        self.units: list[list[Shard]] = []

    def submit(self, unit: list[Shard]) -> None:
        self.units.append(unit)

    def has_next(self) -> bool:
        return bool(self.units)

    def get_next_unordered(self, timeout: float | None = None) -> dict:
        return self.worker.run(self.units.pop(0))

    def frames_done(self) -> int:
        return self.progress.total()

    def attempts(self) -> dict[str, int]:
        return self.progress.attempts()

    def wait_until_answering(self, timeout: float) -> None:
        pass  # one worker in this process: nothing to restart

    def close(self) -> None:
        self.worker.close()


class _RayWorkers:
    """PoseWorker actors in an ActorPool, and a ShardProgress actor they report to."""

    def __init__(self, model_ref: ModelRef, settings: AnalysisSettings, resources: Resources, units: int):
        from ray.util import ActorPool
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        from posering.analyze.worker import remote_progress_class, remote_worker_class
        from posering.ray_utils import ensure_ray, task_options

        self.ray = ensure_ray(resources.address)
        # Named actors, so operators (and tests) can find a run's workers: posering-analyze-<run>-<i>.
        run_id = uuid.uuid4().hex[:8]
        progress_name = f"posering-frames-{run_id}"
        # The counter lives on the driver's node (a head, on a cluster): on a worker node it would
        # die with that node, and the run with it, while the workers are restarted elsewhere.
        here = NodeAffinitySchedulingStrategy(self.ray.get_runtime_context().get_node_id(), soft=False)
        self.progress = remote_progress_class().options(name=progress_name, scheduling_strategy=here).remote()
        worker_class = remote_worker_class(resources.cpus_per_worker, resources.gpus_per_worker)
        self.workers = [worker_class.options(name=f"posering-analyze-{run_id}-{i}", **task_options())
                        .remote(model_ref, settings, resources.device, resources.threads_per_worker, progress_name)
                        for i in range(max(1, min(resources.num_workers, units)))]
        self.pool = ActorPool(self.workers)

    def submit(self, unit: list[Shard]) -> None:
        self.pool.submit(lambda actor, u: actor.run.remote(u), unit)

    def has_next(self) -> bool:
        return self.pool.has_next()

    def get_next_unordered(self, timeout: float | None = None) -> dict:
        return self.pool.get_next_unordered(timeout=timeout)

    def frames_done(self) -> int:
        return self.ray.get(self.progress.total.remote())

    def attempts(self) -> dict[str, int]:
        return self.ray.get(self.progress.attempts.remote())

    def wait_until_answering(self, timeout: float) -> None:
        """Wait until every worker answers a call (Ray has restarted those of a lost node), at
        most ``timeout`` seconds; then the caller tries anyway."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            try:
                self.ray.get([worker.pid.remote() for worker in self.workers], timeout=max(left, 0.1))
                return
            except Exception as exc:  # unavailable until Ray declares the node dead and restarts them
                if time.monotonic() + 2.0 >= deadline:
                    log.warning("workers still not answering after %.0f s (%s); trying anyway", timeout,
                                str(exc).splitlines()[0][:200])
                    return
                time.sleep(2.0)

    def close(self) -> None:
        for actor in [*self.workers, self.progress]:
            self.ray.kill(actor)
