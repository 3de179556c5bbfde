"""The window: viewport, navigation between views, the frame loop, keys, prompts and closing.

:class:`App` owns the Dear PyGui context. Its frame loop (:meth:`App.step`) drains the results
of background work (:class:`~posering.gui.state.tasks.Tasks`), lets the shown view run its
timers, draws one frame, and then runs the callbacks of that frame's events on the main thread
(``manual_callback_management``: Dear PyGui is not thread-safe, and tests drive the real window
one frame at a time). Closing asks first when a view has unsaved changes.
"""

from __future__ import annotations

import inspect
import logging
import time
import traceback

import dearpygui.dearpygui as dpg

from posering.errors import PoseringError
from posering.gui import theme
from posering.gui.state.keymap import APP_KEYS, action_for
from posering.gui.state.runs import Runs
from posering.gui.state.tasks import Tasks, describe
from posering.gui.views import View, discover

log = logging.getLogger("posering.gui")

KEY_NAMES = {
    **{getattr(dpg, f"mvKey_{c}"): c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"},
    dpg.mvKey_Left: "Left", dpg.mvKey_Right: "Right", dpg.mvKey_Up: "Up", dpg.mvKey_Down: "Down",
    dpg.mvKey_Home: "Home", dpg.mvKey_End: "End", dpg.mvKey_Delete: "Delete", dpg.mvKey_Back: "Backspace",
    dpg.mvKey_Prior: "PageUp", dpg.mvKey_Next: "PageDown", dpg.mvKey_F1: "F1", dpg.mvKey_Escape: "Escape",
    dpg.mvKey_Return: "Enter", dpg.mvKey_Spacebar: "Space",
}


class App:
    """The desktop client's window."""

    def __init__(self, config: str | None = None, width: int = 1500, height: int = 950, vsync: bool = True):
        self.tasks = Tasks()
        self.runs = Runs(self.tasks)  # steps run in child processes (posering.gui.state.runs)
        self.config = None  # the open project's ProjectConfig
        self.size = (width, height)
        self.vsync = vsync
        self.views: list[View] = [cls(self) for cls in discover()]
        self.current: View | None = None
        self.text_inputs: list = []  # keys typed into these are text, not commands
        self.closed = False
        self._initial_config = config
        self._signatures: dict = {}
        self._last_frame = 0.0

    # -- building -----------------------------------------------------------------------------------------
    def build(self) -> "App":
        dpg.create_context()
        dpg.configure_app(manual_callback_management=True)
        width, height = self.size
        dpg.create_viewport(title="posering", width=width, height=height, x_pos=0, y_pos=0,
                            vsync=self.vsync, disable_close=True)
        theme.apply()
        dpg.set_exit_callback(lambda: self.request_close())
        with dpg.handler_registry(tag="app.handlers"):
            dpg.add_key_press_handler(callback=self._key_pressed)
        with dpg.window(tag="app.main", no_scrollbar=True):
            self._build_top()
            with dpg.group(horizontal=True):
                with dpg.child_window(width=170, height=-34, tag="app.nav", no_scrollbar=True):
                    for view in self.views:
                        dpg.add_button(label=view.title, width=-1, height=34, tag=f"app.nav.{view.title}",
                                       callback=lambda s, a, u: self.show(u), user_data=view.title)
                    dpg.add_spacer(height=12)
                    dpg.add_button(label="Keys (F1)", width=-1, callback=lambda: self.toggle_help())
                with dpg.child_window(tag="app.content", border=False, no_scrollbar=True, height=-34):
                    for view in self.views:
                        with dpg.group(tag=f"app.view.{view.title}", show=False) as root:
                            view.root = root
                            view.build(root)
            dpg.add_text("", tag="app.status", color=theme.STATUS)
        self._build_help()
        self._build_prompt()
        self._build_details()
        dpg.set_primary_window("app.main", True)
        dpg.setup_dearpygui()
        dpg.show_viewport()
        self.show(self.views[0].title)
        if self._initial_config:
            self.open_project(self._initial_config)
        return self

    def _build_top(self) -> None:
        with dpg.group(horizontal=True):
            dpg.add_text("Project")
            field = dpg.add_input_text(tag="app.project", width=700, on_enter=True,
                                       hint="path of a config.yaml, or s3://bucket/project/config.yaml",
                                       callback=lambda s, a: self.open_project(a))
            self.text_inputs.append(field)
            dpg.add_button(label="Open", callback=lambda: self.open_project(dpg.get_value("app.project")))
            dpg.add_button(label="Browse...", callback=lambda: dpg.show_item("app.file_dialog"))
        with dpg.file_dialog(tag="app.file_dialog", show=False, width=800, height=500, modal=True,
                             callback=lambda s, a: self._picked(a), directory_selector=False):
            dpg.add_file_extension(".yaml", color=(120, 220, 120, 255))
            dpg.add_file_extension(".*")

    def _picked(self, selection: dict) -> None:
        path = selection.get("file_path_name") or ""
        if path:
            self.open_project(path)

    def _build_help(self) -> None:
        with dpg.window(tag="app.help", label="Keys and mouse", show=False, width=560, height=640,
                        pos=(self.size[0] - 600, 60)):
            dpg.add_group(tag="app.help.body")

    def _build_prompt(self) -> None:
        with dpg.window(tag="app.prompt", label="posering", modal=True, show=False, no_resize=True,
                        width=560, pos=(self.size[0] // 2 - 280, self.size[1] // 2 - 120)):
            dpg.add_text("", tag="app.prompt.text", wrap=520)
            dpg.add_spacer(height=8)
            dpg.add_group(tag="app.prompt.buttons", horizontal=True)

    def _build_details(self) -> None:
        with dpg.window(tag="app.details", label="Details", show=False, width=self.size[0] - 200,
                        height=self.size[1] - 200, pos=(100, 80)):
            dpg.add_button(label="Close", callback=lambda: dpg.configure_item("app.details", show=False))
            dpg.add_input_text(tag="app.details.text", multiline=True, readonly=True, width=-1, height=-1,
                               tab_input=False)

    def show_details(self, title: str, text: str) -> None:
        """A window with the whole story behind a one-line message (traceback, log), copyable."""
        dpg.configure_item("app.details", label=title, show=True)
        dpg.set_value("app.details.text", text)
        dpg.focus_item("app.details")

    # -- navigation ---------------------------------------------------------------------------------------
    def view(self, title: str) -> View:
        for view in self.views:
            if view.title == title:
                return view
        raise KeyError(title)

    def show(self, title: str) -> None:
        target = self.view(title)
        if target is self.current:
            return
        if self.current is not None:
            self.current.on_hide()
            dpg.configure_item(self.current.root, show=False)
            dpg.bind_item_theme(f"app.nav.{self.current.title}", 0)
        self.current = target
        dpg.configure_item(target.root, show=True)
        dpg.bind_item_theme(f"app.nav.{title}", theme.selected_button())
        self._fill_help()
        self.guard(target.on_show)

    def open_project(self, location: str) -> bool:
        from posering.project import load_config

        location = (location or "").strip().strip('"')
        if not location:
            return False
        try:
            config = load_config(location)
        except PoseringError as exc:
            self.status(str(exc), error=True)
            return False
        if not self.confirm_switch():
            return False
        self.config = config
        dpg.set_value("app.project", config.location)
        dpg.set_viewport_title(f"posering - {config.task} ({config.project_path})")
        for view in self.views:
            self.guard(view.on_project, config)
        self.status(f"opened {config.location}")
        return True

    def close_project(self) -> None:
        """Back to an empty window, as just opened: each view closes what it holds (unsaved
        changes are the caller's to save first, see :meth:`confirm_switch`)."""
        for view in self.views:
            self.guard(view.close)
            self.guard(view.on_project, None)
        self.config = None
        self.closed = False
        for window in ("app.prompt", "app.help"):
            dpg.configure_item(window, show=False)
        dpg.set_value("app.project", "")
        dpg.set_viewport_title("posering")
        self.status("")
        self.show(self.views[0].title)

    def confirm_switch(self) -> bool:
        """Before opening another project, save what the views hold (autosave makes this quick)."""
        for view in self.views:
            if view.unsaved() and not view.save_all():
                self.status(f"{view.title}: could not save; the project was not switched", error=True)
                return False
        return True

    # -- the frame loop -----------------------------------------------------------------------------------
    def step(self) -> bool:
        """One frame: background results, timers, drawing, then this frame's callbacks."""
        self.guard(self.tasks.drain)
        if self.current is not None:
            self.guard(self.current.tick, time.monotonic())
        dpg.render_dearpygui_frame()
        self._run_callbacks(dpg.get_callback_queue())
        return dpg.is_dearpygui_running() and not self.closed

    def run(self) -> None:
        self.build()
        try:
            while self.step():
                self.pace()
        finally:
            self.destroy()

    def pace(self, fps: float = 60.0) -> None:
        """Sleep out the rest of a 1/fps frame: without vsync (a virtual display, software
        OpenGL) the loop would otherwise draw flat out and starve the threads that decode frames."""
        now = time.perf_counter()
        rest = self._last_frame + 1.0 / fps - now
        if rest > 0:
            time.sleep(rest)
        self._last_frame = max(now, self._last_frame + 1.0 / fps)

    def destroy(self) -> None:
        self.runs.close()
        for view in self.views:
            self.guard(view.close)
        dpg.destroy_context()

    def _run_callbacks(self, jobs) -> None:
        for job in jobs or []:
            callback = job[0]
            if callback is None:
                continue
            count = self._signatures.get(callback)
            if count is None:
                try:
                    count = len(inspect.signature(callback).parameters)
                except (TypeError, ValueError):
                    count = 3
                self._signatures[callback] = count
            self.guard(callback, *job[1:1 + count])

    def guard(self, function, *args):
        """Run a callback; a failure becomes a one-line message, never a dead window."""
        try:
            return function(*args)
        except PoseringError as exc:
            self.status(str(exc), error=True)
        except Exception as exc:
            log.error("%s", traceback.format_exc())
            self.status(f"internal error: {describe(exc)} (details in the terminal)", error=True)
        return None

    # -- keys ----------------------------------------------------------------------------------------------
    def _key_pressed(self, sender, key_code) -> None:
        name = KEY_NAMES.get(key_code)
        if name is None:
            return
        self.press(name, dpg.is_key_down(dpg.mvKey_ModCtrl), dpg.is_key_down(dpg.mvKey_ModShift))

    def press(self, key: str, ctrl: bool = False, shift: bool = False) -> bool:
        """What a key press does: the prompt's, the app's, else the shown view's binding."""
        if dpg.is_item_shown("app.prompt"):
            if key == "Escape":
                self._answer(None)
            return True
        if any(dpg.does_item_exist(t) and dpg.is_item_active(t) for t in self.text_inputs):
            return False
        action = action_for(APP_KEYS, key, ctrl, shift)
        if action == "toggle_help":
            self.toggle_help()
            return True
        if action == "open_project":
            dpg.show_item("app.file_dialog")
            return True
        return bool(self.current and self.current.on_key(key, ctrl, shift))

    # -- help, status, prompts -------------------------------------------------------------------------------
    def toggle_help(self) -> None:
        dpg.configure_item("app.help", show=not dpg.is_item_shown("app.help"))

    def _fill_help(self) -> None:
        dpg.delete_item("app.help.body", children_only=True)
        view = self.current
        with dpg.table(parent="app.help.body", header_row=False, borders_innerH=True,
                       policy=dpg.mvTable_SizingStretchProp):
            dpg.add_table_column(init_width_or_weight=0.3)
            dpg.add_table_column(init_width_or_weight=0.7)
            rows = [(f"-- {view.title} --", "")] if view else []
            rows += [(b.label, b.help) for b in (view.keys if view else [])]
            rows += list(view.mouse if view else [])
            rows += [("-- everywhere --", "")] + [(b.label, b.help) for b in APP_KEYS]
            for left, right in rows:
                with dpg.table_row():
                    dpg.add_text(left, color=theme.ACCENT if left.startswith("--") else theme.TEXT)
                    dpg.add_text(right, wrap=360)

    def status(self, text: str, error: bool = False) -> None:
        """The one line at the bottom of the window."""
        if error:
            log.warning("%s", text)
        if dpg.does_item_exist("app.status"):
            dpg.set_value("app.status", text)
            dpg.configure_item("app.status", color=theme.ERROR if error else theme.STATUS)

    def ask(self, message: str, choices: list[tuple[str, object]]) -> None:
        """A modal question; each choice is (button label, function to run, or None to cancel)."""
        dpg.set_value("app.prompt.text", message)
        dpg.delete_item("app.prompt.buttons", children_only=True)
        for label, action in choices:
            dpg.add_button(label=label, parent="app.prompt.buttons", width=170, height=32,
                           callback=lambda s, a, u: self._answer(u), user_data=action)
        dpg.configure_item("app.prompt", show=True)

    def prompt_choices(self) -> list[str]:
        """The labels of the open prompt's buttons (empty when no prompt is open)."""
        if not dpg.is_item_shown("app.prompt"):
            return []
        return [dpg.get_item_label(b) for b in dpg.get_item_children("app.prompt.buttons", 1)]

    def choose(self, label: str) -> None:
        """Click a button of the open prompt (the button's own callback runs)."""
        for button in dpg.get_item_children("app.prompt.buttons", 1):
            if dpg.get_item_label(button) == label:
                dpg.get_item_callback(button)(button, None, dpg.get_item_user_data(button))
                return
        raise KeyError(f"no prompt button {label!r} (open: {self.prompt_choices()})")

    def _answer(self, action) -> None:
        dpg.configure_item("app.prompt", show=False)
        if action is not None:
            self.guard(action)

    # -- closing ------------------------------------------------------------------------------------------
    def request_close(self) -> None:
        """The window's close button (and File > Quit): ask first if anything is unsaved or running."""
        unsaved = [(view, view.unsaved()) for view in self.views]
        unsaved = [(view, text) for view, text in unsaved if text]
        running = [run for run in self.runs.active if not run.cancelling]
        if running:
            lines = "\n".join(f"- {run.summary()}" for run in running)
            self.ask(f"Still running:\n{lines}\n\nClosing the window stops {'it' if len(running) == 1 else 'them'}"
                     " (finished videos and snapshots stay; a rerun resumes).",
                     [("Stop and close", lambda: self._stop_and_close(bool(unsaved))), ("Keep running", None)])
            return
        if not unsaved:
            self.quit()
            return
        lines = "\n".join(f"- {view.title}: {text}" for view, text in unsaved)
        self.ask(f"Unsaved changes:\n{lines}\n\nSave them before closing?",
                 [("Save and close", self._save_and_quit), ("Close without saving", self.quit),
                  ("Cancel", None)])

    def _stop_and_close(self, ask_unsaved: bool) -> None:
        self.runs.cancel_all()
        if ask_unsaved:
            self.request_close()
        else:
            self.quit()

    def _save_and_quit(self) -> None:
        for view in self.views:
            if view.unsaved() and not view.save_all():
                self.status(f"{view.title}: saving failed; the window stays open", error=True)
                return
        self.quit()

    def quit(self) -> None:
        self.closed = True
        dpg.stop_dearpygui()

