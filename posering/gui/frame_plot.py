"""An image in a zoomable plot, with points a user places, drags and removes.

The image is one texture, replaced only when the frame changes (:meth:`FramePlot.show`); points
are one scatter series per bodypart (its colour, filled or open) plus an invisible drag handle,
updated only when the points change. Mouse moves only move the hover label. Coordinates are the
image's pixels with pixel centres on integers (as DeepLabCut's labels and matplotlib's imshow):
the image spans -0.5 .. width - 0.5, and the y axis points down.

Mouse: wheel zooms, left-drag pans (or moves a point when it starts on one), double-click fits,
right-click and middle-click go to the view's ``on_place`` / ``on_remove_near``.
"""

from __future__ import annotations

from typing import Callable

import dearpygui.dearpygui as dpg
import numpy as np

from posering.gui import theme
from posering.gui.state.images import DisplayImage

HOVER_PX = 14  # how close (screen pixels) the mouse must be to a point to name it
REMOVE_PX = 40  # middle-click removes the nearest point within this distance


class FramePlot:
    def __init__(self, app, name: str):
        self.app = app
        self.name = name
        self.plot = f"{name}.plot"
        self.xaxis, self.yaxis = f"{name}.x", f"{name}.y"
        self.on_place: Callable[[float, float], None] | None = None
        self.on_move: Callable[[int, float, float], None] | None = None
        self.on_remove_near: Callable[[float, float, float], None] | None = None
        self.image_size: tuple[int, int] | None = None
        self.names: list[str] = []
        self.colors: list[tuple] = []
        self.xy = np.zeros((0, 2))
        self.marker_size = 9.0
        self._texture = None
        self._series: list = []
        self._handles: list = []
        self._themes: list[tuple[int, int]] = []
        self._size_items: list = []
        self._drag: int | None = None
        self._filled: np.ndarray | None = None
        self._selected: int | None = None
        self._hover: int | None = None
        self._release_limits = 0
        self._display: DisplayImage | None = None  # the frame shown, for full-size detail when zoomed
        self._view_key = self._detail_key = None
        self._rested = 0

    # -- building --------------------------------------------------------------------------------------
    def build(self, parent, width: int = -1, height: int = -1) -> None:
        with dpg.plot(tag=self.plot, parent=parent, width=width, height=height, equal_aspects=True,
                      no_menus=True, no_box_select=True, no_title=True):
            axis = {"no_tick_labels": True, "no_tick_marks": True, "no_gridlines": True, "no_label": True}
            dpg.add_plot_axis(dpg.mvXAxis, tag=self.xaxis, **axis)
            dpg.add_plot_axis(dpg.mvYAxis, tag=self.yaxis, invert=True, **axis)
            dpg.add_plot_annotation(tag=f"{self.name}.hover", show=False, offset=(14, -14), clamped=True)
        self._texture_for(1, 1, np.zeros((1, 1, 4), np.float32))
        # uv flipped because the y axis points down (ImPlot puts uv_min at the bottom edge)
        dpg.add_image_series(self._texture, [-0.5, -0.5], [0.5, 0.5], parent=self.yaxis,
                             tag=f"{self.name}.image", uv_min=(0, 1), uv_max=(1, 0))
        with dpg.texture_registry():
            self._detail_texture = dpg.add_static_texture(1, 1, [0.0, 0.0, 0.0, 0.0])
        dpg.add_image_series(self._detail_texture, [-0.5, -0.5], [0.5, 0.5], parent=self.yaxis, show=False,
                             tag=f"{self.name}.detail", uv_min=(0, 1), uv_max=(1, 0))
        ring, self._ring_size = theme.marker_theme(self.marker_size + 5, 2, (0, 0, 0, 0), (255, 255, 255, 255))
        dpg.add_scatter_series([], [], parent=self.yaxis, tag=f"{self.name}.selected")
        dpg.bind_item_theme(f"{self.name}.selected", ring)
        # a light ring under open circles, so dark colours show on dark fur
        halo, self._halo_size = theme.marker_theme(self.marker_size, 5, (0, 0, 0, 0), (235, 235, 235, 200))
        dpg.add_scatter_series([], [], parent=self.yaxis, tag=f"{self.name}.halo", before=f"{self.name}.selected")
        dpg.bind_item_theme(f"{self.name}.halo", halo)
        handlers = "app.handlers"
        dpg.add_mouse_click_handler(parent=handlers, callback=self._clicked)
        dpg.add_mouse_release_handler(parent=handlers, callback=self._released)
        dpg.add_mouse_move_handler(parent=handlers, callback=self._moved)
        dpg.add_mouse_wheel_handler(parent=handlers, callback=self._wheel)

    def _texture_for(self, width: int, height: int, pixels: np.ndarray) -> None:
        """A new static texture per frame: uploaded once (raw and dynamic textures are uploaded
        again at every frame drawn)."""
        old = self._texture
        with dpg.texture_registry():
            self._texture = dpg.add_static_texture(width, height, pixels.reshape(-1))
        if old is not None:
            dpg.configure_item(f"{self.name}.image", texture_tag=self._texture)
            dpg.delete_item(old)

    def set_bodyparts(self, names: list[str], colors: list[tuple]) -> None:
        """One marker series (filled and open themes) and one drag handle per bodypart."""
        for item in self._series + self._handles + [t for pair in self._themes for t in pair]:
            dpg.delete_item(item)
        self.names, self.colors = list(names), [theme.rgba255(c) for c in colors]
        self._series, self._handles, self._themes, self._size_items = [], [], [], []
        self.xy = np.full((len(names), 2), np.nan)
        for k, color in enumerate(self.colors):
            filled, open_ = self._marker_theme(color, True), self._marker_theme(color, False)
            self._themes.append((filled, open_))
            series = dpg.add_scatter_series([], [], parent=self.yaxis, before=f"{self.name}.selected")
            dpg.move_item(f"{self.name}.halo", parent=self.yaxis, before=series) if k == 0 else None
            dpg.bind_item_theme(series, filled)
            self._series.append(series)
            handle = dpg.add_drag_point(parent=self.plot, color=(255, 255, 255, 0), thickness=self.marker_size,
                                        show=False, show_label=False, user_data=k, callback=self._dragged)
            self._handles.append(handle)

    def clear(self) -> None:
        """No image, no points."""
        self._display = None
        dpg.configure_item(f"{self.name}.detail", show=False)
        self.set_bodyparts([], [])
        self._texture_for(1, 1, np.zeros((1, 1, 4), np.float32))
        self.image_size = None
        dpg.configure_item(f"{self.name}.image", bounds_min=[-0.5, -0.5], bounds_max=[0.5, 0.5])
        dpg.set_value(f"{self.name}.selected", [[], []])
        dpg.set_value(f"{self.name}.halo", [[], []])

    def _marker_theme(self, color, filled: bool) -> int:
        """Filled disks with a dark rim, or open circles in the colour."""
        fill, outline = (color, (20, 20, 20, 255)) if filled else ((0, 0, 0, 0), color)
        marker, size_item = theme.marker_theme(self.marker_size, 1.5 if filled else 2.5, fill, outline)
        self._size_items.append(size_item)
        return marker

    # -- what is shown -------------------------------------------------------------------------------------
    def view_size(self) -> tuple[int, int]:
        """The plot's size on screen in pixels (a sensible guess before the first frame)."""
        width, height = dpg.get_item_rect_size(self.plot) if dpg.does_item_exist(self.plot) else (0, 0)
        return (int(width), int(height)) if width > 50 and height > 50 else (1280, 1024)

    def show(self, image: DisplayImage) -> None:
        """Upload the frame (once per frame change); the view is refitted when the size changes."""
        width, height = image.texture_size
        self._texture_for(width, height, image.pixels)
        self._display, self._view_key, self._detail_key = image, None, None
        dpg.configure_item(f"{self.name}.detail", show=False)
        size = (image.width, image.height)
        if size != self.image_size:
            dpg.configure_item(f"{self.name}.image", bounds_min=[-0.5, -0.5],
                               bounds_max=[image.width - 0.5, image.height - 0.5])
            self.image_size = size
            self.fit()

    def fit(self) -> None:
        """Show the whole image (ImPlot fits the axes at the next frame, keeping equal aspect)."""
        if self.image_size is None:
            return
        dpg.fit_axis_data(self.xaxis)
        dpg.fit_axis_data(self.yaxis)

    def set_points(self, xy: np.ndarray, filled: np.ndarray | None = None, selected: int | None = None) -> None:
        """Points (K, 2; NaN = not placed), which are filled disks (else open circles), and the
        selected bodypart (ringed)."""
        self.xy = np.array(xy, dtype=float)
        filled = np.ones(len(xy), bool) if filled is None else np.asarray(filled, bool)
        self._filled, self._selected = filled, selected
        self.name_point(None)
        for k, (series, handle) in enumerate(zip(self._series, self._handles)):
            x, y = self.xy[k]
            placed = not (np.isnan(x) or np.isnan(y))
            dpg.set_value(series, [[x], [y]] if placed else [[], []])
            dpg.bind_item_theme(series, self._themes[k][0 if filled[k] else 1])
            if placed:
                dpg.set_value(handle, (x, y))
            dpg.configure_item(handle, show=placed)
        hollow = ~filled & ~np.isnan(self.xy).any(axis=1)
        dpg.set_value(f"{self.name}.halo", [list(self.xy[hollow, 0]), list(self.xy[hollow, 1])])
        ring = self.xy[selected] if selected is not None and selected < len(self.xy) else (np.nan, np.nan)
        ring_placed = not np.isnan(ring).any()
        dpg.set_value(f"{self.name}.selected", [[ring[0]], [ring[1]]] if ring_placed else [[], []])

    def set_marker_size(self, size: float) -> None:
        self.marker_size = float(size)
        for item in self._size_items:
            dpg.set_value(item, [self.marker_size, 0.0])
        dpg.set_value(self._ring_size, [self.marker_size + 5, 0.0])
        dpg.set_value(self._halo_size, [self.marker_size, 0.0])
        for handle in self._handles:
            dpg.configure_item(handle, thickness=max(6.0, self.marker_size))

    # -- events --------------------------------------------------------------------------------------------
    OVERLAYS = ("app.help",)  # floating windows that may cover the plot
    MODALS = ("app.prompt", "app.file_dialog")

    def hovered(self) -> bool:
        """The mouse is over the image area and nothing covers it.

        Not ImGui's hover state: over a drag handle that state (and ImPlot's mouse position) goes
        stale, and a click there would land where the mouse was a few pixels earlier."""
        if not dpg.does_item_exist(self.plot) or not dpg.is_item_visible(self.plot):
            return False
        if any(dpg.does_item_exist(m) and dpg.is_item_shown(m) for m in self.MODALS):
            return False
        mx, my = dpg.get_mouse_pos(local=False)
        for overlay in self.OVERLAYS:
            if dpg.does_item_exist(overlay) and dpg.is_item_shown(overlay) and _within(overlay, mx, my):
                return False
        left, top, width, height = self._area()
        return left <= mx < left + width and top <= my < top + height

    def _area(self) -> tuple[float, float, float, float]:
        """The drawing area on screen: the plot's frame less its padding (axes draw no labels)."""
        (left, top), (width, height) = dpg.get_item_rect_min(self.plot), dpg.get_item_rect_size(self.plot)
        pad = theme.PLOT_PADDING
        return left + pad, top + pad, max(1.0, width - 2 * pad), max(1.0, height - 2 * pad)

    def mouse(self) -> tuple[float, float]:
        """The image coordinates under the mouse, from its screen position and the axes' limits."""
        mx, my = dpg.get_mouse_pos(local=False)
        return self.to_image(mx, my)

    def to_image(self, sx: float, sy: float) -> tuple[float, float]:
        left, top, width, height = self._area()
        (x0, x1), (y0, y1) = dpg.get_axis_limits(self.xaxis), dpg.get_axis_limits(self.yaxis)
        return x0 + (sx - left) * (x1 - x0) / width, y0 + (sy - top) * (y1 - y0) / height

    def to_screen(self, x: float, y: float) -> tuple[float, float]:
        left, top, width, height = self._area()
        (x0, x1), (y0, y1) = dpg.get_axis_limits(self.xaxis), dpg.get_axis_limits(self.yaxis)
        return left + (x - x0) * width / (x1 - x0), top + (y - y0) * height / (y1 - y0)

    def units_per_pixel(self) -> float:
        (x0, x1), width = dpg.get_axis_limits(self.xaxis), self._area()[2]
        return (x1 - x0) / width

    def inside(self, x: float, y: float) -> bool:
        if self.image_size is None:
            return False
        width, height = self.image_size
        return -0.5 <= x <= width - 0.5 and -0.5 <= y <= height - 0.5

    def _clicked(self, sender, button) -> None:
        if not self.hovered():
            return
        x, y = self.mouse()
        if button == dpg.mvMouseButton_Right and self.on_place and self.inside(x, y):
            self.on_place(x, y)
        elif button == dpg.mvMouseButton_Middle and self.on_remove_near:
            self.on_remove_near(x, y, REMOVE_PX * self.units_per_pixel())

    def _dragged(self, sender, app_data, k) -> None:
        self._drag = k
        x, y = dpg.get_value(sender)[:2]
        dpg.set_value(self._series[k], [[x], [y]])

    def _released(self, sender, button) -> None:
        if button != dpg.mvMouseButton_Left or self._drag is None:
            return
        k, self._drag = self._drag, None
        x, y = (float(v) for v in dpg.get_value(self._handles[k])[:2])
        if self.on_move and self.inside(x, y):
            self.on_move(k, x, y)
        else:  # dropped outside the image: put the marker back where the point is
            self.set_points(self.xy, self._filled, self._selected)

    def _wheel(self, sender, clicks) -> None:
        """Zoom where ImPlot does not: with the mouse on a point's drag handle, ImPlot sees the
        handle hovered, not the plot, and ignores the wheel."""
        if not self.hovered() or not len(self.xy) or np.isnan(self.xy).all():
            return
        x, y = self.mouse()
        grab = (max(6.0, self.marker_size) + 1) * self.units_per_pixel()
        if np.nanmin(np.hypot(self.xy[:, 0] - x, self.xy[:, 1] - y)) > grab:
            return  # ImPlot zooms
        scale = 0.9 ** float(clicks)  # about what ImPlot does per click
        (x0, x1), (y0, y1) = dpg.get_axis_limits(self.xaxis), dpg.get_axis_limits(self.yaxis)
        dpg.set_axis_limits(self.xaxis, x - (x - x0) * scale, x + (x1 - x) * scale)
        dpg.set_axis_limits(self.yaxis, y - (y - y0) * scale, y + (y1 - y) * scale)
        self._release_limits = 2

    def tick(self) -> None:
        """Per frame: limits fixed by a zoom are handed back to ImPlot once drawn (pan, zoom), and
        once a zoom or pan has rested, a shrunk image gets its full-size pixels where it is seen."""
        if self._release_limits:
            self._release_limits -= 1
            if not self._release_limits:
                dpg.set_axis_limits_auto(self.xaxis)
                dpg.set_axis_limits_auto(self.yaxis)
        if self._display is None or self._display.source is None:
            return
        key = (*dpg.get_axis_limits(self.xaxis), *dpg.get_axis_limits(self.yaxis), *self._area()[2:])
        if key != self._view_key:
            self._view_key, self._rested = key, 0
            return
        self._rested += 1
        if self._rested == 3 and key != self._detail_key:
            self._detail_key = key
            self._show_detail(key)

    def _show_detail(self, key) -> None:
        x0, x1, y0, y1, width, height = key
        found = self._display.detail((x0, y0, x1, y1), (int(width), int(height)))
        if found is None:
            dpg.configure_item(f"{self.name}.detail", show=False)
            return
        (bx0, by0, bx1, by1), image = found
        old = self._detail_texture
        with dpg.texture_registry():
            self._detail_texture = dpg.add_static_texture(*image.texture_size, image.pixels.reshape(-1))
        dpg.configure_item(f"{self.name}.detail", texture_tag=self._detail_texture, show=True,
                           bounds_min=[bx0 - 0.5, by0 - 0.5], bounds_max=[bx1 - 0.5, by1 - 0.5])
        dpg.delete_item(old)

    def _moved(self, sender, position) -> None:
        """Name the point under the mouse (only the label is touched, and only when it changes)."""
        if dpg.is_mouse_button_down(dpg.mvMouseButton_Left) or self._drag is not None:
            return  # reconfiguring items while a drag point is held would drop the drag
        k = None
        if self.names and self.hovered():
            x, y = self.mouse()
            distance = np.hypot(self.xy[:, 0] - x, self.xy[:, 1] - y)
            distance[np.isnan(distance)] = np.inf
            nearest = int(np.argmin(distance))
            if distance[nearest] <= HOVER_PX * self.units_per_pixel():
                k = nearest
        self.name_point(k)

    def name_point(self, k: int | None) -> None:
        if k == self._hover:
            return
        self._hover = k
        hover = f"{self.name}.hover"
        if k is None:
            dpg.configure_item(hover, show=False)
        else:
            dpg.configure_item(hover, show=True, label=self.names[k], default_value=tuple(self.xy[k]),
                               color=self.colors[k])


def _within(window, x: float, y: float) -> bool:
    (left, top), (width, height) = dpg.get_item_pos(window), dpg.get_item_rect_size(window)
    return left <= x < left + width and top <= y < top + height
