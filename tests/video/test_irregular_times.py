"""VideoReader on videos with dropped frames or a variable frame rate: frame *i* is the *i*-th
decoded frame whether it is read by index, in a range after one seek, or past a damaged stretch;
and a video with regular times needs no keyframe index for that."""

import random

import numpy as np
import pytest

from posering import storage
from posering.video import VideoReader
from posering.video.keyframes import build_index, cache_location

from tests.conftest import SHARED_DATA, needs_shared_data
from tests.ffmpeg_streams import dropped_frames_avi, dropped_frames_mp4, sequential_frames, variable_rate_mp4
from tests.video.test_reader import _damage, _write_numbered_video

STREAMS = {
    "dropped-frames.mp4": dropped_frames_mp4,  # x264, open GOPs and B-frames, 5 of every 50 frames dropped
    "variable-rate.mp4": variable_rate_mp4,  # x264, frames 22 to 45 ms apart on a millisecond clock
    "dropped-frames.avi": dropped_frames_avi,  # MJPEG; the header counts the 25 dropped frames too
}


@pytest.fixture(params=sorted(STREAMS))
def irregular(request, tmp_path):
    path = STREAMS[request.param](tmp_path / request.param)
    assert not build_index(path, path).regular, "OpenCV's frame numbers were meant to be off"
    return path, sequential_frames(path)


def _differs(frame, expected):
    return not np.array_equal(frame, expected)


def test_read_gives_the_decoded_frame_at_every_index(irregular):
    path, truth = irregular
    with VideoReader(path) as reader:
        assert reader.frame_count == len(truth) == 240
        order = list(range(len(truth)))
        random.Random(1).shuffle(order)  # nearly every read seeks
        wrong = [i for i in order if _differs(reader.read(i), truth[i])]
    assert wrong == []
    assert storage.exists(cache_location(path)), "the keyframe index was built (and kept) for the seeks"


def test_ranges_and_strides_start_at_their_first_frame(irregular):
    path, truth = irregular
    with VideoReader(path) as reader:
        for start in range(0, len(truth), 7):  # one seek per range, then decoding
            stop = start + 9
            got = list(reader.frames(start, stop))
            assert [i for i, _ in got] == list(range(start, min(stop, len(truth))))
            assert not [i for i, frame in got if _differs(frame, truth[i])], f"frames({start}, {stop})"
        for step in (3, 40):  # decoding forward, and a seek per frame past the grab limit
            got = dict(reader.frames(5, len(truth), step=step))
            assert sorted(got) == list(range(5, len(truth), step))
            assert not [i for i in got if _differs(got[i], truth[i])], f"step {step}"
        picked = [230, 3, 111, 112, 150, 47]
        assert not [i for i, frame in reader.read_many(picked) if _differs(frame, truth[i])]
    with VideoReader(path) as fresh:  # a second reader in this process: the count and index are kept
        assert fresh.frame_count == len(truth)
        assert not _differs(fresh.read(199), truth[199])


def test_dropped_frames_counted_in_the_header_are_not_frames(tmp_path):
    path = dropped_frames_avi(tmp_path / "dropped.avi")
    with VideoReader(path) as reader:
        assert reader.metadata_frame_count == 265  # 240 frames and 25 empty chunks
        assert reader.frame_count == 240
        assert len(list(reader.frames())) == 240  # all of them decode: nothing is called damaged
        assert reader.skipped == []


def test_damaged_stretch_of_a_dropped_frame_video(tmp_path):
    """Decoding stops at the damage; the frames after it are found by seeks that go by the frames'
    times, and each is the frame of that index in the undamaged video."""
    whole = tmp_path / "whole.mp4"
    dropped_frames_mp4(whole, count=300, params="keyint=30")
    truth = sequential_frames(whole)
    damaged = tmp_path / "damaged.mp4"
    _damage(whole, damaged, [(0.45, 0.1)])
    with VideoReader(str(damaged)) as reader:
        assert reader.frame_count == len(truth)
        frames = dict(reader.frames(skip_damaged=True))
        ((first, after),) = reader.skipped
        assert 0 < first < after < len(truth)
        assert sorted(frames) == [*range(first), *range(after, len(truth))]
        # Every frame given is that frame (the one where the damage begins may be concealed).
        wrong = [i for i, frame in frames.items() if np.abs(frame.astype(int) - truth[i]).mean() > 2]
        assert set(wrong) <= {first - 1}, wrong
        assert not _differs(reader.read(after + 5), truth[after + 5])


def test_regular_videos_need_no_index(tmp_path):
    """The frame-count check shows the times are regular: no demux pass, and seeks stay OpenCV's."""
    path = str(tmp_path / "regular.mp4")
    _write_numbered_video(path, nframes=120)
    truth = sequential_frames(path)
    with VideoReader(path) as reader:
        assert reader.frame_count == 120
        assert not _differs(reader.read(77), truth[77])
        assert not [i for i, frame in reader.frames(40, 60) if _differs(frame, truth[i])]
    assert not storage.exists(cache_location(path))


@needs_shared_data
def test_openfield_video_needs_no_index():
    """Real H.264 with B-frames, a 30.0003 fps header and times on a millisecond-ish clock."""
    path = str(SHARED_DATA / "openfield-Pranav-2018-10-30" / "videos" / "m3v1mp4.mp4")
    with VideoReader(path) as reader:
        assert reader.frame_count == 2330
        reader.read(1500)
    assert not storage.exists(cache_location(path))
