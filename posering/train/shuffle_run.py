"""One shuffle's training run, in two halves: planned once, run wherever the work happens.

``plan_training`` runs where the user called ``train_network`` (the driver): it reads the model
folder that ``create_training_dataset`` made, writes the options into its pytorch_config.yaml
(as DeepLabCut does, so the file always says how the model was trained), picks the snapshot to
start from and moves an earlier run's snapshots aside. Its result, a :class:`TrainingPlan`, is
plain data, so it travels to Ray workers.

``run_training`` runs the loop (:func:`posering.train.loop.train`) for a plan: in this process
for the single-process path, or in each Ray Train worker. Rank 0 writes the files of ``train/``
(snapshots, learning_stats.csv, train.txt, learning_curve.png) through the same recorder either
way, so both paths leave the very same files.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from dataclasses import dataclass, field
from typing import Callable

import torch
from tqdm.contrib.logging import logging_redirect_tqdm

from posering import storage
from posering.errors import ModelError
from posering.dataset.training_set import load_training_set
from posering.formats.model_config import ModelConfig, auto_notes, load_model_config, save_model_config, set_dotted
from posering.formats.snapshots import latest_resumable, read_snapshot, snapshot_files
from posering.model.build import pick_device
from posering.model.spec import parse_model_config
from posering.project import ProjectPaths, load_config
from posering.train.augment import Augmenter
from posering.train.budget import BUDGET_EPOCHS, TimeBudget, budget_model_config, budget_schedule, spent_seconds
from posering.train.data import PoseDataset
from posering.train.holdout import TestSetEvaluator
from posering.train.hooks import HookChain
from posering.train.loop import Hooks, train
from posering.train.record import LogCapture, TrainingRecorder
from posering.train.snapshot_keeper import SnapshotKeeper
from posering.project.paths import PREVIOUS_RUN_PREFIX, TRAINING_LOG

log = logging.getLogger("posering.train")


def resolve_device(device=None, gputouse=None, model_config: ModelConfig | dict | None = None) -> torch.device:
    """`device` if given, else GPU number `gputouse`, else the model config's device ('auto')."""
    if device is None and gputouse is not None:
        device = f"cuda:{int(gputouse)}"
    if device is None and model_config:
        data = model_config.data if isinstance(model_config, ModelConfig) else model_config
        device = (data.get("runner") or {}).get("device") or data.get("device")
    return pick_device(device or "auto")


def apply_overrides(model_cfg: dict, steps_per_epoch: int, *, max_snapshots_to_keep=None, displayiters=None,
                    saveiters=None, maxiters=None, epochs=None, save_epochs=None, batch_size=None) -> dict:
    """Write the options into the model config, iterations converted to epochs.

    DeepLabCut 2 counted iterations (optimizer steps); DeepLabCut 3 counts epochs. Both are taken:
    `saveiters` becomes save_epochs = ceil(saveiters / steps per epoch), `maxiters` becomes
    epochs = ceil(maxiters / steps per epoch) (the run stops after exactly maxiters steps).
    """
    if batch_size is not None:
        set_dotted(model_cfg, "train_settings.batch_size", int(batch_size))
    if epochs is None and maxiters is not None:
        epochs = math.ceil(int(maxiters) / steps_per_epoch)
    if epochs is not None:
        set_dotted(model_cfg, "train_settings.epochs", int(epochs))
    if displayiters is not None:
        set_dotted(model_cfg, "train_settings.display_iters", int(displayiters))
    if save_epochs is None and saveiters is not None:
        save_epochs = max(1, math.ceil(int(saveiters) / steps_per_epoch))
    if save_epochs is not None:
        set_dotted(model_cfg, "runner.snapshots.save_epochs", int(save_epochs))
    if max_snapshots_to_keep is not None:
        set_dotted(model_cfg, "runner.snapshots.max_snapshots", int(max_snapshots_to_keep))
    return model_cfg


def _archive_old_snapshots(train_dir: str) -> None:
    """A fresh run moves the previous run's snapshots aside instead of mixing or deleting them."""
    old = snapshot_files(train_dir)
    if not old:
        return
    folder = storage.join(train_dir, PREVIOUS_RUN_PREFIX + time.strftime('%Y%m%d-%H%M%S'))
    for snapshot in old:
        storage.copy(snapshot.location, storage.join(folder, storage.name(snapshot.location)))
        storage.remove(snapshot.location)
    log.warning("train/ held snapshots of an earlier run: moved to %s (pass resume=True to "
                "continue a run instead)", folder)


