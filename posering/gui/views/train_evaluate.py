"""Train / Evaluate: training datasets, training with a live loss curve, evaluation results
(DeepLabCut steps F, G, H).

Three runs, each the API step the command line runs: ``create_training_dataset`` (or
``create_training_model_comparison``), ``train_network`` (its progress bar gives the loss curve and
the time left) and ``evaluate_network`` (its returned table, and its images when plotting).
"""

from __future__ import annotations

import dearpygui.dearpygui as dpg

from posering.errors import PoseringError
from posering.gui import theme
from posering.gui.image_browser import ImageBrowser
from posering.gui.run_panel import RunPanel
from posering.gui.state.runs import DONE, Call, Run
from posering.gui.state.training import LossCurve, evaluation_images, parse_numbers, results_table, shuffles
from posering.gui.views import View

AUGMENTERS = ("default", "albumentations", "imgaug")
DEVICES = ("auto", "cpu", "cuda")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")


def net_types() -> list[str]:
    """The networks posering can train, auto (chosen from the data) first (run in a child:
    importing torch in the window's process, which holds the OpenGL context, is slow and has
    crashed it)."""
    from posering.model.backbones import BACKBONES

    return ["auto", *sorted(BACKBONES)]


class TrainEvaluateView(View):
    title = "Train / Evaluate"
    order = 50

    def __init__(self, app):
        super().__init__(app)
        self.dataset_panel = RunPanel(app, "train.dataset_run", rows=False)
        self.train_panel = RunPanel(app, "train.train_run", rows=False)
        self.evaluate_panel = RunPanel(app, "train.evaluate_run", rows=False)
        self.images = ImageBrowser(app, "train.images")
        self.shuffles = []
        self.net_types: list[str] = []
        self.curve = LossCurve()
        self._asking: Run | None = None

    # -- widgets ---------------------------------------------------------------------------------------
    def build(self, parent) -> None:
        with dpg.tab_bar(tag="train.tabs", parent=parent):
            with dpg.tab(label="Training dataset", tag="train.tab.dataset"):
                self._build_dataset()
            with dpg.tab(label="Train", tag="train.tab.train"):
                self._build_train()
            with dpg.tab(label="Evaluate", tag="train.tab.evaluate"):
                self._build_evaluate()

    def _build_dataset(self) -> None:
        dpg.add_text("Split the labeled frames into training and test frames (one split per shuffle) and "
                     "make each shuffle's model folder.", wrap=1100, color=theme.DIM)
        dpg.add_text("", tag="train.fractions")
        with dpg.table(header_row=False, policy=dpg.mvTable_SizingFixedFit):
            dpg.add_table_column(width_fixed=True, init_width_or_weight=120)
            dpg.add_table_column(width_fixed=True, init_width_or_weight=260)
            with dpg.table_row():
                dpg.add_text("Shuffles")
                self.app.text_inputs.append(dpg.add_input_text(tag="train.new_shuffles", default_value="1", width=160,
                                                               hint="e.g. 1 or 1, 2"))
            with dpg.table_row():
                dpg.add_text("Network")
                dpg.add_combo([], tag="train.net_type", width=220)
            with dpg.table_row():
                dpg.add_text("Augmenter")
                dpg.add_combo(list(AUGMENTERS), tag="train.augmenter", default_value="default", width=220)
        dpg.add_button(label="Create training dataset", tag="train.create", width=240, height=34,
                       callback=lambda: self.create_dataset())
        with dpg.collapsing_header(label="Model comparison: the same splits for several networks"):
            dpg.add_group(tag="train.compare_nets", horizontal=True)
            with dpg.group(horizontal=True):
                dpg.add_text("Splits")
                dpg.add_input_int(tag="train.compare_splits", default_value=1, min_value=1, min_clamped=True, width=120)
            dpg.add_button(label="Create model comparison", tag="train.compare", callback=lambda: self.compare())
        self.dataset_panel.build()
        dpg.add_text("", tag="train.dataset_result", wrap=1100)

    def _build_train(self) -> None:
        with dpg.group(horizontal=True):
            dpg.add_text("Shuffle")
            dpg.add_combo([], tag="train.shuffle", width=420)
        with dpg.group(horizontal=True):
            for label, key, hint in (("Epochs", "epochs", "config"), ("or iterations", "maxiters", ""),
                                     ("Save every", "save_epochs", "config"), ("Batch size", "batch_size", "config")):
                dpg.add_text(label)
                self.app.text_inputs.append(dpg.add_input_text(tag=f"train.{key}", width=80, hint=hint))
        with dpg.group(horizontal=True):
            dpg.add_text("Device")
            dpg.add_combo(list(DEVICES), tag="train.device", default_value="auto", width=100)
            dpg.add_text("Precision")
            dpg.add_combo(list(PRECISIONS), tag="train.precision", default_value="auto", width=100)
            dpg.add_checkbox(label="resume from the last snapshot", tag="train.resume")
        dpg.add_button(label="Train", tag="train.start", width=180, height=34, callback=lambda: self.train())
        self.train_panel.build()
        with dpg.plot(tag="train.loss_plot", height=-1, width=-1, no_menus=True):
            dpg.add_plot_axis(dpg.mvXAxis, label="iteration", tag="train.loss_x")
            with dpg.plot_axis(dpg.mvYAxis, label="loss", tag="train.loss_y"):
                dpg.add_line_series([], [], tag="train.loss")

    def _build_evaluate(self) -> None:
        with dpg.group(horizontal=True):
            dpg.add_text("Shuffles")
            self.app.text_inputs.append(dpg.add_input_text(tag="train.eval_shuffles", default_value="1", width=100))
            dpg.add_checkbox(label="draw the evaluation images", tag="train.plotting", default_value=True)
            dpg.add_button(label="Evaluate", tag="train.evaluate", width=140, callback=lambda: self.evaluate())
        self.evaluate_panel.build()
        with dpg.table(tag="train.results", header_row=True, borders_innerH=True, borders_outerH=True,
                       policy=dpg.mvTable_SizingFixedFit, height=90, scrollY=True, scrollX=True):
            pass
        self.images.build(height=-1)

    # -- project ----------------------------------------------------------------------------------------
    def on_show(self) -> None:
        if not self.net_types and self._asking is None:
            self._asking = self.app.runs.start(Run("network names", [Call("network names", f"{__name__}:net_types")],
                                                   on_change=self._nets_arrived))

    def _nets_arrived(self, run: Run) -> None:
        if run.active:
            return
        self._asking = None
        if run.state == DONE and run.results[0]:
            self._fill_nets(run.results[0])
        else:
            self.app.status(f"could not list the networks: {run.error}", error=True)

    def _fill_nets(self, names: list[str]) -> None:
        self.net_types = names
        default = str(self.app.config.get("default_net_type")) if self.app.config is not None else names[0]
        dpg.configure_item("train.net_type", items=names)
        dpg.set_value("train.net_type", default if default in names else names[0])
        dpg.delete_item("train.compare_nets", children_only=True)
        for name in names:
            dpg.add_checkbox(label=name, tag=f"train.compare.{name}", parent="train.compare_nets")

    def on_project(self, config) -> None:
        if config is None:
            self.shuffles = []
            dpg.configure_item("train.shuffle", items=[])
            dpg.set_value("train.shuffle", "")
            dpg.delete_item("train.results", children_only=True)
            self.images.set_images([])
            return
        fractions = ", ".join(f"{f:g}" for f in config.training_fractions)
        dpg.set_value("train.fractions", f"TrainingFraction: {fractions} (change it in Project > Settings)")
        default = str(config.get("default_net_type"))
        if default in self.net_types:
            dpg.set_value("train.net_type", default)
        dpg.set_value("train.augmenter", str(config.get("default_augmenter") or "default"))
        self.refresh_shuffles()

    def refresh_shuffles(self) -> None:
        self.shuffles = shuffles(self.app.config)
        labels = [s.label for s in self.shuffles]
        dpg.configure_item("train.shuffle", items=labels)
        current = dpg.get_value("train.shuffle")
        if labels and current not in labels:
            dpg.set_value("train.shuffle", labels[0])

    def _config(self) -> str | None:
        if self.app.config is None:
            self.app.status("open a project first (Project view)", error=True)
            return None
        return self.app.config.location

    # -- runs ----------------------------------------------------------------------------------------------
    def create_dataset(self) -> None:
        config = self._config()
        if config is None:
            return
        numbers = parse_numbers(dpg.get_value("train.new_shuffles"))
        kwargs = {"config": config, "Shuffles": numbers, "net_type": dpg.get_value("train.net_type") or None,
                  "augmenter_type": dpg.get_value("train.augmenter")}
        self.dataset_panel.start("create training dataset", [Call("create_training_dataset",
                                                                  "create_training_dataset", kwargs)],
                                 on_done=self._dataset_done)

    def compare(self) -> None:
        config = self._config()
        if config is None:
            return
        nets = [n for n in self.net_types if dpg.get_value(f"train.compare.{n}")]
        if len(nets) < 2:
            self.app.status("tick at least two networks to compare", error=True)
            return
        kwargs = {"config": config, "num_shuffles": int(dpg.get_value("train.compare_splits")), "net_types": nets}
        self.dataset_panel.start("create model comparison", [Call("create_training_model_comparison",
                                                                  "create_training_model_comparison", kwargs)],
                                 on_done=self._dataset_done)

    def _dataset_done(self, run) -> None:
        created = run.results[0] or []
        lines = [f"shuffle {e.get('shuffle')}: {e.get('model_folder', '')}" for e in created if isinstance(e, dict)]
        dpg.set_value("train.dataset_result", "created:\n" + "\n".join(lines) if lines else "")
        self.refresh_shuffles()

    def chosen_shuffle(self):
        label = dpg.get_value("train.shuffle")
        for shuffle in self.shuffles:
            if shuffle.label == label:
                return shuffle
        raise PoseringError("no shuffle to train: create a training dataset first")

    def train(self) -> None:
        config = self._config()
        if config is None:
            return
        shuffle = self.chosen_shuffle()
        kwargs = {"config": config, "shuffle": shuffle.number, "trainingsetindex": shuffle.trainingsetindex,
                  "resume": bool(dpg.get_value("train.resume")), "progress": True}
        for key in ("epochs", "maxiters", "save_epochs", "batch_size"):
            text = dpg.get_value(f"train.{key}").strip()
            if text:
                kwargs[key] = parse_numbers(text, key)[0]
        device = dpg.get_value("train.device")
        if device != "auto":
            kwargs["device"] = device
        kwargs["precision"] = dpg.get_value("train.precision")
        dpg.set_value("train.loss", [[], []])
        self.curve = LossCurve()
        self.train_panel.start(f"train shuffle {shuffle.number}", [Call(f"train shuffle {shuffle.number}",
                                                                        "train_network", kwargs)],
                               on_update=self._loss, on_done=lambda run: self.refresh_shuffles())

    def _loss(self, run) -> None:
        if self.curve.add(run.bars):
            dpg.set_value("train.loss", list(self.curve.xy()))
            dpg.fit_axis_data("train.loss_x")
            dpg.fit_axis_data("train.loss_y")

    def evaluate(self) -> None:
        config = self._config()
        if config is None:
            return
        numbers = parse_numbers(dpg.get_value("train.eval_shuffles"))
        kwargs = {"config": config, "Shuffles": numbers, "plotting": bool(dpg.get_value("train.plotting"))}
        self.evaluate_panel.start("evaluate", [Call("evaluate_network", "evaluate_network", kwargs)],
                                  on_done=self._evaluated)

    def _evaluated(self, run) -> None:
        header, rows = results_table(run.results[0])
        dpg.delete_item("train.results", children_only=True)
        for name in header:
            dpg.add_table_column(label=name, parent="train.results")
        for row in rows:
            with dpg.table_row(parent="train.results"):
                for cell in row:
                    dpg.add_text(cell)
        first = run.calls[0].kwargs["Shuffles"][0]
        fraction = next((s.fraction for s in shuffles(self.app.config) if s.number == first),
                        self.app.config.training_fractions[0])
        self.images.set_images(evaluation_images(self.app.config, fraction, first))

    def tick(self, now: float) -> None:
        self.dataset_panel.tick()
        self.train_panel.tick()
        self.evaluate_panel.tick()

    def close(self) -> None:
        self.images.close()


VIEW = TrainEvaluateView
