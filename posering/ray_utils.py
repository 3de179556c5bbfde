"""Starting or joining Ray (the embedded default, or a cluster named by address / RAY_ADDRESS),
and running posering's tasks on it."""

from __future__ import annotations

import logging
import os

log = logging.getLogger("posering.ray")


def ensure_ray(address: str | None = None, num_cpus: int | None = None):
    """Initialise Ray once per process and return the module.

    With no ``address`` and no ``RAY_ADDRESS``, ``ray.init()`` starts a local instance on this
    machine (the embedded default). ``address="auto"`` or a ``ray://host:10001`` URL joins a
    cluster. An already initialised Ray (a test session, a job running on a cluster) is reused.
    """
    import ray

    if ray.is_initialized():
        return ray
    address = address or os.environ.get("RAY_ADDRESS")
    options: dict = {"log_to_driver": True, "configure_logging": False}
    if address:
        log.info("joining the Ray cluster at %s", address)
        ray.init(address=address, **options)
    else:
        # "local": a new instance of our own. With no address Ray would join the latest
        # `ray start` cluster on this machine (/tmp/ray/ray_current_cluster), someone else's.
        ray.init(address="local", num_cpus=num_cpus, include_dashboard=False, **options)
        log.info("started a local Ray instance (%s CPUs)", ray.cluster_resources().get("CPU"))
    return ray


# Environment variables that tell storage where remote data lives and how to reach it. Workers
# need them to read and write the same s3:// locations as the driver.
_FORWARDED_PREFIXES = ("AWS_", "FSSPEC_", "POSERING_")


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
