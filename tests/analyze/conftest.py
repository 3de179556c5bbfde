"""A project with a real (untrained, seeded) model in DeepLabCut 3's model-folder layout.

Analysis correctness (sharding, resuming, assembly, cropping) does not need a trained network:
a fixed random network gives fixed numbers to compare runs against.
"""

import shutil

import pytest

from tests.random_model import install_random_model
from posering.project import ProjectConfig


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
