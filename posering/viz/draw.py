"""Drawing poses onto video frames with OpenCV: the fast path of create_labeled_video.

One :class:`PoseStyle` says how every frame looks (DeepLabCut's config keys): each bodypart a
filled, anti-aliased dot of radius ``dotsize`` pixels in its colour of ``colormap``, blended over
the frame with opacity ``alphavalue``; bones of ``skeleton`` in ``skeleton_color``; a trail of the
last ``trailpoints`` positions of each bodypart; points below ``pcutoff`` are not drawn, and a
bone or trail step only where both of its ends are drawn. Johansson style (``keypoints_only``)
draws on a black frame.

Positions are drawn with sub-pixel precision (OpenCV's ``shift``): a point at x = 10.5 sits
between two pixel centres, as it does in the pose table.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from posering.errors import PoseringError
from posering.viz.trajectories import bodypart_colors

_SHIFT = 4  # sub-pixel bits for OpenCV drawing: coordinates in 1/16 pixel
_SCALE = 1 << _SHIFT
_FAR = 100_000.0  # pixels: no frame is this large


@dataclass(frozen=True)
class PoseStyle:
    """How poses are drawn; plain values so a Ray task can carry it."""

    bodyparts: tuple[str, ...]
    colors: tuple[tuple[int, int, int], ...]  # RGB per bodypart
    dotsize: int = 8
    alpha: float = 0.7
    pcutoff: float = 0.6
    bones: tuple[tuple[int, int], ...] = ()
    bone_color: tuple[int, int, int] = (0, 0, 0)
    trailpoints: int = 0
    keypoints_only: bool = False

    @classmethod
    def make(cls, bodyparts: list[str], colormap: str, dotsize: float, alpha: float, pcutoff: float,
             skeleton: list[list[str]] | None = None, skeleton_color: str = "black",
             trailpoints: int = 0, keypoints_only: bool = False) -> "PoseStyle":
        """A style from config.yaml's values; bones with an end not drawn are left out."""
        from matplotlib.colors import to_rgb

        rgba = bodypart_colors(len(bodyparts), colormap)
        colors = tuple(tuple(int(round(255 * c)) for c in color[:3]) for color in rgba)
        try:
            bone_color = tuple(int(round(255 * c)) for c in to_rgb(skeleton_color))
        except ValueError:
            raise PoseringError(f"skeleton_color {skeleton_color!r} is not a colour; use a name "
                                "(black, white, red) or a hex code (#ff8800)") from None
        index = {bp: i for i, bp in enumerate(bodyparts)}
        bones = tuple((index[a], index[b]) for a, b in (skeleton or []) if a in index and b in index)
        if not 0 <= alpha <= 1:
            raise PoseringError(f"alphavalue={alpha}: must be between 0 and 1")
        return cls(tuple(bodyparts), colors, max(1, int(round(dotsize))), float(alpha), float(pcutoff),
                   bones, bone_color, max(0, int(trailpoints)), bool(keypoints_only))


def visible_points(xy: np.ndarray, likelihood: np.ndarray, pcutoff: float) -> np.ndarray:
    """``xy`` with points below ``pcutoff`` (or not finite) set to NaN."""
    keep = (likelihood >= pcutoff) & np.isfinite(xy).all(axis=-1)
    return np.where(keep[..., None], xy, np.nan)


def trail_steps(trail: np.ndarray, points: np.ndarray, dotsize: int):
    """``(bodypart, (from, to))`` for each step of the trail that is drawn as a line.

    A step is drawn where both ends are shown and it is short: a point that leaps across the
    frame (a wrong detection) would otherwise cut a long line through the picture; the trail is
    broken there instead.
    """
    path = np.concatenate([trail, points[None]], axis=0)
    longest = max(40.0, 6.0 * dotsize)
    steps = np.linalg.norm(np.diff(path, axis=0), axis=-1)  # NaN where an end is hidden
    for t, k in zip(*np.nonzero(steps <= longest)):
        yield int(k), (path[t, k], path[t + 1, k])


def draw_poses(frame: np.ndarray, points: np.ndarray, style: PoseStyle,
               trail: np.ndarray | None = None) -> np.ndarray:
    """The RGB frame with the pose drawn on it (a new array; ``frame`` is not changed).

    ``points``: (K, 2) positions in frame pixels, NaN where not drawn (see :func:`visible_points`).
    ``trail``: (T, K, 2) earlier positions, oldest first, NaN where not drawn.
    """
    base = np.zeros_like(frame) if style.keypoints_only else frame
    marks = base.copy()
    box = _Box(frame.shape)
    line = max(1, style.dotsize // 3)
    if trail is not None and len(trail):
        for k, (a, b) in trail_steps(trail, points, style.dotsize):
            cv2.line(marks, _px(a), _px(b), style.colors[k], max(1, line - 1), cv2.LINE_AA, _SHIFT)
            box.add(a, line)
            box.add(b, line)
    for a, b in style.bones:
        if np.isfinite(points[a]).all() and np.isfinite(points[b]).all():
            cv2.line(marks, _px(points[a]), _px(points[b]), style.bone_color, line, cv2.LINE_AA, _SHIFT)
            box.add(points[a], line)
            box.add(points[b], line)
    for k, color in enumerate(style.colors):
        if np.isfinite(points[k]).all():
            cv2.circle(marks, _px(points[k]), style.dotsize * _SCALE, color, -1, cv2.LINE_AA, _SHIFT)
            box.add(points[k], style.dotsize)
    if box.empty:
        return marks  # nothing drawn: the frame itself (or black)
    # Blend only where something was drawn: the rest of the frame is copied unchanged, which
    # costs far less than blending every pixel of every frame.
    ys, xs = box.slices()
    marks[ys, xs] = cv2.addWeighted(marks[ys, xs], style.alpha, base[ys, xs], 1.0 - style.alpha, 0.0)
    return marks


def _px(point: np.ndarray) -> tuple[int, int]:
    """A point in OpenCV's fixed-point pixel coordinates (pixel centres at integers).

    Clipped far outside any frame, so a wild prediction cannot overflow OpenCV's 32-bit ints.
    """
    x, y = (float(np.clip(v, -_FAR, _FAR)) for v in point[:2])
    return int(round(x * _SCALE)), int(round(y * _SCALE))


class _Box:
    """The bounding box of what was drawn, clipped to the frame."""

    def __init__(self, shape):
        self.height, self.width = shape[:2]
        self.x0 = self.y0 = np.inf
        self.x1 = self.y1 = -np.inf

    def add(self, point: np.ndarray, radius: int) -> None:
        pad = radius + 2  # anti-aliasing reaches a pixel beyond the shape
        self.x0, self.x1 = min(self.x0, point[0] - pad), max(self.x1, point[0] + pad)
        self.y0, self.y1 = min(self.y0, point[1] - pad), max(self.y1, point[1] + pad)

    @property
    def empty(self) -> bool:
        return not (self.x1 >= 0 and self.y1 >= 0 and self.x0 < self.width and self.y0 < self.height)

    def slices(self) -> tuple[slice, slice]:
        x0, y0 = max(0, int(np.floor(self.x0))), max(0, int(np.floor(self.y0)))
        x1, y1 = min(self.width, int(np.ceil(self.x1)) + 1), min(self.height, int(np.ceil(self.y1)) + 1)
        return slice(y0, y1), slice(x0, x1)
