"""Training to a wall-clock budget: ``train_network(..., minutes=30)``.

What a user with a CPU or a rented GPU hour wants, and what Ray Tune's trials need: the budget
replaces the epoch count. The run stops after the step that spends it; that epoch ends there and
is saved as the last one, and the log says how many epochs fitted.

The learning-rate schedule of pytorch_config.yaml is written in epochs (DeepLabCut's
``LRListScheduler``: ``lr_list[i]`` from epoch ``milestones[i]`` of ``train_settings.epochs``).
Under a budget the same milestones apply as fractions of the time instead: DeepLabCut's default
(1e-4 from epoch 90 and 1e-5 from 120, of 200) becomes 1e-4 from 45% and 1e-5 from 60% of the
budget. The rate changes at the end of the epoch in which its fraction is reached.

Test-set evaluation (for learning_stats.csv, the best snapshot and Ray Tune's early stopping)
runs every ``runner.eval_interval`` epochs as usual, and also at the first epoch, at every tenth
of the budget and at the end, so a comparison of budgets has points however long epochs are.

The time spent is stored in each snapshot's metadata (``train_seconds``), so a resumed run
(after an interruption, or a worker restarted by Ray Train) continues the same budget.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Callable

from posering.train.loop import EpochEnd, Hooks
from posering.train.optim import _number

log = logging.getLogger("posering.train")

# The loop's epoch bound under a budget: never reached, the clock ends the run.
BUDGET_EPOCHS = 1_000_000
EVALUATIONS_PER_BUDGET = 10


def budget_schedule(runner_cfg: dict, epochs: int) -> list[tuple[float, list[float]]]:
    """``[(fraction of the budget, learning rates), ...]`` from the config's epoch schedule.

    Only DeepLabCut's ``LRListScheduler`` has milestones to scale; another scheduler is not
    used under a budget (a warning says so) and the optimizer's rate stays as configured.
    """
    scheduler = (runner_cfg or {}).get("scheduler") or {}
    if not scheduler:
        return []
    if scheduler.get("type") != "LRListScheduler":
        log.warning("time budget: runner.scheduler %s is not scaled to the budget (only "
                    "LRListScheduler's milestones are); the learning rate stays constant",
                    scheduler.get("type"))
        return []
    params = scheduler.get("params") or {}
    lr_list = [[float(v) for v in (lrs if isinstance(lrs, (list, tuple)) else [lrs])]
               for lrs in _number(params.get("lr_list") or [])]
    return sorted((int(m) / max(int(epochs), 1), lrs) for m, lrs in zip(params.get("milestones") or [], lr_list))


def budget_model_config(model_cfg: dict) -> dict:
    """The config the loop runs under a budget: no epoch scheduler (the budget sets the rate),
    evaluation offered every epoch (the budget decides when it runs)."""
    runner = dict(model_cfg.get("runner") or {})
    runner.pop("scheduler", None)
    runner["eval_interval"] = 1
    return {**model_cfg, "runner": runner}


class TimeBudget(Hooks):
    """Stops training when ``minutes`` are spent and sets the learning rate by the fraction spent.

    spent: seconds already trained (a resumed run). sync: maps this process's clock to the one
    all data-parallel workers use (rank 0's), so they stop at the same step and change the rate
    at the same epoch; the identity for a single process.
    """

    def __init__(self, minutes: float, schedule: list[tuple[float, list[float]]], *, spent: float = 0.0,
                 eval_interval: int = 0, sync: Callable[[float], float] | None = None):
        if not minutes or float(minutes) <= 0:
            raise ValueError("minutes must be a positive number")
        self.seconds = float(minutes) * 60.0
        self.schedule = schedule
        self.spent = float(spent or 0.0)
        self.eval_interval = int(eval_interval or 0)
        self.sync = sync or (lambda seconds: seconds)
        self.started: float | None = None
        self.elapsed = self.spent
        self.stopping = False
        self.first_epoch = 1
        self.evaluated_mark = -1
        self.current_lrs: list[float] | None = None
        self.due_now = False

    # -- the clock -------------------------------------------------------------------------------
    def fraction(self) -> float:
        return self.elapsed / self.seconds

    def start(self, total_iterations: int, first_epoch: int, epochs: int) -> None:
        self.started = time.perf_counter()
        self.first_epoch = first_epoch
        self.evaluated_mark = int(self.fraction() * EVALUATIONS_PER_BUDGET)
        steps = ", ".join(f"{lrs[0]:g} from {100 * f:.0f}%" for f, lrs in self.schedule) or "constant"
        log.info("time budget: %.4g minutes (%.0f s already spent); learning rate in fractions of "
                 "the budget: %s", self.seconds / 60, self.spent, steps)

    def should_stop(self) -> bool:
        local = self.spent + (time.perf_counter() - (self.started or time.perf_counter()))
        self.elapsed = float(self.sync(local))
        self.stopping = self.elapsed >= self.seconds
        return self.stopping

    def evaluation_due(self, epoch: int) -> bool:
        """True at the first epoch, at each tenth of the budget, every eval_interval epochs and
        at the end; decided from the shared clock, so every worker agrees."""
        mark = int(self.fraction() * EVALUATIONS_PER_BUDGET)
        due = (self.stopping or epoch == self.first_epoch or mark > self.evaluated_mark
               or bool(self.eval_interval and epoch % self.eval_interval == 0))
        if due:
            self.evaluated_mark = mark
        return due

    def gate(self, evaluator):
        """The evaluator, run only when due. The loop offers evaluation every epoch; this hook's
        own ``evaluate``, called first in the chain, decides (:meth:`evaluation_due`)."""
        if evaluator is None:
            return None

        def gated(model):
            return evaluator(model) if self.due_now else {}

        return gated

    # -- learning rate ----------------------------------------------------------------------------
    def rates_at(self, fraction: float) -> list[float] | None:
        rates = None
        for start, lrs in self.schedule:
            if fraction >= start:
                rates = lrs
        return rates

    def evaluate(self, model, epoch: int) -> dict[str, float]:
        self.due_now = self.evaluation_due(epoch)
        return {}

    def epoch_end(self, end: EpochEnd) -> None:
        rates = self.rates_at(self.fraction())
        if rates is not None and rates != self.current_lrs and end.optimizer is not None:
            groups = end.optimizer.param_groups
            for group, lr in zip(groups, rates * len(groups) if len(rates) == 1 else rates):
                group["lr"] = lr
            if not end.last:
                log.info("time budget: %.0f%% spent, learning rate %g from epoch %d",
                         100 * self.fraction(), rates[0], end.epoch + 1)
            self.current_lrs = rates
        if end.last:
            fitted = end.epoch - self.first_epoch + 1
            per_epoch = (self.elapsed - self.spent) / max(fitted, 1)
            log.info("time budget of %.4g minutes spent: %d epochs fitted in this run (epochs %d-%d, "
                     "the last one %s), %.3g s per epoch", self.seconds / 60, fitted, self.first_epoch,
                     end.epoch, "cut at the budget" if self.stopping else "complete", per_epoch)

    def metadata(self) -> dict:
        """Snapshot metadata that lets a resumed run continue this budget."""
        return {"train_seconds": round(self.elapsed, 3), "budget_seconds": self.seconds}


def spent_seconds(snapshot: dict | None) -> float:
    """Seconds of budget a snapshot had already used (0 for snapshots of other runs)."""
    value = ((snapshot or {}).get("metadata") or {}).get("train_seconds")
    try:
        return float(value) if value is not None and math.isfinite(float(value)) else 0.0
    except (TypeError, ValueError):
        return 0.0
