"""The training loop: a plain function of (model config, dataset, device), read top to bottom.

``train(model_config, dataset, device, hooks=...)`` builds the model, optimizer and schedule from
the config (DeepLabCut 3's pytorch_config.yaml layout), then for each epoch: uint8 batches go to
the device and are normalised there, targets are made on the device for the whole batch, the
loss is DeepLabCut's, and the optimizer steps. Everything the caller wants around it (progress
bar, log lines, learning_stats.csv, snapshots, evaluation, Ray Train reporting) comes in through
:class:`Hooks`, so Ray Train runs this same function in each worker: its hooks wrap the model and
loader (``prepare_model`` / ``prepare_loader``) and report instead of writing files.

Speed: on CUDA, bf16 autocast (fp16 with a gradient scaler where bf16 is missing), channels_last,
pinned memory and non-blocking copies. On the CPU, measured on a 2-core AVX-512 BF16 machine
(docs/benchmarks.md): bf16 autocast with channels_last trains resnet_50 about 3x faster than
fp32, and the loss curve follows fp32's; it is the default where the CPU has native bf16
(``precision="auto"``), else fp32. Weights, optimizer state, targets and loss stay fp32.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from dataclasses import dataclass, field
from typing import Callable

import torch

from posering.formats.model_config import ModelConfig
from posering.model import build_model, load_weights, make_targets, pose_loss
from posering.model.runtime import IMAGENET_MEAN, IMAGENET_STD
from posering.train.data import make_loader
from posering.train.optim import build_optimizer, build_scheduler, load_scheduler_state

log = logging.getLogger("posering.train")


@dataclass
class EpochEnd:
    """What a hook learns at the end of an epoch."""

    epoch: int                     # epochs completed (1-based, DeepLabCut's snapshot number)
    iteration: int                 # optimizer steps so far, all epochs
    losses: dict[str, float]       # mean training losses of the epoch ("total_loss", ...)
    metrics: dict[str, float]      # from Hooks.evaluate when it ran this epoch, else {}
    lr: float
    seconds: float                 # wall time of the epoch
    last: bool                     # the final epoch of this run
    state: Callable[[], dict] = field(repr=False, default=None)  # model/optimizer/scheduler states
    # The live optimizer, for hooks that steer the learning rate (a time budget, Ray Tune).
    optimizer: torch.optim.Optimizer | None = field(repr=False, default=None)


class Hooks:
    """What the loop calls; every method does nothing unless overridden."""

    def prepare_model(self, model: torch.nn.Module) -> torch.nn.Module:
        return model

    def prepare_loader(self, loader):
        return loader

    def start(self, total_iterations: int, first_epoch: int, epochs: int) -> None:
        pass

    def iteration(self, iteration: int, epoch: int, loss: torch.Tensor) -> None:
        """After each optimizer step; `loss` is still on the device (call .item() sparingly)."""

    def display(self, iteration: int, epoch: int, losses: dict[str, float], lr: float) -> None:
        """Every `display_iters` steps, with losses averaged since the last display."""

    def should_stop(self) -> bool:
        """Checked after each step: True ends training after this step (a time budget, early
        stopping by Ray Tune); the epoch then ends as the last one."""
        return False

    def evaluate(self, model: torch.nn.Module, epoch: int) -> dict[str, float]:
        """Every `runner.eval_interval` epochs and at the end: metrics for the snapshot."""
        return {}

    def epoch_end(self, end: EpochEnd) -> None:
        pass


def cpu_has_bf16() -> bool:
    """True where the CPU computes bf16 natively (AVX-512 BF16 or AMX), so autocast pays off."""
    try:
        with open("/proc/cpuinfo") as handle:
            flags = handle.read()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def training_precision(precision: str, device: torch.device) -> str:
    """'fp32', 'bf16' or 'fp16' for training on `device` ('auto' picks the measured best)."""
    if precision not in ("auto", "fp32", "bf16", "fp16"):
        raise ValueError(f"precision {precision!r}: use auto, fp32, bf16 or fp16")
    if precision != "auto":
        return precision
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return "bf16" if device.type == "cpu" and cpu_has_bf16() else "fp32"


def use_channels_last(channels_last, device: torch.device, net_type: str) -> bool:
    """'auto': always on CUDA; on the CPU only for ResNets.

    Measured on the CPU (2-core AVX-512): channels_last speeds up the GroupNorm/BatchNorm ResNets
    (resnet_50 1.4x in fp32, 2x with bf16) but slows the depthwise MobileNets 2-4x in training.
    """
    if channels_last != "auto":
        return bool(channels_last)
    return device.type == "cuda" or net_type.startswith("resnet")


def normalize(images: torch.Tensor, channels_last: bool) -> torch.Tensor:
    """uint8 (N, H, W, 3) on the device -> ImageNet-normalised float32 (N, 3, H, W)."""
    mean = torch.tensor(IMAGENET_MEAN, device=images.device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=images.device).view(1, 3, 1, 1)
    x = images.permute(0, 3, 1, 2).float().div_(255.0).sub_(mean).div_(std)
    return x.contiguous(memory_format=torch.channels_last if channels_last else torch.contiguous_format)


def _autocast(device: torch.device, precision: str):
    if precision == "fp32":
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    return torch.autocast(device.type, dtype=dtype)


def train(model_config: ModelConfig, dataset, device: str | torch.device, *, hooks: Hooks | None = None,
          resume: dict | None = None, weight_init: str | None = None, epochs: int | None = None,
          batch_size: int | None = None, max_iters: int | None = None, display_iters: int | None = None,
          precision: str = "auto", channels_last: bool | str = "auto", compile: bool = False,
          workers=None) -> torch.nn.Module:
    """Train a pose model on `dataset` (items: uint8 image, (K, 2) keypoints); returns it.

    model_config: the model folder's config (its model, runner and train_settings are read).
    resume: a snapshot payload ({"model", "optimizer", "scheduler", "metadata": {"epoch", ...}})
        to continue from: training restarts after its epoch. Without an optimizer state only the
        weights carry over.
    weight_init: backbone starting weights for a new model (posering.model.pretrained sources:
        "auto", "package", "hub", "none" or a file); ignored when resuming.
    epochs, batch_size, display_iters: override train_settings; max_iters stops after that many
        optimizer steps in total (DeepLabCut 2's vocabulary), ending with a last epoch_end.
    """
    hooks = hooks or Hooks()
    device = torch.device(device)
    settings = model_config.train
    runner = model_config.data.get("runner") or {}
    epochs = int(epochs or settings.epochs)
    batch_size = int(batch_size or settings.batch_size)
    display_iters = int(display_iters or settings.display_iters)
    eval_interval = settings.eval_interval
    seed = settings.seed
    precision = training_precision(precision, device)
    torch.manual_seed(seed)

    # The model: config -> network; weights from the snapshot we resume, else the init source.
    spec = model_config.spec
    channels_last = use_channels_last(channels_last, device, spec.net_type)
    model = build_model(spec, weight_init=None if resume else weight_init)
    if resume:
        load_weights(model, resume["model"], "the snapshot resumed from")
    model.to(device)
    if channels_last:
        model.to(memory_format=torch.channels_last)
    net = hooks.prepare_model(model)
    forward = torch.compile(net) if compile else net

    optimizer = build_optimizer(runner, net.parameters())
    scheduler = build_scheduler(runner, optimizer)
    first_epoch, iteration = 1, 0
    if resume:
        meta = resume.get("metadata") or {}
        first_epoch = int(meta.get("epoch", 0)) + 1
        iteration = int(meta.get("iteration", 0))
        if resume.get("optimizer"):
            optimizer.load_state_dict(resume["optimizer"])
        if scheduler is not None and resume.get("scheduler"):
            load_scheduler_state(scheduler, resume["scheduler"])
    scaler = torch.amp.GradScaler(device.type, enabled=precision == "fp16")

    loader = hooks.prepare_loader(make_loader(dataset, batch_size, device, shuffle=True,
                                              workers=workers, seed=seed + first_epoch, drop_last=True))
    steps_per_epoch = len(loader)
    total = (epochs - first_epoch + 1) * steps_per_epoch
    if max_iters:
        total = max(0, min(total, int(max_iters) - iteration))
    log.info("training %s on %s (%s%s): epochs %d-%d, batch %d, %d steps/epoch, %d images",
             spec.net_type, device, precision, ", channels_last" if channels_last else "",
             first_epoch, epochs, batch_size, steps_per_epoch, len(dataset))
    hooks.start(total, first_epoch, epochs)

    def state() -> dict:
        return {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict() if scheduler is not None else None}

    stop_at = iteration + total if max_iters else None
    stride = float(model.stride)
    sums: dict[str, torch.Tensor] = {}
    shown: dict[str, torch.Tensor] = {}
    for epoch in range(first_epoch, epochs + 1):
        started, steps, stopped = time.perf_counter(), 0, False
        sums.clear()
        net.train()
        for images, keypoints in loader:
            x = normalize(images.to(device, non_blocking=True), channels_last)
            keypoints = keypoints.to(device, non_blocking=True)
            with _autocast(device, precision):
                outputs = forward(x)
            outputs = {k: v.float() for k, v in outputs.items()}
            targets = make_targets(keypoints, tuple(outputs["heatmap"].shape[-2:]), stride,
                                   spec.pos_dist_thresh, spec.locref_std, spec.heatmap_mode,
                                   spec.gradient_masking)
            losses = pose_loss(outputs, targets, spec.heatmap_weight, spec.locref_weight)
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(losses["total_loss"]).backward()
            scaler.step(optimizer)
            scaler.update()

            iteration += 1
            steps += 1
            for name, value in losses.items():
                value = value.detach()
                sums[name] = sums.get(name, 0) + value
                shown[name] = shown.get(name, 0) + value
            hooks.iteration(iteration, epoch, losses["total_loss"].detach())
            if iteration % display_iters == 0:
                count = display_iters
                hooks.display(iteration, epoch, {k: float(v) / count for k, v in shown.items()},
                              optimizer.param_groups[0]["lr"])
                shown.clear()
            if (stop_at is not None and iteration >= stop_at) or hooks.should_stop():
                stopped = True
                break
        lr = optimizer.param_groups[0]["lr"]
        if scheduler is not None:
            scheduler.step()
        last = epoch == epochs or stopped
        metrics = {}
        if last or (eval_interval and epoch % eval_interval == 0):
            net.eval()
            metrics = hooks.evaluate(model, epoch) or {}
        mean = {k: float(v) / max(steps, 1) for k, v in sums.items()}
        if any(not math.isfinite(v) for v in mean.values()):
            log.warning("epoch %d: the loss is not finite (%s); lower the learning rate", epoch, mean)
        hooks.epoch_end(EpochEnd(epoch, iteration, mean, metrics, lr,
                                 time.perf_counter() - started, last, state, optimizer))
        if last:
            break
    return model
