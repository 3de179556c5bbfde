"""Analysis of a video with dropped frames: a shard that starts with a seek gets the rows a single
sequential decode gives, so where the shard boundaries fall does not change the poses table."""

import os

import cv2
import numpy as np
import pandas as pd

from posering.cli import main
from posering.project import ProjectConfig
from posering.video import probe

from tests.ffmpeg_streams import DROP_FIVE_IN_FIFTY, sequential_frames, x264


def _opencv_seek(path, index):
    """Frame ``index`` as OpenCV's own seek gives it (what a shard read before the fix)."""
    capture = cv2.VideoCapture(path)
    capture.set(cv2.CAP_PROP_POS_FRAMES, index)
    ok, frame = capture.read()
    capture.release()
    return cv2.cvtColor(frame, cv2.COLOR_BGR2RGB) if ok else None


def test_shard_boundaries_do_not_move_rows(analysis_project, tmp_path, capsys):
    (demo,) = ProjectConfig.load(analysis_project).video_sets
    videos = tmp_path / "videos"
    videos.mkdir()
    # The demo's 120 frames, 5 of every 50 dropped by the "camera": 110 frames, times that jump.
    video = x264(videos / "dropped.mp4", DROP_FIVE_IN_FIFTY, params="keyint=20", count=120, source=demo)
    truth = sequential_frames(video)
    assert probe(video).frame_count == len(truth) == 110
    starts = range(25, 110, 25)
    assert any(not np.array_equal(_opencv_seek(video, s), truth[s]) for s in starts), \
        "OpenCV's own seek was meant to miss some shard start on this video"

    tables = {}
    for name, shard_frames in (("one-shard", 1000), ("sharded", 25)):
        out = tmp_path / name
        assert main(["analyze_videos", analysis_project, str(video), "--num_workers", "0", "--shard_frames",
                     str(shard_frames), "--destfolder", str(out), "--precision", "fp32"]) == 0
        scorer = capsys.readouterr().out.strip()
        tables[name] = pd.read_hdf(os.path.join(out, f"dropped{scorer}.h5"), "df_with_missing")
    one, sharded = tables["one-shard"].to_numpy(), tables["sharded"].to_numpy()
    assert one.shape[0] == 110 and np.isfinite(one).all()
    np.testing.assert_allclose(sharded, one, atol=1e-4)
