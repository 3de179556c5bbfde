"""The whole active-learning loop on a real project and a real network:
analyze -> extract_outlier_frames -> refine -> merge_datasets -> create_training_dataset
(iteration 1) -> train_network."""

import os

import numpy as np
import pandas as pd
import pytest

from posering import labels
from posering.analyze.analyze_videos import analyze_videos
from posering.dataset.create_training_dataset import create_training_dataset
from posering.dataset.merge_datasets import merge_datasets
from posering.frames.extract_outlier_frames import extract_outlier_frames
from posering.labeling import load_for_refinement, save_refined
from posering.project import ProjectConfig, ProjectPaths
from tests.random_model import install_random_model


@pytest.mark.slow
def test_analyze_outliers_refine_merge_retrain(demo_project):
    config = demo_project
    install_random_model(config)  # an untrained network: its predictions are what needs refining
    cfg = ProjectConfig.load(config)
    video = next(iter(cfg.video_sets))
    stem = "demo-mouse"
    paths = ProjectPaths(cfg)
    labeled_before = labels.read_labels(paths.collected_data(stem))

    scorer = analyze_videos(config, [video], num_workers=0)
    outliers = extract_outlier_frames(config, video, outlieralgorithm="uncertain", p_bound=0.9,
                                      extractionalgorithm="kmeans", automatic=True)[video]
    assert outliers["added"] == 20  # numframes2pick, none of them an already labeled frame
    machine = labels.read_labels(paths.machine_labels(stem, 0))
    assert labels.scorer_of(machine) == scorer and len(machine) == 20

    # A person corrects every machine point to where the animal really is (the demo's truth).
    truth = pd.read_csv(os.path.join(os.path.dirname(os.path.dirname(config)), "ground-truth.csv"),
                        index_col="frame")
    refinement = load_for_refinement(config, video, pcutoff=0)
    for frame in outliers["frames"]:
        for bodypart in cfg.bodyparts:
            refinement.move(f"img{frame:03d}.png", bodypart, truth.loc[frame, f"{bodypart}_x"],
                            truth.loc[frame, f"{bodypart}_y"])
    save_refined(refinement)
    refined = labels.read_labels(paths.collected_data(stem))
    assert len(refined) == 40
    pd.testing.assert_frame_equal(refined.loc[labeled_before.index], labeled_before, check_like=True)

    assert merge_datasets(config) == 1
    shuffles = create_training_dataset(config, net_type="mobilenet_v4_small")
    cfg = ProjectConfig.load(config)
    assert cfg.iteration == 1 and "iteration-1" in ProjectPaths(cfg).model_folder(0.95, 1)
    dataset = labels.read_labels(ProjectPaths(cfg).dataset_collected_data())
    assert len(dataset) == 40 and shuffles

    from posering.train.train_network import train_network

    snapshot = train_network(config, maxiters=2, batch_size=4, device="cpu", progress=False)
    assert snapshot and "iteration-1" in snapshot and os.path.exists(snapshot)
    assert np.isfinite(pd.read_csv(os.path.join(os.path.dirname(snapshot), "learning_stats.csv"))
                       .select_dtypes("number").to_numpy()).any()
