"""A project with a real (untrained, seeded) model in DeepLabCut 3's model-folder layout.

Analysis correctness (sharding, resuming, assembly, cropping) does not need a trained network:
a fixed random network gives fixed numbers to compare runs against.
"""

import shutil

import pytest
import torch

from posering.project import ProjectConfig, ProjectPaths


def install_random_model(config_path: str, net_type: str = "mobilenet_v4_small", epoch: int = 5) -> None:
    from posering.model.build import build_model, save_snapshot
    from posering.model.config import make_model_config, parse_model_config, save_model_config

    config = ProjectConfig.load(config_path)
    paths = ProjectPaths(config)
    model_config_file = paths.model_config_file(0.95, 1)
    model_config = make_model_config(net_type, config.bodyparts, config.project_path, model_config_file)
    save_model_config(model_config, model_config_file)
    torch.manual_seed(0)
    model = build_model(parse_model_config(model_config, model_config_file))
    save_snapshot(paths.train_dir(0.95, 1) + f"/snapshot-{epoch:03d}.pt", model, {"epoch": epoch})


@pytest.fixture(scope="session")
def analysis_project(tmp_path_factory):
    """A demo project (120-frame video) with an untrained model; yields config path (read-only use)."""
    from posering.demo.run import make_demo_project

    config_path = make_demo_project(str(tmp_path_factory.mktemp("analysis") / "demo"), nframes=120, nlabeled=10)
    install_random_model(config_path)
    return config_path


@pytest.fixture
def videos_dir(tmp_path, analysis_project):
    """A fresh folder with the project's video (outputs land beside it)."""
    config = ProjectConfig.load(analysis_project)
    (video,) = config.video_sets
    folder = tmp_path / "videos"
    folder.mkdir()
    shutil.copy(video, folder / "mouse-a.mp4")
    return folder
