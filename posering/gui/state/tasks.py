"""Work off the main thread, with results handed back through a queue the window reads each frame.

Dear PyGui is not thread-safe: only the main thread may touch widgets. A worker therefore never
calls back into the window; it puts ``(callback, value)`` on :attr:`Tasks.results`, and the
window's frame loop calls :meth:`Tasks.drain`, which runs the callbacks on the main thread.

* :meth:`Tasks.submit` runs a function on a new daemon thread (saves, check_labels, merges);
* :class:`Latest` is one worker that only ever runs the newest request: while a slider is dragged,
  requests for frames the user has already scrolled past are dropped, not queued.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import traceback
from typing import Any, Callable

from posering.errors import PoseringError

log = logging.getLogger("posering.gui")

Callback = Callable[[Any], None]


def describe(exc: BaseException) -> str:
    """The one line a user sees: a PoseringError's message, else the exception's type and text."""
    return str(exc) if isinstance(exc, PoseringError) else f"{type(exc).__name__}: {exc}"


class Tasks:
    """Background functions; their results come back on the main thread through :meth:`drain`."""

    def __init__(self):
        self.results: queue.Queue = queue.Queue()
        self._running = 0
        self._lock = threading.Lock()

    @property
    def busy(self) -> int:
        with self._lock:
            return self._running

    def submit(self, function: Callable, *args, on_done: Callback | None = None,
               on_error: Callback | None = None, name: str = "task") -> None:
        """Run ``function(*args)`` on a thread; ``on_done(result)`` or ``on_error(message)`` follow
        on the main thread."""
        with self._lock:
            self._running += 1

        def work():
            try:
                value = function(*args)
            except BaseException as exc:  # reported, never lost in a thread
                log.debug("%s failed:\n%s", name, traceback.format_exc())
                self.results.put((on_error, describe(exc), True))
            else:
                self.results.put((on_done, value, True))

        threading.Thread(target=work, name=f"posering-gui-{name}", daemon=True).start()

    def post(self, callback: Callback | None, value: Any) -> None:
        """Hand a value to the main thread from any thread (used by :class:`Latest`)."""
        self.results.put((callback, value, False))

    def drain(self, limit: int = 64) -> int:
        """Run the callbacks of finished work (main thread, once per frame); returns how many."""
        done = 0
        while done < limit:
            try:
                callback, value, counted = self.results.get_nowait()
            except queue.Empty:
                break
            if counted:
                with self._lock:
                    self._running -= 1
            if callback is not None:
                callback(value)
            done += 1
        return done

    def wait(self, timeout: float = 60.0, step: Callable[[], Any] | None = None) -> bool:
        """Drain until no task is running (``step`` runs between checks, e.g. a frame); False on timeout."""
        end = time.monotonic() + timeout
        while True:
            self.drain()
            if not self.busy and self.results.empty():
                return True
            if time.monotonic() > end:
                return False
            if step is not None:
                step()
            else:
                time.sleep(0.005)


class Latest:
    """One worker thread that runs only the newest request; older pending ones are dropped."""

    def __init__(self, tasks: Tasks, name: str = "latest"):
        self._tasks = tasks
        self._wake = threading.Condition()
        self._request: tuple | None = None
        self._busy = False
        self._thread = threading.Thread(target=self._loop, name=f"posering-gui-{name}", daemon=True)
        self._thread.start()

    def request(self, function: Callable, *args, on_done: Callback | None = None,
                on_error: Callback | None = None) -> None:
        with self._wake:
            self._request = (function, args, on_done, on_error)
            self._wake.notify()

    def stop(self, last: Callable | None = None, wait: float = 0.0) -> None:
        """End the thread, after the call in flight; ``last()`` runs on it before it ends. Waits up
        to ``wait`` seconds for that."""
        with self._wake:
            self._request = (None, (last,), None, None)
            self._wake.notify()
        if wait:
            self._thread.join(wait)

    @property
    def idle(self) -> bool:
        with self._wake:
            return self._request is None and not self._busy

    def _loop(self) -> None:
        while True:
            with self._wake:
                while self._request is None:
                    self._wake.wait()
                function, args, on_done, on_error = self._request
                self._request = None
                self._busy = True
            if function is None:  # stop()
                if args[0] is not None:
                    try:
                        args[0]()
                    except Exception:
                        log.debug("closing after the last request failed", exc_info=True)
                return
            try:
                value = function(*args)
            except BaseException as exc:
                self._tasks.post(on_error, describe(exc))
            else:
                self._tasks.post(on_done, value)
            finally:
                with self._wake:
                    self._busy = False
