"""``train_network``: train one shuffle's model on this machine (DeepLabCut's step G).

Reads the model folder that ``create_training_dataset`` made
(``dlc-models-pytorch/iteration-<N>/<Task><date>-trainset<pct>shuffle<k>/train/pytorch_config.yaml``),
writes the options given here back into it (as DeepLabCut does, so the file always says how the
model was trained), then runs :func:`posering.train.loop.train` with hooks that write
snapshots, ``learning_stats.csv``, ``train.txt`` and ``learning_curve.png`` into ``train/``.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time

import torch
from tqdm.contrib.logging import logging_redirect_tqdm

from posering import storage
from posering.errors import ModelError
from posering.model import load_model_config, parse_model_config, save_model_config
from posering.model.build import pick_device
from posering.project import ProjectPaths, load_config
from posering.train.augment import Augmenter
from posering.train.data import PoseDataset
from posering.train.loop import train
from posering.train.record import LogCapture, TrainingRecorder
from posering.train.snapshots import SnapshotKeeper, snapshot_files, latest_resumable, read_snapshot
from posering.train.split import load_training_set
from posering.train.holdout import TestSetEvaluator

log = logging.getLogger("posering.train")


def resolve_device(device=None, gputouse=None, model_cfg: dict | None = None) -> torch.device:
    """`device` if given, else GPU number `gputouse`, else the config's device ('auto')."""
    if device is None and gputouse is not None:
        device = f"cuda:{int(gputouse)}"
    if device is None and model_cfg:
        device = (model_cfg.get("runner") or {}).get("device") or model_cfg.get("device")
    return pick_device(device or "auto")


def set_dotted(cfg: dict, dotted: str, value) -> None:
    """cfg["a"]["b"]["c"] = value for dotted "a.b.c", creating the levels that are missing."""
    node = cfg
    *parents, last = dotted.split(".")
    for key in parents:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[last] = value


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
    folder = storage.join(train_dir, f"previous-run-{time.strftime('%Y%m%d-%H%M%S')}")
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


