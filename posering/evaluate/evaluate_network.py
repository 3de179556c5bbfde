"""``evaluate_network``: errors of trained snapshots on the train and test frames (step H).

For each shuffle and each snapshot asked, the network predicts every labeled frame of the
training dataset (full frames, float32), and posering writes DeepLabCut 3's files into
``evaluation-results-pytorch/iteration-<N>/<Task><date>-trainset<pct>shuffle<k>/``:

* ``<scorer>.h5``: the predictions (key ``df_with_missing``; rows = the training dataset's rows,
  columns scorer / bodyparts / x, y, likelihood);
* ``<scorer>-results.csv``: one row, DeepLabCut's index and value columns (2 decimals);
* ``<scorer>-keypoint-results.csv``: the errors per bodypart (train / test, with and without pcutoff);
* ``LabeledImages_<scorer>/`` when plotting;

and appends the rows to ``iteration-<N>/CombinedEvaluation-results.csv`` (a snapshot evaluated
again replaces its row). ``<scorer>`` is the name DeepLabCut gives the snapshot's outputs,
``DLC_Resnet50_openfieldOct30shuffle1_snapshot_best-10``. Metrics: see metrics.py.
"""

from __future__ import annotations

import io
import logging

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from posering import storage
from posering.dataset.training_set import load_training_set
from posering.errors import ConfigError
from posering.evaluate.metrics import bodypart_errors, evaluate_poses
from posering.evaluate.predict import load_model, predict_images
from posering.formats.model_config import read_model_config
from posering.formats.poses import poses_table
from posering.formats.snapshots import select_snapshots
from posering.formats.tables import write_csv, write_h5
from posering.project import ProjectPaths, load_config
from posering.project.paths import evaluation_files, scorer_name

log = logging.getLogger("posering.evaluate")

INDEX_COLUMNS = ["%Training dataset", "Shuffle number", "Training epochs", "Detector epochs (TD only)", "pcutoff"]
VALUE_COLUMNS = ["train rmse", "train rmse_pcutoff", "train mAP", "train mAR",
                 "test rmse", "test rmse_pcutoff", "test mAP", "test mAR"]


def comparison_indices(bodyparts: list[str], comparisonbodyparts) -> list[int]:
    """Positions of the bodyparts to score ('all', one name, or a list of names)."""
    if comparisonbodyparts in (None, "all"):
        return list(range(len(bodyparts)))
    wanted = [comparisonbodyparts] if isinstance(comparisonbodyparts, str) else list(comparisonbodyparts)
    unknown = [bp for bp in wanted if bp not in bodyparts]
    if unknown:
        raise ConfigError(f"comparisonbodyparts: {unknown[0]!r} is not a bodypart of config.yaml "
                          f"({', '.join(bodyparts)})")
    return [bodyparts.index(bp) for bp in wanted]


def append_combined(location: str, rows: pd.DataFrame) -> pd.DataFrame:
    """Add rows to CombinedEvaluation-results.csv; a row for the same snapshot is replaced."""
    combined = rows
    if storage.exists(location):
        old = pd.read_csv(io.StringIO(storage.read_text(location)), index_col=list(range(len(INDEX_COLUMNS))))
        combined = pd.concat([old, rows])
        combined = combined[~combined.index.duplicated(keep="last")]
    combined = combined.sort_index()
    write_csv(combined, location)
    return combined


