"""How the client looks: a readable font (DejaVu Sans, shipped with matplotlib), spacing, colours."""

from __future__ import annotations

import os

import dearpygui.dearpygui as dpg

FONT_SIZE = 17
PLOT_PADDING = 4  # pixels between a plot's frame and its drawing area (the image's coordinates)
TEXT = (230, 230, 230, 255)
DIM = (150, 150, 150, 255)
ACCENT = (120, 190, 255, 255)
STATUS = (180, 220, 180, 255)
ERROR = (255, 120, 110, 255)
WARNING = (255, 200, 90, 255)

_selected = None


def font_file() -> str | None:
    import matplotlib

    path = os.path.join(matplotlib.get_data_path(), "fonts", "ttf", "DejaVuSans.ttf")
    return path if os.path.exists(path) else None


def apply() -> None:
    """Font and global style; call once after the context exists."""
    global _selected
    _selected = None
    path = font_file()
    if path:
        with dpg.font_registry():
            font = dpg.add_font(path, FONT_SIZE)
        dpg.bind_font(font)
    with dpg.theme() as global_theme:
        with dpg.theme_component(dpg.mvAll):
            dpg.add_theme_style(dpg.mvStyleVar_FramePadding, 8, 5)
            dpg.add_theme_style(dpg.mvStyleVar_ItemSpacing, 8, 7)
            dpg.add_theme_style(dpg.mvStyleVar_WindowPadding, 10, 10)
            dpg.add_theme_style(dpg.mvStyleVar_FrameRounding, 3)
            dpg.add_theme_style(dpg.mvStyleVar_GrabMinSize, 14)
            dpg.add_theme_style(dpg.mvStyleVar_ScrollbarSize, 16)
            dpg.add_theme_color(dpg.mvThemeCol_Text, TEXT)
        with dpg.theme_component(dpg.mvAll):
            dpg.add_theme_style(dpg.mvPlotStyleVar_PlotPadding, PLOT_PADDING, PLOT_PADDING,
                                category=dpg.mvThemeCat_Plots)
            # a margin around a fitted image, so its corners and edges can be grabbed
            dpg.add_theme_style(dpg.mvPlotStyleVar_FitPadding, 0.03, 0.03, category=dpg.mvThemeCat_Plots)
    dpg.bind_theme(global_theme)


def selected_button() -> int:
    """The theme of the navigation button of the shown view."""
    global _selected
    if _selected is None or not dpg.does_item_exist(_selected):
        with dpg.theme() as _selected:
            with dpg.theme_component(dpg.mvButton):
                dpg.add_theme_color(dpg.mvThemeCol_Button, (40, 90, 150, 255))
                dpg.add_theme_color(dpg.mvThemeCol_ButtonHovered, (55, 110, 175, 255))
    return _selected


def rgba255(color) -> tuple[int, int, int, int]:
    """A matplotlib RGBA (0..1) as Dear PyGui's 0..255."""
    r, g, b = (int(round(255 * c)) for c in color[:3])
    a = int(round(255 * color[3])) if len(color) > 3 else 255
    return r, g, b, a


def marker_theme(size: float, weight: float, fill, outline) -> tuple[int, int]:
    """A scatter series' look: circles of ``size`` pixels; returns (theme, its size item)."""
    plots = dpg.mvThemeCat_Plots
    with dpg.theme() as marker:
        with dpg.theme_component(dpg.mvScatterSeries):
            dpg.add_theme_style(dpg.mvPlotStyleVar_Marker, dpg.mvPlotMarker_Circle, category=plots)
            size_item = dpg.add_theme_style(dpg.mvPlotStyleVar_MarkerSize, size, category=plots)
            dpg.add_theme_style(dpg.mvPlotStyleVar_MarkerWeight, weight, category=plots)
            dpg.add_theme_color(dpg.mvPlotCol_MarkerFill, fill, category=plots)
            dpg.add_theme_color(dpg.mvPlotCol_MarkerOutline, outline, category=plots)
    return marker, size_item
