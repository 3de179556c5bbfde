"""The Project view's Skeleton tab: bones made by right-clicking two bodyparts on a labeled frame.

The frame is the labeled image with the most bodyparts placed
(:func:`~posering.gui.state.project.labeled_example`); what a pick does is
:class:`~posering.gui.state.config_form.SkeletonBuilder`'s; saving writes config.yaml's
``skeleton`` through :class:`~posering.gui.state.config_form.ConfigForm` (the config model's checks).
"""

from __future__ import annotations

import dearpygui.dearpygui as dpg

from posering import storage
from posering.errors import ConfigError, PoseringError
from posering.gui import theme
from posering.gui.frame_plot import FramePlot
from posering.gui.state.config_form import ConfigForm, SkeletonBuilder
from posering.gui.state.images import prepare
from posering.gui.state.project import labeled_example, nearest_bodypart
from posering.viz.trajectories import bodypart_colors

PICK_PX = 30  # how close (screen pixels) a right-click must be to a bodypart to pick it


class SkeletonEditor:
    def __init__(self, app):
        self.app = app
        self.builder: SkeletonBuilder | None = None
        self.example = None
        self.plot = FramePlot(app, "project.skeleton")
        self._bone_lines: list = []

    @property
    def unsaved(self) -> bool:
        return self.builder is not None and self.app.config is not None and \
            self.builder.bones != self.app.config.skeleton

    def build(self) -> None:
        with dpg.group(horizontal=True):
            with dpg.child_window(width=330, tag="project.skeleton_panel"):
                dpg.add_text("Right-click a bodypart on the frame, then the one to connect it to. "
                             "Connecting two already connected bodyparts removes the bone.", wrap=300)
                dpg.add_text("", tag="project.skeleton_state", color=theme.WARNING, wrap=300)
                dpg.add_text("Bodyparts (click works too)", color=theme.ACCENT)
                dpg.add_group(tag="project.skeleton_parts")
                dpg.add_text("Bones", color=theme.ACCENT)
                dpg.add_group(tag="project.bones")
                with dpg.group(horizontal=True):
                    dpg.add_button(label="Save skeleton", tag="project.skeleton_save", callback=lambda: self.save_skeleton())
                    dpg.add_button(label="Revert", callback=lambda: self.load(self.app.config))
            with dpg.child_window(tag="project.skeleton_canvas", border=False, no_scrollbar=True):
                dpg.add_text("", tag="project.skeleton_hint", color=theme.DIM)
                self.plot.build("project.skeleton_canvas")
        self.plot.on_place = self._clicked

    def load(self, config) -> None:
        """Show ``config``'s skeleton on its best labeled frame (None: empty)."""
        if config is None:
            self.builder, self.example = None, None
            self.plot.clear()
            for item in ("project.skeleton_parts", "project.bones"):
                dpg.delete_item(item, children_only=True)
            return
        self.builder = SkeletonBuilder(config.bodyparts, config.skeleton)
        try:
            self.example = labeled_example(config)
        except PoseringError as exc:
            self.example = None
            self.app.status(str(exc), error=True)
        colors = bodypart_colors(len(config.bodyparts), str(config.get("colormap", "rainbow")))
        self.plot.set_bodyparts(config.bodyparts, colors)
        if self.example is not None:
            from posering.frames.images import decode_image

            self.plot.show(prepare(decode_image(self.example.image), self.plot.view_size()))
            self.plot.set_points(self.example.points, None, None)
            dpg.set_value("project.skeleton_hint", storage.name(storage.parent(self.example.image)) + "/"
                          + storage.name(self.example.image))
        else:
            dpg.set_value("project.skeleton_hint", "No labeled frame yet: label one in the Label view, "
                                                   "or click the bodypart names on the left.")
        dpg.delete_item("project.skeleton_parts", children_only=True)
        for k, (name, color) in enumerate(zip(config.bodyparts, colors)):
            with dpg.group(horizontal=True, parent="project.skeleton_parts"):
                dpg.add_color_button(theme.rgba255(color), width=16, height=16, no_tooltip=True, no_drag_drop=True)
                dpg.add_button(label=name, tag=f"project.part.{k}", user_data=name,
                               callback=lambda s, a, u: self.pick(u))
        self._fill_bones()

    def _clicked(self, x: float, y: float) -> None:
        if self.example is None:
            return
        k = nearest_bodypart(self.example.points, x, y, PICK_PX * self.plot.units_per_pixel())
        if k is None:
            dpg.set_value("project.skeleton_state", "no bodypart there: right-click on a marker")
            return
        self.pick(self.builder.bodyparts[k])

    def pick(self, bodypart: str) -> None:
        if self.builder is None:
            return
        dpg.set_value("project.skeleton_state", self.builder.pick(bodypart))
        self._fill_bones()
        if self.example is not None:
            first = self.builder.first
            self.plot.set_points(self.example.points, None,
                                 self.builder.bodyparts.index(first) if first is not None else None)

    def _fill_bones(self) -> None:
        dpg.delete_item("project.bones", children_only=True)
        for item in getattr(self, "_bone_lines", []):
            if dpg.does_item_exist(item):
                dpg.delete_item(item)
        self._bone_lines = []
        index = {name: k for k, name in enumerate(self.builder.bodyparts)}
        for i, (a, b) in enumerate(self.builder.bones):
            with dpg.group(horizontal=True, parent="project.bones"):
                dpg.add_button(label="x", user_data=i, callback=lambda s, a_, u: self._remove_bone(u))
                dpg.add_text(f"{a} - {b}")
            if self.example is not None and a in index and b in index:
                (x1, y1), (x2, y2) = self.example.points[index[a]], self.example.points[index[b]]
                self._bone_lines.append(dpg.add_line_series([x1, x2], [y1, y2], parent=self.plot.yaxis,
                                                            before=f"{self.plot.name}.selected"))
        changed = self.builder.bones != self.app.config.skeleton
        dpg.configure_item("project.skeleton_save", label="Save skeleton *" if changed else "Save skeleton")

    def _remove_bone(self, index: int) -> None:
        self.builder.remove(index)
        self._fill_bones()

    def save_skeleton(self) -> bool:
        if self.builder is None:
            return True
        form = ConfigForm(self.app.config)
        try:
            config = form.save({"skeleton": self.builder.bones})
        except ConfigError as exc:
            self.app.status(f"skeleton not saved: {exc}", error=True)
            return False
        bones = len(self.builder.bones)
        self.builder = None  # saved: nothing to ask about while the project reopens
        self.app.open_project(config.location)  # every view sees the new skeleton
        self.app.status(f"saved the skeleton ({bones} bones) in {config.location}")
        dpg.set_value("project.tabs", "project.tab.skeleton")
        return True

