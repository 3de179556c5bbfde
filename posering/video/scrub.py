"""Scrubbing a long video by hand: a cheap frame near the slider at once, the exact frame soon after.

The desktop client's Extract view calls :meth:`Scrubber.preview` while a slider is dragged and
:meth:`Scrubber.exact` when it is released or an arrow key is pressed. Frame indices are
VideoReader's: frame *i* is the *i*-th decoded frame.

What a frame costs is decoding. OpenCV's ``CAP_PROP_POS_FRAMES`` seek lands on the keyframe at or
before *target - 16* (it steps 16 frames back so that B-frames shown before their keyframe are not
missed) and decodes forward to the target. So the keyframe itself is the dearest frame to show (a
whole keyframe interval, 250 frames for x264's defaults), and the cheapest, 17 frames of decoding,
is the 16th frame after a keyframe. That is what ``preview`` shows: the frame 16 after the last
keyframe that leaves room for it, or, when the last decoded position is already between there and
the target, up to 17 frames further on from it, so a slider at rest is refined towards the exact
frame by repeated previews.

``exact`` decodes forward from where the last call stopped when that is cheaper than seeking, and
otherwise seeks. Recent frames are kept (a byte budget), including a few decoded just before each
target, so stepping back with the arrow key does not pay for a whole keyframe interval per frame.

Seeks are frame-accurate where OpenCV's numbering (frame time x fps) equals the frame index, which
holds for constant-rate video with or without B-frames and open GOPs (checked per video by the
keyframe index). Where it does not (dropped frames, variable rate), every seek is checked against
the frame's timestamp and completed by decoding forward, as VideoReader's are
(:func:`posering.video.keyframes.seek_at_or_before`).

Thread safety: a Scrubber may be called from any thread; an internal lock serialises calls. The
intended use is one GUI worker thread per Scrubber, with results handed to the GUI thread. Each
Scrubber runs one daemon thread for the idle-time decoding (``prefetch=False`` turns it off), which
``close()`` (or leaving a ``with`` block) stops: close a Scrubber when its video is put away.
"""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict

import cv2
import numpy as np

from posering import storage
from posering.errors import VideoError
from posering.video.keyframes import SEEK_LOOKBACK, KeyframeIndex, keyframe_index, seek_at_or_before
from posering.video.reader import VideoReader

# A preview decodes at most about this many frames: the cost of landing 16 after a keyframe.
PREVIEW_DECODES = SEEK_LOOKBACK + 1


