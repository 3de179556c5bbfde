"""Decode-ahead streams: every frame once, in order, and long-lived decoding threads."""

import threading

import numpy as np
import pytest

from posering.analyze.stream import DecodeThreads, PrefetchedFrames
from posering.video import VideoReader


def _decoding_threads() -> set[str]:
    return {t.name for t in threading.enumerate() if t.name.startswith("posering-decode")}


def test_ranges_on_shared_threads_give_the_reader_frames(synthetic_video):
    path, _ = synthetic_video
    with VideoReader(path) as reader:
        expected = np.stack([frame for _, frame in reader.frames(30, 50)])
    with DecodeThreads(1) as threads:
        with PrefetchedFrames(path, 30, 50, batch_size=8, threads=threads) as stream:
            batches = list(stream)
    indices = np.concatenate([i for i, _ in batches])
    assert indices.tolist() == list(range(30, 50))
    assert [len(b) for _, b in batches] == [8, 8, 4]
    np.testing.assert_array_equal(np.concatenate([b for _, b in batches]), expected)


def test_many_ranges_reuse_one_thread(synthetic_video):
    """A worker reads hundreds of shards: a new thread per shard is what made its memory grow."""
    path, _ = synthetic_video
    names, seen = set(), 0
    with DecodeThreads(1) as threads:
        for start in range(0, 120, 10):
            with PrefetchedFrames(path, start, start + 10, batch_size=4, threads=threads) as stream:
                for indices, _ in stream:
                    names |= _decoding_threads()
                    seen += len(indices)
    assert seen == 120
    assert len(names) == 1, names


def test_a_range_closed_early_gives_its_thread_back(synthetic_video):
    path, _ = synthetic_video
    with DecodeThreads(1) as threads:
        with PrefetchedFrames(path, 0, 120, batch_size=1, depth=1, threads=threads) as stream:
            next(iter(stream))  # the producer is now blocked on a full queue
        with PrefetchedFrames(path, 100, 104, batch_size=2, threads=threads) as stream:
            assert np.concatenate([i for i, _ in stream]).tolist() == [100, 101, 102, 103]


def test_more_open_ranges_than_threads_is_refused(synthetic_video):
    """Lockstep streams each hold a thread: one more would wait forever, so it is an error."""
    path, _ = synthetic_video
    with DecodeThreads(2) as threads:
        with PrefetchedFrames(path, 0, 60, threads=threads), PrefetchedFrames(path, 60, 120, threads=threads):
            with pytest.raises(RuntimeError, match="2 decode threads"):
                PrefetchedFrames(path, 0, 10, threads=threads)


def test_decoding_errors_reach_the_consumer(tmp_path):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video at all")
    with DecodeThreads(1) as threads:
        with pytest.raises(Exception, match="broken.mp4"):
            with PrefetchedFrames(str(broken), 0, 10, threads=threads) as stream:
                list(stream)
        # the thread is free again for the next range
        with pytest.raises(Exception, match="broken.mp4"):
            with PrefetchedFrames(str(broken), 0, 10, threads=threads) as stream:
                list(stream)
