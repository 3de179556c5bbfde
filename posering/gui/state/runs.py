"""Runs of workflow steps from the window: each in a child process, as ``posering <step>`` is.

A :class:`Run` is a list of :class:`Call` s (an API step and its arguments) run in order in one
child process (:mod:`posering.gui.state.run_child`: a fresh interpreter that calls
``getattr(posering, step)(**kwargs)``, the command line's own functions). A process, not a
thread, because a run must be cancellable whatever it is doing (in torch, in ``ray.get``), must
not hold the window's interpreter lock for minutes, and must leave nothing behind when stopped:
the child leads its own process group, and its local Ray instance goes with it. Ray still does
any fanning out inside the step.

The child reports what the command line shows: every tqdm bar the step draws, posering's log
lines, then the result or the error, as JSON lines on a pipe. A reader thread in the window's
process hands them to the main thread through :class:`~.tasks.Tasks`, so Dear PyGui is only
touched by the frame loop.

Cancelling sends SIGTERM: the step unwinds (its ``finally`` blocks and atomic writes run, so no
half file is left); after :data:`GRACE_S` the child's whole process group is killed.
"""

from __future__ import annotations

import logging
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

from posering.gui.state.tasks import Tasks

log = logging.getLogger("posering.gui")

GRACE_S = 5.0  # how long a cancelled step may take to unwind before it is killed
POLL_S = 0.2  # how often the child reports its bars
LOG_LINES = 400  # log lines a run keeps for its details

STARTING, RUNNING, DONE, FAILED, CANCELLED = "starting", "running", "done", "failed", "cancelled"
FINAL = (DONE, FAILED, CANCELLED)


@dataclass(frozen=True)
class Call:
    """One step of a run: ``posering.<step>(**kwargs)`` (or ``"module:function"`` for steps
    outside the API, such as the cluster's submit), shown to the user as ``label``."""

    label: str
    step: str
    kwargs: dict = field(default_factory=dict)


@dataclass
class Bar:
    """One progress bar of the step, as tqdm holds it."""

    desc: str
    n: float
    total: float | None
    elapsed: float
    rate: float | None
    unit: str
    postfix: dict[str, str]

    @property
    def fraction(self) -> float | None:
        return min(1.0, self.n / self.total) if self.total else None

    @property
    def eta(self) -> float | None:
        """Seconds left at the current rate."""
        if not self.total or not self.rate:
            return None
        return max(0.0, (self.total - self.n) / self.rate)

    def number(self, key: str) -> float | None:
        """A numeric postfix value (``loss=0.0123`` -> 0.0123)."""
        try:
            return float(self.postfix[key])
        except (KeyError, ValueError):
            return None

    def text(self) -> str:
        """``analyzing 120/500 frame, 12.3 frame/s, 31 s left``."""
        done = f"{self.n:g}/{self.total:g}" if self.total else f"{self.n:g}"
        parts = [f"{self.desc} {done} {self.unit}".strip()]
        if self.rate:
            parts.append(f"{self.rate:.3g} {self.unit}/s")
        if self.eta is not None:
            parts.append(f"{format_seconds(self.eta)} left")
        parts += [f"{k} {v}" for k, v in self.postfix.items()]
        return ", ".join(parts)


