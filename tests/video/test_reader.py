"""VideoReader: exact frames by index, ranges for shards, verified frame counts, s3, errors."""

import cv2
import numpy as np
import pytest

from posering import storage
from posering.errors import VideoError
from posering.video import VideoReader, VideoWriter, probe

from tests.conftest import SHARED_DATA, needs_shared_data


def _write_numbered_video(path, nframes=90, size=(160, 120), fps=25.0):
    """Frames whose content encodes their index (a bright bar at a known row)."""
    with VideoWriter(str(path), fps, size) as writer:
        for i in range(nframes):
            frame = np.full((size[1], size[0], 3), 30, np.uint8)
            frame[(i * 7) % size[1], :, :] = 250
            cv2.putText(frame, str(i), (10, 60), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (255, 255, 255), 2)
            writer.write(frame)


def test_random_access_equals_sequential_decode(tmp_path):
    path = tmp_path / "numbered.mp4"
    _write_numbered_video(path)
    with VideoReader(str(path)) as reader:
        assert reader.frame_count == 90 and reader.size == (160, 120)
        sequential = {i: f for i, f in reader.frames()}
        assert sorted(sequential) == list(range(90))
        for index in [89, 0, 45, 3, 60, 61, 12]:
            assert np.array_equal(reader.read(index), sequential[index]), index
        ranged = dict(reader.frames(30, 50))
        assert sorted(ranged) == list(range(30, 50))
        assert all(np.array_equal(ranged[i], sequential[i]) for i in ranged)
        strided = dict(reader.frames(5, 80, step=30))
        assert sorted(strided) == [5, 35, 65]
        assert all(np.array_equal(strided[i], sequential[i]) for i in strided)


@needs_shared_data
def test_real_openfield_video_metadata_and_seek():
    video = str(SHARED_DATA / "openfield-Pranav-2018-10-30" / "videos" / "m3v1mp4.mp4")
    info = probe(video)
    assert (info.width, info.height, info.frame_count) == (640, 480, 2330)
    with VideoReader(video) as reader:
        run = dict(reader.frames(1990, 2010))
        assert np.array_equal(reader.read(2000), run[2000])
        last = reader.read(2329)
        assert last.shape == (480, 640, 3)
        with pytest.raises(VideoError, match="frame 2330 does not exist"):
            reader.read(2330)


def test_lying_metadata_is_corrected_by_decoding(tmp_path):
    """An AVI whose header claims more frames than it holds (a truncated recording)."""
    path = tmp_path / "truncated.avi"
    with VideoWriter(str(path), 25, (64, 48), codec="MJPG") as writer:
        for i in range(40):
            writer.write(np.full((48, 64, 3), i * 5, np.uint8))
    data = path.read_bytes()
    # Cut the file inside the movi list: frames at the end are gone, the header still says 40.
    truncated = tmp_path / "cut.avi"
    truncated.write_bytes(data[: int(len(data) * 0.6)])
    with VideoReader(str(truncated)) as reader:
        assert reader.metadata_frame_count == 40
        assert 0 < reader.frame_count < 40
        frames = list(reader.frames())
        assert len(frames) == reader.frame_count


def _damage(source, target, stretches):
    """Overwrite ``(at, length)`` fractions of an mp4's frame data (before its index) with zeros."""
    data = bytearray(source.read_bytes())
    end = data.find(b"moov") - 4  # OpenCV writes the index (moov) after the frames
    for at, length in stretches:
        first = int(end * at)
        data[first:first + int(end * length)] = bytes(int(end * length))
    target.write_bytes(bytes(data))


def test_damaged_stretch_is_skipped_by_seeking_and_counted(tmp_path):
    """Decoding stops at a damaged stretch; the frames after it are still reached by a seek."""
    whole = tmp_path / "whole.mp4"
    _write_numbered_video(whole, nframes=300)
    damaged = tmp_path / "damaged.mp4"
    _damage(whole, damaged, [(0.4, 0.15), (0.95, 0.05)])  # the middle, and the last frames
    with VideoReader(str(whole)) as reader:
        truth = dict(reader.frames())
    with VideoReader(str(damaged)) as reader:
        assert reader.metadata_frame_count == 300
        # Counted past the damaged stretch, up to the last frame a seek decodes.
        assert 250 < reader.frame_count < 300
        with pytest.raises(VideoError, match=r"decoding stopped at frame \d+ of .*damaged there.*ffmpeg"):
            list(reader.frames())
        frames = dict(reader.frames(skip_damaged=True))
        ((first, after),) = reader.skipped
        assert 0 < first < after < reader.frame_count
        assert sorted(frames) == [*range(first), *range(after, reader.frame_count)]
        # Every frame given is that frame (the one where the damage begins may be concealed).
        wrong = [i for i, frame in frames.items() if np.abs(frame.astype(int) - truth[i]).mean() > 2]
        assert set(wrong) <= {first - 1, reader.frame_count - 1}, wrong
        # A range that starts inside the stretch resumes after it.
        with VideoReader(str(damaged)) as again:
            assert [i for i, _ in again.frames(first + 1, after + 3, skip_damaged=True)] == [after, after + 1, after + 2]
            assert again.skipped == [(first + 1, after)]


def test_broken_file_is_refused_with_its_path(tmp_path):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"this is not a video" * 100)
    with pytest.raises(VideoError, match="broken.mp4"):
        VideoReader(str(broken))


def test_video_on_s3_reads_like_local(tmp_path, s3, synthetic_video):
    path, _ = synthetic_video
    remote = storage.join(s3, "videos", "mouse.mp4")
    storage.copy(path, remote)
    with VideoReader(path) as local, VideoReader(remote) as far:
        assert far.frame_count == local.frame_count
        assert np.array_equal(far.read(57), local.read(57))


def test_writer_writes_to_s3_atomically(s3):
    remote = storage.join(s3, "out", "clip.mp4")
    with VideoWriter(remote, 10, (32, 24)) as writer:
        for i in range(12):
            writer.write(np.full((24, 32, 3), 20 * i, np.uint8))
    assert probe(remote).frame_count == 12
    with pytest.raises(RuntimeError):
        with VideoWriter(storage.join(s3, "out", "never.mp4"), 10, (32, 24)) as writer:
            writer.write(np.zeros((24, 32, 3), np.uint8))
            raise RuntimeError("stop")
    assert not storage.exists(storage.join(s3, "out", "never.mp4"))
