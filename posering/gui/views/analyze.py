"""Analyze: run a trained network over videos, then filter, plot and draw (DeepLabCut step I-J).

One run with, per video, ``analyze_videos`` and the chosen ``filterpredictions``,
``plot_trajectories`` and ``create_labeled_video`` calls (:mod:`posering.gui.state.analysis`), so
each video has its own progress bar. The results are opened in the window: the trajectory plots
as images, the labeled video played or browsed frame by frame.
"""

from __future__ import annotations

import dearpygui.dearpygui as dpg

from posering import storage
from posering.errors import PoseringError
from posering.gui import theme
from posering.gui.image_browser import ImageBrowser
from posering.gui.run_panel import RunPanel
from posering.gui.state.analysis import FILTERS, AnalysisOptions, analysis_calls, collect_results, expand
from posering.gui.state.project import is_video, split_lines, video_rows
from posering.gui.state.training import shuffles
from posering.gui.views import View

LEFT = 470


class AnalyzeView(View):
    title = "Analyze"
    order = 60

    def __init__(self, app):
        super().__init__(app)
        self.panel = RunPanel(app, "analyze.run")
        self.browser = ImageBrowser(app, "analyze.browser")
        self.rows = []
        self.shuffles = []
        self.results = []

    # -- widgets ---------------------------------------------------------------------------------------
    def build(self, parent) -> None:
        with dpg.group(horizontal=True, parent=parent):
            with dpg.child_window(width=LEFT, tag="analyze.left"):
                self._build_settings()
            with dpg.child_window(tag="analyze.right", border=False):
                with dpg.group(horizontal=True):
                    dpg.add_text("Results", color=theme.ACCENT)
                    dpg.add_combo([], tag="analyze.result_video", width=-1, callback=lambda: self.show_result())
                dpg.add_radio_button(["trajectory plots", "labeled video"], tag="analyze.result_kind",
                                     default_value="trajectory plots", horizontal=True,
                                     callback=lambda: self.show_result())
                self.browser.build(height=-1)
        with dpg.file_dialog(tag="analyze.dialog", show=False, width=820, height=520, modal=True, file_count=100,
                             callback=lambda s, a: self._picked(a)):
            dpg.add_file_extension("Videos{.mp4,.avi,.mov,.mkv,.mpg,.mpeg,.wmv,.m4v,.h264}",
                                   color=(120, 220, 120, 255))
            dpg.add_file_extension(".*")
        dpg.add_file_dialog(tag="analyze.folder_dialog", show=False, width=820, height=520, modal=True,
                            directory_selector=True, callback=lambda s, a: self._picked(a))

    def _build_settings(self) -> None:
        dpg.add_text("Videos of the project", color=theme.ACCENT)
        dpg.add_group(tag="analyze.videos")
        dpg.add_text("Other videos, or folders of videos (one per line)", color=theme.DIM)
        self.app.text_inputs.append(dpg.add_input_text(tag="analyze.more", multiline=True, width=-1, height=60))
        with dpg.group(horizontal=True):
            dpg.add_button(label="Add videos...", callback=lambda: dpg.show_item("analyze.dialog"))
            dpg.add_button(label="Add a folder...", callback=lambda: dpg.show_item("analyze.folder_dialog"))
        with dpg.group(horizontal=True):
            dpg.add_text("Shuffle")
            dpg.add_combo([], tag="analyze.shuffle", width=-1)
        dpg.add_separator()
        dpg.add_checkbox(label="dynamic cropping (follow the animal)", tag="analyze.dynamic")
        with dpg.group(horizontal=True, indent=28):
            dpg.add_text("threshold")
            dpg.add_input_float(tag="analyze.dynamic_threshold", default_value=0.5, width=70, step=0, format="%.2f")
            dpg.add_text("margin (px)")
            dpg.add_input_int(tag="analyze.dynamic_margin", default_value=10, width=70, step=0)
        with dpg.group(horizontal=True):
            dpg.add_text("Batch size")
            self.app.text_inputs.append(dpg.add_input_text(tag="analyze.batch_size", width=60, hint="config"))
            dpg.add_text("Workers")
            self.app.text_inputs.append(dpg.add_input_text(tag="analyze.workers", width=60, hint="auto"))
            dpg.add_text("Precision")
            dpg.add_combo(["auto", "fp32", "bf16", "fp16", "int8"], tag="analyze.precision", default_value="auto", width=-1)
        dpg.add_checkbox(label="also save as CSV", tag="analyze.csv")
        dpg.add_separator()
        with dpg.group(horizontal=True):
            dpg.add_checkbox(label="filter", tag="analyze.filter")
            dpg.add_combo(list(FILTERS), tag="analyze.filtertype", default_value="median", width=100)
            dpg.add_text("window")
            dpg.add_input_int(tag="analyze.windowlength", default_value=5, width=70, step=0)
        dpg.add_checkbox(label="plot trajectories", tag="analyze.plot", default_value=True)
        with dpg.group(horizontal=True):
            dpg.add_checkbox(label="labeled video", tag="analyze.labeled_video")
            dpg.add_checkbox(label="skeleton", tag="analyze.skeleton")
            dpg.add_text("trail")
            dpg.add_input_int(tag="analyze.trail", default_value=0, width=70, step=0)
        with dpg.group(horizontal=True):
            dpg.add_text("Draw points above likelihood")
            self.app.text_inputs.append(dpg.add_input_text(tag="analyze.pcutoff", width=70, hint="pcutoff"))
        dpg.add_button(label="Analyze", tag="analyze.start", width=180, height=34, callback=lambda: self.start())
        self.panel.build(width=300)

    # -- project ----------------------------------------------------------------------------------------
    def on_project(self, config) -> None:
        self.rows = video_rows(config) if config is not None else []
        dpg.delete_item("analyze.videos", children_only=True)
        if config is None:
            self.shuffles, self.results = [], []
            dpg.configure_item("analyze.shuffle", items=[])
            dpg.configure_item("analyze.result_video", items=[])
            self.browser.set_images([])
            return
        for i, row in enumerate(self.rows):
            dpg.add_checkbox(label=row.name if row.location else f"{row.name} (missing)", tag=f"analyze.use.{i}",
                             parent="analyze.videos", enabled=row.location is not None,
                             default_value=row.location is not None)
        self.refresh_shuffles()

    def on_show(self) -> None:
        if self.app.config is not None:
            self.refresh_shuffles()

    def refresh_shuffles(self) -> None:
        self.shuffles = [s for s in shuffles(self.app.config) if s.trained]
        labels = [s.label for s in self.shuffles]
        dpg.configure_item("analyze.shuffle", items=labels)
        if labels and dpg.get_value("analyze.shuffle") not in labels:
            dpg.set_value("analyze.shuffle", labels[0])

    def _picked(self, selection: dict) -> None:
        picked = list((selection or {}).get("selections", {}).values()) or [selection.get("file_path_name") or ""]
        current = split_lines(dpg.get_value("analyze.more"))
        added = [p for p in picked if p and p not in current and (is_video(p) or storage.isdir(p))]
        dpg.set_value("analyze.more", "\n".join(current + added))

    # -- the run ------------------------------------------------------------------------------------------
    def options(self) -> AnalysisOptions:
        label = dpg.get_value("analyze.shuffle")
        shuffle = next((s for s in self.shuffles if s.label == label), None)
        if shuffle is None:
            raise PoseringError("no trained shuffle: train one in Train / Evaluate first")

        def number(tag: str) -> int | None:
            text = dpg.get_value(tag).strip()
            if text in ("", "auto"):
                return None
            if not text.isdigit():
                raise PoseringError(f"{tag.split('.')[-1].replace('_', ' ')}: {text!r} is not a whole number")
            return int(text)

        def fraction(tag: str) -> float | None:
            text = dpg.get_value(tag).strip()
            try:
                return float(text) if text else None
            except ValueError:
                raise PoseringError(f"likelihood to draw: {text!r} is not a number between 0 and 1") from None

        return AnalysisOptions(
            shuffle=shuffle.number, trainingsetindex=shuffle.trainingsetindex, save_as_csv=dpg.get_value("analyze.csv"),
            dynamic=dpg.get_value("analyze.dynamic"), dynamic_threshold=dpg.get_value("analyze.dynamic_threshold"),
            dynamic_margin=dpg.get_value("analyze.dynamic_margin"), batch_size=number("analyze.batch_size"),
            num_workers=number("analyze.workers"), precision=dpg.get_value("analyze.precision"), filter=dpg.get_value("analyze.filter"),
            filtertype=dpg.get_value("analyze.filtertype"), windowlength=dpg.get_value("analyze.windowlength"),
            plot=dpg.get_value("analyze.plot"), labeled_video=dpg.get_value("analyze.labeled_video"),
            draw_skeleton=dpg.get_value("analyze.skeleton"), trailpoints=dpg.get_value("analyze.trail"),
            pcutoff=fraction("analyze.pcutoff"))

    def start(self) -> None:
        if self.app.config is None:
            self.app.status("open a project first (Project view)", error=True)
            return
        chosen = [row.location for i, row in enumerate(self.rows) if row.location and dpg.get_value(f"analyze.use.{i}")]
        videos = expand(chosen + split_lines(dpg.get_value("analyze.more")))
        calls = analysis_calls(self.app.config.location, videos, self.options())
        self.panel.start(f"analyze {len(videos)} video{'s' if len(videos) > 1 else ''}", calls, on_done=self.done)

    def done(self, run) -> None:
        self.results = [r for r in collect_results(run.calls, run.results) if r.plots or r.labeled_video]
        names = [storage.name(r.video) for r in self.results]
        dpg.configure_item("analyze.result_video", items=names)
        if names:
            dpg.set_value("analyze.result_video", names[0])
            if not self.results[0].plots and self.results[0].labeled_video:
                dpg.set_value("analyze.result_kind", "labeled video")
            self.show_result()

    def show_result(self) -> None:
        name = dpg.get_value("analyze.result_video")
        result = next((r for r in self.results if storage.name(r.video) == name), None)
        if result is None:
            return
        if dpg.get_value("analyze.result_kind") == "labeled video":
            if result.labeled_video:
                self.browser.set_video(result.labeled_video)
            else:
                self.browser.set_images([])
                self.app.status("no labeled video for this video: tick 'labeled video' and analyze again")
        else:
            self.browser.set_images(result.plots)

    def tick(self, now: float) -> None:
        self.panel.tick()
        self.browser.tick(now)

    def close(self) -> None:
        self.browser.close()


VIEW = AnalyzeView
