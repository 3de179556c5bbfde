"""Dynamic cropping: follow the animal with a box instead of analysing the whole frame.

Once any bodypart's likelihood reaches ``threshold``, the next frame is cut to a box around the
confident bodyparts, grown by ``margin`` pixels (and to at least ``min_size`` so the network has
context), clipped to the frame. The box stays where it is while the bodyparts stay clear of its
edges, and moves when they come near one. When no bodypart is confident the next frame is
analysed whole again. Coordinates always come back in full-frame pixels.

Box sides are rounded up to a multiple of ``align`` pixels (32), and boxes start on multiples
of it too: the CPU kernels (oneDNN) are prepared once per input shape, so recurring sizes reuse
them; and a crop that starts on a multiple of the network's total stride sees the same feature
grid as the full frame (with GroupNorm networks, see ``fullview.py``, the crop then reproduces
the full-frame poses). Boxes are at least ``min_size`` (256) pixels: smaller crops lost points of
the openfield tracker even with full-frame statistics (``docs/benchmarks.md``).
"""

from __future__ import annotations

import numpy as np

from posering.project.config import Crop


class DynamicCropper:
    """The crop box of one stream of frames, checked against each frame's poses: it moves when
    the confident bodyparts plus margin leave it."""

    def __init__(self, width: int, height: int, threshold: float, margin: int, min_size: int = 256,
                 align: int = 32, keep_clear: int = 48):
        self.width, self.height = width, height
        self.threshold, self.margin = threshold, margin
        self.min_size = min(min_size, width, height)
        self.align = max(1, align)
        self.keep_clear = keep_clear
        self.box: Crop | None = None  # None: analyse the full frame

    def update(self, pose: np.ndarray) -> None:
        """Set the box for the next frame from this frame's (K, 3) full-frame poses."""
        confident = pose[pose[:, 2] >= self.threshold]
        if len(confident) == 0:
            self.box = None
            return
        x1, y1 = np.maximum(confident[:, :2].min(axis=0) - self.margin, 0)
        x2, y2 = np.minimum(confident[:, :2].max(axis=0) + self.margin, (self.width, self.height))
        fitted = self.fit(x1, y1, x2, y2)
        # The box stays put while it holds the animal and is not much larger than needed: the
        # same box reuses prepared kernels and, for GroupNorm networks, measured statistics.
        # Points near a crop's edge lose accuracy (the network sees padding there), so the box
        # moves once they come within `keep_clear` pixels of an edge that is not the frame's.
        old, clear = self.box, self.keep_clear
        holds = old is not None and (
            (old.x1 == 0 or old.x1 <= x1 - clear) and (old.y1 == 0 or old.y1 <= y1 - clear)
            and (old.x2 == self.width or old.x2 >= x2 + clear)
            and (old.y2 == self.height or old.y2 >= y2 + clear))
        if not holds or old.width * old.height > 2 * fitted.width * fitted.height:
            self.box = fitted

    def fit(self, x1: float, y1: float, x2: float, y2: float, width: int | None = None,
            height: int | None = None) -> Crop:
        """A box inside the frame around (x1, y1, x2, y2), at least min_size (or exactly
        width x height when given, e.g. to match other crops in a batch)."""
        # Two spare pixels, so that whole-pixel edges still hold the points' sub-pixel extent.
        want_w = width or self._step(max(int(np.ceil(x2 - x1)) + 2, self.min_size))
        want_h = height or self._step(max(int(np.ceil(y2 - y1)) + 2, self.min_size))
        left, want_w = self._place(x1, x2, want_w, self.width)
        top, want_h = self._place(y1, y2, want_h, self.height)
        return Crop(x1=left, x2=left + want_w, y1=top, y2=top + want_h)

    def _step(self, side: int) -> int:
        return -(-side // self.align) * self.align

    def _place(self, low: float, high: float, side: int, limit: int) -> tuple[int, int]:
        """(start, side) of a box side within [0, limit): centred on [low, high], its start
        moved down to a multiple of align, and grown by one step if that uncovered ``high``."""
        side = min(side, limit)
        start = int(np.clip(np.floor((low + high) / 2 - side / 2), 0, limit - side))
        start -= start % self.align
        if start + side < high and side + self.align <= limit:
            side += self.align
        return start, side
