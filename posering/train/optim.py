"""Optimizer and learning-rate schedule from a model config's ``runner`` section.

DeepLabCut 3 writes::

    optimizer: {type: AdamW, params: {lr: 0.0005}}
    scheduler: {type: LRListScheduler, params: {lr_list: [[0.0001], [1e-05]], milestones: [90, 120]}}

``type`` names a class of ``torch.optim`` (or ``torch.optim.lr_scheduler``), except DeepLabCut's
own ``LRListScheduler``: after ``milestones[i]`` epochs the learning rate becomes
``lr_list[i]`` (one value per parameter group) and stays there. The scheduler steps once per
epoch. Its state dict has DeepLabCut's keys, so snapshots resume in either tool.
"""

from __future__ import annotations

import torch
from torch.optim.lr_scheduler import LRScheduler

from posering.errors import ModelError


class LRListScheduler(LRScheduler):
    """Piecewise-constant learning rate: ``lr_list[i]`` from epoch ``milestones[i]`` on."""

    def __init__(self, optimizer, milestones, lr_list, last_epoch: int = -1):
        self.milestones = [int(m) for m in milestones]
        # PyYAML reads DeepLabCut's "1e-05" as a string: numbers are made numbers here.
        self.lr_list = [[float(v) for v in (lrs if isinstance(lrs, (list, tuple)) else [lrs])]
                        for lrs in lr_list]
        if len(self.milestones) != len(self.lr_list):
            raise ValueError(f"LRListScheduler: {len(self.milestones)} milestones but "
                             f"{len(self.lr_list)} entries in lr_list")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch in self.milestones:
            lrs = self.lr_list[self.milestones.index(self.last_epoch)]
            if len(lrs) == 1:
                lrs = lrs * len(self.optimizer.param_groups)
            return list(lrs)
        return [group["lr"] for group in self.optimizer.param_groups]


def _number(value):
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    if isinstance(value, list):
        return [_number(v) for v in value]
    return value


def build_optimizer(runner_cfg: dict, parameters, source: str = "runner.optimizer") -> torch.optim.Optimizer:
    cfg = (runner_cfg or {}).get("optimizer") or {"type": "AdamW", "params": {"lr": 5e-4}}
    kind = cfg.get("type", "AdamW")
    optimizer_class = getattr(torch.optim, kind, None)
    if not isinstance(optimizer_class, type) or not issubclass(optimizer_class, torch.optim.Optimizer):
        raise ModelError(f"{source}.type {kind!r} is not an optimizer of torch.optim (e.g. AdamW, SGD)")
    params = {k: _number(v) for k, v in (cfg.get("params") or {}).items()}
    return optimizer_class(parameters, **params)


def build_scheduler(runner_cfg: dict, optimizer, source: str = "runner.scheduler"):
    """The epoch-wise scheduler of the config, or None when it sets none."""
    cfg = (runner_cfg or {}).get("scheduler")
    if not cfg:
        return None
    kind = cfg.get("type")
    params = {k: _number(v) for k, v in (cfg.get("params") or {}).items()}
    if kind == "LRListScheduler":
        return LRListScheduler(optimizer, **params)
    scheduler_class = getattr(torch.optim.lr_scheduler, str(kind), None)
    if not isinstance(scheduler_class, type):
        raise ModelError(f"{source}.type {kind!r} is neither LRListScheduler nor a scheduler of "
                         "torch.optim.lr_scheduler")
    return scheduler_class(optimizer, **params)


def load_scheduler_state(scheduler, state: dict) -> None:
    """Restore a scheduler and put its learning rates back into the optimizer."""
    scheduler.load_state_dict(state)
    for group, lr in zip(scheduler.optimizer.param_groups, scheduler.get_last_lr()):
        group["lr"] = lr
