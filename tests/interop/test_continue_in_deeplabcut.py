"""A project made entirely in posering continues in DeepLabCut 3.0.2, step for step.

posering creates the project, extracts and labels frames, builds the training set, trains,
evaluates, analyses, filters, extracts outlier frames, refines and merges, and trains the next
iteration (resnet_50, DeepLabCut's default, the net both tools run). Then DeepLabCut 3.0.2, in its
own virtual environment, runs its steps on that project and on posering's analysis files. Each
DeepLabCut step is one test, so a report says which step works and which does not.

Kept small (a 40-frame 320x240 video, 12 labeled frames, one training step in posering, one epoch
in DeepLabCut); runs only where POSERING_DLC_PYTHON is set (see dlc_venv.py).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from tests.interop.dlc_venv import assert_step, needs_deeplabcut, quick_model, run_deeplabcut, step

# DeepLabCut and posering each train a resnet_50 here: minutes on a small CPU machine.
pytestmark = [needs_deeplabcut, pytest.mark.slow, pytest.mark.timeout(3600)]

NFRAMES = 40
def _label_extracted_frames(config: str, truth: np.ndarray) -> None:
    """A person's labels for every extracted frame, saved by posering (here: the true points)."""
    from posering import labels
    from posering.demo.synthetic import BODYPARTS
    from posering.project import ProjectPaths, load_config
    from posering.project.paths import frame_index_from_name

    cfg = load_config(config)
    paths = ProjectPaths(cfg)
    stem = Path(next(iter(cfg.video_sets))).stem
    names = sorted(p.name for p in Path(paths.labeled_folder(stem)).glob("img*.png"))
    indices = [frame_index_from_name(n) for n in names]
    table = labels.from_arrays(cfg.scorer, BODYPARTS, [f"labeled-data/{stem}/{n}" for n in names], truth[indices])
    labels.save_labels(table, paths.collected_data(stem))


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """The posering-made project, and what posering said about it before DeepLabCut ran."""
    import posering as pr
    from posering.demo.synthetic import BODYPARTS, SKELETON, Scene, render_video
    from posering.project import ProjectConfig, ProjectPaths

    work = tmp_path_factory.mktemp("posering-made")
    raw = work / "mouse.mp4"
    truth = render_video(str(raw), Scene(nframes=NFRAMES, seed=3))
    config = pr.create_new_project("mice", "lab", [str(raw)], working_directory=str(work), copy_videos=True)
    cfg = ProjectConfig.load(config)
    cfg["bodyparts"], cfg["skeleton"], cfg["numframes2pick"], cfg["pcutoff"] = BODYPARTS, SKELETON, 12, 0.1
    cfg.save()
    video = next(iter(cfg.video_sets))
    pr.extract_frames(config, mode="automatic", algo="uniform", seed=1)
    _label_extracted_frames(config, truth)

    pr.create_training_dataset(config, net_type="resnet_50")
    quick_model(config)
    pr.train_network(config, epochs=1, progress=False)
    pr.evaluate_network(config, show_errors=False)
    first = work / "analysis-iteration-0"
    pr.analyze_videos(config, [video], num_workers=0, precision="fp32", destfolder=str(first))
    pr.filterpredictions(config, [video], destfolder=str(first))
    pr.extract_outlier_frames(config, [video], outlieralgorithm="uncertain", p_bound=1.01,
                              extractionalgorithm="uniform", automatic=True, destfolder=str(first))
    pr.refine_labels(config, video, pcutoff=0)
    pr.merge_datasets(config)

    pr.create_training_dataset(config, net_type="resnet_50")
    quick_model(config)
    pr.train_network(config, epochs=1, progress=False)
    rows = pr.evaluate_network(config, show_errors=False)
    analysis = work / "analysis"
    scorer = pr.analyze_videos(config, [video], num_workers=0, precision="fp32", destfolder=str(analysis))
    paths = ProjectPaths(ProjectConfig.load(config))
    return {"config": config, "video": video, "scorer": scorer, "analysis": analysis, "rows": rows,
            "paths": paths, "work": work}


