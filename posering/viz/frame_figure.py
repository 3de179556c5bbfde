"""Drawing poses onto video frames with matplotlib: the ``save_frames`` path of create_labeled_video.

Slower than OpenCV (tens of frames per second rather than hundreds) but drawn by matplotlib's
renderer, as DeepLabCut's ``save_frames`` path is, and each frame is also kept as a PNG. One
figure the size of the video frame is made per frame range and only its data change from frame
to frame (image, dot positions, bones, trail), which is several times faster than a new figure
per frame. The same :class:`~posering.viz.draw.PoseStyle` as the fast path: the same colours,
dot radius (pixels), opacity, skeleton and trail.
"""

from __future__ import annotations

import cv2
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from posering.viz.draw import PoseStyle, trail_steps


class FrameFigure:
    """Render ``(frame, points, trail)`` to an RGB array of the frame's size."""

    def __init__(self, width: int, height: int, style: PoseStyle, dpi: int = 100):
        self.width, self.height, self.style = width, height, style
        self.colors = np.asarray(style.colors, dtype=float) / 255.0
        self.figure = Figure(figsize=(width / dpi, height / dpi), dpi=dpi)
        self.canvas = FigureCanvasAgg(self.figure)
        axes = self.figure.add_axes((0, 0, 1, 1))
        axes.set_axis_off()
        # Pixel centres at integer coordinates, as in the pose table.
        extent = (-0.5, width - 0.5, height - 0.5, -0.5)
        self.image = axes.imshow(np.zeros((height, width, 3), np.uint8), extent=extent, interpolation="nearest")
        axes.set_xlim(extent[0], extent[1])
        axes.set_ylim(extent[2], extent[3])
        points_per_pixel = 72.0 / dpi
        line = max(1, style.dotsize // 3) * points_per_pixel
        # Layers as on the fast path: trail, then bones, then dots on top.
        self.trail = LineCollection([], linewidths=max(0.5, line * 0.7), alpha=style.alpha, zorder=2)
        self.bones = LineCollection([], linewidths=line, colors=[np.asarray(style.bone_color) / 255.0],
                                    alpha=style.alpha, zorder=3)
        axes.add_collection(self.trail)
        axes.add_collection(self.bones)
        # A marker's size is its area in points^2: a dot of radius r pixels is 2r pixels across.
        area = (2 * style.dotsize * points_per_pixel) ** 2
        self.dots = axes.scatter([], [], s=area, alpha=style.alpha, edgecolors="none", zorder=4)

    def render(self, frame: np.ndarray, points: np.ndarray, trail: np.ndarray | None = None) -> np.ndarray:
        """The frame with the pose drawn (points and trail as for `posering.viz.draw.draw_poses`)."""
        style = self.style
        self.image.set_data(np.zeros_like(frame) if style.keypoints_only else frame)
        shown = np.isfinite(points).all(axis=1)
        self.dots.set_offsets(points[shown] if shown.any() else np.zeros((0, 2)))
        self.dots.set_facecolors(self.colors[shown])
        self.bones.set_segments([points[[a, b]] for a, b in style.bones if shown[a] and shown[b]])
        segments, colors = [], []
        if trail is not None and len(trail):
            for k, (a, b) in trail_steps(trail, points, style.dotsize):
                segments.append(np.stack([a, b]))
                colors.append(self.colors[k])
        self.trail.set_segments(segments)
        self.trail.set_colors(colors if colors else "none")
        self.canvas.draw()
        rgb = np.asarray(self.canvas.buffer_rgba())[..., :3]
        if rgb.shape[:2] != (self.height, self.width):
            # Sizes that are not a whole number of 1/dpi inches come out a pixel off.
            rgb = cv2.resize(rgb, (self.width, self.height), interpolation=cv2.INTER_AREA)
        return np.ascontiguousarray(rgb)