def _snapshot_to_resume(train_dir: str) -> str:
    """The latest regular snapshot in train/; none is an error, not a silent fresh start."""
    found = latest_resumable(train_dir)
    if found is not None:
        return found.location
    best = [s for s in snapshot_files(train_dir) if s.best]
    hint = (f"; only {storage.name(best[-1].location)} is there: pass snapshot_path (--snapshot_path) "
            "to continue from it" if best else "")
    raise ModelError(f"{train_dir}: nothing to resume: no snapshot-<epoch>.pt there{hint}; run "
                     "without resume (--resume) to start training")


@dataclass
class TrainingPlan:
    """What a run of one shuffle needs, decided once: plain data, so Ray workers get a copy."""

    config: str                    # config.yaml location
    shuffle: int
    trainingsetindex: int
    model_cfg: dict                # the pytorch_config.yaml written for this run
    config_file: str
    train_dir: str
    start_snapshot: str | None     # the snapshot to continue from (resume / snapshot_path)
    resumed: bool                  # continuing an interrupted run: train.txt is kept, not restarted
    maxiters: int | None = None
    minutes: float | None = None   # a time budget instead of an epoch count
    precision: str = "auto"
    device: str | None = None
    gputouse: int | None = None
    notes: list[str] = field(default_factory=list)  # lines for train.txt decided by the driver

    @property
    def batch_size(self) -> int:
        return int((self.model_cfg.get("train_settings") or {}).get("batch_size") or 8)