@pytest.fixture(scope="module")
def deeplabcut_run(project):
    config, video, analysis = project["config"], project["video"], project["analysis"]
    train_dir = Path(project["paths"].train_dir(0.95, 1))
    last = sorted(p for p in train_dir.glob("snapshot-0*.pt"))[-1]
    # posering's evaluation files go: DeepLabCut writes the same names, and must write them itself.
    for result in Path(project["paths"].evaluation_folder(0.95, 1)).glob("*.csv"):
        result.unlink()
    # The steps that find files by the scorer run while the best snapshot is posering's.
    plan = [
        step("check_labels", "check_labels", config, draw_skeleton=True),
        step("evaluate_network", "evaluate_network", config, shuffles=[1], show_errors=False),
        step("create_labeled_video", "create_labeled_video", config, [video], destfolder=analysis),
        step("plot_trajectories", "plot_trajectories", config, [video], destfolder=analysis),
        step("filterpredictions", "filterpredictions", config, [video], destfolder=analysis),
        step("extract_outlier_frames", "extract_outlier_frames", config, [video], destfolder=analysis,
             outlieralgorithm="uncertain", p_bound=1.01, extractionalgorithm="uniform", automatic=True),
        step("analyze_videos", "analyze_videos", config, [video], destfolder=project["work"] / "dlc-analysis",
             batch_size=4),
        # posering's new projects say default_net_type: auto, which DeepLabCut does not know: a
        # user names the network there (docs/user-guide/coming-from-deeplabcut.md).
        step("create_training_dataset", "create_training_dataset", config, Shuffles=[2], userfeedback=False,
             net_type="resnet_50"),
        step("train_network", "train_network", config, shuffle=1, epochs=1, save_epochs=1, snapshot_path=last,
             batch_size=8, device="cpu"),
        step("merge_datasets", "merge_datasets", config),
    ]
    return run_deeplabcut(plan, project["work"] / "deeplabcut")


def test_check_labels(project, deeplabcut_run):
    assert_step(deeplabcut_run, "check_labels")
    folders = list(Path(project["paths"].labeled_data_dir).glob("*_labeled"))
    assert folders and len(list(folders[0].glob("*.png"))) >= 12


def test_evaluate_network_agrees_with_posering(project, deeplabcut_run):
    assert_step(deeplabcut_run, "evaluate_network")
    ours = project["rows"].reset_index()
    results = list(Path(project["paths"].evaluation_folder(0.95, 1)).glob("*-results.csv"))
    theirs = pd.concat([pd.read_csv(f) for f in results if "keypoint" not in f.name])
    theirs = theirs[theirs["Training epochs"] == ours["Training epochs"].iloc[0]]
    assert len(theirs) == 1, results
    for column in ("train rmse", "test rmse", "train mAP", "test mAP"):
        assert theirs[column].iloc[0] == pytest.approx(ours[column].iloc[0], abs=0.05), column


def test_create_training_dataset_adds_a_shuffle_beside_poserings(project, deeplabcut_run):
    import yaml

    assert_step(deeplabcut_run, "create_training_dataset")
    metadata = yaml.safe_load(Path(project["paths"].dataset_metadata()).read_text())
    assert {entry["index"] for entry in metadata["shuffles"].values()} == {1, 2}
    from posering.dataset.training_set import load_training_set

    # (the project's iteration as it was before DeepLabCut's merge_datasets moved it on)
    assert load_training_set(project["paths"].config, shuffle=2).split_source.endswith(".pickle")


def test_train_network_one_epoch_on_poserings_shuffle(project, deeplabcut_run):
    assert_step(deeplabcut_run, "train_network")
    train_dir = Path(project["paths"].train_dir(0.95, 1))
    assert (train_dir / "snapshot-002.pt").exists()
    # posering still reads the model folder DeepLabCut rewrote, and its own settings beside it.
    from posering.formats.model_config import read_model_config

    model_config = read_model_config(str(train_dir / "pytorch_config.yaml"))
    assert model_config.spec.weight_init == "none" and model_config.net_type == "resnet_50"


def test_analyze_videos(project, deeplabcut_run):
    assert_step(deeplabcut_run, "analyze_videos")
    (h5,) = (project["work"] / "dlc-analysis").glob("*.h5")
    assert len(pd.read_hdf(h5)) == NFRAMES


def test_create_labeled_video_on_poserings_analysis(project, deeplabcut_run):
    assert_step(deeplabcut_run, "create_labeled_video")
    (labeled,) = project["analysis"].glob("*_labeled.mp4")
    reader = cv2.VideoCapture(str(labeled))
    frames = 0
    while reader.read()[0]:
        frames += 1
    assert frames == NFRAMES


def test_plot_trajectories_on_poserings_analysis(project, deeplabcut_run):
    assert_step(deeplabcut_run, "plot_trajectories")
    plots = list((project["analysis"] / "plot-poses").rglob("*.png"))
    assert len(plots) == 4


def test_filterpredictions_on_poserings_analysis(project, deeplabcut_run):
    assert_step(deeplabcut_run, "filterpredictions")
    (filtered,) = project["analysis"].glob("*_filtered.h5")
    assert len(pd.read_hdf(filtered)) == NFRAMES


def test_extract_outlier_frames_on_poserings_analysis(project, deeplabcut_run):
    assert_step(deeplabcut_run, "extract_outlier_frames")
    folder = Path(project["paths"].labeled_data_dir) / Path(project["video"]).stem
    assert list(folder.glob("machinelabels-iter1.h5"))


def test_merge_datasets(project, deeplabcut_run):
    assert_step(deeplabcut_run, "merge_datasets")
