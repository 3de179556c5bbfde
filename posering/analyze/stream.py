"""Frames decoded ahead of inference, in a background thread.

OpenCV releases the GIL while decoding, so a reader thread keeps a few batches of uint8 frames
ready while the model runs: decode hides behind inference, each frame is decoded once, and
memory holds only the queue, never the video.
"""

from __future__ import annotations

import queue
import threading
from typing import Iterator

import numpy as np

from posering.project.config import Crop
from posering.video import VideoReader

_DONE = object()


class PrefetchedFrames:
    """Iterate ``(frame indices, uint8 batch (B, H, W, 3))`` over ``[start, stop)`` of a video.

    ``batch_size=1`` with :meth:`__iter__` gives single frames; ``crop`` cuts every frame.
    """

    def __init__(self, video: str, start: int, stop: int, batch_size: int = 8,
                 crop: Crop | None = None, depth: int = 3):
        self.video, self.start, self.stop = video, start, stop
        self.batch_size, self.crop = max(1, batch_size), crop
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, depth))
        self._stop_event = threading.Event()
        self._thread = threading.Thread(target=self._produce, name=f"decode:{video}:{start}", daemon=True)
        self._thread.start()

    def _produce(self) -> None:
        try:
            with VideoReader(self.video) as reader:
                indices, frames = [], []
                for index, frame in reader.frames(self.start, self.stop):
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
        self._stop_event.set()
        self._thread.join(timeout=5)

    def __enter__(self) -> "PrefetchedFrames":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
