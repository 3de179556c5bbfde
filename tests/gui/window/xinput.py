"""Real keyboard and mouse input for the window under test, through X's XTEST extension.

Events go to the X server exactly as a person's would: X -> GLFW -> Dear PyGui -> the client's
handlers, so a test's key press runs the same code path as a real one. ctypes over libX11 and
libXtst (Debian: libx11-6, libxtst6), nothing else.
"""

from __future__ import annotations

import ctypes
import ctypes.util

_x11 = _xtst = None


def available() -> str | None:
    """None if XTEST can be used, else why not."""
    global _x11, _xtst
    if _x11 is None:
        try:
            _x11 = ctypes.cdll.LoadLibrary(ctypes.util.find_library("X11") or "libX11.so.6")
            _xtst = ctypes.cdll.LoadLibrary(ctypes.util.find_library("Xtst") or "libXtst.so.6")
        except OSError as exc:
            _x11 = None
            return f"libX11/libXtst not loadable ({exc}); apt-get install libx11-6 libxtst6"
        _x11.XOpenDisplay.restype = ctypes.c_void_p
        _x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
        _x11.XStringToKeysym.restype = ctypes.c_ulong
        _x11.XStringToKeysym.argtypes = [ctypes.c_char_p]
        _x11.XKeysymToKeycode.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
        _x11.XKeysymToKeycode.restype = ctypes.c_ubyte
        _x11.XFlush.argtypes = [ctypes.c_void_p]
        _x11.XSync.argtypes = [ctypes.c_void_p, ctypes.c_int]
        _x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
        _xtst.XTestFakeKeyEvent.argtypes = [ctypes.c_void_p, ctypes.c_uint, ctypes.c_int, ctypes.c_ulong]
        _xtst.XTestFakeButtonEvent.argtypes = [ctypes.c_void_p, ctypes.c_uint, ctypes.c_int, ctypes.c_ulong]
        _xtst.XTestFakeMotionEvent.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                                               ctypes.c_ulong]
    return None


# X keysym names of the keys the client uses
KEYSYMS = {"Left": "Left", "Right": "Right", "Up": "Up", "Down": "Down", "Home": "Home", "End": "End",
           "Delete": "Delete", "Backspace": "BackSpace", "F1": "F1", "Escape": "Escape", "Enter": "Return",
           "Ctrl": "Control_L", "Shift": "Shift_L"}
BUTTONS = {"left": 1, "middle": 2, "right": 3, "wheel_up": 4, "wheel_down": 5}


class XInput:
    """A connection to the display that sends key, button and motion events."""

    def __init__(self, display: str):
        reason = available()
        if reason:
            raise RuntimeError(reason)
        self._display = _x11.XOpenDisplay(display.encode())
        if not self._display:
            raise RuntimeError(f"cannot open display {display}")

    def close(self) -> None:
        if self._display:
            _x11.XCloseDisplay(self._display)
            self._display = None

    def _flush(self) -> None:
        """Wait until the server has handled the event, so the window sees it at its next frame."""
        _x11.XSync(self._display, 0)

    def key(self, name: str, down: bool) -> None:
        keysym = _x11.XStringToKeysym(KEYSYMS.get(name, name.lower() if len(name) == 1 else name).encode())
        code = _x11.XKeysymToKeycode(self._display, keysym)
        if not code:
            raise ValueError(f"no keycode for {name!r}")
        _xtst.XTestFakeKeyEvent(self._display, code, int(down), 0)
        self._flush()

    def move(self, x: float, y: float) -> None:
        _xtst.XTestFakeMotionEvent(self._display, -1, int(round(x)), int(round(y)), 0)
        self._flush()

    def button(self, name: str, down: bool) -> None:
        _xtst.XTestFakeButtonEvent(self._display, BUTTONS[name], int(down), 0)
        self._flush()
