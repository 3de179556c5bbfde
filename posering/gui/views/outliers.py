"""Outliers: frames where the network looks wrong, extracted with its predictions for refinement
(DeepLabCut step K's first half), then on to the labeling client's Refine view.

One ``extract_outlier_frames`` call per chosen video (each with its bar); how many frames and
from which part of the videos are config.yaml's numframes2pick, start and stop, as in Extract.
"""

from __future__ import annotations

import dearpygui.dearpygui as dpg

from posering import storage
from posering.errors import PoseringError
from posering.gui import theme
from posering.gui.config_fields import ConfigFields
from posering.gui.run_panel import RunPanel, files_changed
from posering.gui.state.project import video_rows
from posering.gui.state.runs import Call
from posering.gui.state.training import shuffles
from posering.gui.views import View

ALGORITHMS = {
    "jump": "a bodypart moved more than epsilon pixels since the previous frame",
    "uncertain": "a likelihood below p_bound",
    "fitting": "more than epsilon pixels off a SARIMAX fit of the trajectory",
}
REFINE_VIEW = "Refine"


class OutliersView(View):
    title = "Outliers"
    order = 70

    def __init__(self, app):
        super().__init__(app)
        self.fields = ConfigFields(app, "outliers.config", ["numframes2pick", "start", "stop"], field_width=120,
                                   help_wrap=520)
        self.panel = RunPanel(app, "outliers.run")
        self.rows = []
        self.shuffles = []
        self.folders: list[str] = []

    def build(self, parent) -> None:
        with dpg.group(parent=parent):
            dpg.add_text("Find frames of analysed videos where the predictions look wrong and extract them "
                         "with the predictions (machinelabels), to correct them in Refine.", wrap=1100,
                         color=theme.DIM)
            with dpg.group(horizontal=True):
                dpg.add_text("Shuffle (the model that analysed the videos)")
                dpg.add_combo([], tag="outliers.shuffle", width=380)
            dpg.add_radio_button(list(ALGORITHMS), tag="outliers.algorithm", default_value="jump", horizontal=True)
            dpg.add_text(ALGORITHMS["jump"], tag="outliers.algorithm_help", color=theme.DIM)
            with dpg.group(horizontal=True):
                dpg.add_text("epsilon (px)")
                dpg.add_input_float(tag="outliers.epsilon", default_value=20, width=90, step=0, format="%.1f")
                dpg.add_text("p_bound")
                dpg.add_input_float(tag="outliers.p_bound", default_value=0.01, width=90, step=0, format="%.3f")
            with dpg.collapsing_header(label="fitting options (ARIMA)"):
                with dpg.group(horizontal=True):
                    dpg.add_text("ARdegree")
                    dpg.add_input_int(tag="outliers.ARdegree", default_value=3, width=80, step=0)
                    dpg.add_text("MAdegree")
                    dpg.add_input_int(tag="outliers.MAdegree", default_value=1, width=80, step=0)
                    dpg.add_text("alpha")
                    dpg.add_input_float(tag="outliers.alpha", default_value=0.01, width=90, step=0, format="%.3f")
            with dpg.group(horizontal=True):
                dpg.add_text("choose among candidates by")
                dpg.add_radio_button(["kmeans", "uniform"], tag="outliers.extraction", default_value="kmeans",
                                     horizontal=True)
                dpg.add_checkbox(label="also draw them with their predictions", tag="outliers.savelabeled")
            self.fields.build(label_width=150)
            dpg.add_text("Videos", color=theme.ACCENT)
            dpg.add_group(tag="outliers.videos")
            with dpg.group(horizontal=True):
                dpg.add_button(label="Extract outlier frames", tag="outliers.start", width=240, height=34,
                               callback=lambda: self.start())
                dpg.add_button(label="Refine them", tag="outliers.refine", show=False, callback=lambda: self.refine())
            self.panel.build()
            dpg.add_text("", tag="outliers.result", wrap=1100)

    def on_project(self, config) -> None:
        self.fields.load(config)
        self.rows = video_rows(config) if config is not None else []
        dpg.delete_item("outliers.videos", children_only=True)
        if config is None:
            self.shuffles = []
            dpg.configure_item("outliers.shuffle", items=[])
            return
        for i, row in enumerate(self.rows):
            dpg.add_checkbox(label=row.name if row.location else f"{row.name} (missing)", tag=f"outliers.use.{i}",
                             parent="outliers.videos", enabled=row.location is not None,
                             default_value=row.location is not None)
        self.on_show()

    def on_show(self) -> None:
        if self.app.config is None:
            return
        self.shuffles = [s for s in shuffles(self.app.config) if s.trained]
        labels = [s.label for s in self.shuffles]
        dpg.configure_item("outliers.shuffle", items=labels)
        if labels and dpg.get_value("outliers.shuffle") not in labels:
            dpg.set_value("outliers.shuffle", labels[0])

    def start(self) -> None:
        config = self.app.config
        if config is None:
            self.app.status("open a project first (Project view)", error=True)
            return
        shuffle = next((s for s in self.shuffles if s.label == dpg.get_value("outliers.shuffle")), None)
        if shuffle is None:
            raise PoseringError("no trained shuffle: train one, and analyze the videos, first")
        chosen = [row for i, row in enumerate(self.rows) if row.location and dpg.get_value(f"outliers.use.{i}")]
        if not chosen:
            raise PoseringError("tick at least one analysed video")
        if self.fields.changed:
            saved = self.fields.save()
            if saved is None:
                return
            self.app.open_project(saved.location)
        options = {"config": config.location, "shuffle": shuffle.number, "trainingsetindex": shuffle.trainingsetindex,
                   "outlieralgorithm": dpg.get_value("outliers.algorithm"),
                   "epsilon": float(dpg.get_value("outliers.epsilon")),
                   "p_bound": float(dpg.get_value("outliers.p_bound")),
                   "ARdegree": int(dpg.get_value("outliers.ARdegree")),
                   "MAdegree": int(dpg.get_value("outliers.MAdegree")), "alpha": float(dpg.get_value("outliers.alpha")),
                   "extractionalgorithm": dpg.get_value("outliers.extraction"), "automatic": True,
                   "savelabeled": bool(dpg.get_value("outliers.savelabeled"))}
        calls = [Call(row.name, "extract_outlier_frames", {**options, "videos": [row.location]}) for row in chosen]
        dpg.configure_item("outliers.refine", show=False)
        dpg.set_value("outliers.result", "")
        self.panel.start("extract outlier frames", calls, on_done=self.done)

    def done(self, run) -> None:
        lines, self.folders = [], []
        for result in run.results:
            for video, entry in (result or {}).items():
                if not isinstance(entry, dict):
                    continue
                lines.append(f"{storage.name(video)}: {entry.get('candidates', 0)} candidate frames, "
                             f"{entry.get('added', 0)} extracted into {entry.get('folder', '')}")
                if entry.get("added"):
                    self.folders.append(storage.name(str(entry.get("folder", ""))))
        dpg.set_value("outliers.result", "\n".join(lines))
        has_refine = any(view.title == REFINE_VIEW for view in self.app.views)
        dpg.configure_item("outliers.refine", show=bool(self.folders) and has_refine)
        files_changed(self.app, self)  # Refine lists the folders with machine labels

    def refine(self) -> None:
        """On to the labeling client's Refine view, on the first folder that got frames."""
        view = self.app.view(REFINE_VIEW)
        self.app.show(REFINE_VIEW)
        opener = getattr(view, "open_folder", None)
        if self.folders and opener is not None:
            self.app.guard(opener, self.folders[0])

    def tick(self, now: float) -> None:
        self.panel.tick()
        help_text = ALGORITHMS.get(dpg.get_value("outliers.algorithm"), "")
        if dpg.get_value("outliers.algorithm_help") != help_text:
            dpg.set_value("outliers.algorithm_help", help_text)

    def unsaved(self) -> str | None:
        return f"outlier settings: {', '.join(self.fields.changed)}" if self.fields.changed else None

    def save_all(self) -> bool:
        return self.fields.save() is not None if self.fields.changed else True


VIEW = OutliersView
