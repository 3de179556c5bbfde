"""The child process of a run (see :mod:`posering.gui.state.runs`): ``python -m`` this module.

It reads its calls as JSON on stdin, runs ``posering.<step>(**kwargs)`` for each, and writes
JSON lines on the pipe whose descriptor it is given:

* ``["progress", call index, bars or null (unchanged), new log lines]`` every :data:`POLL_S`;
* ``["result", call index, result]`` after each call (plain data: DataFrames as their "split" form);
* ``["end", "done" | "failed" | "cancelled", one-line error or null, traceback]`` last.

Bars are read from tqdm's own list of open bars, so the steps draw their usual progress bars and
need no hook for the window. SIGTERM raises :class:`Cancelled` in the step.
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import sys
import threading
import traceback
from typing import Any, Callable

POLL_S = 0.2  # how often the bars are reported
NICENESS = 5  # the run yields the CPU to the window first: the window must redraw within 100 ms


class Cancelled(BaseException):
    """Raised in the step when the window asks it to stop (a BaseException, so steps that catch
    Exception to carry on with the next video still stop)."""


def parse_postfix(text: str | None) -> dict[str, str]:
    """tqdm's postfix ``loss=0.0123, lr=0.001`` as a mapping."""
    if not text:
        return {}
    return {m.group(1): m.group(2).strip() for m in re.finditer(r"([\w./-]+)=([^,]+)", text)}


def bar_snapshot(bars) -> list[dict]:
    """The open tqdm bars as plain values (the fields of :class:`~posering.gui.state.runs.Bar`)."""
    out = []
    for bar in bars:
        if getattr(bar, "disable", False):
            continue
        try:
            info = bar.format_dict
        except Exception:  # a bar closed while being read
            continue
        n, elapsed = float(info.get("n") or 0), float(info.get("elapsed") or 0.0)
        rate = info.get("rate") or (n / elapsed if n and elapsed else None)
        out.append({"desc": str(info.get("prefix") or "").rstrip(": "), "n": n,
                    "total": float(info["total"]) if info.get("total") else None, "elapsed": elapsed,
                    "rate": float(rate) if rate else None, "unit": str(info.get("unit") or ""),
                    "postfix": parse_postfix(info.get("postfix"))})
    return out


class LogLines(logging.Handler):
    """posering's log lines since they were last taken."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S"))

    def emit(self, record):  # called with the handler's own lock held
        self.lines.append(self.format(record))

    def take(self) -> list[str]:
        with self.lock:
            lines, self.lines = self.lines, []
        return lines


class Pipe:
    """JSON lines to the window, from the step's thread and the reporting thread alike."""

    def __init__(self, fd: int):
        self.file = os.fdopen(fd, "w", buffering=1)
        self.lock = threading.Lock()

    def send(self, *message) -> None:
        line = json.dumps(message, default=str)
        with self.lock:
            self.file.write(line + "\n")
            self.file.flush()


def resolve(step: str) -> Callable:
    """``posering.<step>`` (the API the command line calls), or a ``module:function``."""
    import importlib

    if ":" in step:
        module_name, function_name = step.split(":")
        return getattr(importlib.import_module(module_name), function_name)
    import posering

    return getattr(posering, step)


def plain(value: Any) -> Any:
    """A result as JSON-ready data: DataFrames in pandas' "split" form, other objects as text."""
    if hasattr(value, "to_json") and hasattr(value, "columns"):
        return {"dataframe": json.loads(value.to_json(orient="split"))}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def main(fd: int) -> None:
    """Run the calls read from stdin, reporting on ``fd``."""
    _die_with_parent()
    if hasattr(os, "nice"):  # POSIX; the step's threads, Ray and its workers inherit it
        os.nice(NICENESS)
    pipe = Pipe(fd)
    calls = json.loads(sys.stdin.read() or "[]")

    def stop(signum, frame):
        raise Cancelled()

    signal.signal(signal.SIGTERM, stop)
    handler = LogLines()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("posering").setLevel(logging.INFO)
    logging.getLogger("posering").addHandler(handler)
    current = {"index": 0}
    done = threading.Event()

    def report() -> None:
        from tqdm.std import tqdm

        last, parent = None, os.getppid()
        while not done.wait(POLL_S):
            bars = bar_snapshot(list(tqdm._instances))
            lines = handler.take()
            try:
                if os.getppid() != parent:
                    raise BrokenPipeError("the window has gone")
                if bars != last or lines:
                    pipe.send("progress", current["index"], bars if bars != last else None, lines)
                    last = bars
            except OSError:  # nobody is listening any more: stop the step, as a cancel would
                os.kill(os.getpid(), signal.SIGTERM)
                return

    threading.Thread(target=report, daemon=True, name="posering-run-report").start()
    state, error, trace = "done", None, ""
    try:
        for index, call in enumerate(calls):
            current["index"] = index
            pipe.send("progress", index, [], handler.take())
            value = resolve(call["step"])(**call["kwargs"])
            pipe.send("result", index, plain(value))
    except Cancelled:
        state = "cancelled"
    except BaseException as exc:  # reported to the window, never lost
        from posering.gui.state.tasks import describe

        state, error, trace = "failed", describe(exc), traceback.format_exc()
        print(trace, file=sys.stderr)
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        done.set()
    try:
        pipe.send("progress", current["index"], None, handler.take())
        pipe.send("end", state, error, trace)
    except OSError:  # the window has gone
        pass
    _shutdown_ray()


def _die_with_parent() -> None:
    """On Linux, have the kernel send SIGTERM when the window's process dies (the reporting
    thread also notices, on every system, within POLL_S)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def _shutdown_ray() -> None:
    ray = sys.modules.get("ray")
    if ray is not None and ray.is_initialized():
        try:
            ray.shutdown()
        except Exception:
            pass


if __name__ == "__main__":
    main(int(sys.argv[1]))
