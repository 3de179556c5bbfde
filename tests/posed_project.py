"""A project whose video has known poses: the synthetic mouse, with its true keypoints written as
the video's analysis file. Shared by the tests of the steps that read analysis files."""

from __future__ import annotations

import numpy as np

from posering import storage
from posering.post.poses import from_arrays
from posering.project import ProjectConfig, ProjectPaths

SCORER = "DLC_Resnet50_demo{date}shuffle1_snapshot_5"


def add_named_model(config_path: str) -> str:
    """A model folder that names a scorer (pytorch_config.yaml with net_type, an empty snapshot).

    The post-processing steps only need the scorer to find the analysis files; no weights are read.
    Returns the scorer.
    """
    config = ProjectConfig.load(config_path)
    paths = ProjectPaths(config)
    storage.write_text(paths.model_config_file(0.95, 1), "net_type: resnet_50\n")
    storage.write_bytes(storage.join(paths.train_dir(0.95, 1), "snapshot-005.pt"), b"")
    return SCORER.format(date=config.date)


def make_posed_project(folder: str, video: str, truth: np.ndarray, likelihood: np.ndarray | None = None,
                       **config_values) -> tuple[str, str, str]:
    """Create the project in ``folder``; returns (config path, project video, scorer).

    ``truth`` (frames, 4, 2) becomes the analysis (``likelihood`` defaults to 0.9 everywhere).
    """
    from posering.demo.synthetic import BODYPARTS, SKELETON
    from posering.project.create_new_project import create_new_project

    config_path = create_new_project("demo", "me", [video], working_directory=folder, copy_videos=True)
    config = ProjectConfig.load(config_path)
    config["bodyparts"] = BODYPARTS
    config["skeleton"] = SKELETON
    for key, value in config_values.items():
        config[key] = value
    config.save()
    scorer = add_named_model(config_path)
    project_video = next(iter(config.video_sets))
    if likelihood is None:
        likelihood = np.full(truth.shape[:2], 0.9)
    table = from_arrays(truth[..., 0], truth[..., 1], likelihood, scorer, BODYPARTS)
    table.to_hdf(project_video.rsplit(".", 1)[0] + scorer + ".h5", key="df_with_missing", format="table", mode="w")
    return config_path, project_video, scorer
