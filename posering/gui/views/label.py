"""Label: place keypoints on the images of a labeled-data folder (DeepLabCut step D).

Events become calls on a :class:`~posering.gui.state.labeling.LabelingSession`; saves run on a
worker thread and come back through the app's queue. The image is uploaded once per image
change; mouse moves only move the hover label.
"""

from __future__ import annotations

import dearpygui.dearpygui as dpg

from posering import storage
from posering.gui import theme
from posering.gui.frame_plot import FramePlot
from posering.gui.state.images import ImageCache
from posering.gui.state.keymap import LABEL_KEYS, LABEL_MOUSE, action_for
from posering.gui.state.labeling import MINE, THEIRS, LabelingSession, SaveJob, SaveResult, labeled_folders
from posering.gui.views import View
from posering.viz.trajectories import bodypart_colors

PANEL_WIDTH = 330


class LabelView(View):
    title = "Label"
    order = 10
    keys = LABEL_KEYS
    mouse = LABEL_MOUSE
    tag = "label"
    session_class = LabelingSession

    def __init__(self, app):
        super().__init__(app)
        self.session: LabelingSession | None = None
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
        t = self.tag
        dpg.add_checkbox(label="only new bodyparts", tag=f"{t}.only_new", show=False,
                         callback=lambda s, a: self.only_new(a))
        dpg.add_text("", tag=f"{t}.kept", wrap=PANEL_WIDTH - 20, color=theme.DIM, show=False)

    def build_buttons(self) -> None:
        dpg.add_button(label="Copy previous image's points (Ctrl+C)", width=-1,
                       callback=lambda: self.act("copy_previous"))

    # -- opening ----------------------------------------------------------------------------------------------
    def on_project(self, config) -> None:
        self.close()
        self.session = None
        self._shown_frame = None
        folders = self.folders(config) if config is not None else []
        dpg.configure_item(f"{self.tag}.folder", items=folders)
        dpg.set_value(f"{self.tag}.folder", "")
        if folders:
            self.open_folder(self.last_folder(config, folders))
        elif config is None:
            self.plot.clear()
            self.hint("Open a project, then a folder.")
        else:
            self.plot.clear()
            self.hint("No labeled-data folder has images yet: grab frames in Extract by hand.")

    @staticmethod
    def last_folder(config, folders: list[str]) -> str:
        """The folder labeled most recently (by its resume file), else the first."""
        from posering.project import ProjectPaths

        paths, newest = ProjectPaths(config), (0.0, folders[0])
        for folder in folders:
            state = paths.labeling_state(folder)
            try:
                import yaml

                saved = yaml.safe_load(storage.read_text(state)) if storage.exists(state) else None
                stamp = float(saved.get("at", 0)) if isinstance(saved, dict) else 0.0
            except Exception:
                stamp = 0.0
            newest = max(newest, (stamp, folder))
        return newest[1]

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

    def open_folder(self, folder: str) -> None:
        if self.session is not None and self.session.stem == folder:
            return
        if self.session is not None and (self.session.dirty or self.session.saving):
            self.flush()
        self.close()
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
        s, t = self.session, self.tag
        new = bool(s.new_bodyparts)
        dpg.configure_item(f"{t}.only_new", show=new, label=f"only new bodyparts ({', '.join(s.new_bodyparts)})")
        dpg.set_value(f"{t}.only_new", False)
        dpg.configure_item(f"{t}.kept", show=bool(s.kept_bodyparts))
        dpg.set_value(f"{t}.kept", "In the file but not in config.yaml (kept, not shown): "
                      + ", ".join(s.kept_bodyparts))

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

    def do_copy_previous(self) -> None:
        if self.session.copy_previous() == 0:
            self.app.status("nothing to copy: the previous image has no points for the unplaced bodyparts")

    def do_save(self) -> None:
        self.run_save(self.session.start_save())

    def remove_near(self, x: float, y: float, within: float) -> None:
        s = self.session
        if s is None:
            return
        k = s.nearest(x, y, within)
        if k is not None:
            self.act("remove", k)

    def only_new(self, on: bool) -> None:
        self.session.only_new_bodyparts(on)
        if on:
            self.session.select_first_unplaced()
        self.refresh()

    # -- saving -------------------------------------------------------------------------------------------------
    def run_save(self, job: SaveJob | None) -> None:
        if job is None:
            return
        self.app.tasks.submit(job.run, on_done=lambda result: self.saved(job, result), name="save")
        self.show_state()

    def saved(self, job: SaveJob, result: SaveResult) -> None:
        s = self.session
        if s is None or job.location != s.location:
            return
        following = s.finish_save(job, result)
        if result.error:
            self.app.status(f"not saved: {result.error}", error=True)
        elif result.conflicts:
            self.ask_conflicts(result)
        elif result.written:
            self.app.status(f"saved {storage.name(s.location)}")
        self.run_save(following)
        self.refresh()

    def ask_conflicts(self, result: SaveResult) -> None:
        s = self.session
        cells = result.conflicts
        shown = ", ".join(f"{s.bodyparts[k]} on {s.names[f]}" for f, k in cells[:4])
        more = f" and {len(cells) - 4} more" if len(cells) > 4 else ""
        self.app.ask(f"{storage.name(s.location)} was saved by someone else (another window?) since you "
                     f"opened it, and {len(cells)} points were changed there too: {shown}{more}.\n"
                     "Their other changes are taken in either way. Whose version of these points to keep?",
                     [("Keep mine", lambda: self.run_save(s.start_save(MINE))),
                      ("Take theirs", lambda: self.run_save(s.start_save(THEIRS))),
                      ("Decide later", None)])

    def flush(self) -> bool:
        """Finish running saves and save what is left, here and now."""
        self.app.tasks.wait(timeout=60)
        s = self.session
        if s is None:
            return True
        if s.dirty and not s.conflicts:
            job = s.start_save()
            if job is not None:
                s.finish_save(job, job.run())
        return not s.dirty and not s.error

    def unsaved(self) -> str | None:
        s = self.session
        if s is None or not (s.dirty or s.saving):
            return None
        return f"{s.unsaved_count()} unsaved changes in labeled-data/{s.stem}"

    def save_all(self) -> bool:
        ok = self.flush()
        if not ok and self.session is not None:
            self.app.status(self.session.status(), error=True)
        return ok

    def close(self) -> None:
        s = self.session
        if s is not None:
            try:
                self.app.tasks.wait(timeout=30)
                s.remember_position()
            except Exception:  # the position is a convenience; never block closing on it
                pass

    # -- drawing ------------------------------------------------------------------------------------------------
    def tick(self, now: float) -> None:
        s = self.session
        if s is None:
            return
        size = self.plot.view_size()
        if self.cache.max_size != size:
            self.cache.set_max_size(size)
            self._shown_frame = None
            self.show_image()
        self.run_save(s.autosave_job(now=now))

    def refresh(self, frame_changed: bool = False, autosave: bool = True) -> None:
        """State -> widgets. The image is uploaded only when the image changed."""
        s = self.session
        if s is None:
            return
        if frame_changed:
            self.show_image()
            if autosave:
                self.run_save(s.autosave_job(frame_changed=True))
        self.plot.set_points(s.points[s.frame], self.filled(), s.bodypart)
        placed = s.placed()
        for k, name in enumerate(s.bodyparts):
            mark = "placed" if placed[k] else "-"
            active = "" if k in s.active else "  (not in navigation)"
            dpg.configure_item(f"{self.tag}.bp.{k}", label=f"{name}   {mark}{active}")
            dpg.set_value(f"{self.tag}.bp.{k}", k == s.bodypart)
        self.show_state()

    def filled(self):
        return None

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


VIEW = LabelView
