"""create_new_project / add_new_videos: DeepLabCut's layout, refusals leave nothing behind."""

import datetime as dt
import os

import pytest
import yaml

from posering import storage
from posering.errors import PoseringError, VideoError
from posering.project import ProjectConfig
from posering.project.config import KNOWN_KEYS
from posering.project.add_new_videos import add_new_videos
from posering.project.create_new_project import create_new_project

from tests.conftest import SHARED_DATA, needs_shared_data


def test_layout_and_every_box1_key(tmp_path, synthetic_video):
    video, _ = synthetic_video
    config_path = create_new_project("mouse", "ana", [video], working_directory=str(tmp_path))
    root = tmp_path / f"mouse-ana-{dt.date.today().isoformat()}"
    assert config_path == str(root / "config.yaml")
    for sub in ("dlc-models", "labeled-data/mouse", "training-datasets", "videos"):
        assert (root / sub).is_dir(), sub
    linked = root / "videos" / "mouse.mp4"
    assert linked.is_symlink() and os.path.samefile(linked, video)
    data = yaml.safe_load((root / "config.yaml").read_text())
    assert set(KNOWN_KEYS) <= set(data)
    assert data["video_sets"] == {str(linked): {"crop": "0, 320, 0, 240"}}
    assert data["date"] == dt.date.today().strftime("%b") + str(dt.date.today().day)
    assert "# Cropping Parameters" in (root / "config.yaml").read_text()


def test_copy_videos_copies(tmp_path, synthetic_video):
    video, _ = synthetic_video
    config_path = create_new_project("m", "b", [video], working_directory=str(tmp_path), copy_videos=True)
    copied = tmp_path / os.path.basename(os.path.dirname(config_path)) / "videos" / "mouse.mp4"
    assert copied.is_file() and not copied.is_symlink()


@needs_shared_data
def test_crop_is_read_from_the_real_video(tmp_path):
    video = str(SHARED_DATA / "openfield-Pranav-2018-10-30" / "videos" / "m3v1mp4.mp4")
    config = ProjectConfig.load(create_new_project("of", "me", [video], working_directory=str(tmp_path)))
    assert list(config.video_sets.values()) == [{"crop": "0, 640, 0, 480"}]


def test_unreadable_video_refused_and_nothing_created(tmp_path, synthetic_video):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00" * 5000)
    work = tmp_path / "work"
    work.mkdir()
    with pytest.raises(VideoError, match="broken.mp4"):
        create_new_project("m", "b", [synthetic_video[0], str(broken)], working_directory=str(work))
    assert list(work.iterdir()) == []


def test_multianimal_refused(tmp_path, synthetic_video):
    with pytest.raises(PoseringError, match="single-animal"):
        create_new_project("m", "b", [synthetic_video[0]], working_directory=str(tmp_path), multianimal=True)
    assert list(tmp_path.iterdir()) == []


def test_add_new_videos(tmp_path, synthetic_video, demo_project):
    added = add_new_videos(demo_project, [synthetic_video[0]])
    config = ProjectConfig.load(demo_project)
    assert added == [os.path.join(config.project_path, "videos", "mouse.mp4")]
    assert len(config.video_sets) == 2
    assert os.path.isdir(os.path.join(config.project_path, "labeled-data", "mouse"))
    assert add_new_videos(demo_project, [synthetic_video[0]]) == [], "a video already there is skipped"


def test_project_on_s3(s3, synthetic_video):
    config_path = create_new_project("m", "b", [synthetic_video[0]], working_directory=s3)
    assert config_path.startswith(s3)
    config = ProjectConfig.load(config_path)
    (video,) = config.video_sets
    assert video.startswith(s3) and storage.exists(video)
    assert config.project_path == storage.parent(config_path)
