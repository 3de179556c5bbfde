"""Refine: correct machine labels (machinelabels-iter<N>.h5) into human labels, then merge
(DeepLabCut step K).

Label's drawing and keys (:class:`PointsView`) on a
:class:`~posering.gui.state.refining.RefineSession`: a likelihood slider splits machine points
into filled disks (kept) and open circles (left out unless moved or placed); saving is explicit.
"""

from __future__ import annotations

import dearpygui.dearpygui as dpg

from posering import storage
from posering.gui import theme
from posering.gui.state.keymap import REFINE_KEYS, REFINE_MOUSE
from posering.gui.state.refining import RefineSession, refinable_folders
from posering.gui.views._points import PANEL_WIDTH, PointsView


class RefineView(PointsView):
    title = "Refine"
    order = 40
    keys = REFINE_KEYS
    mouse = REFINE_MOUSE
    tag = "refine"
    session_class = RefineSession
    no_folders = ("No labeled-data folder has machine labels: run extract_outlier_frames first "
                  "(machinelabels-iter<N>.h5).")

    def build_source(self) -> None:
        t = self.tag
        dpg.add_text("Folder with machine labels", color=theme.ACCENT)
        dpg.add_combo([], tag=f"{t}.folder", width=-1, callback=lambda s, a: self.open_folder(a))
        dpg.add_text("", tag=f"{t}.machine", wrap=PANEL_WIDTH - 20, color=theme.DIM)

    def build_extra(self) -> None:
        t = self.tag
        dpg.add_slider_float(label="likelihood", tag=f"{t}.threshold", min_value=0.0, max_value=1.0,
                             default_value=0.6, width=180, format="%.2f",
                             callback=lambda s, a: self.set_threshold(a))
        dpg.add_text("Filled: saved as labels. Open circles: machine points below the slider, left "
                     "out unless you move or place them.", wrap=PANEL_WIDTH - 20, color=theme.DIM)
        dpg.add_text("", tag=f"{t}.counts", wrap=PANEL_WIDTH - 20)

    def build_buttons(self) -> None:
        dpg.add_button(label="Merge datasets (next iteration)", tag=f"{self.tag}.merge", width=-1,
                       callback=lambda: self.merge())

    # -- opening ----------------------------------------------------------------------------------------------
    def folders(self, config) -> list[str]:
        return refinable_folders(config)

    def after_open(self) -> None:
        s = self.session
        dpg.set_value(f"{self.tag}.threshold", s.threshold)
        dpg.set_value(f"{self.tag}.machine", f"machine labels: {storage.name(s.machine_file or 'none')}")

    def set_threshold(self, value: float) -> None:
        if self.session is not None:
            self.session.set_threshold(value)
            self.refresh()

    def filled(self):
        return self.session.kept()

    def describe(self, k: int) -> str:
        s = self.session
        if s.point(k) is None:
            return "-"
        if s.source[s.frame, k] == "machine" and s.point(k) == tuple(s.baseline[s.frame, k]):
            kept = "kept" if s.kept()[k] else "left out"
            return f"machine {s.likelihood[s.frame, k]:.2f} ({kept})"
        return "human"

    def refresh(self, frame_changed: bool = False, autosave: bool = True) -> None:
        super().refresh(frame_changed, autosave)
        if self.session is not None:
            counts = self.session.counts()
            dpg.set_value(f"{self.tag}.counts", ", ".join(f"{n} {what}" for what, n in counts.items()))

    # -- saving and merging --------------------------------------------------------------------------------
    def do_save(self) -> None:
        location = self.session.save()
        self._shown_frame = None
        self.app.status(f"saved {storage.name(location)}: machine points kept as labels, human labels kept")

    def flush(self) -> bool:
        s = self.session
        if s is None or not s.dirty:
            return True
        try:
            self.do_save()
        except Exception as exc:  # shown, and the window stays open
            self.app.status(f"not saved: {exc}", error=True)
            return False
        return True

    def unsaved(self) -> str | None:
        s = self.session
        return f"{s.unsaved_count()} unsaved corrections in labeled-data/{s.stem}" if s and s.dirty else None

    def merge(self) -> None:
        """merge_datasets on a worker thread (after saving what is open)."""
        if self.app.config is None or not self.flush():
            return
        import posering as pr

        self.app.status("merging datasets...")
        self.app.tasks.submit(pr.merge_datasets, self.app.config.location, name="merge",
                              on_done=self.merged, on_error=lambda message: self.app.status(message, error=True))

    def merged(self, iteration: int) -> None:
        from posering.project import load_config

        self.app.config = load_config(self.app.config.location)
        self.app.status(f"merged: the project is now at iteration {iteration}; create a training dataset next")


VIEW = RefineView
