"""Inside a Ray Train worker: the same ``run_training`` as a single process, plus three hooks.

* :class:`DataParallel`: wraps the model in DDP (``ray.train.torch.prepare_model``), gives each
  worker its share of the frames (torch's ``DistributedSampler``, a new order each epoch), and
  shares rank 0's clock so a time budget ends every worker at the same step.
* :class:`RayReporter`: ``ray.train.report`` at the epochs that saved a snapshot or evaluated,
  with the test metrics (Ray Tune's early stopping reads them) and, when rank 0 just wrote a
  regular snapshot, a Ray Train checkpoint that names it.
* the restart: after a worker dies, Ray Train starts the workers again and training continues
  from the newest intact snapshot of this run: the one ``ray.train.get_checkpoint()`` names, or
  a newer one whose report had not reached Ray's controller when the worker died (the controller
  polls workers, so a report can be a second or two behind the file). A worker knows it is a
  restart from Ray's checkpoint or, before Ray has any, from the marker it left in the run's
  folder when it first started.

A Ray Train checkpoint here is a small ``snapshot.json`` (the snapshot's location and epoch),
not a second copy of the weights: the snapshot itself is written once, by the same recorder as
the single-process path, into the project's ``train/`` folder (local or s3).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
import time

import torch
from torch.utils.data import DataLoader
from torch.utils.data.distributed import DistributedSampler

from posering import storage
from posering.train.loop import EpochEnd, Hooks
from posering.train.shuffle_run import TrainingPlan, TrainingRun, run_training
from posering.formats.snapshots import latest_resumable, snapshot_files
from posering.project.paths import RAY_CHECKPOINT_POINTER, RAY_WORKER_STARTED

log = logging.getLogger("posering.train")

class DataParallel(Hooks):
    """DDP for one of ``world_size`` workers; nothing changes when there is one."""

    def __init__(self, rank: int, world_size: int, seed: int):
        self.rank, self.world_size, self.seed = rank, world_size, seed
        self.sampler: DistributedSampler | None = None

    def prepare_model(self, model):
        if self.world_size == 1:
            return model
        import ray.train.torch

        return ray.train.torch.prepare_model(model, move_to_device=False)

    def prepare_loader(self, loader: DataLoader) -> DataLoader:
        """The loader rebuilt over this worker's share of the frames.

        Built here rather than by ``ray.train.torch.prepare_data_loader``, which drops the
        loader's persistent workers and prefetching (what keeps a GPU fed) and seeds nothing.
        """
        if self.world_size == 1:
            return loader
        share = len(loader.dataset) // self.world_size
        self.sampler = DistributedSampler(loader.dataset, num_replicas=self.world_size, rank=self.rank,
                                          shuffle=True, seed=self.seed, drop_last=True)
        workers = loader.num_workers
        return DataLoader(loader.dataset, batch_size=loader.batch_size, sampler=self.sampler, num_workers=workers,
                          collate_fn=loader.collate_fn, pin_memory=loader.pin_memory,
                          drop_last=share > loader.batch_size, persistent_workers=workers > 0,
                          prefetch_factor=loader.prefetch_factor if workers else None)

    def start(self, total_iterations: int, first_epoch: int, epochs: int) -> None:
        if self.sampler is not None:
            self.sampler.set_epoch(first_epoch)

    def epoch_end(self, end: EpochEnd) -> None:
        if self.sampler is not None:
            self.sampler.set_epoch(end.epoch + 1)

    def clock(self, seconds: float) -> float:
        """Rank 0's seconds, on every worker (one tiny broadcast per step)."""
        if self.world_size == 1:
            return seconds
        import torch.distributed as dist

        device = "cuda" if dist.get_backend() == "nccl" else "cpu"
        value = torch.tensor([seconds], dtype=torch.float64, device=device)
        dist.broadcast(value, src=0)
        return float(value.item())


class RayReporter(Hooks):
    """``ray.train.report`` at the epochs every worker agrees on: a snapshot was due or the
    test set was evaluated (every worker must report equally often)."""

    def __init__(self, run: TrainingRun, rank: int):
        self.run = run
        self.rank = rank
        self.save_epochs = int(((run.plan.model_cfg.get("runner") or {}).get("snapshots") or {}).get("save_epochs") or 25)
        self.started = time.perf_counter()
        self.known: dict[str, float] = {}
        self.reported: set[str] = set()

    def epoch_end(self, end: EpochEnd) -> None:
        import ray.train

        self.known.update({k.replace(".", "_"): float(v) for k, v in end.metrics.items() if k.startswith("test.")})
        if not (end.last or end.epoch % self.save_epochs == 0 or self.run.evaluated(end.epoch, end.last)):
            return
        budget = self.run.budget
        seconds = budget.elapsed if budget is not None else time.perf_counter() - self.started
        metrics = {"shuffle": self.run.plan.shuffle, "epoch": end.epoch, "iteration": end.iteration,
                   "minutes": seconds / 60.0, "train_loss": end.losses.get("total_loss", float("nan")),
                   "lr": end.lr, **self.known}
        snapshot = self._new_snapshot()
        if snapshot is None:
            ray.train.report(metrics)
            return
        with tempfile.TemporaryDirectory() as folder:
            with open(os.path.join(folder, RAY_CHECKPOINT_POINTER), "w") as handle:
                json.dump({"snapshot": snapshot.location, "epoch": snapshot.epoch}, handle)
            ray.train.report(metrics, checkpoint=ray.train.Checkpoint.from_directory(folder))

    def _new_snapshot(self):
        """The regular snapshot rank 0 wrote since the last report, if any."""
        recorder = self.run.recorder
        if recorder is None:
            return None
        fresh = [s for s in snapshot_files(self.run.plan.train_dir)
                 if not s.best and s.location in recorder.saved and s.location not in self.reported]
        if not fresh:
            return None
        latest = max(fresh, key=lambda s: s.epoch)
        self.reported.add(latest.location)
        return latest


