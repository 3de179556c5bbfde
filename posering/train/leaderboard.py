"""The results of a model comparison: leaderboard, curves, the winner.

Errors are evaluate_network's own (full frames, float32, DeepLabCut's metrics and result files),
for each trial's best snapshot by the compared metric (its last where none was evaluated), so a
leaderboard row and ``posering evaluate_network`` agree. Inference speed is that of the analysis
runtime (``make_predictor``'s default path) on this machine's device, batches of 8 full frames.

Files, in ``evaluation-results-pytorch/model-comparison/``: ``leaderboard.csv``,
``test-rmse-vs-minutes.png`` (each trial's test RMSE against its training minutes) and
``best.yaml`` (the winner's shuffle and snapshot: what ``shuffle="best"`` means for
``analyze_videos`` and the other steps that take a shuffle).
"""

from __future__ import annotations

import io
import logging
import math
import time

import numpy as np
import pandas as pd
import yaml

from posering import storage
from posering.errors import ModelError
from posering.project import ProjectPaths, load_config
from posering.formats.snapshots import select_snapshot

log = logging.getLogger("posering.train")

COLUMNS = ["rank", "shuffle", "model", "parameters", "test RMSE", "test RMSE (p > pcutoff)", "train RMSE",
           "test mAP", "training minutes", "epochs", "status", "inference frames/s", "inference on", "snapshot"]
METRIC_COLUMN = {"test_rmse": "test RMSE", "test_rmse_pcutoff": "test RMSE (p > pcutoff)", "test_mAP": "test mAP"}


def measure_inference(config_file: str, snapshot: str, image: str, device, batch: int = 8,
                      seconds: float = 2.0) -> tuple[float, str]:
    """(frames/s, what ran) of the analysis runtime on full frames like ``image``."""
    from posering.evaluate.predict import load_model
    from posering.model.runtime import make_predictor
    from posering.train.data import read_image

    model = load_model(config_file, snapshot, device)
    predictor = make_predictor(model, device=device)
    frames = np.repeat(read_image(image)[None], batch, axis=0)
    predictor(frames)  # warm-up (ONNX export, kernels)
    count, started = 0, time.perf_counter()
    while count < 3 * batch or time.perf_counter() - started < seconds:
        predictor(frames)
        count += batch
        if count >= 40 * batch:
            break
    return count / (time.perf_counter() - started), f"{predictor.device} ({predictor.backend}, {predictor.precision})"


def trial_status(result, minutes: float) -> str:
    if result is None:
        return "not run"
    if result.error is not None:
        return f"failed: {str(result.error).strip().splitlines()[-1][:120]}"
    spent = float((result.metrics or {}).get("minutes") or 0.0)
    return "finished" if spent >= 0.98 * minutes else f"stopped early at {spent:.2f} min"


