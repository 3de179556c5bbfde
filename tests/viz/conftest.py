"""A project whose video has known poses: the synthetic mouse, its true keypoints as the analysis."""

from __future__ import annotations

import numpy as np
import pytest

from posering.post.poses import from_arrays
from posering.project import ProjectConfig, ProjectPaths

SCORER = "DLC_Resnet50_demo{date}shuffle1_snapshot_5"


def add_named_model(config_path: str) -> str:
    """A model folder that names a scorer (pytorch_config.yaml with net_type, an empty snapshot).

    The post-processing steps only need the scorer to find the analysis files; no weights are read.
    """
    from posering import storage

    config = ProjectConfig.load(config_path)
    paths = ProjectPaths(config)
    storage.write_text(paths.model_config_file(0.95, 1), "net_type: resnet_50\n")
    storage.write_bytes(storage.join(paths.train_dir(0.95, 1), "snapshot-005.pt"), b"")
    return SCORER.format(date=config.date)


@pytest.fixture
def posed_project(tmp_path, synthetic_video):
    """(config path, video path, true keypoints (120, 4, 2), scorer); analysis file beside the video.

    Every point has likelihood 0.9 except the tail base in frames 60-69 (0.1: below pcutoff).
    """
    from posering.demo.synthetic import BODYPARTS, SKELETON
    from posering.project.create import create_new_project

    video, truth = synthetic_video
    config_path = create_new_project("demo", "me", [video], working_directory=str(tmp_path), copy_videos=True)
    config = ProjectConfig.load(config_path)
    config["bodyparts"] = BODYPARTS
    config["skeleton"] = SKELETON
    config["dotsize"] = 4
    config["alphavalue"] = 1.0
    config["pcutoff"] = 0.6
    config.save()
    scorer = add_named_model(config_path)
    project_video = next(iter(config.video_sets))
    likelihood = np.full(truth.shape[:2], 0.9)
    likelihood[60:70, 3] = 0.1
    table = from_arrays(truth[..., 0], truth[..., 1], likelihood, scorer, BODYPARTS)
    h5 = project_video.rsplit(".", 1)[0] + scorer + ".h5"
    table.to_hdf(h5, key="df_with_missing", format="table", mode="w")
    return config_path, project_video, truth, scorer
