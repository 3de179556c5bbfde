"""A virtual X display for the window: ``Xvfb :N`` on a free display number, OpenGL in software.

Used by the window tests' session fixture and by ``benchmarks/gui_frame_latency.py``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time

SCREEN = "1600x1000x24"


class NoDisplay(RuntimeError):
    """Xvfb is missing or could not start; the message says which."""


def _free_display() -> int:
    for number in range(140, 400):
        if not os.path.exists(f"/tmp/.X11-unix/X{number}") and not os.path.exists(f"/tmp/.X{number}-lock"):
            return number
    raise NoDisplay("no free X display number between :140 and :399")


def start_xvfb(screen: str = SCREEN) -> tuple[subprocess.Popen, str]:
    """Start Xvfb with GLX; returns (process, ":N"). Sets nothing in the environment."""
    binary = shutil.which("Xvfb")
    if binary is None:
        raise NoDisplay("Xvfb is not installed (Debian: apt-get install xvfb); the window needs a display")
    log = ""
    for _ in range(5):  # another run may take the same number at the same moment
        number = _free_display()
        process = subprocess.Popen([binary, f":{number}", "-screen", "0", screen, "+extension", "GLX",
                                    "-nolisten", "tcp", "-noreset"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        end = time.monotonic() + 10
        while time.monotonic() < end and process.poll() is None:
            if os.path.exists(f"/tmp/.X11-unix/X{number}"):
                return process, f":{number}"
            time.sleep(0.05)
        if process.poll() is None:
            process.kill()
        log = process.stderr.read().decode(errors="replace")[-500:] if process.stderr else ""
        process.wait()
    raise NoDisplay(f"Xvfb could not start a display: {log.strip() or 'no socket appeared'}")


def stop_xvfb(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