def build_leaderboard(config: str, trainingsetindex: int, trials, results: dict, minutes: float,
                      metric: str, device) -> pd.DataFrame:
    """One row per trial, best first by ``metric``; evaluates each trial's chosen snapshot."""
    from posering.evaluate.evaluate_network import evaluate_network
    from posering.dataset.training_set import load_training_set

    cfg = load_config(config)
    paths = ProjectPaths(cfg)
    fraction = cfg.training_fractions[trainingsetindex]
    trained = [t for t in trials if _has_snapshot(paths.train_dir(fraction, t.shuffle))]
    table = evaluate_network(config, Shuffles=[t.shuffle for t in trained], trainingsetindex=trainingsetindex,
                             snapshots=-1, show_errors=False) if trained else pd.DataFrame()
    evaluated = table.reset_index().set_index("Shuffle number") if len(table) else pd.DataFrame()
    rows = []
    for trial in trials:
        result = results.get(trial.shuffle)
        metrics = (result.metrics or {}) if result is not None else {}
        row = {"shuffle": trial.shuffle, "model": trial.net_type,
               "parameters": ", ".join(f"{k}={_short(v)}" for k, v in trial.params.items()),
               "training minutes": round(float(metrics.get("minutes") or math.nan), 2),
               "epochs": metrics.get("epoch"), "status": trial_status(result, minutes)}
        if trial in trained and trial.shuffle in evaluated.index:
            values = evaluated.loc[trial.shuffle]
            snapshot = select_snapshot(paths.train_dir(fraction, trial.shuffle), -1)
            training_set = load_training_set(cfg, trial.shuffle, trainingsetindex)
            image = storage.join(training_set.root, *training_set.relpaths[training_set.test_indices[0]].split("/"))
            fps, where = measure_inference(paths.model_config_file(fraction, trial.shuffle), snapshot.location,
                                           image, device)
            row.update({"test RMSE": values["test rmse"], "test RMSE (p > pcutoff)": values["test rmse_pcutoff"],
                        "train RMSE": values["train rmse"], "test mAP": values["test mAP"],
                        "inference frames/s": round(fps, 1), "inference on": where,
                        "snapshot": storage.name(snapshot.location)})
        rows.append(row)
    board = pd.DataFrame(rows).reindex(columns=COLUMNS)
    ascending = metric != "test_mAP"
    board = board.sort_values(METRIC_COLUMN[metric], ascending=ascending, na_position="last", kind="stable")
    board["rank"] = range(1, len(board) + 1)
    return board.reset_index(drop=True)


def _has_snapshot(train_dir: str) -> bool:
    try:
        select_snapshot(train_dir, -1)
        return True
    except ModelError:
        return False


def _short(value) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def plot_curves(curves: dict[str, tuple[list[float], list[float]]], location: str, minutes: float) -> None:
    """Test RMSE against training minutes, one line per trial."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 4.5), dpi=120)
    axes = figure.add_subplot(1, 1, 1)
    for label, (xs, ys) in curves.items():
        if xs:
            axes.plot(xs, ys, marker="o", markersize=3, label=label)
    axes.set_xlabel("training minutes")
    axes.set_ylabel("test RMSE (px)")
    longest = max((max(xs) for xs, _ in curves.values() if xs), default=minutes)
    axes.set_xlim(0, max(minutes, longest) * 1.05)  # the last step may end past the budget
    axes.set_yscale("log")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8)
    axes.set_title("model comparison: test RMSE while training")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    storage.write_bytes(location, buffer.getvalue())


def curve_of(result) -> tuple[list[float], list[float]]:
    """(minutes, test RMSE) of a trial's reports."""
    frame = getattr(result, "metrics_dataframe", None) if result is not None else None
    if frame is None or "minutes" not in frame or "test_rmse" not in frame:
        return [], []
    frame = frame[["minutes", "test_rmse"]].dropna()
    return frame["minutes"].astype(float).tolist(), frame["test_rmse"].astype(float).tolist()


def write_results(config: str, trainingsetindex: int, board: pd.DataFrame, curves: dict, minutes: float,
                  metric: str, key: str) -> dict | None:
    """leaderboard.csv, the plot and best.yaml; returns the winner's record (None if nothing trained)."""
    paths = ProjectPaths(load_config(config))
    out = io.StringIO()
    board.to_csv(out, index=False)
    storage.write_text(paths.leaderboard_file, out.getvalue())
    plot_curves(curves, paths.leaderboard_plot, minutes)
    column = METRIC_COLUMN[metric]
    ranked = board.dropna(subset=[column])
    if ranked.empty:
        return None
    top = ranked.iloc[0]
    winner = {"shuffle": int(top["shuffle"]), "trainingsetindex": int(trainingsetindex),
              "snapshot": str(top["snapshot"]), "net_type": str(top["model"]), "metric": metric,
              "value": float(top[column]), "comparison": key, "leaderboard": paths.leaderboard_file}
    storage.write_text(paths.comparison_winner, yaml.safe_dump(winner, sort_keys=False))
    return winner