def evaluate_network(config: str, Shuffles: list[int] = [1], trainingsetindex: int = 0,  # noqa: B006
                     plotting: bool = False, show_errors: bool = True,
                     comparisonbodyparts: str | list[str] = "all", gputouse: int | None = None,
                     snapshots: str | int | list | None = None, device: str | None = None,
                     batch_size: int = 4) -> pd.DataFrame:
    """Evaluate trained snapshots on the train and test frames; returns the result rows.

    Parameters
    ----------
    config: path or URL of the project's config.yaml.
    Shuffles: the shuffles to evaluate, e.g. [1, 2].
    trainingsetindex: which TrainingFraction of config.yaml (0 = the first).
    plotting: also draw every frame with labels (+), confident (.) and uncertain (x) predictions.
    show_errors: print the results table.
    comparisonbodyparts: bodyparts to score: all, or a list of names.
    gputouse: number of the GPU to use (CUDA).
    snapshots: which snapshots: default config.yaml's snapshotindex (-1 = best, else last); "all", "last", an index, or a list of names.
    device: cpu, cuda, cuda:1, ... (default: a GPU when there is one).
    batch_size: images per forward pass (frames of equal size).
    """
    from posering.evaluate.plots import plot_evaluation_images
    from posering.train.train_network import resolve_device

    cfg = load_config(config)
    paths = ProjectPaths(cfg)
    fraction = cfg.training_fractions[trainingsetindex]
    pcutoff = float(cfg.get("pcutoff", 0.6))
    if snapshots is None:
        snapshots = cfg.get("snapshotindex", -1)
    elif snapshots == "last":
        snapshots = -1
    rows = []
    for shuffle in ([Shuffles] if isinstance(Shuffles, int) else list(Shuffles)):
        training_set = load_training_set(cfg, shuffle, trainingsetindex)
        model_config = read_model_config(paths.model_config_file(fraction, shuffle))
        net_type = model_config.data.get("net_type", "resnet_50")
        out_dir = paths.evaluation_folder(fraction, shuffle)
        chosen = comparison_indices(training_set.bodyparts, comparisonbodyparts)
        locations = [storage.join(training_set.root, *rel.split("/")) for rel in training_set.relpaths]
        dev = resolve_device(device, gputouse, model_config)
        for snapshot in select_snapshots(paths.train_dir(fraction, shuffle), snapshots):
            scorer = scorer_name(net_type, cfg.task, cfg.date, shuffle, snapshot.uid)
            log.info("evaluating %s on %d frames", snapshot.location, len(locations))
            model = load_model(model_config, snapshot, dev)
            with tqdm(total=len(locations), desc=f"shuffle {shuffle} {storage.name(snapshot.location)}", unit="img",
                      disable=not show_errors) as bar:
                predictions = predict_images(model, locations, dev, batch_size, progress=bar.update)
            write_h5(poses_table(predictions, scorer, training_set.bodyparts, training_set.index),
                     evaluation_files(out_dir, scorer)["predictions"])

            values = {}
            per_bodypart = {}
            for which in ("train", "test"):
                rows_ = training_set.subset(which)
                pred = predictions[rows_][:, chosen]
                truth = training_set.keypoints[rows_][:, chosen]
                metrics = evaluate_poses(pred, truth, pcutoff) if rows_ else dict.fromkeys(
                    ("rmse", "rmse_pcutoff", "mAP", "mAR"), float("nan"))
                values.update({f"{which} {k}": v for k, v in metrics.items()})
                all_points, confident = bodypart_errors(pred, truth, pcutoff) if rows_ else (
                    np.full(len(chosen), np.nan),) * 2
                per_bodypart[f"{which.capitalize()} error (px)"] = all_points
                per_bodypart[f"{which.capitalize()} error (px) with p-cutoff"] = confident
            row = pd.DataFrame([[fraction, shuffle, snapshot.epoch, -1, pcutoff] + [values[c] for c in VALUE_COLUMNS]],
                               columns=INDEX_COLUMNS + VALUE_COLUMNS).set_index(INDEX_COLUMNS).round(2)
            write_csv(row, evaluation_files(out_dir, scorer)["results"])
            order = ["Train error (px)", "Test error (px)", "Train error (px) with p-cutoff",
                     "Test error (px) with p-cutoff"]
            keypoints = pd.DataFrame([per_bodypart[k] for k in order], index=pd.Index(order, name="Error Type"),
                                     columns=[training_set.bodyparts[i] for i in chosen]).round(2)
            write_csv(keypoints, evaluation_files(out_dir, scorer)["keypoint_results"])
            rows.append(row)
            if plotting:
                plot_evaluation_images(cfg, training_set, predictions, evaluation_files(out_dir, scorer)["labeled_images"],
                                       pcutoff, chosen)
    if not rows:
        return pd.DataFrame()
    table = pd.concat(rows)
    append_combined(paths.combined_evaluation(), table)
    if show_errors:
        print(table.reset_index().to_string(index=False))
    return table
