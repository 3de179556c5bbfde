"""Extract by hand: scrub a video, grab frames or ranges into labeled-data, set its crop box
(DeepLabCut step C, manual).

Seeking runs on one worker thread where the newest request wins: while the slider is dragged the
window shows :meth:`Scrubber.preview` frames (a nearby frame that is cheap to decode), and when it
is let go, or an arrow key is pressed, :meth:`Scrubber.exact` fetches the very frame. Grabbing runs
:func:`posering.extract_frames` (manual mode) on a worker thread.
"""

from __future__ import annotations

import dearpygui.dearpygui as dpg

from posering.gui import theme
from posering.gui.frame_plot import FramePlot
from posering.gui.state.extraction import ManualExtraction, ProjectVideo, project_videos
from posering.gui.state.images import prepare
from posering.gui.state.keymap import EXTRACT_KEYS, EXTRACT_MOUSE, action_for
from posering.gui.state.tasks import Latest
from posering.gui.views import View
from posering.gui.views._points import PANEL_WIDTH


class ExtractView(View):
    title = "Extract by hand"
    order = 20
    keys = EXTRACT_KEYS
    mouse = EXTRACT_MOUSE
    tag = "extract"

    def __init__(self, app):
        super().__init__(app)
        self.plot = FramePlot(app, self.tag)
        self.videos: list[ProjectVideo] = []
        self.state: ManualExtraction | None = None
        self.scrubber = None
        self.seeker: Latest | None = None
        self.busy = False
        self._grabbed: set[int] | None = None  # frames already in the folder (listed once per change)

    # -- widgets -----------------------------------------------------------------------------------------
    def build(self, parent) -> None:
        t = self.tag
        with dpg.group(horizontal=True, parent=parent):
            with dpg.child_window(width=PANEL_WIDTH, tag=f"{t}.panel"):
                dpg.add_text("Video", color=theme.ACCENT)
                dpg.add_combo([], tag=f"{t}.video", width=-1, callback=lambda s, a: self.open_video(a))
                dpg.add_text("", tag=f"{t}.info", wrap=PANEL_WIDTH - 20, color=theme.DIM)
                dpg.add_separator()
                dpg.add_text("", tag=f"{t}.frame")
                dpg.add_slider_int(tag=f"{t}.slider", width=-1, min_value=0, max_value=1,
                                   callback=lambda s, a: self.scrub(a))
                with dpg.item_handler_registry(tag=f"{t}.slider.handlers"):
                    dpg.add_item_deactivated_after_edit_handler(callback=lambda: self.released())
                dpg.bind_item_handler_registry(f"{t}.slider", f"{t}.slider.handlers")
                dpg.add_button(label="Grab frame (Ctrl+G)", tag=f"{t}.grab", width=-1, height=32,
                               callback=lambda: self.grab_frame())
                with dpg.group(horizontal=True):
                    dpg.add_text("from")
                    dpg.add_input_int(tag=f"{t}.start", width=110, min_value=0, min_clamped=True,
                                      callback=lambda s, a: setattr(self.state, "range_start", a) if self.state else None)
                    dpg.add_text("count")
                    dpg.add_input_int(tag=f"{t}.count", width=90, default_value=10, min_value=1, min_clamped=True,
                                      callback=lambda s, a: setattr(self.state, "range_count", a) if self.state else None)
                self.app.text_inputs += [f"{t}.start", f"{t}.count"]
                dpg.add_button(label="Grab range", tag=f"{t}.grab_range", width=-1,
                               callback=lambda: self.grab_range())
                dpg.add_checkbox(label="crop grabbed frames to the box", tag=f"{t}.use_crop")
                dpg.add_separator()
                dpg.add_text("Crop box (x1, x2, y1, y2)", color=theme.ACCENT)
                dpg.add_checkbox(label="show and edit the box on the frame", tag=f"{t}.edit_crop",
                                 callback=lambda s, a: self.show_box(a))
                dpg.add_text("", tag=f"{t}.crop")
                dpg.add_button(label="Save crop to config.yaml", tag=f"{t}.save_crop", width=-1,
                               callback=lambda: self.save_crop())
                dpg.add_separator()
                dpg.add_text("", tag=f"{t}.grabbed", wrap=PANEL_WIDTH - 20)
                dpg.add_text("", tag=f"{t}.hint", wrap=PANEL_WIDTH - 20, color=theme.DIM)
            with dpg.child_window(tag=f"{t}.canvas", border=False, no_scrollbar=True):
                self.plot.build(f"{t}.canvas")
        # The box's handles (corners and edges to drag); Dear PyGui draws plot-level drag tools
        # beneath the image, so its outline is a line series drawn over it.
        dpg.add_drag_rect(parent=self.plot.plot, tag=f"{t}.crop_rect", show=False, color=(255, 200, 60, 255),
                          callback=lambda s, a: self.crop_dragged())
        dpg.add_line_series([], [], parent=self.plot.yaxis, tag=f"{t}.crop_line", show=False)
        with dpg.theme() as outline:
            with dpg.theme_component(dpg.mvLineSeries):
                dpg.add_theme_color(dpg.mvPlotCol_Line, (255, 200, 60, 255), category=dpg.mvThemeCat_Plots)
                dpg.add_theme_style(dpg.mvPlotStyleVar_LineWeight, 2.5, category=dpg.mvThemeCat_Plots)
        dpg.bind_item_theme(f"{t}.crop_line", outline)

    # -- opening ---------------------------------------------------------------------------------------------
    def on_project(self, config) -> None:
        self.close_video()
        self.state = None
        for box in ("edit_crop", "use_crop"):
            dpg.set_value(f"{self.tag}.{box}", False)
        self.show_box(False)
        self.videos = project_videos(config) if config is not None else []
        dpg.configure_item(f"{self.tag}.video", items=[v.name for v in self.videos])
        dpg.set_value(f"{self.tag}.video", "")
        if self.videos:
            self.open_video(self.videos[0].name)
        else:
            self.plot.clear()
            self.show_state()

    def open_video(self, name: str) -> None:
        from posering.video.scrub import Scrubber

        video = next(v for v in self.videos if v.name == name)
        self.close_video()
        self.scrubber = Scrubber(video.location)
        s = self.scrubber
        self.state = ManualExtraction(self.app.config, video, s.nframes, s.fps, s.width, s.height)
        self.seeker = Latest(self.app.tasks, name="seek")
        self._grabbed = None
        dpg.set_value(f"{self.tag}.video", name)
        dpg.configure_item(f"{self.tag}.slider", max_value=s.nframes - 1)
        dpg.set_value(f"{self.tag}.info", f"{s.width}x{s.height}, {s.nframes} frames, {s.fps:.2f} fps"
                      + ("" if video.key else "\n(not in config.yaml yet: added when you grab a frame)"))
        self.show_crop()
        self.seek_exact(0)

    def close(self) -> None:
        self.close_video()

    def close_video(self) -> None:
        if self.scrubber is not None:
            scrubber, self.scrubber = self.scrubber, None
            if self.seeker is not None:
                self.seeker.stop(scrubber.close, wait=10)  # after the seek in flight, on its thread
            else:
                scrubber.close()
        self.seeker = None

    # -- seeking -----------------------------------------------------------------------------------------------
    def scrub(self, index: int) -> None:
        """The slider moves: a preview frame, newest request wins."""
        if self.state is None:
            return
        self.state.goto(index)
        self.seeker.request(self.scrubber.preview, self.state.index, on_done=self.previewed,
                            on_error=self.failed)
        self.show_state()

    def released(self) -> None:
        if self.state is not None:
            self.seek_exact(self.state.index)

    def seek_exact(self, index: int) -> None:
        index = self.state.goto(index)
        dpg.set_value(f"{self.tag}.slider", index)
        scrubber = self.scrubber
        self.seeker.request(lambda: (index, scrubber.exact(index)), on_done=self.exact, on_error=self.failed)
        self.show_state()

    def previewed(self, result) -> None:
        if self.state is None or self.state.exact and self.state.shown == self.state.index:
            return
        index, image = result
        self.state.shown, self.state.exact = index, index == self.state.index
        self.plot.show(prepare(image, self.plot.view_size()))
        self.show_state()

    def exact(self, result) -> None:
        index, image = result
        if self.state is None:
            return
        self.state.shown, self.state.exact = index, index == self.state.index
        self.plot.show(prepare(image, self.plot.view_size()))
        self.show_state()

    def failed(self, message: str) -> None:
        self.app.status(message, error=True)

    def on_key(self, key: str, ctrl: bool, shift: bool) -> bool:
        action = action_for(self.keys, key, ctrl, shift)
        if action is None or self.state is None:
            return False
        s = self.state
        moves = {"next_frame": s.index + 1, "prev_frame": s.index - 1, "jump_forward": s.index + s.second(),
                 "jump_back": s.index - s.second(), "first_frame": 0, "last_frame": s.nframes - 1}
        if action in moves:
            self.seek_exact(moves[action])
        elif action == "grab_frame":
            self.grab_frame()
        return True

    # -- grabbing and cropping ---------------------------------------------------------------------------------
    def grab_frame(self) -> None:
        if self.state is not None:
            self.grab([self.state.index])

    def grab_range(self) -> None:
        if self.state is not None:
            self.state.range_start = dpg.get_value(f"{self.tag}.start")
            self.state.range_count = dpg.get_value(f"{self.tag}.count")
            self.grab(self.state.range_indices())

    def grab(self, indices: list[int]) -> None:
        if self.busy:
            return
        self.busy = True
        crop = bool(dpg.get_value(f"{self.tag}.use_crop"))
        self.app.status(f"grabbing {len(indices)} frame(s) into labeled-data/{self.state.video.stem}/ ...")
        self.app.tasks.submit(self.state.grab, indices, crop, name="grab", on_done=self.grabbed,
                              on_error=self.grab_failed)

    def grabbed(self, result: dict) -> None:
        self.busy = False
        added, skipped = result.get("added", 0), result.get("skipped", 0)
        self.app.status(f"{added} frame(s) added to {result.get('folder', '')}"
                        + (f", {skipped} already there" if skipped else ""))
        self._grabbed = None
        self.show_state()
        for view in self.app.views:  # the new images appear in Label and the others
            if view is not self:
                self.app.guard(view.on_files_changed)

    def grab_failed(self, message: str) -> None:
        self.busy = False
        self.app.status(message, error=True)

    def show_box(self, shown: bool) -> None:
        dpg.configure_item(f"{self.tag}.crop_rect", show=shown)
        dpg.configure_item(f"{self.tag}.crop_line", show=shown)

    def crop_dragged(self) -> None:
        if self.state is None:
            return
        x1, y1, x2, y2 = (v + 0.5 for v in dpg.get_value(f"{self.tag}.crop_rect")[:4])  # edges -> pixels
        self.state.set_crop(x1, y1, x2, y2)
        self.outline(x1 - 0.5, y1 - 0.5, x2 - 0.5, y2 - 0.5)
        dpg.set_value(f"{self.tag}.crop", str(self.state.crop))

    def outline(self, x1: float, y1: float, x2: float, y2: float) -> None:
        dpg.set_value(f"{self.tag}.crop_line", [[x1, x2, x2, x1, x1], [y1, y1, y2, y2, y1]])

    def set_crop(self, x1: float, y1: float, x2: float, y2: float) -> None:
        """Put the box there (what dragging its corners does)."""
        self.state.set_crop(x1, y1, x2, y2)
        self.show_crop()

    def show_crop(self) -> None:
        c = self.state.crop
        dpg.set_value(f"{self.tag}.crop_rect", (c.x1 - 0.5, c.y1 - 0.5, c.x2 - 0.5, c.y2 - 0.5))
        self.outline(c.x1 - 0.5, c.y1 - 0.5, c.x2 - 0.5, c.y2 - 0.5)
        dpg.set_value(f"{self.tag}.crop", str(c))

    def save_crop(self) -> None:
        if self.state is None:
            return
        crop = self.state.save_crop()
        self.app.status(f"crop {crop} saved for {self.state.video.name} in config.yaml")
        self.show_state()

    def tick(self, now: float) -> None:
        self.plot.tick()

    # -- drawing ---------------------------------------------------------------------------------------------
    def show_state(self) -> None:
        s, t = self.state, self.tag
        if s is None:
            dpg.set_value(f"{t}.frame", "")
            dpg.set_value(f"{t}.grabbed", "")
            dpg.set_value(f"{t}.hint", "No videos: add videos to the project (videos/ or "
                          "`posering add_new_videos`)." if self.app.config else "Open a project first.")
            return
        seconds = s.index / s.fps
        shown = ("exact" if s.exact else f"showing {s.shown}") if s.shown is not None else "loading"
        dpg.set_value(f"{t}.frame", f"frame {s.index} / {s.nframes - 1}   {seconds:.2f} s   ({shown})")
        if self._grabbed is None:
            self._grabbed = s.grabbed()
        grabbed = self._grabbed
        dpg.set_value(f"{t}.grabbed", f"{len(grabbed)} frames in labeled-data/{s.video.stem}/"
                      + (" (this one too)" if s.index in grabbed else ""))
        dpg.set_value(f"{t}.hint", "")


VIEW = ExtractView
