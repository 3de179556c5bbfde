"""Label: place keypoints on the images of a labeled-data folder (DeepLabCut step D).

Events become calls on a :class:`~posering.gui.state.labeling.LabelingSession`. Saves run on a
worker thread and come back through the app's queue: after every image change with unsaved
changes, every 30 s, and on Ctrl+S; a point changed in another window too is a question to the
user (keep mine or take theirs), never a silent overwrite.
"""

from __future__ import annotations

import dearpygui.dearpygui as dpg

from posering import storage
from posering.gui import theme
from posering.gui.state.keymap import LABEL_KEYS, LABEL_MOUSE
from posering.gui.state.labeling import MINE, THEIRS, LabelingSession, SaveJob, SaveResult, last_labeled_folder
from posering.gui.views._points import PANEL_WIDTH, PointsView

__all__ = ["LabelView", "PANEL_WIDTH"]


class LabelView(PointsView):
    title = "Label"
    order = 10
    keys = LABEL_KEYS
    mouse = LABEL_MOUSE
    tag = "label"
    session_class = LabelingSession

    def build_extra(self) -> None:
        t = self.tag
        dpg.add_checkbox(label="only new bodyparts", tag=f"{t}.only_new", show=False,
                         callback=lambda s, a: self.only_new(a))
        dpg.add_text("", tag=f"{t}.kept", wrap=PANEL_WIDTH - 20, color=theme.DIM, show=False)

    def build_buttons(self) -> None:
        dpg.add_button(label="Copy previous image's points (Ctrl+C)", width=-1,
                       callback=lambda: self.act("copy_previous"))

    def first_folder(self, config, folders: list[str]) -> str:
        return last_labeled_folder(config, folders)

    def after_open(self) -> None:
        s, t = self.session, self.tag
        new = bool(s.new_bodyparts)
        dpg.configure_item(f"{t}.only_new", show=new, label=f"only new bodyparts ({', '.join(s.new_bodyparts)})")
        dpg.set_value(f"{t}.only_new", False)
        dpg.configure_item(f"{t}.kept", show=bool(s.kept_bodyparts))
        dpg.set_value(f"{t}.kept", "In the file but not in config.yaml (kept, not shown): "
                      + ", ".join(s.kept_bodyparts))

    def do_copy_previous(self) -> None:
        if self.session.copy_previous() == 0:
            self.app.status("nothing to copy: the previous image has no points for the unplaced bodyparts")

    def do_save(self) -> None:
        self.run_save(self.session.start_save())

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

    def close_session(self) -> None:
        s = self.session
        if s is not None:
            try:
                self.app.tasks.wait(timeout=30)
                s.remember_position()
            except Exception:  # the position is a convenience; never block closing on it
                pass

    def on_tick(self, now: float) -> None:
        self.run_save(self.session.autosave_job(now=now))

    def after_frame_change(self) -> None:
        self.run_save(self.session.autosave_job(frame_changed=True))


VIEW = LabelView
