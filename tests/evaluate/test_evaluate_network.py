"""evaluate_network and extract_save_all_maps write DeepLabCut's files with the right numbers."""

import io
import json

import numpy as np
import pandas as pd
import pytest

from posering import labels, storage
from posering.evaluate.evaluate_network import INDEX_COLUMNS, VALUE_COLUMNS, evaluate_network
from posering.evaluate.extract_save_all_maps import extract_save_all_maps
from posering.evaluate.metrics import evaluate_poses
from posering.project import ProjectPaths, load_config
from posering.project.paths import scorer_name
from posering.train.split import load_training_set
from tests.conftest import SHARED_DATA
from tests.training_helpers import TINY_TEST, TINY_TRAIN, trained_demo_project


def read_csv(location, **options):
    return pd.read_csv(io.StringIO(storage.read_text(location)), **options)


def test_evaluation_files_columns_and_numbers(tmp_path_factory):
    config = trained_demo_project(tmp_path_factory)
    cfg = load_config(config)
    paths = ProjectPaths(cfg)
    table = evaluate_network(config, Shuffles=[1], plotting=True, show_errors=False)
    best = [name for name in storage.listdir(paths.train_dir(0.95, 1)) if "best" in name][0]
    epoch = int(best.split("-")[-1][:-3])
    scorer = scorer_name("mobilenet_v4_small", "demo", cfg.date, 1, f"best-{epoch}")
    folder = paths.evaluation_folder(0.95, 1)
    names = storage.listdir(folder)
    assert {f"{scorer}.h5", f"{scorer}-results.csv", f"{scorer}-keypoint-results.csv",
            f"LabeledImages_{scorer}"} <= set(names), names

    results = read_csv(storage.join(folder, f"{scorer}-results.csv"))
    assert list(results.columns) == INDEX_COLUMNS + VALUE_COLUMNS
    assert results.iloc[0]["Training epochs"] == epoch and results.iloc[0]["pcutoff"] == cfg["pcutoff"]

    # The numbers follow from the predictions file and the labels, by hand.
    predictions = labels.read_labels(storage.join(folder, f"{scorer}.h5"))
    assert labels.scorer_of(predictions) == scorer
    assert list(predictions.columns.get_level_values(2)[:3]) == ["x", "y", "likelihood"]
    values = predictions.to_numpy().reshape(len(predictions), -1, 3)
    training_set = load_training_set(cfg)
    for which, rows in (("train", TINY_TRAIN), ("test", TINY_TEST)):
        errors = np.linalg.norm(values[rows, :, :2] - training_set.keypoints[rows], axis=-1)
        assert results.iloc[0][f"{which} rmse"] == pytest.approx(round(float(np.mean(errors)), 2), abs=0.006)
        expected = evaluate_poses(values[rows], training_set.keypoints[rows], cfg["pcutoff"])
        assert results.iloc[0][f"{which} mAP"] == pytest.approx(round(expected["mAP"], 2), abs=0.006)

    per_bodypart = read_csv(storage.join(folder, f"{scorer}-keypoint-results.csv"), index_col=0)
    assert per_bodypart.index.name == "Error Type" and list(per_bodypart.columns) == cfg.bodyparts
    plots = storage.listdir(storage.join(folder, f"LabeledImages_{scorer}"))
    assert len(plots) == len(TINY_TRAIN) + len(TINY_TEST)
    assert "Training-demo-mouse-img000.png" in plots

    # Every snapshot, then one again: the combined file holds one row per epoch (a best
    # snapshot and the regular one of the same epoch are the same weights).
    all_rows = evaluate_network(config, snapshots="all", show_errors=False)
    again = evaluate_network(config, show_errors=False, comparisonbodyparts=["snout", "tailbase"])
    combined = read_csv(paths.combined_evaluation(), index_col=list(range(5)))
    epochs = all_rows.index.get_level_values("Training epochs")
    assert len(all_rows) == 3 and set(epochs) == {25, 50, epoch}  # the best may be any evaluated epoch
    assert len(combined) == len(set(epochs))
    # It trained on those frames: the last snapshot puts most of their keypoints within pixels
    # (the median: one keypoint of two frames may sit in a wrong spot, CPU-dependent; issue 19).
    last_scorer = scorer_name("mobilenet_v4_small", "demo", cfg.date, 1, 50)
    last = labels.read_labels(storage.join(folder, f"{last_scorer}.h5"))
    errors = np.linalg.norm(last.to_numpy().reshape(len(last), -1, 3)[TINY_TRAIN, :, :2]
                            - training_set.keypoints[TINY_TRAIN], axis=-1)
    assert np.median(errors) < 3.0, errors
    assert list(combined.columns) == VALUE_COLUMNS
    assert combined.loc[again.index[0]].equals(again.iloc[0])  # the later evaluation replaced the row
    assert table.index.names == INDEX_COLUMNS


def test_score_maps_are_saved(tmp_path_factory):
    config = trained_demo_project(tmp_path_factory)
    folder = extract_save_all_maps(config, Indices=[0, 2])
    names = storage.listdir(folder)
    assert names == ["Test-demo-mouse-img013_locref.png", "Test-demo-mouse-img013_scmap.png",
                     "Training-demo-mouse-img000_locref.png", "Training-demo-mouse-img000_scmap.png"]


@pytest.mark.skipif(SHARED_DATA is None, reason="needs ../shared/data")
def test_deeplabcuts_own_model_and_split_give_deeplabcuts_test_row(dlc3_project):
    """DeepLabCut 3.0.2 evaluated its snapshot-best-010 at test RMSE 78.68, mAP 8.42, mAR 8.33.

    To stay fast the training dataset is cut to the 6 test frames and 2 training frames (the
    split file renumbered accordingly); the test row must come out as DeepLabCut's, digit for digit.
    """
    cfg = load_config(dlc3_project)
    paths = ProjectPaths(cfg)
    location = paths.dataset_collected_data()
    split_file = storage.join(paths.dataset_dir(), "split-shuffle1.json")
    split = json.loads(storage.read_text(split_file))
    keep = split["test_indices"] + split["train_indices"][:2]
    table = labels.read_labels(location)
    labels.write_labels(table.iloc[keep], location)
    storage.write_text(split_file, json.dumps({"train_indices": [6, 7], "test_indices": list(range(6))}))
    # DeepLabCut's own combined results, to which posering appends.
    dlc_rows = SHARED_DATA / "dlc3-openfield-resnet50/evaluation-results-pytorch/iteration-0/CombinedEvaluation-results.csv"
    storage.write_text(paths.combined_evaluation(), dlc_rows.read_text())

    row = evaluate_network(dlc3_project, show_errors=False).reset_index().iloc[0]
    assert (row["Training epochs"], row["pcutoff"]) == (10, 0.4)
    assert (row["test rmse"], row["test mAP"], row["test mAR"]) == (78.68, 8.42, 8.33)
    assert np.isnan(row["test rmse_pcutoff"])  # no likelihood reaches 0.4, as in DeepLabCut's row
    scorer = "DLC_Resnet50_openfieldOct30shuffle1_snapshot_best-10"
    assert storage.exists(storage.join(paths.evaluation_folder(0.95, 1), f"{scorer}-results.csv"))
    combined = read_csv(paths.combined_evaluation())
    assert len(combined) == 3  # DeepLabCut's rows for epoch 3 and shuffle 2 stay; epoch 10 is replaced
