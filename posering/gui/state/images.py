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
    source: np.ndarray | None = None  # the full-size image, kept when the pixels are shrunk

    @property
    def texture_size(self) -> tuple[int, int]:
        return self.pixels.shape[1], self.pixels.shape[0]

    @property
    def nbytes(self) -> int:
        return self.pixels.nbytes + (self.source.nbytes if self.source is not None else 0)

    def detail(self, box: tuple[float, float, float, float], view: tuple[int, int]) -> "tuple | None":
        """When zoomed in past the shrunk pixels: the full-size pixels of the visible part.

        ``box`` is the visible region (x0, y0, x1, y1) in image coordinates, ``view`` the plot's
        size on screen. Returns (pixel box (x0, y0, x1, y1), DisplayImage of it), or None when the
        shrunk texture already has a pixel per screen pixel there (or the image was not shrunk).
        """
        if self.source is None:
            return None
        x0, y0 = max(0, int(np.floor(box[0] + 0.5))), max(0, int(np.floor(box[1] + 0.5)))
        x1, y1 = min(self.width, int(np.ceil(box[2] + 0.5))), min(self.height, int(np.ceil(box[3] + 0.5)))
        if x1 - x0 < 2 or y1 - y0 < 2:
            return None
        texels_per_screen_pixel = self.texture_size[0] / self.width * (box[2] - box[0]) / max(1, view[0])
        if texels_per_screen_pixel >= 0.9:
            return None
        return (x0, y0, x1, y1), prepare(self.source[y0:y1, x0:x1], view, keep_source=False)


def prepare(image: np.ndarray, max_size: tuple[int, int] | None = None, keep_source: bool = True) -> DisplayImage:
    """An RGB (or grey) uint8 image as texture pixels, shrunk to fit ``max_size`` (w, h) if larger
    (the full-size image is kept beside them then, for :meth:`DisplayImage.detail`)."""
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
    source = image if keep_source and shown is not image else None
    return DisplayImage(pixels, width, height, source)


class ImageCache:
    """Recent images, ready to show; :meth:`prefetch` prepares others on a background thread."""

    def __init__(self, max_size: tuple[int, int] | None = None, capacity: int = 12,
                 loader: Callable[[str], np.ndarray] = decode_image, max_bytes: int = 512 * 2**20):
        self.max_size = max_size
        self.capacity = capacity
        self.max_bytes = max_bytes
        self._loader = loader
        self._items: OrderedDict[str, DisplayImage] = OrderedDict()
        self._lock = threading.Lock()
        self._wanted: list[str] = []
        self._inflight: str | None = None
        self._closed = False
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

    def close(self) -> None:
        """Stop the background thread (at the window's end: native code must not be running in
        a daemon thread when the interpreter exits)."""
        with self._wake:
            self._closed = True
            self._wanted = []
            self._wake.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(10)

    def prefetch(self, locations: list[str]) -> None:
        """Prepare these in the background (replacing any earlier wish list)."""
        with self._wake:
            self._closed = False
            self._wanted = [loc for loc in locations if loc not in self._items]
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name="posering-gui-prefetch", daemon=True)
                self._thread.start()
            self._wake.notify()

    def _store(self, location: str, item: DisplayImage) -> None:
        with self._lock:
            self._items[location] = item
            self._items.move_to_end(location)
            self._trim()

    def _trim(self) -> None:
        """Oldest out, beyond ``capacity`` images or ``max_bytes`` (the last one always stays)."""
        while len(self._items) > 1 and (len(self._items) > self.capacity or
                                        sum(i.nbytes for i in self._items.values()) > self.max_bytes):
            self._items.popitem(last=False)

    def _work(self) -> None:
        while True:
            with self._wake:
                while not self._wanted and not self._closed:
                    self._wake.wait()
                if self._closed:
                    self._thread = None
                    return
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
                    self._trim()
                self._inflight = None
                self._wake.notify_all()
