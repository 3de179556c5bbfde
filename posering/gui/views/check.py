"""Check: browse the images check_labels draws, and run it (DeepLabCut step E)."""

from __future__ import annotations

import dearpygui.dearpygui as dpg

from posering import storage
from posering.gui import theme
from posering.gui.frame_plot import FramePlot
from posering.gui.state.checking import CheckBrowser, checkable_folders, swapped_labels_note
from posering.gui.state.images import ImageCache
from posering.gui.state.keymap import CHECK_KEYS, action_for
from posering.gui.views import View
from posering.gui.views._points import PANEL_WIDTH


class CheckView(View):
    title = "Check"
    order = 30
    keys = CHECK_KEYS
    mouse = [("Wheel / left-drag", "zoom / pan; double-click fits the image")]
    tag = "check"

    def __init__(self, app):
        super().__init__(app)
        self.browser: CheckBrowser | None = None
        self.plot = FramePlot(app, self.tag)
        self.cache = ImageCache()
        self.running = False

    def build(self, parent) -> None:
        t = self.tag
        with dpg.group(horizontal=True, parent=parent):
            with dpg.child_window(width=PANEL_WIDTH, tag=f"{t}.panel"):
                dpg.add_text("Folder (labeled-data/...)", color=theme.ACCENT)
                dpg.add_combo([], tag=f"{t}.folder", width=-1, callback=lambda s, a: self.open_folder(a))
                dpg.add_button(label="Run check_labels", tag=f"{t}.run", width=-1, height=32,
                               callback=lambda: self.run_check())
                dpg.add_text("Draws every labeled frame with its points into labeled-data/<video>_labeled/.",
                             wrap=PANEL_WIDTH - 20, color=theme.DIM)
                dpg.add_separator()
                dpg.add_text("", tag=f"{t}.imagename")
                dpg.add_slider_int(tag=f"{t}.slider", width=-1, min_value=1, max_value=1, default_value=1,
                                   callback=lambda s, a: self.act("goto", a - 1))
                dpg.add_text("", tag=f"{t}.hint", wrap=PANEL_WIDTH - 20, color=theme.DIM)
            with dpg.child_window(tag=f"{t}.canvas", border=False, no_scrollbar=True):
                self.plot.build(f"{t}.canvas")

    def on_project(self, config) -> None:
        self.browser = None
        folders = checkable_folders(config) if config is not None else []
        dpg.configure_item(f"{self.tag}.folder", items=folders)
        dpg.set_value(f"{self.tag}.folder", "")
        if folders:
            self.open_folder(folders[0])
        else:
            self.plot.clear()
            self.show()

    def close(self) -> None:
        self.cache.close()

    def on_files_changed(self) -> None:
        if self.app.config is not None:
            dpg.configure_item(f"{self.tag}.folder", items=checkable_folders(self.app.config))

    def open_folder(self, folder: str) -> None:
        self.browser = CheckBrowser(self.app.config, folder)
        dpg.set_value(f"{self.tag}.folder", folder)
        self.show(image_changed=True)

    def on_key(self, key: str, ctrl: bool, shift: bool) -> bool:
        action = action_for(self.keys, key, ctrl, shift)
        if action is None or self.browser is None:
            return False
        self.act(action)
        return True

    def act(self, action: str, *args) -> None:
        if self.browser is not None and getattr(self.browser, action)(*args):
            self.show(image_changed=True)

    def run_check(self) -> None:
        """check_labels on a worker thread; the images appear when it is done."""
        if self.app.config is None or self.running:
            return
        import posering as pr

        for view in self.app.views:  # draw what was just labeled too
            if view is not self and view.unsaved():
                view.save_all()
        self.running = True
        dpg.configure_item(f"{self.tag}.run", label="Running check_labels...", enabled=False)
        self.app.status("check_labels is drawing the labeled frames...")
        self.app.tasks.submit(pr.check_labels, self.app.config.location, name="check_labels",
                              on_done=self.checked, on_error=self.failed)

    def checked(self, result: dict) -> None:
        self.done()
        self.cache.clear()
        drawn = sum(entry.get("images", 0) for entry in (result or {}).values())
        self.app.status(f"check_labels drew {drawn} images")
        current = self.browser.stem if self.browser else None
        self.on_project(self.app.config)
        swapped = swapped_labels_note(result)
        if swapped is not None:  # show the first frame whose left/right labels look swapped
            text, current, image = swapped
            self.app.status(text, error=True)
        if current in (dpg.get_item_configuration(f"{self.tag}.folder")["items"] or []):
            self.open_folder(current)
            if swapped is not None and image in self.browser.names:
                self.browser.goto(self.browser.names.index(image))
                self.show(image_changed=True)

    def failed(self, message: str) -> None:
        self.done()
        self.app.status(message, error=True)

    def done(self) -> None:
        self.running = False
        dpg.configure_item(f"{self.tag}.run", label="Run check_labels", enabled=True)

    def tick(self, now: float) -> None:
        self.plot.tick()
        size = self.plot.view_size()
        if self.cache.max_size != size:
            self.cache.set_max_size(size)
            self.show(image_changed=True)

    def show(self, image_changed: bool = False) -> None:
        b, t = self.browser, self.tag
        if b is None or not b.nframes:
            dpg.set_value(f"{t}.imagename", "")
            dpg.set_value(f"{t}.hint", "No drawn images yet: press Run check_labels." if self.app.config
                          else "Open a project first.")
            if b is not None:
                self.plot.clear()
            return
        dpg.set_value(f"{t}.hint", "")
        dpg.set_value(f"{t}.imagename", f"{b.names[b.frame]}   ({b.frame + 1} / {b.nframes})")
        dpg.configure_item(f"{t}.slider", max_value=b.nframes)
        dpg.set_value(f"{t}.slider", b.frame + 1)
        if image_changed:
            self.plot.show(self.cache.get(b.image))
            nearby = [i for i in (b.frame + 1, b.frame - 1) if 0 <= i < b.nframes]
            self.cache.prefetch([storage.join(b.folder, b.names[i]) for i in nearby])


VIEW = CheckView
