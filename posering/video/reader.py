"""Exact-frame video reading with OpenCV.

Frame *i* is always the *i*-th decoded frame of the file. Container metadata is not trusted for
the frame count: DeepLabCut users lose alignment on videos whose header lies (DLC_FORMATS 6.9),
so the count is checked by reading the last frame the header promises and the one after it, and
counted by decoding when the two disagree with the header.

Ranges ``[start, stop)`` are read with one seek and then sequential decoding, so shards of a long
video never decode it from the beginning.

Seeks are exact on videos with dropped frames or a variable frame rate too. OpenCV's seek numbers
frames by their time x fps, which is their index only while the times are regular; the check of
the frame count also checks that (the first two frames and the last promised one sit on the grid
the fps draws, and nothing follows), which costs two decoded frames more. Where it does not hold,
the video's keyframe index (:mod:`posering.video.keyframes`, one demux-only pass, cached per
video) gives every frame's time and the seeks go through it.

Remote videos (``s3://``) are streamed once into a local cache file (see
:func:`posering.storage.local_copy`), never held in memory.

Damaged videos: where a stretch of the file is corrupt, sequential decoding stops although the
container still indexes the frames after it, which a seek reaches. The count therefore looks
past the point where decoding stopped (by seeking, up to what the header claims), and
``frames(..., skip_damaged=True)`` resumes after a damaged stretch at the first frame a seek can
decode, recording each stretch it skipped in :attr:`VideoReader.skipped`.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import asdict, dataclass
from typing import Iterator

import cv2
import numpy as np

from posering import storage
from posering.errors import VideoError
from posering.video import probing
from posering.video.keyframes import KeyframeIndex, keyframe_index, seek_at_or_before

# Above this stride, seeking per frame beats decoding and dropping the frames in between.
_GRAB_STRIDE_LIMIT = 24
# What a user can do about a damaged file; FFmpeg conceals what it cannot decode.
REPAIR_ADVICE = ("re-encode it, e.g. `ffmpeg -err_detect ignore_err -i in.mp4 -c:v libx264 out.mp4`, "
                 "or analyze it as it is: analyze_videos skips the frames that do not decode")
# Per video (local file, size): (verified frame count, the keyframe index where seeks need it).
_verified_counts: dict[tuple, tuple[int, KeyframeIndex | None]] = {}
_counts_lock = threading.Lock()


@dataclass(frozen=True)
class VideoInfo:
    location: str
    width: int
    height: int
    fps: float
    frame_count: int
    metadata_frame_count: int
    codec: str

    @property
    def duration_s(self) -> float:
        return self.frame_count / self.fps if self.fps else 0.0

    def to_dict(self) -> dict:
        return asdict(self)


class VideoReader:
    """Read frames of one video by index or by range. Frames are RGB uint8 (H, W, 3)."""

    def __init__(self, location: str, color: str = "rgb"):
        self.location = storage.normalize(location)
        if color not in ("rgb", "bgr"):
            raise ValueError("color must be 'rgb' or 'bgr'")
        self._to_rgb = color == "rgb"
        self._cache = contextlib.ExitStack()
        self._local = self._cache.enter_context(storage.local_copy(self.location))
        self._cap = self._open_capture()
        self._position = 0  # index of the frame the next read() returns; -1 = unknown (past the end)
        self.width = int(self._cap.get(cv2.CAP_PROP_FRAME_WIDTH))
        self.height = int(self._cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        self.fps = float(self._cap.get(cv2.CAP_PROP_FPS) or 0.0)
        self.metadata_frame_count = max(0, int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT)))
        fourcc = int(self._cap.get(cv2.CAP_PROP_FOURCC))
        self.codec = "".join(chr((fourcc >> (8 * i)) & 0xFF) for i in range(4)).strip("\x00 ")
        if self.width <= 0 or self.height <= 0:
            self.close()
            raise VideoError(f"{self.location}: not a readable video (no frame size); is the file complete?")
        self._frame_count: int | None = None
        self._timing: KeyframeIndex | None = None  # set where OpenCV's frame numbers are not indices
        self.skipped: list[tuple[int, int]] = []  # [start, stop) stretches frames() could not decode

    def _open_capture(self) -> cv2.VideoCapture:
        cap = cv2.VideoCapture(self._local)
        if not cap.isOpened():
            self._cache.close()
            raise VideoError(
                f"{self.location}: cannot be opened as a video (corrupt, empty or an unsupported "
                "codec); re-encode it, e.g. `ffmpeg -i in.avi -c:v libx264 out.mp4`")
        return cap

    # -- context manager ------------------------------------------------------------------------
    def __enter__(self) -> "VideoReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if getattr(self, "_cap", None) is not None:
            self._cap.release()
            self._cap = None
        self._cache.close()

    # -- metadata ----------------------------------------------------------------------------------
    @property
    def frame_count(self) -> int:
        """The number of frames that really decode (verified, not the header's claim)."""
        if self._frame_count is None:
            key = (self._local, storage.size(self._local))
            with _counts_lock:
                cached = _verified_counts.get(key)
            if cached is None:
                cached = self._verified_count(), self._timing
                with _counts_lock:
                    _verified_counts[key] = cached
            self._frame_count, self._timing = cached
        return self._frame_count

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return self.width, self.height

    @property
    def info(self) -> VideoInfo:
        return VideoInfo(self.location, self.width, self.height, self.fps, self.frame_count,
                         self.metadata_frame_count, self.codec)

    def __len__(self) -> int:
        return self.frame_count

    def _verified_count(self) -> int:
        """The frame count; sets ``_timing`` where seeks need the keyframe index."""
        claimed = self.metadata_frame_count
        first_ms = self._times_from_start(min(claimed, 2))
        ends, last_ms = self._ends_at(claimed)
        if ends and self._on_grid({**first_ms, claimed - 1: last_ms}):
            return claimed
        timing = keyframe_index(self.location, self._local)  # one demux-only pass, cached per video
        if not timing.regular:  # from here on, seeks go by the frames' times
            self._timing = timing
        if timing.packets != claimed or self._timing is not None:
            # The packets are the frames the file holds (a header may count dropped frames, or
            # none at all); checked the same way, so a lying header costs no decoding pass.
            claimed = timing.packets
            ends, _ = self._ends_at(claimed)
        if ends:
            return claimed
        counted = self._count_by_decoding()
        if counted < claimed:  # decoding stopped early: frames past a damaged stretch may seek
            last = self._last_readable(counted, claimed - 1)
            counted = counted if last is None else last + 1
        if counted == 0:
            raise VideoError(f"{self.location}: no frame could be decoded; the file is corrupt or empty")
        return counted

    def _times_from_start(self, count: int) -> dict[int, float]:
        """The times (ms) of the first ``count`` frames, decoded from the start."""
        shown: dict[int, float] = {}
        self._seek(0)
        for index in range(count):
            if not self._cap.grab():
                self._position = -1
                break
            shown[index] = self._cap.get(cv2.CAP_PROP_POS_MSEC)
            self._position += 1
        return shown

    def _ends_at(self, claimed: int) -> tuple[bool, float]:
        """Whether frame ``claimed - 1`` decodes and frame ``claimed`` does not; the former's time."""
        if claimed <= 0 or not self._readable(claimed - 1):
            return False, float("nan")
        shown_ms = self._cap.get(cv2.CAP_PROP_POS_MSEC)
        return not self._readable(claimed), shown_ms

    def _on_grid(self, shown_ms: dict[int, float]) -> bool:
        """Whether each frame was shown at its index times the frame period after frame 0, so
        that OpenCV's seeks (which number frames by time x fps) are exact. Checked on the first
        two frames and the last: a dropped frame moves the last off the grid (the fps is the
        average rate, or the frames span more time than their count), a varying rate moves the
        second or the last; a video that passes has every frame on the grid but for contrived
        timestamps (gaps made up exactly by frames closer together, away from both ends)."""
        if self.fps <= 0 or 0 not in shown_ms:
            return False
        period = 1000.0 / self.fps
        return all(abs(ms - shown_ms[0] - index * period) <= 1e-6 * period for index, ms in shown_ms.items())

    def _readable(self, index: int) -> bool:
        ok = self._seek(index) and self._cap.grab()
        self._position = index + 1 if ok else -1
        return ok

    def _count_by_decoding(self) -> int:
        cap = cv2.VideoCapture(self._local)
        count = 0
        try:
            while cap.grab():
                count += 1
        finally:
            cap.release()
        return count

    def _last_readable(self, low: int, high: int) -> int | None:
        return probing.last_readable(self._readable, low, high)

    def _first_readable(self, low: int, high: int) -> int | None:
        return probing.first_readable(self._readable, low, high)

    # -- reading -------------------------------------------------------------------------------------
    def _seek(self, index: int) -> bool:
        """Make frame ``index`` the next one decoded; False where the data before it does not decode."""
        if index == self._position:
            return True
        if self._timing is None:
            self._cap.set(cv2.CAP_PROP_POS_FRAMES, index)
            self._position = index
            return True
        self._position = seek_at_or_before(self._cap, self._timing, index)
        if self._position is None:
            self._position = -1
            return False
        while self._position < index:
            if not self._cap.grab():
                self._position = -1
                return False
            self._position += 1
        return True

    def _decode_next(self) -> np.ndarray | None:
        ok, frame = self._cap.read()
        if not ok or frame is None:
            self._position = -1
            return None
        self._position += 1
        if self._to_rgb:
            frame = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
        return frame

    def read(self, index: int) -> np.ndarray:
        """Frame ``index`` (0-based)."""
        if index < 0 or index >= self.frame_count:
            raise VideoError(f"{self.location}: frame {index} does not exist (the video has "
                             f"{self.frame_count} frames)")
        self._seek(index)
        frame = self._decode_next()
        if frame is None:
            raise VideoError(f"{self.location}: frame {index} could not be decoded (corrupt data?)")
        return frame

    def frames(self, start: int = 0, stop: int | None = None, step: int = 1,
               skip_damaged: bool = False) -> Iterator[tuple[int, np.ndarray]]:
        """Yield ``(index, frame)`` for ``range(start, stop, step)``, decoding sequentially.

        Where decoding stops before ``stop`` (a damaged stretch), this raises a VideoError; with
        ``skip_damaged`` it goes on from the first frame a seek can decode and adds the stretch
        it skipped, ``(first, after_last)``, to :attr:`skipped`.
        """
        stop = self.frame_count if stop is None else min(stop, self.frame_count)
        if step < 1:
            raise ValueError("step must be >= 1")
        if step > _GRAB_STRIDE_LIMIT:
            for index in range(start, stop, step):
                yield index, self.read(index)
            return
        self._seek(start)
        index = start
        while index < stop:
            frame = self._decode_next()
            if frame is None:
                if not skip_damaged:
                    raise VideoError(f"{self.location}: decoding stopped at frame {index} of {self.frame_count} "
                                     f"(the file is damaged there); {REPAIR_ADVICE}")
                resume = self._first_readable(index + 1, stop - 1)
                self.skipped.append((index, stop if resume is None else resume))
                if resume is None:
                    return
                index = resume + (step - (resume - start) % step) % step  # back on the step's grid
                self._seek(index)
                continue
            yield index, frame
            for _ in range(min(step - 1, stop - index - 1)):
                if not self._cap.grab():
                    return
                self._position += 1
            index += step

    def read_many(self, indices) -> Iterator[tuple[int, np.ndarray]]:
        """Yield ``(index, frame)`` for sorted unique indices, reading forward where they are close."""
        for index in sorted(set(int(i) for i in indices)):
            gap = index - self._position
            if self._position >= 0 and 0 < gap <= _GRAB_STRIDE_LIMIT:
                for _ in range(gap):
                    self._cap.grab()
                self._position = index
            yield index, self.read(index)


def probe(location: str) -> VideoInfo:
    """Size, fps and verified frame count of a video (opens and closes it)."""
    with VideoReader(location) as reader:
        return reader.info
