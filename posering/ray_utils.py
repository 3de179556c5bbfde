"""Ray, started once and the same way everywhere.

``ensure_ray()`` is the one place posering starts Ray: with no address (and no ``RAY_ADDRESS``)
it starts a local instance on this machine; with one it joins that cluster, so the same code runs
on a laptop and on a cloud cluster. A Ray that the caller (or a test) already started is used
as it is.
"""

from __future__ import annotations

import os
from pathlib import Path

# Environment variables that tell storage where remote data lives and how to reach it. Workers
# need them to read and write the same s3:// locations as the driver.
_FORWARDED_PREFIXES = ("AWS_", "FSSPEC_", "POSERING_")


def ensure_ray(address: str | None = None):
    """Initialise Ray unless it already is; return the ``ray`` module.

    address: a cluster to join (``ray://host:10001``, ``auto``); default ``RAY_ADDRESS`` or, when
        neither is set, a new local instance without the dashboard.
    """
    import ray

    if ray.is_initialized():
        return ray
    address = address or os.environ.get("RAY_ADDRESS")
    options: dict = {"address": address, "log_to_driver": False, "configure_logging": False}
    if not address:
        # A local instance: workers must import posering from wherever this process does, also
        # when it runs from a checkout rather than an installed package.
        package_root = str(Path(__file__).resolve().parents[1])
        path = os.pathsep.join(p for p in (package_root, os.environ.get("PYTHONPATH")) if p)
        options.update(include_dashboard=False, runtime_env={"env_vars": {"PYTHONPATH": path}})
    ray.init(**options)
    return ray


def worker_env() -> dict[str, str]:
    """Storage settings of this process, to hand to Ray tasks (``runtime_env``)."""
    return {k: v for k, v in os.environ.items() if k.startswith(_FORWARDED_PREFIXES)}


def task_options() -> dict:
    """``.options(...)`` for posering's Ray tasks: this process's storage settings travel along."""
    env = worker_env()
    return {"runtime_env": {"env_vars": env}} if env else {}


def run_tasks(function, argument_lists: list[tuple], on_done=None) -> list:
    """Run ``function(*arguments)`` for each tuple as Ray tasks; results in the given order.

    A :class:`~posering.errors.PoseringError` raised inside a task is raised here as itself (its
    one-line message, not a remote traceback). ``on_done(i, result)`` is called as each finishes.
    """
    from posering.errors import PoseringError

    ray = ensure_ray()
    remote = ray.remote(function).options(**task_options())
    refs = [remote.remote(*arguments) for arguments in argument_lists]
    position = {ref: i for i, ref in enumerate(refs)}
    results: list = [None] * len(refs)
    pending = list(refs)
    try:
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            i = position[done[0]]
            results[i] = ray.get(done[0])
            if on_done is not None:
                on_done(i, results[i])
    except ray.exceptions.RayTaskError as exc:
        for ref in pending:
            ray.cancel(ref)
        if isinstance(exc.cause, PoseringError):
            raise exc.cause from None
        raise
    return results
