"""Steps for the tests of runs: slow, with a tqdm bar, to watch progress and cancelling.

They run in the run's child process (imported there as ``tests.gui.steps``)."""

from __future__ import annotations

import logging
import signal
import time
from pathlib import Path

from tqdm.auto import tqdm


def counting(n: int = 50, seconds: float = 0.05, marker: str | None = None, stubborn: bool = False) -> int:
    """Count to n with a progress bar (a loss in its postfix); write ``marker`` when unwinding."""
    if stubborn:  # a step that ignores the polite request to stop
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    log = logging.getLogger("posering.test")
    try:
        with tqdm(total=n, desc="counting", unit="it") as bar:
            for i in range(n):
                time.sleep(seconds)
                bar.update(1)
                bar.set_postfix(loss=f"{1.0 / (i + 1):.4f}", refresh=False)
                if i % 10 == 0:
                    log.info("step %d", i)
        return n
    finally:
        if marker:
            Path(marker).write_text("unwound")


def failing(message: str) -> None:
    from posering.errors import PoseringError

    raise PoseringError(message)