def format_seconds(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


class Run:
    """One run's state, updated on the main thread from the child's messages."""

    def __init__(self, title: str, calls: list[Call], on_change: Callable[["Run"], None] | None = None):
        if not calls:
            raise ValueError("a run needs at least one call")
        self.title = title
        self.calls = list(calls)
        self.on_change = on_change
        self.state = STARTING
        self.index = 0  # the call running now
        self.bars: list[Bar] = []
        self.history: list[tuple[int, list[Bar]]] = []  # (call index, bars) as they came
        self.results: list[Any] = [None] * len(calls)
        self.finished: list[bool] = [False] * len(calls)
        self.log: deque[str] = deque(maxlen=LOG_LINES)
        self.error: str | None = None  # the one line
        self.traceback = ""
        self.started = time.monotonic()
        self.ended: float | None = None
        self.output_file = ""  # the child's stdout/stderr (tqdm, warnings, Ray's lines)
        self._process = None
        self._cancel_at: float | None = None

    # -- what the window shows ---------------------------------------------------------------------------
    @property
    def active(self) -> bool:
        return self.state not in FINAL

    @property
    def call(self) -> Call:
        return self.calls[min(self.index, len(self.calls) - 1)]

    def fraction(self) -> float:
        """Overall progress: finished calls plus the current call's main bar."""
        if self.state == DONE:
            return 1.0
        done = sum(self.finished)
        current = 0.0
        if self.active and self.bars:
            current = next((b.fraction for b in self.bars if b.fraction is not None), 0.0) or 0.0
        return min(1.0, (done + current) / len(self.calls))

    def call_fraction(self, index: int) -> float:
        if self.finished[index]:
            return 1.0
        if index != self.index or not self.bars:
            return 0.0
        return next((b.fraction for b in self.bars if b.fraction is not None), 0.0) or 0.0

    def elapsed(self) -> float:
        return (self.ended or time.monotonic()) - self.started

    def summary(self) -> str:
        """One line: what runs now, or how it ended."""
        if self.state == DONE:
            return f"{self.title}: done in {format_seconds(self.elapsed())}"
        if self.state == CANCELLED:
            return f"{self.title}: cancelled"
        if self.state == FAILED:
            return f"{self.title} failed: {self.error}"
        if self._cancel_at is not None:
            return f"{self.title}: cancelling..."
        step = f" ({self.index + 1}/{len(self.calls)})" if len(self.calls) > 1 else ""
        now = self.bars[0].text() if self.bars else ("starting..." if self.state == STARTING else "working...")
        return f"{self.call.label}{step}: {now}"

    def details(self) -> str:
        """What a user (or a bug report) needs: the error, the traceback, the log, the output."""
        parts = [self.summary()]
        if self.traceback:
            parts += ["", self.traceback.rstrip()]
        if self.log:
            parts += ["", "log:", *self.log]
        if self.output_file:
            parts += ["", f"full output: {self.output_file}"]
        return "\n".join(parts)

    # -- messages from the child (main thread) ---------------------------------------------------------
    def apply(self, message: tuple) -> None:
        kind = message[0]
        if kind == "progress":
            _, index, bars, lines = message
            if self.state == STARTING:
                self.state = RUNNING
            if index != self.index:
                self.bars = []
            self.index = index
            if bars is not None:
                self.bars = [Bar(**b) for b in bars]
                self.history.append((index, self.bars))
            self.log.extend(lines)
        elif kind == "result":
            _, index, value = message
            self.results[index] = value
            self.finished[index] = True
            self.bars = []
        elif kind == "end":
            _, state, error, trace = message
            self._end(state, error, trace)
        if self.on_change is not None:
            self.on_change(self)

    def _end(self, state: str, error: str | None = None, trace: str = "") -> None:
        if not self.active:
            return
        self.state = CANCELLED if self._cancel_at is not None and state != DONE else state
        self.error, self.traceback = error, trace
        self.ended = time.monotonic()
        self.bars = []

    # -- control -----------------------------------------------------------------------------------------
    def cancel(self) -> None:
        """Ask the step to stop (SIGTERM); it is killed if it has not stopped after GRACE_S."""
        if not self.active or self._cancel_at is not None:
            return
        self._cancel_at = time.monotonic()
        process = self._process
        if process is not None and process.poll() is None:
            try:
                process.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
        if self.on_change is not None:
            self.on_change(self)

    @property
    def cancelling(self) -> bool:
        return self._cancel_at is not None and self.active


class Runs:
    """The window's runs: starting them, reading their children, stopping them all on close."""

    def __init__(self, tasks: Tasks):
        self.tasks = tasks
        self.runs: list[Run] = []
        self.output_dir = tempfile.mkdtemp(prefix="posering-gui-runs-")

    @property
    def active(self) -> list[Run]:
        return [run for run in self.runs if run.active]

    def start(self, run: Run, env: dict[str, str] | None = None) -> Run:
        """Start ``run``'s child process; its messages reach ``run.apply`` on the main thread."""
        number = len(self.runs) + 1
        run.output_file = os.path.join(self.output_dir, f"run-{number}.log")
        read_end, write_end = os.pipe()
        with open(run.output_file, "ab") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "posering.gui.state.run_child", str(write_end)],
                stdin=subprocess.PIPE, stdout=output, stderr=output, pass_fds=(write_end,),
                env=child_env(env), start_new_session=True)
        os.close(write_end)
        run._process = process
        self.runs.append(run)
        threading.Thread(target=self._read, args=(run, process, read_end), daemon=True,
                         name=f"posering-gui-run-{number}").start()
        try:
            process.stdin.write(json.dumps([asdict(call) for call in run.calls]).encode())
            process.stdin.close()
        except (BrokenPipeError, TypeError, ValueError) as exc:  # arguments that are not plain data
            run.cancel()
            self.tasks.post(run.apply, ("end", FAILED, f"cannot start {run.title}: {exc}", ""))
        return run

    def _read(self, run: Run, process: subprocess.Popen, read_end: int) -> None:
        """Forward the child's messages to the main thread until it ends; kill it if a cancel
        was not obeyed in time."""
        ended = False
        with os.fdopen(read_end, "rb", buffering=0) as pipe:
            buffer = b""
            while True:
                ready, _, _ = select.select([pipe], [], [], 0.1)
                if run._cancel_at is not None and time.monotonic() - run._cancel_at > GRACE_S:
                    _kill_group(process)
                if not ready:
                    continue
                chunk = pipe.read(65536)
                if not chunk:  # the child closed the pipe: it has exited
                    break
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    message = tuple(json.loads(line))
                    ended = ended or message[0] == "end"
                    self.tasks.post(run.apply, message)
        try:
            code = process.wait(timeout=GRACE_S)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            code = process.wait()
        _kill_group(process)  # Ray's helpers started by the step, should any outlive it
        if not ended:
            self.tasks.post(run.apply, ("end", FAILED, f"the run stopped unexpectedly (exit code {code}); "
                                                       "its details show its output", ""))

    def close(self) -> None:
        """The window closes: stop every run and remove their output files."""
        self.cancel_all(wait=GRACE_S)
        shutil.rmtree(self.output_dir, ignore_errors=True)

    def cancel_all(self, wait: float = 0.0) -> None:
        """Cancel every active run; with ``wait``, wait that long for them to stop, then kill them."""
        for run in self.active:
            run.cancel()
        end = time.monotonic() + wait
        for run in self.runs:
            process = run._process
            if process is None or process.poll() is not None:
                continue
            try:
                process.wait(timeout=max(0.01, end - time.monotonic()))
            except subprocess.TimeoutExpired:
                if wait:
                    _kill_group(process)


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment, with the posering it runs first on the path (a checkout's copy
    in a test, the installed one otherwise) and any ``extra`` variables."""
    import posering

    env = dict(os.environ)
    here = os.path.dirname(os.path.dirname(os.path.abspath(posering.__file__)))
    env["PYTHONPATH"] = os.pathsep.join([here, *filter(None, [env.get("PYTHONPATH")])])
    env.update(extra or {})
    return env


def _kill_group(process) -> None:
    """SIGKILL the child's process group (the child leads its own: ``start_new_session``)."""
    pid = process.pid
    if not pid:
        return
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


