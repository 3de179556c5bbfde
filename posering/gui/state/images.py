"""Images made ready for the screen: decoded, shrunk to the view, as the float pixels a texture takes.

A frame is uploaded to the GPU once per frame change, never per mouse move (as a static texture:
Dear PyGui re-uploads raw and dynamic textures at every frame). Images larger than the view are
shrunk first (halved with smoothing, then bilinear: OpenCV's area filter costs several times
more at non-integer ratios), because the GPU would show them at view size anyway and a 2048x2048
float texture is 64 MB to convert and upload. Coordinates stay those of the full image: only the
pixels are fewer.

:class:`ImageCache` keeps recent images and prepares the neighbours of the current one on a
background thread, so stepping to the next image usually finds it ready.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable

import cv2
import numpy as np

from posering.frames.images import decode_image


@dataclass
class DisplayImage:
    pixels: np.ndarray  # float32 (h, w, 4) RGBA, 0..1, C-contiguous: what the texture holds
    width: int  # the image's own size, in the coordinates labels use
    height: int

    @property
    def texture_size(self) -> tuple[int, int]:
        return self.pixels.shape[1], self.pixels.shape[0]


def prepare(image: np.ndarray, max_size: tuple[int, int] | None = None) -> DisplayImage:
    """An RGB (or grey) uint8 image as texture pixels, shrunk to fit ``max_size`` (w, h) if larger."""
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    elif image.shape[2] == 4:
        image = image[..., :3]
    height, width = image.shape[:2]
    shown = image
    if max_size is not None:
        scale = min(1.0, max_size[0] / width, max_size[1] / height)
        if scale < 1.0:
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            while shown.shape[1] >= 2 * size[0] and shown.shape[0] >= 2 * size[1]:
                shown = cv2.pyrDown(shown)  # halving with smoothing: fast, no aliasing
            shown = cv2.resize(shown, size, interpolation=cv2.INTER_LINEAR)
    pixels = cv2.cvtColor(shown, cv2.COLOR_RGB2RGBA).astype(np.float32)  # contiguous: fast to scale
    pixels *= np.float32(1 / 255)
    return DisplayImage(pixels, width, height)


class ImageCache:
    """Recent images, ready to show; :meth:`prefetch` prepares others on a background thread."""

    def __init__(self, max_size: tuple[int, int] | None = None, capacity: int = 12,
                 loader: Callable[[str], np.ndarray] = decode_image):
        self.max_size = max_size
        self.capacity = capacity
        self._loader = loader
        self._items: OrderedDict[str, DisplayImage] = OrderedDict()
        self._lock = threading.Lock()
        self._wanted: list[str] = []
        self._inflight: str | None = None
        self._wake = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None

    def get(self, location: str) -> DisplayImage:
        with self._wake:
            while location == self._inflight:  # being prepared in the background: wait for it
                self._wake.wait(5)
            item = self._items.get(location)
            if item is not None:
                self._items.move_to_end(location)
                return item
        item = prepare(self._loader(location), self.max_size)
        self._store(location, item)
        return item

    def set_max_size(self, max_size: tuple[int, int]) -> None:
        """The view changed size: images prepared for the old size are dropped."""
        if max_size != self.max_size:
            with self._lock:
                self.max_size = max_size
                self._items.clear()

    def clear(self) -> None:
        """Forget every image (the files were drawn again)."""
        with self._lock:
            self._items.clear()

    def prefetch(self, locations: list[str]) -> None:
        """Prepare these in the background (replacing any earlier wish list)."""
        with self._wake:
            self._wanted = [loc for loc in locations if loc not in self._items]
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name="posering-gui-prefetch", daemon=True)
                self._thread.start()
            self._wake.notify()

    def _store(self, location: str, item: DisplayImage) -> None:
        with self._lock:
            self._items[location] = item
            self._items.move_to_end(location)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)

    def _work(self) -> None:
        while True:
            with self._wake:
                while not self._wanted:
                    self._wake.wait()
                location = self._wanted.pop(0)
                if location in self._items:
                    continue
                max_size, self._inflight = self.max_size, location
            try:
                item = prepare(self._loader(location), max_size)
            except Exception:  # the main thread reports it when the image is really shown
                item = None
            with self._wake:
                if item is not None and max_size == self.max_size:
                    self._items[location] = item
                    while len(self._items) > self.capacity:
                        self._items.popitem(last=False)
                self._inflight = None
                self._wake.notify_all()
