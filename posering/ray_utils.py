"""Starting or joining Ray: the embedded default, or a cluster named by address / RAY_ADDRESS."""

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
        ray.init(num_cpus=num_cpus, include_dashboard=False, **options)
        log.info("started a local Ray instance (%s CPUs)", ray.cluster_resources().get("CPU"))
    return ray