def train_network(config: str, shuffle: int = 1, trainingsetindex: int = 0, gputouse: int | None = None,
                  max_snapshots_to_keep: int = 5, displayiters: int | None = None,
                  saveiters: int | None = None, maxiters: int | None = None, epochs: int | None = None,
                  save_epochs: int | None = None, batch_size: int | None = None, device: str | None = None,
                  snapshot_path: str | None = None, resume: bool = False, precision: str = "auto",
                  progress: bool = True) -> str | None:
    """Train the network of one shuffle; returns the last snapshot written.

    Parameters
    ----------
    config: path or URL of the project's config.yaml.
    shuffle: the shuffle (training dataset) to train.
    trainingsetindex: which TrainingFraction of config.yaml (0 = the first).
    gputouse: number of the GPU to use (CUDA); ignored when device is given.
    max_snapshots_to_keep: regular snapshots kept besides the best one.
    displayiters: log the loss every this many iterations (optimizer steps).
    saveiters: save a snapshot every this many iterations (rounded up to whole epochs).
    maxiters: stop after this many iterations in total.
    epochs: train this many epochs in total (DeepLabCut 3's vocabulary; default from the model config, 200).
    save_epochs: save a snapshot every this many epochs (default from the model config).
    batch_size: images per training batch (default from the model config, 8).
    device: cpu, cuda, cuda:1, ... or auto (default: the model config's device, auto).
    snapshot_path: continue training from this snapshot (weights, and optimizer state when it holds it).
    resume: continue from the latest snapshot in train/ (after an interruption).
    precision: auto, fp32, bf16 or fp16 (auto: bf16 on GPUs and on CPUs with native bf16).
    progress: show a progress bar.
    """
    cfg = load_config(config)
    paths = ProjectPaths(cfg)
    fraction = cfg.training_fractions[trainingsetindex]
    config_file = paths.model_config_file(fraction, shuffle)
    train_dir = paths.train_dir(fraction, shuffle)
    if not storage.exists(config_file):
        raise ModelError(f"{config_file}: no model config for shuffle {shuffle}; run "
                         "`posering create_training_dataset` first")
    model_cfg = load_model_config(config_file)
    spec = parse_model_config(model_cfg, config_file)
    training_set = load_training_set(cfg, shuffle, trainingsetindex)
    if not training_set.train_indices:
        raise ModelError(f"{training_set.split_source}: the split of shuffle {shuffle} has no training image")

    if snapshot_path is None and resume:
        snapshot_path = _snapshot_to_resume(train_dir)  # before anything is written

    batch = int(batch_size or (model_cfg.get("train_settings") or {}).get("batch_size") or 8)
    steps_per_epoch = max(1, len(training_set.train_indices) // batch) if len(training_set.train_indices) > batch else 1
    apply_overrides(model_cfg, steps_per_epoch, max_snapshots_to_keep=max_snapshots_to_keep,
                    displayiters=displayiters, saveiters=saveiters, maxiters=maxiters, epochs=epochs,
                    save_epochs=save_epochs, batch_size=batch_size)
    set_dotted(model_cfg, "metadata.project_path", cfg.project_path)
    set_dotted(model_cfg, "metadata.pose_config_path", config_file)
    save_model_config(model_cfg, config_file)

    start = None
    snapshot_path = snapshot_path or model_cfg.get("resume_training_from")
    if snapshot_path:
        start = read_snapshot(str(snapshot_path))
    else:
        _archive_old_snapshots(train_dir)
    # A continued run adds to the log of the runs before it (which weights they started from,
    # their epochs) instead of replacing it.
    log_file = storage.join(train_dir, "train.txt")
    earlier_log = storage.read_text(log_file) if start is not None and storage.exists(log_file) else ""

    capture = LogCapture()
    root_logger = logging.getLogger("posering")
    root_logger.addHandler(capture)
    if root_logger.level == logging.NOTSET or root_logger.level > logging.INFO:
        root_logger.setLevel(logging.INFO)
    try:
        device_ = resolve_device(device, gputouse, model_cfg)
        first_epoch = int((start or {}).get("metadata", {}).get("epoch", 0)) + 1
        if start is not None:
            log.info("weights: resuming from %s (epoch %d%s)", snapshot_path, first_epoch - 1,
                     ", with optimizer state" if start.get("optimizer") else ", weights only")
        log.info("shuffle %d of %s: %d training and %d test images (split %s)", shuffle, cfg.project_path,
                 len(training_set.train_indices), len(training_set.test_indices), training_set.split_source)
        snaps = model_cfg.get("runner", {}).get("snapshots", {})
        runner = model_cfg.get("runner") or {}
        keeper = SnapshotKeeper(train_dir, snaps.get("max_snapshots", 5), snaps.get("save_epochs", 25),
                                runner.get("key_metric", "test.mAP"), runner.get("key_metric_asc", True))
        evaluator = None
        if training_set.test_indices and runner.get("eval_interval"):
            test = PoseDataset.from_training_set(training_set, "test")
            evaluator = TestSetEvaluator([test.location(i) for i in range(len(test))], test.keypoints,
                                         cfg.get("pcutoff", 0.6), device_)
        augmenter = Augmenter((model_cfg.get("data") or {}).get("train"), training_set.bodyparts)
        seed = int((model_cfg.get("train_settings") or {}).get("seed") or 42)
        dataset = PoseDataset.from_training_set(training_set, "train", augmenter, seed=seed)
        recorder = TrainingRecorder(train_dir, keeper, evaluator, first_epoch, capture, progress, earlier_log)
        # Log lines go through tqdm while the bar is shown, so they do not break it.
        with logging_redirect_tqdm() if progress else contextlib.nullcontext():
            train(model_cfg, dataset, device_, hooks=recorder, resume=start, weight_init=spec.weight_init,
                  max_iters=maxiters, precision=precision,
                  workers=(model_cfg.get("train_settings") or {}).get("dataloader_workers"))
        recorder.write_files()
    finally:
        root_logger.removeHandler(capture)
    return recorder.saved[-1] if recorder.saved else None
