"""A model replica (:class:`PoseWorker`) and the progress it reports (:class:`ShardProgress`).

A :class:`PoseWorker` loads the model once in ``__init__`` and then analyses whatever shards it is
handed (Ray's batch-inference pattern). The same class runs in this process (``num_workers=0``)
or as a Ray actor: :func:`remote_worker_class` wraps it with ``max_restarts`` and
``max_task_retries``, so if a worker process dies mid-shard Ray starts a new one and retries the
call; because parts are written atomically and checked before work starts, only the shards
without a part are redone. This module does not import Ray unless an actor is made.
"""

from __future__ import annotations

import os
import resource
import sys
import time

from posering import storage
from posering.analyze.engine import InferenceEngine
from posering.analyze.predictor import load_predictors, set_threads
from posering.analyze.settings import AnalysisSettings
from posering.analyze.shards import Shard, unit_key


class ShardProgress:
    """Frames analysed so far, counted per shard, each frame once.

    Workers report, per shard, how many of its frames they have analysed in this attempt; a
    shard analysed again (its worker died and Ray retried the call) counts up to its length
    again, never past it, so the total never exceeds the frames planned. The Ray path runs one
    as an actor that the driver's progress bar polls; in this process ``on_total`` moves the bar.

    It also counts how often each work unit was started: Ray retries a unit whose worker died on
    a restarted worker without telling the caller, so the run report learns its retries here.
    """

    def __init__(self, on_total=None):
        self.frames: dict[str, int] = {}
        self.on_total = on_total
        self.starts: dict[str, int] = {}

    def started(self, unit: str) -> None:
        self.starts[unit] = self.starts.get(unit, 0) + 1

    def attempts(self) -> dict[str, int]:
        return dict(self.starts)

    def update(self, counts: dict[str, int]) -> None:
        for shard, frames in counts.items():
            self.frames[shard] = max(self.frames.get(shard, 0), frames)
        if self.on_total is not None:
            self.on_total(self.total())

    def total(self) -> int:
        return sum(self.frames.values())


class PoseWorker:
    """One model replica: the model loaded once, an engine that lives as long as the worker.

    ``progress``: a :class:`ShardProgress` in this process, or the name of a Ray actor holding
    one. A name, not a handle: Ray keeps a handle argument in its object store, and a restarted
    actor whose constructor argument is gone cannot start again (ray-project/ray#53727).
    """

    def __init__(self, model_ref, settings: AnalysisSettings, device: str | None, threads: int | None,
                 progress: ShardProgress | str | None = None):
        set_threads(threads)
        self.predictors = load_predictors(model_ref, device, settings.precision, dynamic=settings.dynamic.enabled)
        self._wait = lambda pending: None
        self._started = None
        if isinstance(progress, str):
            import ray

            actor = ray.get_actor(progress)
            self._report, self._started, self._wait = actor.update.remote, actor.started.remote, ray.get
        elif progress is not None:
            self._report, self._started = progress.update, progress.started
        else:
            self._report = None
        self._done: dict[str, int] = {}
        self.engine = InferenceEngine(self.predictors.full, self.predictors.num_keypoints, settings, self._count,
                                      crop_predictor=self.predictors.crops)

    def _count(self, counts: dict[Shard, int]) -> None:
        for shard, frames in counts.items():
            self._done[shard.part] = self._done.get(shard.part, 0) + frames
        if self._report is not None:
            self._report({shard.part: self._done[shard.part] for shard in counts})

    def pid(self) -> int:
        return os.getpid()

    def close(self) -> None:
        self.engine.close()

    def run(self, shards: list[Shard]) -> dict:
        """Analyse the shards that have no part yet. An error is returned with the frames it
        concerns, not raised, so the other shards and videos carry on."""
        key = unit_key(shards)
        if self._started is not None:
            self._started(key)
        todo = [s for s in shards if not storage.exists(s.part)]
        self._done = {}
        node, node_ip = _node()
        result = {"video": shards[0].video, "key": key, "errors": [], "shards": len(todo), "node": node,
                  "node_ip": node_ip, "first_frame": shards[0].start, "frames": sum(len(s) for s in todo),
                  "started": time.time()}
        try:
            self.engine.run(todo)
        except Exception as exc:  # a decoder crash on a corrupt file, say: reported by video
            from posering.ray_utils import Failure

            first, last = min(s.start for s in todo), max(s.stop for s in todo)
            result["errors"].append(f"frames {first}-{last - 1}: {Failure.of(exc).message}")
        if self._report is not None and self._done:
            # Wait for this one: the driver's next look at the progress sees all of this unit.
            self._wait(self._report(dict(self._done)))
        result["finished"] = time.time()
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        result["rss_mb"] = resident_mb()
        return result


def _node() -> tuple[str, str]:
    """The Ray node this worker runs on and its IP ("local" in a process without Ray)."""
    ray = sys.modules.get("ray")
    if ray is None or not ray.is_initialized():
        return "local", "local"
    return ray.get_runtime_context().get_node_id(), ray.util.get_node_ip_address()


def resident_mb(pid: int | str = "self") -> float | None:
    """A process's resident memory now, in MiB (Linux; None elsewhere or once it has ended)."""
    try:
        with open(f"/proc/{pid}/statm") as statm:
            resident_pages = int(statm.read().split()[1])
    except (OSError, IndexError, ValueError):
        return None
    return resident_pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def remote_worker_class(num_cpus: float, num_gpus: float, max_restarts: int = 3):
    import ray

    return ray.remote(num_cpus=num_cpus, num_gpus=num_gpus, max_restarts=max_restarts,
                      max_task_retries=max_restarts)(PoseWorker)


def remote_progress_class():
    import ray

    return ray.remote(num_cpus=0)(ShardProgress)
