"""create_labeled_video: every frame labeled, dots where the poses are, the paths agree, DLC files."""

import os
import pickle

import matplotlib
import numpy as np
import pytest
import yaml

from posering import storage
from posering.frames.images import decode_image
from posering.post.analysis_files import AnalysisTarget
from posering.project.paths import PARTS_DIR
from posering.video import VideoReader
from posering.viz.create_labeled_video import create_labeled_video

JET = [np.array(matplotlib.colormaps["jet"](v)[:3]) * 255 for v in np.linspace(0, 1, 4)]


def _frames(location):
    with VideoReader(location) as reader:
        return reader.frame_count, reader.size


def _frame(location, index):
    with VideoReader(location) as reader:
        return reader.read(index).astype(float)


def _colour_at(frame, point):
    x, y = np.round(point).astype(int)
    return frame[y - 1:y + 2, x - 1:x + 2].reshape(-1, 3).mean(axis=0)


def test_fast_path_draws_every_frame_where_the_poses_are(posed_project):
    config, video, truth, scorer = posed_project
    out = create_labeled_video(config, video, colormap="jet", draw_skeleton=True, num_workers=0)
    expected = video.rsplit(".", 1)[0] + scorer + "_p60_labeled.mp4"  # DeepLabCut 3's name
    assert out == {video: expected}
    assert _frames(expected) == _frames(video) == (120, (320, 240))
    for index in (0, 37, 119):
        frame = _frame(expected, index)
        for k in range(4):  # alphavalue 1: each dot is its bodypart's colour (up to mp4v's loss)
            assert np.abs(_colour_at(frame, truth[index, k]) - JET[k]).max() < 45, (index, k)
    # Below pcutoff (tail base, frames 60-69) nothing is drawn: the video's own pixels show.
    original, labeled = _frame(video, 65), _frame(expected, 65)
    assert np.abs(_colour_at(labeled, truth[65, 3]) - _colour_at(original, truth[65, 3])).max() < 25
    assert np.abs(_colour_at(labeled, truth[65, 3]) - JET[3]).max() > 60
    # A second call finds the video and leaves it; overwrite makes it again.
    before = os.stat(expected).st_mtime_ns
    create_labeled_video(config, video, colormap="jet", draw_skeleton=True, num_workers=0)
    assert os.stat(expected).st_mtime_ns == before


def test_ray_ranges_equal_one_pass(posed_project, ray_session, tmp_path):
    config, video, truth, scorer = posed_project
    one = create_labeled_video(config, video, trailpoints=4, num_workers=0)[video]
    os.rename(one, tmp_path / "one.mp4")
    ranged = create_labeled_video(config, video, trailpoints=4, num_workers=2, segment_frames=50)[video]
    assert ranged == one and _frames(ranged) == (120, (320, 240))
    for index in (0, 49, 50, 100, 119):  # range edges too: the trail crosses them
        diff = np.abs(_frame(ranged, index) - _frame(str(tmp_path / "one.mp4"), index))
        assert diff.mean() < 2.0, index  # the same drawing; only the intermediate JPEG differs
    assert not os.path.exists(os.path.join(os.path.dirname(video), PARTS_DIR))  # segments and folder removed


def test_save_frames_draws_with_matplotlib_and_keeps_pngs(posed_project, ray_session):
    config, video, truth, _ = posed_project
    out = create_labeled_video(config, video, save_frames=True, colormap="jet", num_workers=2,
                               segment_frames=60)[video]
    assert _frames(out) == (120, (320, 240))
    folder = os.path.join(os.path.dirname(video), "temp-mouse")
    pngs = sorted(os.listdir(folder))
    assert pngs == [f"file{i:03d}.png" for i in range(120)]
    frame = decode_image(os.path.join(folder, "file037.png")).astype(float)  # lossless
    for k in range(4):
        assert np.abs(_colour_at(frame, truth[37, k]) - JET[k]).max() < 30, k


def test_johansson_style_and_display_crop(posed_project):
    config, video, truth, scorer = posed_project
    # posering's own metadata saying the analysis used a crop.
    meta = video.rsplit(".", 1)[0] + scorer + "_meta.yaml"
    storage.write_text(meta, yaml.safe_dump({"settings": {"crop": "40, 280, 20, 220"},
                                             "coordinates": "full-frame pixels"}))
    out = create_labeled_video(config, video, keypoints_only=True, displaycropped=True, colormap="jet",
                               num_workers=0)[video]
    assert _frames(out) == (120, (240, 200))
    shifted = truth - [40, 20]
    index = int(np.flatnonzero(((shifted > 5) & (shifted < [235, 195])).all(axis=(1, 2)))[0])
    frame = _frame(out, index)
    assert frame[:5, :5].max() < 20, "Johansson style: black background"
    for k in range(4):
        assert np.abs(_colour_at(frame, shifted[index, k]) - JET[k]).max() < 45, k


def test_deeplabcut_analysis_file(dlc3_project):
    """DeepLabCut's own analysis of the openfield clip, with the scorer its model gives."""
    analysis = dlc3_project.parent.parent / "dlc3" / "dlc3-openfield-resnet50" / "analysis-full"
    video = dlc3_project.parent / "videos" / "m3v1mp4_clip600.mp4"
    out = create_labeled_video(str(dlc3_project), str(video), destfolder=str(analysis), pcutoff=0.05,
                               num_workers=0)[str(video)]
    assert storage.name(out) == "m3v1mp4_clip600DLC_Resnet50_openfieldOct30shuffle1_snapshot_best-10_p5_labeled.mp4"
    assert _frames(out) == (600, (640, 480))


def test_labeled_video_on_s3(posed_project, s3, ray_session):
    config, video, truth, scorer = posed_project
    project = f"{s3}/demo"
    root = os.path.dirname(config)
    for folder, _, names in os.walk(root):
        for name in names:
            local = os.path.join(folder, name)
            storage.copy(local, f"{project}/{os.path.relpath(local, root)}")
    remote_video = f"{project}/videos/mouse.mp4"
    out = create_labeled_video(f"{project}/config.yaml", remote_video, num_workers=2, segment_frames=60)
    assert out[remote_video] == f"{project}/videos/mouse{scorer}_p60_labeled.mp4"
    assert _frames(out[remote_video]) == (120, (320, 240))
    assert not [n for n in storage.listdir(f"{project}/videos") if n.endswith(".avi")]


def test_deeplabcut_crop_metadata_is_read_safely(tmp_path, caplog):
    target = AnalysisTarget(str(tmp_path / "v.mp4"), "DLC_x")
    meta = {"data": {"cropping": True, "cropping_parameters": [np.int64(10), 200, np.int64(20), 220],
                     "fps": np.float64(30.0), "nframes": 5}}
    (tmp_path / "vDLC_x_meta.pickle").write_bytes(pickle.dumps(meta))
    crop = target.meta()
    assert crop.relative and (crop.crop.x1, crop.crop.y1, crop.crop.x2) == (10, 20, 200)

    class Evil:
        def __reduce__(self):
            return (os.system, ("touch " + str(tmp_path / "owned"),))

    (tmp_path / "vDLC_x_meta.pickle").write_bytes(pickle.dumps({"data": Evil()}))
    assert target.meta().crop is None
    assert not (tmp_path / "owned").exists()
    assert "not allowed" in caplog.text


def test_unknown_bodypart_is_refused(posed_project):
    config, video, _, _ = posed_project
    with pytest.raises(Exception, match="unknown bodypart 'nose'"):
        create_labeled_video(config, video, displayedbodyparts=["nose"], num_workers=0)
