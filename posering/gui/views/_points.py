"""What Label and Refine share: a folder's images with draggable points, a bodypart list, keys.

A :class:`PointsView` draws a session (a :class:`~posering.gui.state.editing.PointEditor` with
images, ``paths`` and ``status()``) and turns events into its actions; the subclasses add how
the session is opened and saved. The image is uploaded once per image change; mouse moves only
move the hover label. (A module starting with ``_`` is not a view of its own.)
"""

from __future__ import annotations

import dearpygui.dearpygui as dpg

from posering import storage
from posering.gui import theme
from posering.gui.frame_plot import FramePlot
from posering.gui.state.images import ImageCache
from posering.gui.state.keymap import action_for
from posering.gui.state.labeling import labeled_folders
from posering.gui.views import View
from posering.viz.trajectories import bodypart_colors

PANEL_WIDTH = 330


class PointsView(View):
    tag = "points"
    session_class = None  # PointEditor subclass opened with (config, folder)
    no_folders = "No labeled-data folder has images yet: grab frames in Extract by hand."

    def __init__(self, app):
        super().__init__(app)
        self.session = None
        self.plot = FramePlot(app, self.tag)
        self.cache = ImageCache()
        self._shown_frame: int | None = None

    # -- widgets -------------------------------------------------------------------------------------------
    def build(self, parent) -> None:
        t = self.tag
        with dpg.group(horizontal=True, parent=parent):
            with dpg.child_window(width=PANEL_WIDTH, tag=f"{t}.panel"):
                self.build_source()
                dpg.add_text("", tag=f"{t}.imagename")
                dpg.add_slider_int(tag=f"{t}.slider", width=-1, min_value=1, max_value=1, default_value=1,
                                   callback=lambda s, a: self.goto(a - 1))
                dpg.add_separator()
                dpg.add_text("Bodyparts", color=theme.ACCENT)
                dpg.add_group(tag=f"{t}.bodyparts")
                self.build_extra()
                dpg.add_separator()
                dpg.add_slider_float(label="marker", tag=f"{t}.marker", min_value=3, max_value=30,
                                     default_value=self.plot.marker_size, width=180, format="%.0f px",
                                     callback=lambda s, a: self.plot.set_marker_size(a))
                with dpg.group(horizontal=True):
                    dpg.add_button(label="Save", callback=lambda: self.act("save"), width=70)
                    dpg.add_button(label="Undo", callback=lambda: self.act("undo"), width=70)
                    dpg.add_button(label="Redo", callback=lambda: self.act("redo"), width=70)
                self.build_buttons()
                dpg.add_text("", tag=f"{t}.state", wrap=PANEL_WIDTH - 20)
                dpg.add_text("Open a project, then a folder.", tag=f"{t}.hint", wrap=PANEL_WIDTH - 20,
                             color=theme.DIM)
            with dpg.child_window(tag=f"{t}.canvas", border=False, no_scrollbar=True):
                self.plot.build(f"{t}.canvas")
        self.plot.on_place = lambda x, y: self.act("place", x, y)
        self.plot.on_move = lambda k, x, y: self.act("move", k, x, y)
        self.plot.on_remove_near = self.remove_near

    def build_source(self) -> None:
        t = self.tag
        dpg.add_text("Folder (labeled-data/...)", color=theme.ACCENT)
        dpg.add_combo([], tag=f"{t}.folder", width=-1, callback=lambda s, a: self.open_folder(a))

    def build_extra(self) -> None:
        """Widgets under the bodypart list."""

    def build_buttons(self) -> None:
        """Buttons under Save, Undo and Redo."""

    # -- opening ----------------------------------------------------------------------------------------------
    def on_project(self, config) -> None:
        self.close_session()
        self.session = None
        self._shown_frame = None
        folders = self.folders(config) if config is not None else []
        dpg.configure_item(f"{self.tag}.folder", items=folders)
        dpg.set_value(f"{self.tag}.folder", "")
        if folders:
            self.open_folder(self.first_folder(config, folders))
        elif config is None:
            self.plot.clear()
            self.hint("Open a project, then a folder.")
        else:
            self.plot.clear()
            self.hint(self.no_folders)

    def on_files_changed(self) -> None:
        """New images (e.g. grabbed in Extract by hand): list them, and show them if open."""
        config = self.app.config
        if config is None:
            return
        folders = self.folders(config)
        dpg.configure_item(f"{self.tag}.folder", items=folders)
        s = self.session
        if s is None:
            if folders:
                self.open_folder(folders[0])
            return
        if set(self.session_class.image_names(config, s.stem)) != set(s.names):
            self.flush()
            stem, image = s.stem, s.names[s.frame]
            self.session = None
            self.open_folder(stem)
            if image in self.session.names:
                self.goto(self.session.names.index(image))

    def folders(self, config) -> list[str]:
        return labeled_folders(config)

    def first_folder(self, config, folders: list[str]) -> str:
        return folders[0]

    def open_folder(self, folder: str) -> None:
        if self.session is not None and self.session.stem == folder:
            return
        if self.session is not None and (self.session.dirty or self.session.saving):
            self.flush()
        self.close_session()
        self.session = self.session_class(self.app.config, folder)
        dpg.set_value(f"{self.tag}.folder", folder)
        s = self.session
        colors = bodypart_colors(len(s.bodyparts), str(self.app.config.get("colormap", "rainbow")))
        self.plot.set_bodyparts(s.bodyparts, colors)
        self._build_bodyparts(colors)
        size = float(self.app.config.get("dotsize", 9) or 9)
        dpg.set_value(f"{self.tag}.marker", size)
        self.plot.set_marker_size(size)
        dpg.configure_item(f"{self.tag}.slider", max_value=s.nframes)
        self.after_open()
        self._shown_frame = None
        self.refresh(frame_changed=True, autosave=False)
        self.hint("")

    def after_open(self) -> None:
        """A folder was opened: the subclass's own widgets."""

    def _build_bodyparts(self, colors) -> None:
        group = f"{self.tag}.bodyparts"
        dpg.delete_item(group, children_only=True)
        for k, (name, color) in enumerate(zip(self.session.bodyparts, colors)):
            with dpg.group(horizontal=True, parent=group):
                dpg.add_color_button(theme.rgba255(color), width=16, height=16, no_tooltip=True,
                                     no_drag_drop=True)
                dpg.add_selectable(label=name, tag=f"{self.tag}.bp.{k}", width=PANEL_WIDTH - 60,
                                   callback=lambda s, a, u: self.act("select", u), user_data=k)

    # -- actions ------------------------------------------------------------------------------------------------
    def on_key(self, key: str, ctrl: bool, shift: bool) -> bool:
        action = action_for(self.keys, key, ctrl, shift)
        if action is None or self.session is None:
            return False
        self.act(action)
        return True

    def act(self, action: str, *args) -> None:
        """Run an action on the session (or this view), then show what changed."""
        s = self.session
        if s is None:
            return
        before = s.frame
        handler = getattr(self, f"do_{action}", None)
        if handler is not None:
            handler(*args)
        else:
            getattr(s, action)(*args)
        self.refresh(frame_changed=s.frame != before)

    def goto(self, frame: int) -> None:
        self.act("goto", frame)

    def do_remove_selected(self) -> None:
        self.session.remove()

    def remove_near(self, x: float, y: float, within: float) -> None:
        s = self.session
        if s is None:
            return
        k = s.nearest(x, y, within)
        if k is not None:
            self.act("remove", k)

    # -- saving (the subclasses') -----------------------------------------------------------------------------
    def flush(self) -> bool:
        """Save what is unsaved, here and now; False if that failed."""
        return True

    def save_all(self) -> bool:
        ok = self.flush()
        if not ok and self.session is not None:
            self.app.status(self.session.status(), error=True)
        return ok

    def close_session(self) -> None:
        """The open folder is put away (another folder or project is opened)."""

    def close(self) -> None:
        self.close_session()
        self.cache.close()

    def on_tick(self, now: float) -> None:
        """Per frame, with a session open (timers)."""

    def after_frame_change(self) -> None:
        """The user moved to another image."""

    # -- drawing ------------------------------------------------------------------------------------------------
    def tick(self, now: float) -> None:
        self.plot.tick()
        s = self.session
        if s is None:
            return
        size = self.plot.view_size()
        if self.cache.max_size != size:
            self.cache.set_max_size(size)
            self._shown_frame = None
            self.show_image()
        self.on_tick(now)

    def refresh(self, frame_changed: bool = False, autosave: bool = True) -> None:
        """State -> widgets. The image is uploaded only when the image changed."""
        s = self.session
        if s is None:
            return
        if frame_changed:
            self.show_image()
            if autosave:
                self.after_frame_change()
        self.plot.set_points(s.points[s.frame], self.filled(), s.bodypart)
        for k, name in enumerate(s.bodyparts):
            active = "" if k in s.active else "  (not in navigation)"
            dpg.configure_item(f"{self.tag}.bp.{k}", label=f"{name}   {self.describe(k)}{active}")
            dpg.set_value(f"{self.tag}.bp.{k}", k == s.bodypart)
        self.show_state()

    def filled(self):
        return None

    def describe(self, k: int) -> str:
        """What the bodypart list says about a bodypart on this image."""
        return "placed" if self.session.point(k) is not None else "-"

    def show_image(self) -> None:
        s = self.session
        if self._shown_frame == s.frame:
            return
        location = storage.join(s.paths.root, s.images[s.frame])
        self.plot.show(self.cache.get(location))
        self._shown_frame = s.frame
        neighbours = [i for i in (s.frame + 1, s.frame - 1, s.frame + 2) if 0 <= i < s.nframes]
        self.cache.prefetch([storage.join(s.paths.root, s.images[i]) for i in neighbours])
        dpg.set_value(f"{self.tag}.imagename", f"{s.names[s.frame]}   ({s.frame + 1} / {s.nframes})")
        dpg.set_value(f"{self.tag}.slider", s.frame + 1)

    def show_state(self) -> None:
        s = self.session
        if s is None:
            return
        error = bool(s.error or s.conflicts)
        dpg.set_value(f"{self.tag}.state", s.status())
        dpg.configure_item(f"{self.tag}.state", color=theme.ERROR if error else
                           (theme.WARNING if s.dirty else theme.STATUS))

    def hint(self, text: str) -> None:
        dpg.set_value(f"{self.tag}.hint", text)
