"""The real window under Xvfb, driven by real X input events.

These tests run in a process of their own (``tests/gui/test_window.py`` starts it with
``POSERING_GUI_WINDOW=1``): a live OpenGL context (Mesa's llvmpipe loads LLVM) must not share a
process with torch/triton, which bundle their own LLVM, and Dear PyGui 2.3 cannot reliably
create a second context in a process. To run them directly:
``POSERING_GUI_WINDOW=1 python3 -m pytest tests/gui/window``.

* ``xvfb`` (session): ``Xvfb :N`` on a free display number with software Mesa GL; DISPLAY set.
  Tests that need it skip with the reason only where Xvfb is missing or cannot start.
* ``window`` (session): the client's window, built once; ``pilot``: that window with no project
  open, and a :class:`Pilot` that presses keys and clicks in it through XTEST, one frame at a time.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.gui.window.display import NoDisplay, start_xvfb, stop_xvfb
from tests.gui.window.xinput import XInput, available

if os.environ.get("POSERING_GUI_WINDOW") != "1":
    collect_ignore_glob = ["test_*.py"]  # run by tests/gui/test_window.py in their own process

WIDTH, HEIGHT = 1280, 800  # the client's window in the tests


@pytest.fixture(scope="session")
def xvfb():
    reason = available()
    if reason:
        pytest.skip(reason)
    try:
        process, display = start_xvfb()
    except NoDisplay as exc:
        pytest.skip(str(exc))
    saved = {k: os.environ.get(k) for k in ("DISPLAY", "LIBGL_ALWAYS_SOFTWARE")}
    os.environ["DISPLAY"] = display
    os.environ["LIBGL_ALWAYS_SOFTWARE"] = "1"
    yield display
    stop_xvfb(process)
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


class Pilot:
    """Drives a built :class:`posering.gui.app.App` with real input, one frame at a time."""

    def __init__(self, app, display: str):
        self.app = app
        self.x = XInput(display)

    def frames(self, n: int = 1) -> None:
        for _ in range(n):
            self.app.step()

    def settle(self, timeout: float = 30.0) -> None:
        """Frames until background work (saves, runs) has finished and its results are shown."""
        assert self.app.tasks.wait(timeout=timeout, step=self.app.step), "background work did not finish"
        self.frames(2)

    def press(self, key: str, ctrl: bool = False, shift: bool = False) -> None:
        """Press and release a key (with modifiers) as a person would."""
        mods = (["Ctrl"] if ctrl else []) + (["Shift"] if shift else [])
        self.point_at_window()
        for mod in mods:
            self.x.key(mod, True)
        self.x.key(key, True)
        self.frames(1)
        self.x.key(key, False)
        for mod in reversed(mods):
            self.x.key(mod, False)
        self.frames(1)

    def point_at_window(self) -> None:
        """Keyboard focus follows the pointer without a window manager: keep it over the window."""
        import dearpygui.dearpygui as dpg

        x, y = dpg.get_mouse_pos(local=False)
        if not (5 <= x < self.app.size[0] - 5 and 5 <= y < self.app.size[1] - 5):
            self.move(self.app.size[0] // 2, 12)

    def click_item(self, tag, button: str = "left") -> None:
        """Click the middle of a widget (a button, a selectable)."""
        import dearpygui.dearpygui as dpg

        (x, y), (w, h) = dpg.get_item_rect_min(tag), dpg.get_item_rect_size(tag)
        self.move(x + w / 2, y + h / 2)
        self.x.button(button, True)
        self.frames(1)
        self.x.button(button, False)
        self.frames(2)

    # -- the image plot ----------------------------------------------------------------------------------
    def move(self, x: float, y: float) -> None:
        """Move the mouse and draw frames until the window has seen it arrive."""
        import dearpygui.dearpygui as dpg

        target = [float(int(round(x))), float(int(round(y)))]
        self.x.move(*target)
        for _ in range(20):
            self.frames(1)
            if list(dpg.get_mouse_pos(local=False)) == target:
                self.frames(1)  # plots take the new position in the frame after
                return
        raise AssertionError(f"the mouse did not reach {target} (at {dpg.get_mouse_pos(local=False)})")

    def hover(self, plot, x: float, y: float) -> tuple[float, float]:
        """Put the mouse over image point (x, y); returns the image point really under it (the
        mouse sits on whole screen pixels)."""
        self.move(*plot.to_screen(x, y))
        assert plot.hovered(), "the mouse is not over the image"
        return plot.mouse()

    def click(self, plot, x: float, y: float, button: str = "right") -> tuple[float, float]:
        """Click at image point (x, y); returns where the click really was."""
        where = self.hover(plot, x, y)
        self.x.button(button, True)
        self.frames(1)
        self.x.button(button, False)
        self.frames(1)
        return where

    def zoom(self, plot, x: float, y: float, clicks: int = 3) -> None:
        """Turn the wheel over image point (x, y): zoom in (clicks > 0) or out."""
        self.hover(plot, x, y)
        for _ in range(abs(clicks)):
            button = "wheel_up" if clicks > 0 else "wheel_down"
            self.x.button(button, True)
            self.x.button(button, False)
            self.frames(2)

    def drag(self, plot, start: tuple[float, float], end: tuple[float, float], steps: int = 5) -> None:
        """Left-drag from one image point to another."""
        self.hover(plot, *start)
        self.x.button("left", True)
        self.frames(1)
        for i in range(1, steps + 1):
            t = i / steps
            self.move(*plot.to_screen(start[0] + (end[0] - start[0]) * t, start[1] + (end[1] - start[1]) * t))
        self.frames(1)
        self.x.button("left", False)
        self.frames(2)

    def screenshot(self, path: str | os.PathLike) -> None:
        import dearpygui.dearpygui as dpg

        Path(path).parent.mkdir(parents=True, exist_ok=True)
        dpg.output_frame_buffer(str(path))
        self.frames(3)
        end = time.monotonic() + 10
        while not Path(path).exists() and time.monotonic() < end:
            self.frames(1)

    def restart(self) -> None:
        """Close the project as closing the window does (views close their sessions and remember
        where the user was), back to an empty window. (One Dear PyGui context per process: its
        2.3 releases do not free a destroyed context's window, and a second one may crash.)"""
        self.app.close_project()
        self.frames(2)

    def close(self) -> None:
        self.x.close()


@pytest.fixture(scope="session")
def window(xvfb):
    """The client's window, built once per test session (Dear PyGui 2.3 cannot reliably create a
    second context in a process); each test starts from an empty window."""
    from posering.gui.app import App

    app = App(width=WIDTH, height=HEIGHT, vsync=False).build()
    yield app
    app.destroy()


@pytest.fixture
def pilot(window, xvfb):
    """The window with no project open, and a pilot for it."""
    window.close_project()
    pilot = Pilot(window, xvfb)
    pilot.frames(2)
    yield pilot
    window.tasks.wait(timeout=30)
    window.close_project()
    pilot.close()
