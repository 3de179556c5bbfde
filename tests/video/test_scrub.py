"""Scrubber: the same frames as VideoReader, on streams with B-frames and open GOPs, cheap previews."""

import random
import threading

import cv2
import numpy as np
import pytest

from posering import storage
from posering.errors import VideoError
from posering.video import VideoReader
from posering.video.keyframes import build_index, cache_location
from posering.video.scrub import SEEK_LOOKBACK, Scrubber

from tests.conftest import SHARED_DATA, needs_shared_data
from tests.ffmpeg_streams import dropped_frames_mp4, x264


def _textured_frames(count, size=(192, 144)):
    """A panning texture with the frame number drawn on it: codecs predict it, and no two match."""
    width, height = size
    texture = cv2.GaussianBlur(np.random.default_rng(3).integers(0, 256, (2 * height, 2 * width, 3), np.uint8),
                               (0, 0), 1.5)
    for i in range(count):
        x = int(width / 2 + width / 2 * np.sin(i / 9))
        y = int(height / 2 + height / 2 * np.cos(i / 13))
        frame = np.ascontiguousarray(texture[y:y + height, x:x + width])
        cv2.putText(frame, str(i), (8, 50), cv2.FONT_HERSHEY_SIMPLEX, 1.4, (255, 255, 255), 3)
        yield frame


def _opencv_video(path, fourcc, count=150):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), 30, (192, 144))
    assert writer.isOpened(), fourcc
    for frame in _textured_frames(count):
        writer.write(frame)
    writer.release()
    return str(path)


def _packets_reordered(path):
    """Whether packets arrive out of presentation order: the stream has B-frames."""
    capture = cv2.VideoCapture(path, cv2.CAP_FFMPEG, [cv2.CAP_PROP_FORMAT, -1])
    times = []
    while capture.grab():
        times.append(capture.get(cv2.CAP_PROP_POS_MSEC))
    capture.release()
    return any(later < earlier for earlier, later in zip(times, times[1:]))


def _sequential(path):
    with VideoReader(path) as reader:
        return [frame for _, frame in reader.frames()]


def _indices_worth_checking(keyframes, nframes, seed=0):
    """Around every keyframe (where seeks change their landing), the ends, some at random; shuffled
    so that both decoding forward and seeking are taken."""
    chosen = {0, 1, nframes - 2, nframes - 1}
    for keyframe in keyframes:
        for offset in (-SEEK_LOOKBACK - 2, -SEEK_LOOKBACK - 1, -SEEK_LOOKBACK, -1, 0, 1, 2,
                       SEEK_LOOKBACK - 1, SEEK_LOOKBACK, SEEK_LOOKBACK + 1, SEEK_LOOKBACK + 2):
            chosen.add(int(keyframe) + offset)
    rng = random.Random(seed)
    chosen |= {rng.randrange(nframes) for _ in range(20)}
    chosen = [i for i in chosen if 0 <= i < nframes]
    rng.shuffle(chosen)
    return chosen


def _assert_agrees_with_reader(path, keyframes_checked=None):
    truth = _sequential(path)
    with Scrubber(path) as scrubber, VideoReader(path) as reader:
        assert scrubber.nframes == reader.frame_count == len(truth)
        assert (scrubber.width, scrubber.height) == reader.size
        checked = _indices_worth_checking(scrubber.index.keyframes[:keyframes_checked], scrubber.nframes)
        for number, index in enumerate(checked):
            frame = scrubber.exact(index)
            assert frame.dtype == np.uint8 and frame.shape == truth[index].shape
            assert np.array_equal(frame, truth[index]), f"exact({index})"
            if number < 12:  # and VideoReader's seek agrees (a few suffice)
                assert np.array_equal(reader.read(index), truth[index]), f"VideoReader.read({index})"
        for index in checked:
            shown, frame = scrubber.preview(index)
            # At or before the target, never before the keyframe a seek to the target starts from.
            assert scrubber.index.keyframe_at_or_before(max(index - SEEK_LOOKBACK - 2, 0)) <= shown <= index
            assert np.array_equal(frame, truth[shown]), f"preview({index}) -> {shown}"
        middle = scrubber.nframes // 2
        for index in range(middle, middle - 25, -1):  # the Left key, frame after frame
            assert np.array_equal(scrubber.exact(index), truth[index]), f"stepping back to {index}"
    return truth


def test_mpeg2_with_b_frames_and_open_gops(tmp_path):
    """OpenCV's MPEG-2 encoder writes B-frames across keyframes (open GOPs), a keyframe every 12."""
    path = _opencv_video(tmp_path / "bframes.mp4", "mpg2")
    assert _packets_reordered(path), "the stream was meant to have B-frames"
    _assert_agrees_with_reader(path)
    index = build_index(path, path)
    assert index.regular and index.keyframes.tolist() == list(range(0, 150, 12))


def test_mpeg4_part2_without_b_frames(tmp_path):
    path = _opencv_video(tmp_path / "plain.mp4", "mp4v")
    assert not _packets_reordered(path)
    _assert_agrees_with_reader(path)


def test_every_frame_a_keyframe(tmp_path):
    path = _opencv_video(tmp_path / "mjpg.avi", "MJPG", count=60)
    truth = _assert_agrees_with_reader(path)
    with Scrubber(path) as scrubber:
        assert scrubber.index.keyframes.tolist() == list(range(60))
        shown, frame = scrubber.preview(59)  # every frame is 16 after a keyframe: previews are exact
        assert shown == 59 and np.array_equal(frame, truth[59])


