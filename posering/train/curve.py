"""The learning curve of a training run, drawn from learning_stats.csv rows."""

from __future__ import annotations

import io
import math

from posering import storage


def _series(rows: list[dict], key: str) -> tuple[list[int], list[float]]:
    xs, ys = [], []
    for row in rows:
        value = row.get(key, "")
        try:
            value = float(value)
        except (TypeError, ValueError):
            continue
        if math.isfinite(value):
            xs.append(int(row["step"]))
            ys.append(value)
    return xs, ys


def plot_learning_curve(rows: list[dict], location: str) -> None:
    """Training (and test) loss per epoch, log scale; test RMSE on a second axis when known."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 4), dpi=100)
    axis = figure.add_subplot(1, 1, 1)
    for key, label, style in (("losses/train.total_loss", "train loss", "-"),
                              ("losses/eval.total_loss", "test loss", "o--")):
        xs, ys = _series(rows, key)
        if xs:
            axis.plot(xs, ys, style, label=label)
    axis.set_xlabel("epoch")
    axis.set_ylabel("loss")
    if any(_series(rows, "losses/train.total_loss")[1]):
        axis.set_yscale("log")
    lines, labels = axis.get_legend_handles_labels()
    xs, ys = _series(rows, "metrics/test.rmse")
    if xs:
        right = axis.twinx()
        right.plot(xs, ys, "s:", color="tab:red", label="test error (px)")
        right.set_ylabel("test error (px)")
        more_lines, more_labels = right.get_legend_handles_labels()
        lines, labels = lines + more_lines, labels + more_labels
    if lines:
        axis.legend(lines, labels, loc="upper right")
    axis.set_title("learning curve")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    storage.write_bytes(location, buffer.getvalue())
