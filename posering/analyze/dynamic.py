"""Dynamic cropping: follow the animal with a box instead of analysing the whole frame.

Once any bodypart's likelihood reaches ``threshold``, the next frame is cut to the box around
the confident bodyparts, grown by ``margin`` pixels (and to at least ``min_size`` so the network
has context), clipped to the frame. When no bodypart is confident the next frame is analysed
whole again. Coordinates always come back in full-frame pixels.
"""

from __future__ import annotations

import numpy as np

from posering.project.config import Crop


class DynamicCropper:
    """The crop box of one stream of frames, updated from each frame's poses."""

    def __init__(self, width: int, height: int, threshold: float, margin: int, min_size: int = 64):
        self.width, self.height = width, height
        self.threshold, self.margin = threshold, margin
        self.min_size = min(min_size, width, height)
        self.box: Crop | None = None  # None: analyse the full frame

    def update(self, pose: np.ndarray) -> None:
        """Set the box for the next frame from this frame's (K, 3) full-frame poses."""
        confident = pose[pose[:, 2] >= self.threshold]
        if len(confident) == 0:
            self.box = None
            return
        x1, y1 = confident[:, :2].min(axis=0) - self.margin
        x2, y2 = confident[:, :2].max(axis=0) + self.margin
        self.box = self.fit(x1, y1, x2, y2)

    def fit(self, x1: float, y1: float, x2: float, y2: float, width: int | None = None,
            height: int | None = None) -> Crop:
        """A box inside the frame around (x1, y1, x2, y2), at least min_size (or exactly
        width x height when given, e.g. to match other crops in a batch)."""
        want_w = width or max(int(np.ceil(x2 - x1)), self.min_size)
        want_h = height or max(int(np.ceil(y2 - y1)), self.min_size)
        want_w, want_h = min(want_w, self.width), min(want_h, self.height)
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
        left = int(np.clip(round(cx - want_w / 2), 0, self.width - want_w))
        top = int(np.clip(round(cy - want_h / 2), 0, self.height - want_h))
        return Crop(x1=left, x2=left + want_w, y1=top, y2=top + want_h)
