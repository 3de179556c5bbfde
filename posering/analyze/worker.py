"""The Ray side of analysis: model replicas as actors, and a shared frame counter.

A :class:`PoseWorker` loads the model once in ``__init__`` and then analyses whatever shards it is
handed (Ray's batch-inference pattern). Actors are created with ``max_restarts`` and
``max_task_retries``: if a worker process dies mid-shard, Ray starts a new one and retries the
call, and because parts are written atomically and checked before work starts, only the shards
without a part are redone.
"""

from __future__ import annotations

import os
import resource

import ray

from posering import storage
from posering.analyze.engine import InferenceEngine
from posering.analyze.predictor import load_predictor, set_threads
from posering.analyze.settings import AnalysisSettings
from posering.analyze.shards import Shard
from posering.errors import PoseringError


@ray.remote(num_cpus=0)
class FrameCounter:
    """Frames analysed so far, summed over workers (the driver's progress bar polls it)."""

    def __init__(self):
        self.frames = 0

    def add(self, frames: int) -> None:
        self.frames += frames

    def total(self) -> int:
        return self.frames


class PoseWorker:
    """One model replica. Wrapped with ``ray.remote`` by the runner (resources set there)."""

    def __init__(self, model_ref, settings: AnalysisSettings, device: str | None, threads: int | None,
                 counter_name: str | None = None):
        set_threads(threads)
        self.predictor, num_keypoints = load_predictor(model_ref, device, settings.precision,
                                                         crops=settings.dynamic.enabled)
        # The counter is found by name, not passed as a handle: Ray keeps a handle argument in
        # its object store, and a restarted actor whose constructor argument is gone cannot
        # start again (ray-project/ray#53727).
        self.counter = ray.get_actor(counter_name) if counter_name else None
        self.engine = InferenceEngine(self.predictor, num_keypoints, settings, self._count)

    def _count(self, frames: int) -> None:
        if self.counter is not None:
            self.counter.add.remote(frames)

    def pid(self) -> int:
        return os.getpid()

    def run(self, shards: list[Shard]) -> dict:
        """Analyse the shards that have no part yet. Errors in a video are returned, not raised,
        so the other videos carry on."""
        todo = [s for s in shards if not storage.exists(s.part)]
        try:
            self.engine.run(todo)
        except PoseringError as exc:
            return {"video": shards[0].video, "error": str(exc)}
        except Exception as exc:  # a decoder crash on a corrupt file, say: report it by video
            return {"video": shards[0].video, "error": f"{type(exc).__name__}: {exc}"}
        node = ray.get_runtime_context().get_node_id()
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return {"video": shards[0].video, "error": None, "shards": len(todo), "node": node,
                "peak_rss_mb": peak_mb, "rss_mb": resident_mb()}


def resident_mb(pid: int | str = "self") -> float | None:
    """A process's resident memory now, in MiB (Linux; None elsewhere or once it has ended)."""
    try:
        with open(f"/proc/{pid}/statm") as statm:
            resident_pages = int(statm.read().split()[1])
    except (OSError, IndexError, ValueError):
        return None
    return resident_pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def remote_worker_class(num_cpus: float, num_gpus: float, max_restarts: int = 3):
    return ray.remote(num_cpus=num_cpus, num_gpus=num_gpus, max_restarts=max_restarts,
                      max_task_retries=max_restarts)(PoseWorker)