class RayBar:
    """The recorder's progress bar in a Ray worker, drawn in the driver's terminal by Ray
    (``ray.experimental.tqdm_ray``, which knows a subset of tqdm: the loss goes into the
    description)."""

    def __init__(self, shuffle: int):
        self.shuffle = shuffle

    def __call__(self, total=None, desc="", unit="it", initial=0, **_ignored):
        from ray.experimental.tqdm_ray import tqdm

        self.bar = tqdm(total=total, desc=f"shuffle {self.shuffle} {desc}", unit=unit)
        self.desc, self.postfix = desc, ""
        if initial:
            self.bar.update(initial)
        return self

    @property
    def n(self) -> int:
        return self.bar.n

    @property
    def total(self) -> int:
        return self.bar.total

    def update(self, n: int = 1) -> None:
        self.bar.update(n)

    def set_postfix(self, refresh: bool = False, **values) -> None:
        self.postfix = " ".join(f"{k} {v}" for k, v in values.items())

    def set_description(self, desc: str, refresh: bool = False) -> None:
        if desc != self.desc:
            self.desc = desc
            self.bar.set_description(f"shuffle {self.shuffle} {desc} {self.postfix}".rstrip())

    def close(self) -> None:
        self.bar.close()
        sys.stdout.flush()  # the closing state must reach the driver before Ray ends this worker


def _log_to_stderr(shuffle: int, rank: int) -> None:
    """posering's log lines reach the driver (Ray forwards workers' output), named by shuffle;
    rank 0 speaks for all workers, the others only warn.

    They stop at this handler: Ray's own handler on the root logger would print them again."""
    logger = logging.getLogger("posering")
    logger.propagate = False
    if rank > 0:
        logger.setLevel(logging.WARNING)
    if not any(getattr(h, "posering_worker", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.posering_worker = True
        handler.setFormatter(logging.Formatter(f"shuffle {shuffle}: %(message)s"))
        logger.addHandler(handler)


def restart_point(plan: TrainingPlan, rank: int, run_folder: str) -> tuple[str | None, bool]:
    """``(snapshot to continue from, restarted)`` for this worker of the run in ``run_folder``.

    A restart is known by Ray's checkpoint or, before Ray has one, by the marker a first start
    leaves in the run's folder. It continues from the newest regular snapshot in train/: a fresh
    run moved earlier ones aside when it was planned, so all are this run's (or the one it
    resumes), and none is older than the one Ray's checkpoint names, which rank 0 wrote there.
    """
    import ray.train

    marker = storage.join(run_folder, RAY_WORKER_STARTED.format(rank=rank))
    if ray.train.get_checkpoint() is None and not storage.exists(marker):
        storage.write_text(marker, f"pid {os.getpid()} at {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
        return None, False
    newest = latest_resumable(plan.train_dir)
    where = (f"epoch {newest.epoch} ({newest.location})" if newest is not None
             else "the start (no snapshot was written)")  # died before its first snapshot
    plan.notes.append(f"Ray Train restarted the workers after a failure: continuing from {where}")
    return (newest.location if newest is not None else None), True


def train_worker(settings: dict) -> None:
    """The function each Ray Train worker runs (``train_loop_per_worker``)."""
    import ray.train
    import ray.train.torch
    import ray.util

    os.environ.update(settings.get("env") or {})  # storage settings of the driver (s3 endpoint, ...)
    plan: TrainingPlan = settings["plan"]
    context = ray.train.get_context()
    rank, world_size = context.get_world_rank(), context.get_world_size()
    torch.set_num_threads(int(settings.get("threads") or 1))
    _log_to_stderr(plan.shuffle, rank)
    plan.notes.append(f"Ray Train worker {rank} of {world_size}: pid {os.getpid()} on node "
                      f"{ray.util.get_node_ip_address()}, {settings.get('threads')} thread(s)")
    start, restarted = restart_point(plan, rank, settings["run_folder"])
    seed = int((plan.model_cfg.get("train_settings") or {}).get("seed") or 42)
    parallel = DataParallel(rank, world_size, seed)
    run_training(plan, device=ray.train.torch.get_device(), start=start, restarted=restarted, rank=rank,
                 world_size=world_size, batch_size=settings.get("batch_size"), front=parallel,
                 sync=parallel.clock if world_size > 1 else None,
                 back=lambda run: RayReporter(run, rank), progress=rank == 0, bar=RayBar(plan.shuffle))
