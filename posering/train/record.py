"""What a local training run leaves in ``train/``, as loop hooks.

* ``learning_stats.csv``: one row per epoch with DeepLabCut 3's columns (``step`` = epoch,
  ``losses/train.*``, ``losses/eval.*``, ``metrics/test.*``), so its plotting tools read ours;
* ``train.txt``: the run's log (which weights were used, the settings, loss lines);
* ``learning_curve.png``: training loss (and test loss / RMSE when evaluated) against epochs;
* snapshots, through :class:`~posering.train.snapshot_keeper.SnapshotKeeper`;
* a tqdm progress bar with the loss and the time left.

Files are rewritten whole at the end of each epoch (atomic, and s3 works the same way).
"""

from __future__ import annotations

import csv
import io
import logging
import time

import torch
from tqdm.auto import tqdm

from posering import storage
from posering.project.paths import LEARNING_CURVE, LEARNING_STATS, TRAINING_LOG
from posering.train.loop import EpochEnd, Hooks
from posering.train.snapshot_keeper import SnapshotKeeper

log = logging.getLogger("posering.train")

LOSS_PARTS = ("bodypart_heatmap", "bodypart_locref", "bodypart_total_loss", "total_loss")
METRICS = ("mAP", "mAR", "rmse", "rmse_pcutoff")
COLUMNS = (["step"] + [f"losses/eval.{p}" for p in LOSS_PARTS] + [f"losses/train.{p}" for p in LOSS_PARTS]
           + [f"metrics/test.{m}" for m in METRICS])


class LogCapture(logging.Handler):
    """Collects posering's log lines so they can be written to train/train.txt."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%d %H:%M:%S"))

    def emit(self, record):
        self.lines.append(self.format(record))


def read_learning_stats(location: str) -> list[dict]:
    if not storage.exists(location):
        return []
    return list(csv.DictReader(io.StringIO(storage.read_text(location))))


class TrainingRecorder(Hooks):
    """Hooks of ``train_network``: files in train/, snapshots, evaluation, progress bar."""

    def __init__(self, train_dir: str, keeper: SnapshotKeeper, evaluator=None, first_epoch: int = 1,
                 capture: LogCapture | None = None, progress: bool = True,
                 budget=None, bar=tqdm):
        self.train_dir = train_dir
        self.bar_class = bar  # tqdm here; in a Ray worker, a bar Ray draws in the driver's terminal
        # A time budget (posering.train.budget.TimeBudget): the bar counts seconds, and snapshots
        # record the time spent so a resumed run continues the budget.
        self.budget = budget
        self.keeper = keeper
        self.evaluator = evaluator
        self.capture = capture
        self.progress = progress
        self.stats_file = storage.join(train_dir, LEARNING_STATS)
        # A resumed run continues the table: rows of epochs it will redo are dropped.
        self.rows = [r for r in read_learning_stats(self.stats_file) if int(r["step"]) < first_epoch]
        self.bar = None
        self.last_loss_read = 0.0
        self.last_written = 0.0
        self.saved: list[str] = []

    # -- loop hooks ------------------------------------------------------------------------------
    def start(self, total_iterations: int, first_epoch: int, epochs: int) -> None:
        if self.progress and self.budget is not None:
            self.bar = self.bar_class(total=round(self.budget.seconds), initial=round(self.budget.spent),
                                      desc=f"epoch {first_epoch}", unit="s", dynamic_ncols=True, mininterval=1.0)
        elif self.progress:
            self.bar = self.bar_class(total=total_iterations, desc=f"epoch {first_epoch}/{epochs}", unit="it",
                                      dynamic_ncols=True, mininterval=1.0)
        self.epochs = epochs

    def iteration(self, iteration: int, epoch: int, loss: torch.Tensor) -> None:
        if self.bar is None:
            return
        if self.budget is not None:
            self.bar.update(max(0, min(round(self.budget.elapsed), self.bar.total) - self.bar.n))
        else:
            self.bar.update(1)
        now = time.monotonic()
        if now - self.last_loss_read > 2.0:  # reading the loss waits for the device: not every step
            self.last_loss_read = now
            self.bar.set_postfix(loss=f"{loss.item():.5f}", refresh=False)
        self.bar.set_description(f"epoch {epoch}" if self.budget is not None else f"epoch {epoch}/{self.epochs}",
                                 refresh=False)

    def display(self, iteration: int, epoch: int, losses: dict[str, float], lr: float) -> None:
        parts = ", ".join(f"{k} {v:.5f}" for k, v in losses.items())
        log.info("iteration %d (epoch %d): %s, lr %g", iteration, epoch, parts, lr)

    def evaluate(self, model, epoch: int) -> dict[str, float]:
        if self.evaluator is None:
            return {}
        return self.evaluator(model)

    def epoch_end(self, end: EpochEnd) -> None:
        metrics = {k: v for k, v in end.metrics.items() if k.startswith("test.")}
        eval_losses = {k: v for k, v in end.metrics.items() if k.startswith("eval.")}
        train_losses = {f"train.{k}": v for k, v in end.losses.items()}
        if "train.total_loss" in train_losses:  # one head: the head's total is the total
            train_losses["train.bodypart_total_loss"] = train_losses["train.total_loss"]
        row = {"step": end.epoch}
        row.update({f"losses/{k}": v for k, v in {**eval_losses, **train_losses}.items()})
        row.update({f"metrics/{k}": v for k, v in metrics.items()})
        self.rows.append(row)
        summary = f"epoch {end.epoch}: loss {end.losses.get('total_loss', float('nan')):.5f}, " \
                  f"lr {end.lr:g}, {end.seconds:.0f} s"
        if metrics:
            summary += ", " + ", ".join(f"{k} {v:.2f}" for k, v in metrics.items())
        log.info(summary)

        metadata = {"epoch": end.epoch, "iteration": end.iteration,
                    "metrics": {f"metrics/{k}": v for k, v in metrics.items()},
                    "losses": {**train_losses, **eval_losses}}
        if self.budget is not None:
            metadata.update(self.budget.metadata())
        saving = self.keeper.due(end.epoch, end.last) or bool(metrics)
        # The table is written before the snapshot, so that whatever snapshot a killed run left,
        # the table covers its epoch (a resumed run drops the rows after it). Otherwise files are
        # rewritten at the end and at most every 30 s: with small datasets epochs take a second
        # and a plot costs half of one.
        if saving or end.last or time.monotonic() - self.last_written > 30:
            self.write_files()
        if saving:
            written = self.keeper.update(end.epoch, end.state(), metadata, last=end.last)
            for location in written:
                log.info("saved %s", storage.name(location))
            self.saved.extend(written)
            self.write_log()
        if end.last and self.bar is not None:
            if self.budget is not None:  # the bar ends where the budget did
                self.bar.update(max(0, min(round(self.budget.elapsed), self.bar.total) - self.bar.n))
            self.bar.close()

    # -- files -------------------------------------------------------------------------------------
    def write_log(self) -> None:
        if self.capture is not None:
            storage.write_text(storage.join(self.train_dir, TRAINING_LOG),
                               "\n".join(self.capture.lines) + "\n")

    def write_files(self) -> None:
        self.last_written = time.monotonic()
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        for row in self.rows:
            writer.writerow({k: row.get(k, "") for k in COLUMNS})
        storage.write_text(self.stats_file, out.getvalue())
        self.write_log()
        try:
            from posering.train.curve import plot_learning_curve

            plot_learning_curve(self.rows, storage.join(self.train_dir, LEARNING_CURVE))
        except Exception as exc:  # a plot must never stop training
            log.warning("learning curve not drawn: %s", exc)