@needs_shared_data
def test_real_h264_with_b_frames_and_uneven_keyframes():
    """The openfield video: H.264 High 4:4:4 with B-frames, keyframes 180 to 250 frames apart."""
    path = str(SHARED_DATA / "openfield-Pranav-2018-10-30" / "videos" / "m3v1mp4.mp4")
    assert _packets_reordered(path)
    with Scrubber(path) as scrubber:
        assert scrubber.nframes == 2330
        assert scrubber.index.keyframes.tolist()[:4] == [0, 182, 366, 548]
    _assert_agrees_with_reader(path, keyframes_checked=5)


@needs_shared_data
def test_what_each_call_decodes():
    """Costs in decoded frames, not seconds: a preview at most 17, the exact frame after a preview
    only the frames between, a step back nothing; idle time decodes towards the previewed frame."""
    path = str(SHARED_DATA / "openfield-Pranav-2018-10-30" / "videos" / "m3v1mp4.mp4")
    with VideoReader(path) as reader:
        truth = dict(reader.frames(1000, 2001))
    with Scrubber(path, prefetch=False) as scrubber:
        # Keyframes at 985, 1173, 1383, 1588, 1794: each target in a keyframe interval of its own.
        for target, landing in ((1390, 1189), (2000, 1810), (1600, 1399), (1150, 1001)):
            before = scrubber.decoded_frames
            shown, frame = scrubber.preview(target)
            assert shown == landing and np.array_equal(frame, truth[shown])
            assert scrubber.decoded_frames - before == 17
            before = scrubber.decoded_frames
            assert np.array_equal(scrubber.exact(target), truth[target])
            assert scrubber.decoded_frames - before == target - shown
            before = scrubber.decoded_frames
            assert np.array_equal(scrubber.exact(target - 1), truth[target - 1])
            assert scrubber.decoded_frames == before
        before = scrubber.decoded_frames  # the decoder stands at 1151: a preview walks on from there
        assert scrubber.preview(1160)[0] == 1160 and scrubber.decoded_frames - before == 10
    with Scrubber(path) as scrubber:
        shown, _ = scrubber.preview(1350)
        assert shown == 1189 and scrubber.wait_idle(timeout=60)
        before = scrubber.decoded_frames
        assert np.array_equal(scrubber.exact(1350), truth[1350]) and scrubber.decoded_frames == before


def test_x264_open_gop_with_b_frames(tmp_path):
    path = x264(tmp_path / "x264-open-gop.mp4")
    assert _packets_reordered(path)
    _assert_agrees_with_reader(path)


def test_irregular_timestamps_give_the_decoded_frames(tmp_path):
    """Frames dropped by the camera: times jump, so OpenCV's frame numbers (time x fps) are not the
    indices, and a seek by them can land on another frame; the scrubber (and VideoReader) check
    their seeks by the frames' times and return the i-th decoded frame."""
    path = dropped_frames_mp4(tmp_path / "dropped.mp4")
    with Scrubber(path) as scrubber:
        assert not scrubber.index.regular
    _assert_agrees_with_reader(path)


def test_index_is_cached_per_video(tmp_path):
    path = _opencv_video(tmp_path / "cached.mp4", "mp4v", count=40)
    with Scrubber(path) as scrubber:
        first = scrubber.index
    assert storage.exists(cache_location(path))
    with Scrubber(path) as scrubber:
        assert scrubber.index.keyframes.tolist() == first.keyframes.tolist()
        assert scrubber.nframes == 40
    _opencv_video(tmp_path / "cached.mp4", "mp4v", count=30)  # the file changes: a new index
    with Scrubber(path) as scrubber:
        assert scrubber.nframes == 30


def test_unreadable_video_is_named(tmp_path):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video at all" * 200)
    with pytest.raises(VideoError, match="broken.mp4"):
        Scrubber(str(broken))


def test_frames_outside_the_video_are_refused(tmp_path):
    path = _opencv_video(tmp_path / "short.mp4", "mp4v", count=20)
    with Scrubber(path) as scrubber:
        with pytest.raises(VideoError, match="frame 20 does not exist .*20 frames"):
            scrubber.exact(20)
        with pytest.raises(VideoError, match="frame -1 does not exist"):
            scrubber.preview(-1)
    with pytest.raises(VideoError, match="closed"):
        scrubber.exact(0)


def test_calls_from_two_threads_are_serialised(tmp_path):
    path = _opencv_video(tmp_path / "threads.mp4", "mpg2", count=120)
    truth = _sequential(path)
    failures = []
    with Scrubber(path) as scrubber:
        def worker(seed):
            rng = random.Random(seed)
            for _ in range(40):
                index = rng.randrange(120)
                if not np.array_equal(scrubber.exact(index), truth[index]):
                    failures.append(index)
                shown, frame = scrubber.preview(rng.randrange(120))
                if not np.array_equal(frame, truth[shown]):
                    failures.append(("preview", shown))
        threads = [threading.Thread(target=worker, args=(seed,)) for seed in (1, 2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert failures == []


def test_video_on_s3_scrubs_like_local(tmp_path, s3):
    path = _opencv_video(tmp_path / "remote.mp4", "mpg2", count=60)
    remote = storage.join(s3, "videos", "remote.mp4")
    storage.copy(path, remote)
    with Scrubber(remote) as far, Scrubber(path) as near:
        assert far.location == remote and far.nframes == near.nframes == 60
        assert np.array_equal(far.exact(37), near.exact(37))
