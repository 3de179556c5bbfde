"""Project: open or create a project, add videos, edit config.yaml, build the skeleton.

DeepLabCut's Project Manager starts here. Creating and adding videos run ``create_new_project``
and ``add_new_videos`` as runs (a child process: videos are probed, maybe copied); the settings
form is :class:`~posering.gui.state.config_form.ConfigForm`, which shows the config model's own
message beside a refused value; the skeleton is built by right-clicking two bodyparts on a
labeled frame (:class:`~posering.gui.state.config_form.SkeletonBuilder`).
"""

from __future__ import annotations

import dearpygui.dearpygui as dpg

from posering import storage
from posering.errors import PoseringError
from posering.gui import theme
from posering.gui.config_fields import ConfigFields
from posering.gui.run_panel import RunPanel
from posering.gui.skeleton_editor import SkeletonEditor
from posering.gui.state import recent
from posering.gui.state.config_form import FIELDS
from posering.gui.state.project import is_video, new_project_arguments, split_lines, video_rows
from posering.gui.state.runs import Call
from posering.gui.views import View


class ProjectView(View):
    title = "Project"
    order = 0
    mouse = [("right-click a bodypart", "Skeleton tab: connect it to the next one you click")]

    def __init__(self, app):
        super().__init__(app)
        self.settings = ConfigFields(app, "project.settings", [field.key for field in FIELDS])
        self.skeleton = SkeletonEditor(app)
        self.create_panel = RunPanel(app, "project.create_run", rows=False)
        self.add_panel = RunPanel(app, "project.add_run", rows=False)
        self._dialog_target = "project.videos"

    # -- widgets ---------------------------------------------------------------------------------------
    def build(self, parent) -> None:
        with dpg.tab_bar(tag="project.tabs", parent=parent):
            with dpg.tab(label="Open or create", tag="project.tab.start"):
                self._build_start()
            with dpg.tab(label="Videos", tag="project.tab.videos"):
                self._build_videos()
            with dpg.tab(label="Settings (config.yaml)", tag="project.tab.settings"):
                self._build_settings()
            with dpg.tab(label="Skeleton", tag="project.tab.skeleton"):
                self.skeleton.build()
        with dpg.file_dialog(tag="project.videos_dialog", show=False, width=820, height=520, modal=True,
                             file_count=100, callback=lambda s, a: self._videos_picked(a)):
            dpg.add_file_extension("Videos{.mp4,.avi,.mov,.mkv,.mpg,.mpeg,.wmv,.m4v,.h264}",
                                   color=(120, 220, 120, 255))
            dpg.add_file_extension(".*")
        dpg.add_file_dialog(tag="project.folder_dialog", show=False, width=820, height=520, modal=True,
                            directory_selector=True, callback=lambda s, a: self._folder_picked(a))

    def _build_start(self) -> None:
        dpg.add_spacer(height=4)
        dpg.add_text("Open a project", color=theme.ACCENT)
        with dpg.group(horizontal=True):
            field = dpg.add_input_text(tag="project.open_path", width=760, on_enter=True,
                                       hint="a project folder or its config.yaml; or s3://bucket/project",
                                       callback=lambda s, a: self.open(a))
            self.app.text_inputs.append(field)
            dpg.add_button(label="Open", tag="project.open", callback=lambda: self.open(dpg.get_value("project.open_path")))
            dpg.add_button(label="Browse...", callback=lambda: dpg.show_item("app.file_dialog"))
        dpg.add_text("Recent projects", color=theme.DIM)
        # A list of its own height: however many projects it holds, the form below stays in view.
        with dpg.child_window(height=104, border=False):
            dpg.add_group(tag="project.recent")
        dpg.add_spacer(height=10)
        dpg.add_separator()
        dpg.add_text("Create a new project", color=theme.ACCENT)
        with dpg.table(header_row=False, policy=dpg.mvTable_SizingFixedFit):
            dpg.add_table_column(width_fixed=True, init_width_or_weight=170)
            dpg.add_table_column(width_stretch=True)
            for label, tag, hint in (("Name (Task)", "project.name", "e.g. openfield"),
                                     ("Experimenter", "project.experimenter", "e.g. your name; names the labels")):
                with dpg.table_row():
                    dpg.add_text(label)
                    self.app.text_inputs.append(dpg.add_input_text(tag=tag, width=420, hint=hint))
            with dpg.table_row():
                dpg.add_text("Videos")
                with dpg.group():
                    self.app.text_inputs.append(dpg.add_input_text(
                        tag="project.videos", multiline=True, width=760, height=96,
                        hint="one video (or folder of videos) per line; or use Add videos..."))
                    dpg.add_button(label="Add videos...", callback=lambda: self._pick_videos("project.videos"))
            with dpg.table_row():
                dpg.add_text("Working directory")
                with dpg.group(horizontal=True):
                    self.app.text_inputs.append(dpg.add_input_text(
                        tag="project.workdir", width=640, hint="where the project folder goes (default: "
                                                               "the current folder); or s3://bucket/prefix"))
                    dpg.add_button(label="Choose...", callback=lambda: dpg.show_item("project.folder_dialog"))
            with dpg.table_row():
                dpg.add_text("")
                dpg.add_checkbox(label="copy the videos into the project (else link them)", tag="project.copy")
        dpg.add_button(label="Create project", tag="project.create", width=200, height=34,
                       callback=lambda: self.create())
        self.create_panel.build()

    def _build_videos(self) -> None:
        dpg.add_text("", tag="project.videos_title", color=theme.ACCENT)
        with dpg.table(tag="project.video_table", header_row=True, borders_innerH=True, borders_outerH=True,
                       policy=dpg.mvTable_SizingStretchProp, height=300, scrollY=True):
            dpg.add_table_column(label="video", init_width_or_weight=0.55)
            dpg.add_table_column(label="found", init_width_or_weight=0.1)
            dpg.add_table_column(label="crop (x1, x2, y1, y2)", init_width_or_weight=0.35)
        dpg.add_spacer(height=8)
        dpg.add_text("Add videos", color=theme.ACCENT)
        self.app.text_inputs.append(dpg.add_input_text(
            tag="project.new_videos", multiline=True, width=760, height=80,
            hint="one video (or folder) per line; or use Add videos..."))
        with dpg.group(horizontal=True):
            dpg.add_button(label="Add videos...", callback=lambda: self._pick_videos("project.new_videos"))
            dpg.add_checkbox(label="copy into the project", tag="project.new_copy")
            dpg.add_button(label="Add to project", tag="project.add", callback=lambda: self.add_videos())
        self.add_panel.build()

    def _build_settings(self) -> None:
        with dpg.group(horizontal=True):
            dpg.add_button(label="Save", tag="project.form.save", width=90, callback=lambda: self.save_form())
            dpg.add_button(label="Revert", tag="project.form.revert", width=90, callback=lambda: self.revert_form())
            dpg.add_text("", tag="project.form.state", wrap=900)
        with dpg.child_window(tag="project.form", border=False):
            self.settings.build()
        self.settings.on_change = self._form_state

    # -- opening and creating ----------------------------------------------------------------------------
    def on_show(self) -> None:
        self._fill_recent()

    def open(self, location: str) -> None:
        location = (location or "").strip()
        if location and self.app.open_project(location):
            dpg.set_value("project.tabs", "project.tab.videos")

    def on_project(self, config) -> None:
        self.settings.load(config)
        if config is None:
            self.skeleton.load(None)
            for row in dpg.get_item_children("project.video_table", 1) or []:
                dpg.delete_item(row)
            dpg.set_value("project.videos_title", "no project open")
            return
        recent.remember(config.location)
        self._fill_recent()
        self._fill_videos()
        self._form_state()
        self.skeleton.load(config)

    def _fill_recent(self) -> None:
        dpg.delete_item("project.recent", children_only=True)
        projects = recent.load()
        if not projects:
            dpg.add_text("(none yet)", parent="project.recent", color=theme.DIM)
        for location in projects:
            dpg.add_button(label=location, parent="project.recent", user_data=location,
                           callback=lambda s, a, u: self.open(u))

    def create(self) -> None:
        try:
            arguments = new_project_arguments(dpg.get_value("project.name"), dpg.get_value("project.experimenter"),
                                              dpg.get_value("project.videos"), dpg.get_value("project.workdir"),
                                              dpg.get_value("project.copy"))
        except PoseringError as exc:
            self.app.status(str(exc), error=True)
            return
        self.create_panel.start(f"create project {arguments['project']}",
                                [Call("create_new_project", "create_new_project", arguments)],
                                on_done=lambda run: self.open(run.results[0]))

    def add_videos(self) -> None:
        if self.app.config is None:
            self.app.status("open a project first", error=True)
            return
        videos = split_lines(dpg.get_value("project.new_videos"))
        if not videos:
            self.app.status("type or pick the videos to add first", error=True)
            return
        config = self.app.config.location
        self.add_panel.start("add videos", [Call("add_new_videos", "add_new_videos",
                                                 {"config": config, "videos": videos,
                                                  "copy_videos": bool(dpg.get_value("project.new_copy"))})],
                             on_done=lambda run: self._videos_added(config))

    def _videos_added(self, config: str) -> None:
        dpg.set_value("project.new_videos", "")
        self.app.open_project(config)

    def _pick_videos(self, target: str) -> None:
        self._dialog_target = target
        dpg.show_item("project.videos_dialog")

    def _videos_picked(self, selection: dict) -> None:
        picked = list((selection or {}).get("selections", {}).values())
        if not picked and selection.get("file_path_name"):
            picked = [selection["file_path_name"]]
        current = split_lines(dpg.get_value(self._dialog_target))
        added = [p for p in picked if p not in current and (is_video(p) or storage.isdir(p))]
        dpg.set_value(self._dialog_target, "\n".join(current + added))

    def _folder_picked(self, selection: dict) -> None:
        folder = (selection or {}).get("file_path_name") or ""
        if folder:
            dpg.set_value("project.workdir", folder)

    def _fill_videos(self) -> None:
        config = self.app.config
        rows = video_rows(config)
        dpg.set_value("project.videos_title", f"{len(rows)} video{'' if len(rows) == 1 else 's'} in {storage.name(config.project_path)}")
        for row in dpg.get_item_children("project.video_table", 1) or []:
            dpg.delete_item(row)
        dpg.configure_item("project.video_table", height=min(10, max(1, len(rows))) * 31 + 34)
        root = config.project_path.rstrip("/") + "/"
        for row in rows:
            with dpg.table_row(parent="project.video_table"):
                shown = row.key[len(root):] if row.key.startswith(root) else row.key
                with dpg.tooltip(dpg.add_text(shown)):
                    dpg.add_text(row.location or row.key)
                dpg.add_text("yes" if row.location else "MISSING", color=theme.STATUS if row.location else theme.ERROR)
                dpg.add_text(row.crop or "-")

    # -- settings -----------------------------------------------------------------------------------------
    def _form_state(self) -> None:
        changed, errors = self.settings.changed, self.settings.errors
        if errors:
            text, color = f"{len(errors)} value(s) refused; fix them to save", theme.ERROR
        elif changed:
            text, color = f"unsaved: {', '.join(changed)}", theme.WARNING
        else:
            text, color = "config.yaml is saved", theme.STATUS
        dpg.set_value("project.form.state", text)
        dpg.configure_item("project.form.state", color=color)

    def save_form(self) -> bool:
        config = self.settings.save()
        if config is None:
            return False
        dropped = self.settings.form.dropped_bones
        self.app.open_project(config.location)
        note = f" (bones of removed bodyparts dropped: {dropped})" if dropped else ""
        self.app.status(f"saved {config.location}{note}")
        return True

    def revert_form(self) -> None:
        self.settings.revert()
        self._form_state()

    def unsaved(self) -> str | None:
        if self.settings.changed:
            return f"config.yaml settings: {', '.join(self.settings.changed)}"
        if self.skeleton.unsaved:
            return "the skeleton"
        return None

    def save_all(self) -> bool:
        ok = self.save_form() if self.settings.changed else True
        if ok and self.unsaved() == "the skeleton":
            ok = self.skeleton.save_skeleton()
        return ok

    # -- frames ---------------------------------------------------------------------------------------------
    def tick(self, now: float) -> None:
        self.create_panel.tick()
        self.add_panel.tick()


VIEW = ProjectView
