"""Writing videos (mp4 by default) to local paths or s3, atomically."""

from __future__ import annotations

import contextlib

import cv2
import numpy as np

from posering import storage
from posering.errors import VideoError


class VideoWriter:
    """Write RGB uint8 frames; the file appears at ``location`` only when closed without error.

    >>> with VideoWriter("out.mp4", fps=30, size=(640, 480)) as writer:
    ...     writer.write(frame)

    ``quality`` (0-100) applies to ``codec="MJPG"`` (an ``.avi``), using OpenCV's MJPEG encoder.
    """

    def __init__(self, location: str, fps: float, size: tuple[int, int], codec: str = "mp4v",
                 color: str = "rgb", quality: int | None = None):
        self.location = storage.normalize(location)
        self.size = (int(size[0]), int(size[1]))
        self._from_rgb = color == "rgb"
        self._stack = contextlib.ExitStack()
        suffix = "." + storage.name(self.location).rsplit(".", 1)[-1]
        self._tmp = self._stack.enter_context(storage.local_target(self.location, suffix=suffix))
        fourcc = cv2.VideoWriter_fourcc(*codec)
        if quality is not None and codec.upper() == "MJPG":
            # OpenCV's own MJPEG encoder honours a JPEG quality (FFmpeg's ignores it): at 95 the
            # frames are visually lossless, for intermediate files that are decoded again.
            self._writer = cv2.VideoWriter(self._tmp, cv2.CAP_OPENCV_MJPEG, fourcc, float(fps), self.size)
            self._writer.set(cv2.VIDEOWRITER_PROP_QUALITY, int(quality))
        else:
            self._writer = cv2.VideoWriter(self._tmp, fourcc, float(fps), self.size)
        if not self._writer.isOpened():
            self._stack.close()
            raise VideoError(f"{self.location}: cannot write a video with codec {codec!r}; try codec='mp4v'")
        self.frames_written = 0

    def write(self, frame: np.ndarray) -> None:
        if frame.shape[1] != self.size[0] or frame.shape[0] != self.size[1]:
            raise VideoError(f"{self.location}: frame of size {frame.shape[1]}x{frame.shape[0]} does "
                             f"not match the video's {self.size[0]}x{self.size[1]}")
        if self._from_rgb:
            frame = cv2.cvtColor(frame, cv2.COLOR_RGB2BGR)
        self._writer.write(np.ascontiguousarray(frame))
        self.frames_written += 1

    def close(self) -> None:
        """Finish the file and move it into place."""
        if self._writer is not None:
            self._writer.release()
            self._writer = None
            self._stack.close()

    def abort(self) -> None:
        """Drop what was written; the target is left as it was."""
        if self._writer is not None:
            self._writer.release()
            self._writer = None
            self._stack.__exit__(RuntimeError, RuntimeError("aborted"), None)

    def __enter__(self) -> "VideoWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
