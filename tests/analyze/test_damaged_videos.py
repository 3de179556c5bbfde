"""Damaged videos: every frame that decodes is analysed, and the run says what was not, per video.

The tests damage real videos themselves: a stretch of an mp4's frame data overwritten with zeros
(decoding stops there, a seek reaches the frames after it), and an AVI cut short (its header still
claims every frame).
"""

import os

import numpy as np
import pandas as pd
import pytest
import yaml

from posering.analyze.analyze_videos import analyze_videos
from posering.demo.synthetic import Scene, render_video
from posering.errors import VideosFailed
from posering.project.paths import PARTS_DIR
from posering.video import probe


def _table(folder, stem, scorer):
    return pd.read_hdf(os.path.join(folder, f"{stem}{scorer}.h5"), "df_with_missing")


def _meta(folder, stem, scorer):
    return yaml.safe_load((folder / f"{stem}{scorer}_meta.yaml").read_text())


def test_damaged_and_truncated_videos_are_analysed_as_far_as_they_decode(analysis_project, tmp_path, capsys, caplog):
    videos = tmp_path / "videos"
    videos.mkdir()
    scene = Scene(nframes=150, seed=5)
    render_video(str(videos / "whole.mp4"), scene)
    data = bytearray((videos / "whole.mp4").read_bytes())
    end = data.find(b"moov") - 4  # the frames come before OpenCV's index
    first = int(end * 0.4)
    data[first:first + int(end * 0.2)] = bytes(int(end * 0.2))
    (videos / "damaged.mp4").write_bytes(bytes(data))
    render_video(str(tmp_path / "whole.avi"), scene, codec="MJPG")
    whole_avi = (tmp_path / "whole.avi").read_bytes()
    (videos / "truncated.avi").write_bytes(whole_avi[: int(len(whole_avi) * 0.5)])

    with caplog.at_level("WARNING", logger="posering.analyze"):
        scorer = analyze_videos(analysis_project, [str(videos)], num_workers=0, shard_frames=50, batch_size=4,
                                precision="fp32")
    summary, warnings = capsys.readouterr().err, caplog.text  # the table, and a line per damaged video
    whole = _table(videos, "whole", scorer)
    assert len(whole) == 150 and np.isfinite(whole.to_numpy()).all()

    # The damaged stretch is named; its rows are NaN; the frames after it were analysed too.
    damaged = _table(videos, "damaged", scorer)
    meta = _meta(videos, "damaged", scorer)["video"]
    ((gap_start, gap_stop),) = meta["undecodable_frames"]
    assert 0 < gap_start < gap_stop < 140, "frames after the stretch are recovered"
    assert len(damaged) == 150 and meta["analysed_frames"] == 150 - (gap_stop - gap_start)
    values = damaged.to_numpy()
    assert np.isnan(values[gap_start:gap_stop]).all()
    decoded = [i for i in range(150) if not gap_start - 1 <= i < gap_stop]  # the frame where it starts may be grey
    assert np.isfinite(values[decoded]).all()
    np.testing.assert_allclose(values[decoded], whole.to_numpy()[decoded], atol=1e-3)
    assert f"{150 - (gap_stop - gap_start)} of 150" in summary
    assert f"damaged.mp4: analysed {150 - (gap_stop - gap_start)} of 150 frames; frames {gap_start}-{gap_stop - 1} " \
           "do not decode (the file is damaged there): their rows are NaN" in warnings

    # The cut AVI: one row per frame that decodes, and the header's claim said beside it.
    count = probe(str(videos / "truncated.avi")).frame_count
    assert 0 < count < 150
    assert len(_table(videos, "truncated", scorer)) == count
    assert _meta(videos, "truncated", scorer)["video"]["metadata_nframes"] == 150
    assert f"{count} of 150" in summary
    assert f"truncated.avi: analysed {count} of 150 frames; the header claims 150 frames but {count} decode" in warnings
    assert "2 with frames that do not decode" in summary


def test_every_failed_shard_is_reported(analysis_project, videos_dir, tmp_path):
    """Three shards that cannot be written: the error names each one's frames, not only the last."""
    out = tmp_path / "out"
    out.mkdir()
    (out / PARTS_DIR).write_text("a file where the parts folder would go")
    with pytest.raises(VideosFailed) as failed:
        analyze_videos(analysis_project, [str(videos_dir)], num_workers=0, shard_frames=40, destfolder=str(out),
                       precision="fp32")
    (reason,) = failed.value.failures.values()
    for frames in ("frames 0-39: ", "frames 40-79: ", "frames 80-119: "):
        assert frames in reason, reason
    assert "Not a directory" in reason
