"""Frames decoded ahead of inference, in a background thread.

OpenCV releases the GIL while decoding, so a reader thread keeps a few batches of uint8 frames
ready while the model runs: decode hides behind inference, each frame is decoded once, and
memory holds only the queue, never the video.

A process that reads many ranges (an analysis worker over hundreds of shards) passes a
:class:`DecodeThreads` so that the same few threads decode every range. Frames are allocated in
the decoding thread and freed by the consumer; glibc gives each new thread a malloc arena of its
own (up to 8 per core) and each arena keeps its freed frame buffers, so a fresh thread per range
made a worker's memory grow with the video's length (docs/benchmarks.md, "Memory of an analysis
worker"). Long-lived threads keep reusing their own arenas.
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Iterator

import numpy as np

from posering.project.config import Crop
from posering.video import VideoReader

_DONE = object()


class DecodeThreads:
    """Long-lived decoding threads shared by the ranges one consumer reads.

    ``streams`` is how many ranges may be read at the same time (dynamic cropping advances a
    batch of shards in lockstep): each open range holds one thread until it is exhausted or
    closed, so a range opened beyond that many would wait for a thread, and its reader with it.
    """

    def __init__(self, streams: int = 1):
        self.streams = max(1, int(streams))
        self._executor = ThreadPoolExecutor(max_workers=self.streams, thread_name_prefix="posering-decode")
        self._open = threading.BoundedSemaphore(self.streams)

    def start(self, produce) -> Future:
        if not self._open.acquire(blocking=False):
            raise RuntimeError(f"more than {self.streams} ranges open on {self.streams} decode threads")

        def run():
            try:
                produce()
            finally:
                self._open.release()

        return self._executor.submit(run)

    def close(self) -> None:
        self._executor.shutdown(wait=True)

    def __enter__(self) -> "DecodeThreads":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class PrefetchedFrames:
    """Iterate ``(frame indices, uint8 batch (B, H, W, 3))`` over ``[start, stop)`` of a video.

    ``batch_size=1`` with :meth:`__iter__` gives single frames; ``crop`` cuts every frame.
    ``threads``: decode on these long-lived threads (see :class:`DecodeThreads`) rather than on a
    thread of this range's own. ``skip_damaged``: go on past stretches that do not decode
    (:meth:`VideoReader.frames`); once iterated, :attr:`skipped` lists them.
    """

    def __init__(self, video: str, start: int, stop: int, batch_size: int = 8,
                 crop: Crop | None = None, depth: int = 3, threads: DecodeThreads | None = None,
                 skip_damaged: bool = False):
        self.video, self.start, self.stop = video, start, stop
        self.batch_size, self.crop = max(1, batch_size), crop
        self.skip_damaged = skip_damaged
        self.skipped: list[tuple[int, int]] = []
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, depth))
        self._stop_event = threading.Event()
        if threads is not None:
            self._producer = threads.start(self._produce)
        else:
            self._producer = threading.Thread(target=self._produce, name=f"decode:{video}:{start}", daemon=True)
            self._producer.start()

    def _produce(self) -> None:
        try:
            with VideoReader(self.video) as reader:
                self.skipped = reader.skipped  # filled as the reader goes; read once iterated
                indices, frames = [], []
                for index, frame in reader.frames(self.start, self.stop, skip_damaged=self.skip_damaged):
                    if self.crop is not None:
                        frame = frame[self.crop.y1:self.crop.y2, self.crop.x1:self.crop.x2]
                    indices.append(index)
                    frames.append(frame)
                    if len(frames) == self.batch_size:
                        self._put((np.asarray(indices), np.stack(frames)))
                        indices, frames = [], []
                    if self._stop_event.is_set():
                        return
                if frames:
                    self._put((np.asarray(indices), np.stack(frames)))
        except BaseException as exc:  # re-raised in the consumer's thread
            self._put(exc)
        finally:
            self._put(_DONE)

    def _put(self, item) -> None:
        while not self._stop_event.is_set():
            try:
                self._queue.put(item, timeout=0.2)
                return
            except queue.Full:
                continue

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        while True:
            item = self._queue.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def close(self) -> None:
        """Stop decoding (at the next frame) and wait for the producer to let go of its thread."""
        self._stop_event.set()
        if isinstance(self._producer, Future):
            self._producer.result(timeout=30)  # _produce reports its errors through the queue
        else:
            self._producer.join(timeout=5)

    def __enter__(self) -> "PrefetchedFrames":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
