"""Run independent per-series jobs one after another, or as Ray tasks.

Post-processing fits one model per bodypart and axis; the fits share nothing, so each can be a
Ray task. This module is the only place in ``posering.post`` that knows about Ray. It never
starts or connects Ray itself: the caller (command line, job script, test) owns ``ray.init``, and
when Ray is not initialised the jobs simply run here, serially, with the same results.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from typing import Any

from posering.errors import PoseringError

log = logging.getLogger(__name__)

PARALLEL_CHOICES = (None, "ray")


def check_parallel(parallel: str | None) -> None:
    """Refuse an unknown `parallel` value early, before any work is done."""
    if parallel not in PARALLEL_CHOICES:
        raise PoseringError(f"parallel={parallel!r} is not known; use None (serial) or 'ray'")


def ray_ready() -> bool:
    """True when Ray is importable and ``ray.init`` has already been called in this process."""
    try:
        import ray
    except ImportError:
        return False
    return ray.is_initialized()


@functools.cache
def _as_task(fn: Callable[..., Any]) -> Any:
    """The Ray remote version of `fn`, made once per function (registering costs a round trip)."""
    import ray

    return ray.remote(num_cpus=1)(fn)


def map_series(
    fn: Callable[..., Any], jobs: Sequence[dict[str, Any]], parallel: str | None = None
) -> list[Any]:
    """``[fn(**kw) for kw in jobs]``, computed as Ray tasks when ``parallel='ray'``.

    Results come back in the order of `jobs`. `fn` must be a module-level function (Ray
    pickles it by reference) whose arguments and result are plain numbers and arrays.
    """
    check_parallel(parallel)
    if parallel == "ray" and len(jobs) > 1:
        if ray_ready():
            import ray

            task = _as_task(fn)
            return ray.get([task.remote(**kw) for kw in jobs])
        log.warning("parallel='ray' asked but Ray is not initialised; running serially")
    return [fn(**kw) for kw in jobs]
