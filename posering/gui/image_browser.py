"""Browse results in the window: a list of images (evaluation images, trajectory plots) or the
frames of a video (a labeled video), in a zoomable plot with a slider and previous/next.

Images are decoded on a :class:`~posering.gui.state.tasks.Latest` worker (only the newest request
runs while the slider is dragged) and uploaded on the main thread when they arrive. A video can
also be played: the next frame is asked for as soon as the last one is shown, at most at the
video's frame rate.
"""

from __future__ import annotations

import time

import dearpygui.dearpygui as dpg

from posering import storage
from posering.gui.frame_plot import FramePlot
from posering.gui.state.images import prepare
from posering.gui.state.tasks import Latest


class ImageBrowser:
    def __init__(self, app, tag: str):
        self.app = app
        self.tag = tag
        self.plot = FramePlot(app, f"{tag}.plot")
        self.images: list[str] = []
        self.video: str | None = None
        self.count = 0
        self.index = 0
        self.shown: int | None = None
        self.playing = False
        self.fps = 25.0
        self._reader = None
        self._next_at = 0.0
        self._worker: Latest | None = None

    def build(self, parent=0, height: int = -1) -> None:
        with dpg.group(tag=self.tag, **({"parent": parent} if parent else {})):
            with dpg.group(horizontal=True):
                dpg.add_button(label="<", tag=f"{self.tag}.prev", width=34, callback=lambda: self.step(-1))
                dpg.add_button(label=">", tag=f"{self.tag}.next", width=34, callback=lambda: self.step(1))
                dpg.add_button(label="Play", tag=f"{self.tag}.play", width=70, show=False,
                               callback=lambda: self.toggle_play())
                dpg.add_slider_int(tag=f"{self.tag}.slider", width=-1, min_value=1, max_value=1,
                                   callback=lambda s, a: self.show(a - 1))
            dpg.add_text("", tag=f"{self.tag}.name")
            with dpg.child_window(tag=f"{self.tag}.canvas", border=False, no_scrollbar=True, height=height):
                self.plot.build(f"{self.tag}.canvas")

    # -- what is browsed ------------------------------------------------------------------------------
    def set_images(self, images: list[str]) -> None:
        self._close_video()
        self.images, self.video, self.count = list(images), None, len(images)
        self._reset()

    def set_video(self, location: str) -> None:
        from posering.video import VideoReader

        self._close_video()
        self._reader = VideoReader(location)
        self.images, self.video = [], location
        self.count = len(self._reader)
        self.fps = float(self._reader.info.fps or 25.0) or 25.0
        self._reset()

    def _close_video(self) -> None:
        self.playing = False
        if self._reader is not None:
            reader, self._reader = self._reader, None
            if self._worker is not None:  # close after any read in flight
                self._worker.request(reader.close)
            else:
                reader.close()

    def _reset(self) -> None:
        if self._worker is None:
            self._worker = Latest(self.app.tasks, name=f"{self.tag}-images")
        self.index, self.shown = 0, None
        dpg.configure_item(f"{self.tag}.slider", max_value=max(1, self.count))
        dpg.configure_item(f"{self.tag}.play", show=self.video is not None, label="Play")
        if self.count:
            self.show(0)
        else:
            self.plot.clear()
            dpg.set_value(f"{self.tag}.name", "nothing to show yet")

    # -- navigation ------------------------------------------------------------------------------------
    def step(self, delta: int) -> None:
        if self.count:
            self.show(max(0, min(self.count - 1, self.index + delta)))

    def show(self, index: int) -> None:
        if not self.count:
            return
        self.index = index
        dpg.set_value(f"{self.tag}.slider", index + 1)
        if self.video is not None:
            reader = self._reader
            self._worker.request(lambda: (index, prepare(reader.read(index), self.plot.view_size())),
                                 on_done=self._arrived, on_error=self._failed)
        else:
            from posering.frames.images import decode_image

            location = self.images[index]
            self._worker.request(lambda: (index, prepare(decode_image(location), self.plot.view_size())),
                                 on_done=self._arrived, on_error=self._failed)

    def _arrived(self, value) -> None:
        index, image = value
        self.plot.show(image)
        self.shown = index
        what = storage.name(self.images[index]) if self.video is None else f"frame {index}"
        dpg.set_value(f"{self.tag}.name", f"{what}   ({index + 1} / {self.count})")
        self._next_at = time.monotonic() + 1.0 / self.fps

    def _failed(self, message: str) -> None:
        self.playing = False
        self.app.status(message, error=True)

    def toggle_play(self) -> None:
        self.playing = not self.playing and self.video is not None
        dpg.configure_item(f"{self.tag}.play", label="Pause" if self.playing else "Play")

    def tick(self, now: float) -> None:
        """Playing: ask for the next frame once the last one is shown and its time has come."""
        if not self.playing or self.shown != self.index or now < self._next_at:
            return
        if self.index + 1 >= self.count:
            self.toggle_play()
            return
        self.show(self.index + 1)

    def close(self) -> None:
        self._close_video()