class Scrubber:
    """Fast previews and exact frames of one video (local or ``s3://``), RGB uint8 (H, W, 3)."""

    def __init__(self, location: str, recent_bytes: int = 128 * 2**20, keep_before: int = 8,
                 prefetch: bool = True):
        self.location = storage.normalize(location)
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._waiting_calls = 0
        self._waiting_lock = threading.Lock()
        self._closed = False
        self._prefetcher = None
        self._cap = None
        self._stack = contextlib.ExitStack()
        self._local = self._stack.enter_context(storage.local_copy(self.location))
        self._cap = cv2.VideoCapture(self._local, cv2.CAP_FFMPEG)
        if not self._cap.isOpened() or int(self._cap.get(cv2.CAP_PROP_FRAME_WIDTH)) <= 0:
            self.close()
            raise VideoError(f"{self.location}: cannot be opened as a video (corrupt, empty or an "
                             "unsupported codec); re-encode it, e.g. `ffmpeg -i in.avi -c:v libx264 out.mp4`")
        self.width = int(self._cap.get(cv2.CAP_PROP_FRAME_WIDTH))
        self.height = int(self._cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        self.fps = float(self._cap.get(cv2.CAP_PROP_FPS) or 0.0)
        try:
            self.index: KeyframeIndex = keyframe_index(self.location, self._local)
            with VideoReader(self.location) as reader:
                self.nframes = reader.frame_count
        except Exception:
            self.close()
            raise
        self._position = 0  # index of the frame the next grab decodes; -1 = unknown
        self.decoded_frames = 0  # frames decoded so far (those inside OpenCV's seeks as planned)
        frame_bytes = max(1, self.width * self.height * 3)
        self._recent_capacity = max(2, recent_bytes // frame_bytes)
        self._keep_before = max(0, min(keep_before, self._recent_capacity // 2))
        self._recent: OrderedDict[int, np.ndarray] = OrderedDict()
        self._wanted = -1  # the last previewed frame, decoded towards while idle (_prefetch_loop)
        if prefetch:
            self._prefetcher = threading.Thread(target=self._prefetch_loop, daemon=True,
                                                name=f"scrub {storage.name(self.location)}")
            self._prefetcher.start()

    # -- context manager -----------------------------------------------------------------------
    def __enter__(self) -> "Scrubber":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Release the decoder and stop the idle-time decoding thread."""
        with self._call():
            self._closed = True
            if self._cap is not None:
                self._cap.release()
                self._cap = None
            self._stack.close()
        if self._prefetcher is not None and self._prefetcher is not threading.current_thread():
            self._prefetcher.join()

    @contextlib.contextmanager
    def _call(self):
        """The lock, for a caller: the prefetcher steps aside while anyone waits for it."""
        with self._waiting_lock:
            self._waiting_calls += 1
        try:
            self._lock.acquire()
        finally:
            with self._waiting_lock:
                self._waiting_calls -= 1
        try:
            yield
        finally:
            self._idle.notify_all()
            self._lock.release()

    # -- the two calls ---------------------------------------------------------------------------
    def preview(self, index: int) -> tuple[int, np.ndarray]:
        """A frame at or before ``index`` that costs at most 17 decoded frames: ``(its index, RGB)``."""
        with self._call():
            index = self._checked(index)
            self._wanted = index
            landing = self._landing(index)
            target = landing
            if 0 <= self._position <= index:
                reach = min(index, self._position + PREVIEW_DECODES - 1)
                if reach >= landing:
                    target = reach
            best_kept = max((i for i in self._recent if target <= i <= index), default=None)
            if best_kept is not None:
                return best_kept, self._kept(best_kept)
            self._go_to(target)
            return target, self._read_next().copy()

    def exact(self, index: int) -> np.ndarray:
        """Exactly frame ``index`` (VideoReader's frame ``index``), RGB uint8."""
        with self._call():
            index = self._checked(index)
            self._wanted = -1
            if index in self._recent:
                return self._kept(index)
            start = max(0, index - self._keep_before)
            if self._forward_cost(index) > self._seek_cost(index):
                # Land on the same keyframe a seek to `index` would, then decode the rest here.
                start = max(start, self._landing(index))
            elif self._position > start:
                start = self._position
            self._go_to(start)
            frame = self._read_next()
            while self._position <= index:
                frame = self._read_next()
            return frame.copy()

    # -- planning ------------------------------------------------------------------------------------
    def _checked(self, index: int) -> int:
        if self._cap is None:
            raise VideoError(f"{self.location}: the scrubber is closed")
        index = int(index)
        if not 0 <= index < self.nframes:
            raise VideoError(f"{self.location}: frame {index} does not exist (the video has "
                             f"{self.nframes} frames)")
        return index

    def _lookback(self) -> int:
        """How far after a keyframe a seek leaves the decoder (one frame more, read to check it,
        where OpenCV's numbers are not the indices)."""
        return SEEK_LOOKBACK if self.index.regular else SEEK_LOOKBACK + 2

    def _landing(self, index: int) -> int:
        """The cheapest frame to seek to at or before ``index``: 16 after a keyframe."""
        lookback = self._lookback()
        if index < lookback:
            return index
        return self.index.keyframe_at_or_before(index - lookback) + lookback

    def _seek_cost(self, index: int) -> int:
        return index - self._landing(index) + self._lookback() + 1 if index >= self._lookback() else index + 1

    def _forward_cost(self, index: int) -> float:
        return index - self._position + 1 if 0 <= self._position <= index else float("inf")

    # -- decoding --------------------------------------------------------------------------------------
    def _go_to(self, target: int) -> None:
        """Make ``target`` the next frame decoded: decode forward or seek, whichever costs less."""
        if self._forward_cost(target) > self._seek_cost(target):
            self._seek(target)
        while self._position < target:
            self._grab()

    def _seek(self, target: int) -> None:
        self.decoded_frames += self._seek_cost(target) - 1
        position = seek_at_or_before(self._cap, self.index, target, self._lookback())
        if position is None:  # the data there does not decode: start from the first frame
            self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
            position = 0
        self._position = position

    def _grab(self) -> None:
        if not self._cap.grab():
            failed, self._position = self._position, -1
            raise VideoError(f"{self.location}: frame {failed} could not be decoded (corrupt data?)")
        self._position += 1
        self.decoded_frames += 1

    def _read_next(self) -> np.ndarray:
        index = self._position
        ok, frame = self._cap.read()
        if not ok or frame is None:
            self._position = -1
            raise VideoError(f"{self.location}: frame {index} could not be decoded (corrupt data?)")
        self._position += 1
        self.decoded_frames += 1
        frame = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
        self._recent[index] = frame
        self._recent.move_to_end(index)
        while len(self._recent) > self._recent_capacity:
            self._recent.popitem(last=False)
        return frame

    def _kept(self, index: int) -> np.ndarray:
        self._recent.move_to_end(index)
        return self._recent[index].copy()

    # -- idle time ---------------------------------------------------------------------------------
    def _prefetch_loop(self) -> None:
        """While no call waits, decode forward towards the last previewed frame, one frame per hold
        of the lock, so that a slider released where it rested costs little: the frames just
        before it are kept, the rest only decoded. Stops at that frame or at any call."""
        while True:
            with self._lock:
                while not self._closed and (self._waiting_calls or not self._prefetch_due()):
                    self._idle.wait()
                if self._closed:
                    return
                try:
                    if self._position < self._wanted - self._keep_before:
                        self._grab()
                    else:
                        self._read_next()
                except VideoError:
                    self._wanted = -1  # the call that asks for this frame reports the error
                if self._position > self._wanted:
                    self._wanted = -1
                if not self._prefetch_due():
                    self._idle.notify_all()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until idle-time decoding towards the last preview is done; False on timeout."""
        with self._lock:
            return self._idle.wait_for(
                lambda: self._closed or self._prefetcher is None or not self._prefetch_due(), timeout)

    def _prefetch_due(self) -> bool:
        return 0 <= self._position <= self._wanted and self._wanted not in self._recent
