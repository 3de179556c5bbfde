"""Extract (automatic): pick frames to label from the project's videos (DeepLabCut step C).

One ``extract_frames`` call per chosen video, run in order in one run, so each video has its
progress bar. How many frames and from which part of the videos are config.yaml's
numframes2pick, start and stop, edited here with the config model's checks and saved before the
run; each video's crop box (``video_sets``) is edited in its row.
"""

from __future__ import annotations

import dearpygui.dearpygui as dpg

from posering import storage
from posering.gui import theme
from posering.gui.config_fields import ConfigFields
from posering.gui.run_panel import RunPanel, files_changed
from posering.gui.state.project import video_rows
from posering.gui.state.runs import Call
from posering.gui.views import View
from posering.project.config import Crop
from posering.errors import ConfigError


class ExtractAutoView(View):
    title = "Extract (auto)"
    order = 5

    def __init__(self, app):
        super().__init__(app)
        self.fields = ConfigFields(app, "extract_auto.config", ["numframes2pick", "start", "stop"], field_width=120,
                                   help_wrap=520)
        self.panel = RunPanel(app, "extract_auto.run")
        self.rows = []
        self.unticked: set[str] = set()  # videos the user left out (kept when the project reloads)

    def build(self, parent) -> None:
        with dpg.group(parent=parent):
            dpg.add_text("Pick frames to label from each video: k-means picks frames that look different "
                         "from one another, uniform picks them at random between start and stop.",
                         wrap=1100, color=theme.DIM)
            with dpg.group(horizontal=True):
                dpg.add_text("Algorithm")
                dpg.add_radio_button(["kmeans", "uniform"], tag="extract_auto.algo", default_value="kmeans",
                                     horizontal=True)
                dpg.add_spacer(width=30)
                dpg.add_checkbox(label="crop each frame to its video's crop box", tag="extract_auto.crop")
            self.fields.build(label_width=150)
            with dpg.collapsing_header(label="k-means options", default_open=False):
                dpg.add_input_int(label="cluster_step (every n-th frame considered)", tag="extract_auto.cluster_step",
                                  default_value=1, min_value=1, min_clamped=True, width=140)
                dpg.add_input_int(label="cluster_resizewidth (thumbnail width)", tag="extract_auto.cluster_resizewidth",
                                  default_value=30, min_value=8, min_clamped=True, width=140)
                dpg.add_checkbox(label="cluster colour thumbnails", tag="extract_auto.cluster_color")
                dpg.add_input_int(label="seed (the same seed picks the same frames)", tag="extract_auto.seed",
                                  default_value=0, width=140)
            dpg.add_text("Videos", color=theme.ACCENT)
            with dpg.table(tag="extract_auto.videos", header_row=True, borders_innerH=True,
                           policy=dpg.mvTable_SizingStretchProp, scrollY=True, height=220):
                dpg.add_table_column(label="extract", init_width_or_weight=0.08)
                dpg.add_table_column(label="video", init_width_or_weight=0.52)
                dpg.add_table_column(label="crop x1, x2, y1, y2", init_width_or_weight=0.4)
            with dpg.group(horizontal=True):
                dpg.add_button(label="Extract frames", tag="extract_auto.start", width=180, height=34,
                               callback=lambda: self.start())
                dpg.add_button(label="Label them", tag="extract_auto.label", show=False,
                               callback=lambda: self.app.show("Label"))
            self.panel.build()
            dpg.add_text("", tag="extract_auto.result", wrap=1100)

    def on_project(self, config) -> None:
        self.fields.load(config)
        self.rows = video_rows(config) if config is not None else []
        for row in dpg.get_item_children("extract_auto.videos", 1) or []:
            dpg.delete_item(row)
        dpg.configure_item("extract_auto.videos", height=min(8, max(1, len(self.rows))) * 34 + 34)
        for i, row in enumerate(self.rows):
            with dpg.table_row(parent="extract_auto.videos"):
                dpg.add_checkbox(tag=f"extract_auto.use.{i}", enabled=row.location is not None,
                                 default_value=row.location is not None and row.key not in self.unticked,
                                 user_data=row.key, callback=lambda s, a, u: self._tick(u, a))
                dpg.add_text(row.name if row.location else f"{row.name} (missing)",
                             color=theme.TEXT if row.location else theme.ERROR)
                self.app.text_inputs.append(dpg.add_input_text(tag=f"extract_auto.crop.{i}", default_value=row.crop,
                                                               width=-1, hint="whole frame"))

    def _tick(self, key: str, on: bool) -> None:
        (self.unticked.discard if on else self.unticked.add)(key)

    def chosen(self) -> list[int]:
        return [i for i, row in enumerate(self.rows) if row.location and dpg.get_value(f"extract_auto.use.{i}")]

    def _crop_changes(self) -> dict | None:
        """video_sets with the crops typed in the rows ({} when none changed; None if one is bad)."""
        config = self.app.config
        video_sets = {k: dict(v or {}) for k, v in config.video_sets.items()}
        changed = False
        for i, row in enumerate(self.rows):
            text = dpg.get_value(f"extract_auto.crop.{i}").strip()
            if text == row.crop:
                continue
            try:
                crop = str(Crop.parse(text, f"{row.name}")) if text else None
            except ConfigError as exc:
                self.app.status(str(exc), error=True)
                return None
            video_sets[row.key]["crop"] = crop
            changed = True
        return {"video_sets": video_sets} if changed else {}

    def start(self) -> None:
        config = self.app.config
        if config is None:
            self.app.status("open a project first (Project view)", error=True)
            return
        chosen = self.chosen()
        if not chosen:
            self.app.status("tick at least one video to extract frames from", error=True)
            return
        crops = self._crop_changes()
        if crops is None:
            return
        arguments = {"config": config.location, "mode": "automatic", "algo": dpg.get_value("extract_auto.algo"),
                     "crop": bool(dpg.get_value("extract_auto.crop")),
                     "cluster_step": int(dpg.get_value("extract_auto.cluster_step")),
                     "cluster_resizewidth": int(dpg.get_value("extract_auto.cluster_resizewidth")),
                     "cluster_color": bool(dpg.get_value("extract_auto.cluster_color")),
                     "seed": int(dpg.get_value("extract_auto.seed"))}
        calls = [Call(self.rows[i].name, "extract_frames", {**arguments, "videos_list": [self.rows[i].key]})
                 for i in chosen]
        if self.fields.changed or crops:
            saved = self.fields.save(crops)
            if saved is None:
                return
            self.app.open_project(saved.location)  # every view sees the new settings
        dpg.set_value("extract_auto.result", "")
        dpg.configure_item("extract_auto.label", show=False)
        self.panel.start("extract frames", calls, on_done=self.done)

    def done(self, run) -> None:
        lines = []
        for result in run.results:
            for video, counts in (result or {}).items():
                lines.append(f"{storage.name(video)}: {counts.get('added', 0)} frames added, "
                             f"{counts.get('skipped', 0)} already there, in {counts.get('folder', '')}")
        dpg.set_value("extract_auto.result", "\n".join(lines))
        dpg.configure_item("extract_auto.label", show=True)
        files_changed(self.app, self)  # Label lists the new folders and images

    def tick(self, now: float) -> None:
        self.panel.tick()

    def unsaved(self) -> str | None:
        return f"extraction settings: {', '.join(self.fields.changed)}" if self.fields.changed else None

    def save_all(self) -> bool:
        return self.fields.save() is not None if self.fields.changed else True


VIEW = ExtractAutoView