def plan_training(config: str, shuffle: int = 1, trainingsetindex: int = 0, *, max_snapshots_to_keep=5,
                  displayiters=None, saveiters=None, maxiters=None, epochs=None, save_epochs=None,
                  batch_size=None, snapshot_path=None, resume=False, minutes=None, precision="auto",
                  device=None, gputouse=None) -> TrainingPlan:
    """Check the shuffle, write the options into its pytorch_config.yaml, choose where to start."""
    cfg = load_config(config)
    paths = ProjectPaths(cfg)
    fraction = cfg.training_fractions[trainingsetindex]
    config_file = paths.model_config_file(fraction, shuffle)
    train_dir = paths.train_dir(fraction, shuffle)
    if not storage.exists(config_file):
        raise ModelError(f"{config_file}: no model config for shuffle {shuffle}; run "
                         "`posering create_training_dataset` first")
    if minutes is not None and (epochs is not None or maxiters is not None):
        raise ModelError(f"shuffle {shuffle}: give either minutes (a time budget) or epochs/maxiters, not both")
    if minutes is not None and not float(minutes) > 0:
        raise ModelError(f"shuffle {shuffle}: minutes must be a positive number of minutes, got {minutes!r}")
    model_cfg = load_model_config(config_file)
    parse_model_config(model_cfg, config_file)
    training_set = load_training_set(cfg, shuffle, trainingsetindex)
    if not training_set.train_indices:
        raise ModelError(f"{training_set.split_source}: the split of shuffle {shuffle} has no training image")

    # Nothing to resume from is an error, raised before anything is written.
    resume_from = _snapshot_to_resume(train_dir) if snapshot_path is None and resume else None

    batch = int(batch_size or (model_cfg.get("train_settings") or {}).get("batch_size") or 8)
    count = len(training_set.train_indices)
    steps_per_epoch = max(1, count // batch) if count > batch else 1
    apply_overrides(model_cfg, steps_per_epoch, max_snapshots_to_keep=max_snapshots_to_keep,
                    displayiters=displayiters, saveiters=saveiters, maxiters=maxiters, epochs=epochs,
                    save_epochs=save_epochs, batch_size=batch_size)
    set_dotted(model_cfg, "metadata.project_path", cfg.project_path)
    set_dotted(model_cfg, "metadata.pose_config_path", config_file)
    if minutes is not None:
        set_dotted(model_cfg, "posering.train_minutes", float(minutes))
    else:
        (model_cfg.get("posering") or {}).pop("train_minutes", None)
    save_model_config(model_cfg, config_file)

    start = resume_from or snapshot_path or model_cfg.get("resume_training_from")
    if not start:
        _archive_old_snapshots(train_dir)
    return TrainingPlan(config=cfg.location, shuffle=int(shuffle), trainingsetindex=int(trainingsetindex),
                        model_cfg=model_cfg, config_file=config_file, train_dir=train_dir,
                        start_snapshot=str(start) if start else None, resumed=bool(resume and start),
                        maxiters=maxiters, minutes=float(minutes) if minutes is not None else None,
                        precision=precision, device=device, gputouse=gputouse, notes=auto_notes(model_cfg))


@dataclass
class TrainingRun:
    """What the extra hooks of a run may look at (see ``run_training(back=...)``)."""

    plan: TrainingPlan
    recorder: TrainingRecorder | None   # rank 0 only
    budget: TimeBudget | None
    eval_interval: int

    def evaluated(self, epoch: int, last: bool) -> bool:
        """Whether this epoch ran an evaluation (the same answer on every worker)."""
        if self.budget is not None:
            return self.budget.due_now
        return last or bool(self.eval_interval and epoch % self.eval_interval == 0)


def run_training(plan: TrainingPlan, *, device=None, start: str | None = None, restarted: bool = False,
                 rank: int = 0, world_size: int = 1, batch_size: int | None = None,
                 front: Hooks | None = None, sync: Callable[[float], float] | None = None,
                 back: Callable[[TrainingRun], Hooks] | None = None, progress: bool = True,
                 bar=None) -> TrainingRecorder | None:
    """Train a planned shuffle here; returns rank 0's recorder (``.saved``: snapshots written).

    start: the snapshot to continue from (default: the plan's). restarted: a worker
    restarted after a failure (train.txt is continued like a resume). rank, world_size,
    batch_size: for data-parallel workers (batch_size per worker). front: hooks before the
    others (wrapping the model and loader); sync: the shared clock of a time budget; back: a
    factory for hooks after the recorder (reporting to Ray). bar: the progress bar class
    (default tqdm).
    """
    cfg = load_config(plan.config)
    training_set = load_training_set(cfg, plan.shuffle, plan.trainingsetindex)
    model_cfg = plan.model_cfg
    spec = parse_model_config(model_cfg, plan.config_file)
    start_location = start or plan.start_snapshot
    start = read_snapshot(start_location) if start_location else None
    writer = rank == 0
    capture = None
    if writer:
        capture = LogCapture()
        previous = storage.join(plan.train_dir, TRAINING_LOG)
        if (plan.resumed or restarted) and storage.exists(previous):
            capture.lines.extend(storage.read_text(previous).splitlines())
    root_logger = logging.getLogger("posering")
    if capture is not None:
        root_logger.addHandler(capture)
    if writer and (root_logger.level == logging.NOTSET or root_logger.level > logging.INFO):
        root_logger.setLevel(logging.INFO)
    try:
        device_ = torch.device(device) if device is not None else resolve_device(plan.device, plan.gputouse, model_cfg)
        first_epoch = int((start or {}).get("metadata", {}).get("epoch", 0)) + 1
        for note in plan.notes:
            log.info(note)
        if start is not None:
            log.info("weights: resuming from %s (epoch %d%s)", start_location, first_epoch - 1,
                     ", with optimizer state" if start.get("optimizer") else ", weights only")
        log.info("shuffle %d of %s: %d training and %d test images (split %s)", plan.shuffle, cfg.project_path,
                 len(training_set.train_indices), len(training_set.test_indices), training_set.split_source)
        runner = model_cfg.get("runner") or {}
        settings = model_cfg.get("train_settings") or {}
        evaluator = recorder = budget = None
        if plan.minutes:
            budget = TimeBudget(plan.minutes, budget_schedule(runner, int(settings.get("epochs") or 200)),
                                spent=spent_seconds(start), eval_interval=runner.get("eval_interval") or 0, sync=sync)
        if writer:
            snaps = runner.get("snapshots") or {}
            keeper = SnapshotKeeper(plan.train_dir, snaps.get("max_snapshots", 5), snaps.get("save_epochs", 25),
                                    runner.get("key_metric", "test.mAP"), runner.get("key_metric_asc", True))
            if training_set.test_indices and (runner.get("eval_interval") or budget is not None):
                test = PoseDataset.from_training_set(training_set, "test")
                evaluator = TestSetEvaluator([test.location(i) for i in range(len(test))], test.keypoints,
                                             cfg.get("pcutoff", 0.6), device_)
            if budget is not None:
                evaluator = budget.gate(evaluator)
            recorder = TrainingRecorder(plan.train_dir, keeper, evaluator, first_epoch, capture, progress, budget,
                                        **({"bar": bar} if bar is not None else {}))
        augmenter = Augmenter((model_cfg.get("data") or {}).get("train"), training_set.bodyparts)
        seed = int(settings.get("seed") or 42)
        dataset = PoseDataset.from_training_set(training_set, "train", augmenter, seed=seed + rank)
        run = TrainingRun(plan, recorder, budget, int(runner.get("eval_interval") or 0))
        hooks = HookChain(front, budget, recorder, back(run) if back is not None else None)
        loop_cfg = ModelConfig(plan.config_file, budget_model_config(model_cfg) if budget is not None else model_cfg)
        with logging_redirect_tqdm() if progress and writer and bar is None else contextlib.nullcontext():
            train(loop_cfg, dataset, device_, hooks=hooks, resume=start, weight_init=spec.weight_init,
                  epochs=BUDGET_EPOCHS if budget is not None else None, batch_size=batch_size,
                  max_iters=plan.maxiters, precision=plan.precision, workers=settings.get("dataloader_workers"))
        if recorder is not None:
            recorder.write_files()
    finally:
        if capture is not None:
            root_logger.removeHandler(capture)
    return recorder
