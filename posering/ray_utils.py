"""Ray in posering: one policy for starting it, workers sized from the cluster, one way to fan out.

* :func:`ensure_ray` is the only place that starts Ray (a local instance) or joins a cluster
  (``address`` / ``RAY_ADDRESS``); an initialised Ray (a test session, a Ray job, a Ray worker)
  is reused, so work fanned out inside a task becomes nested tasks.
* :func:`fan_out` runs ``function(*arguments)`` per argument tuple, as Ray tasks or as plain
  calls in this process: which one is configuration (``on_ray``), not a second code path.
  :func:`fan_out_in_order` streams Ray tasks' results in order while later ones still run.
* :func:`worker_resources` sizes model-replica actors from what the cluster holds.
"""

from __future__ import annotations

import functools
import json
import logging
import os
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import numpy as np

from posering.errors import PoseringError

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
    # Every process of this job (tasks, actors, Ray Train's controller and workers, Tune's
    # trials) reaches the same storage as this one: s3 endpoint and credentials travel along.
    # A Ray job's own runtime environment may hold them already; Ray refuses the same key twice.
    given = _job_env_vars()
    missing = {k: v for k, v in worker_env().items() if k not in given}
    if missing:
        options["runtime_env"] = {"env_vars": missing}
    if address:
        log.info("joining the Ray cluster at %s", address)
        ray.init(address=address, **options)
    else:
        # "local": a new instance of our own. With no address Ray would join the latest
        # `ray start` cluster on this machine (/tmp/ray/ray_current_cluster), someone else's.
        ray.init(address="local", num_cpus=num_cpus, include_dashboard=False, **options)
        log.info("started a local Ray instance (%s CPUs)", ray.cluster_resources().get("CPU"))
    return ray


def _job_env_vars() -> dict:
    """The env_vars of the runtime environment this process runs in as a Ray job's driver."""
    try:
        job_config = json.loads(os.environ.get("RAY_JOB_CONFIG_JSON_ENV_VAR") or "{}")
    except ValueError:
        return {}
    return dict((job_config.get("runtime_env") or {}).get("env_vars") or {})


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


PARALLEL_CHOICES = (None, "ray")


def wants_ray(parallel: str | None) -> bool:
    """A pure function's ``parallel`` argument (None: serial, 'ray': Ray tasks), checked early."""
    if parallel not in PARALLEL_CHOICES:
        raise PoseringError(f"parallel={parallel!r} is not known; use None (serial) or 'ray'")
    return parallel == "ray"


# -- fanning out -------------------------------------------------------------------------------------
@dataclass
class Failure:
    """One task that failed, in the place of its result: a one-line reason and the exception."""

    message: str
    exception: BaseException | None = None

    @classmethod
    def of(cls, exc: BaseException) -> "Failure":
        """A PoseringError (also one raised inside a Ray task) keeps its own line; anything else
        is named by its type and first line, and keeps the whole error (remote traceback
        included) for ``--debug``."""
        cause = _cause(exc)
        if isinstance(cause, PoseringError):
            return cls(str(cause), cause)
        lines = str(cause).strip().splitlines()
        return cls(f"{type(cause).__name__}: {lines[0]}" if lines else type(cause).__name__, exc)


def fan_out(function: Callable, argument_lists, on_ray: bool, on_done: Callable | None = None,
            keep_failures: bool = False) -> list:
    """``[function(*arguments) for arguments in argument_lists]``: Ray tasks or calls here.

    ``on_ray``: run each as a Ray task (Ray is started or joined by :func:`ensure_ray`);
    otherwise one after another in this process. Results come back in the given order;
    ``on_done(i, result)`` is called as each finishes. A task that fails: with
    ``keep_failures`` its place holds a :class:`Failure` and the others run on; otherwise its
    error is raised (a :class:`PoseringError` as itself, one line, not a remote traceback) and
    the tasks not yet finished are cancelled. ``function`` must be a module-level function
    (Ray pickles it by reference).
    """
    argument_lists = [tuple(arguments) for arguments in argument_lists]
    results: list = [None] * len(argument_lists)
    outcomes = _ray_outcomes(function, argument_lists) if on_ray else _local_outcomes(function, argument_lists)
    try:
        for i, outcome in outcomes:
            if isinstance(outcome, Failure) and not keep_failures:
                raise outcome.exception from None
            results[i] = outcome
            if on_done is not None:
                on_done(i, outcome)
    finally:
        outcomes.close()  # cancels Ray tasks still running when this ends early
    return results


def fan_out_in_order(function: Callable, argument_lists) -> Iterator:
    """Results of ``function(*arguments)`` as Ray tasks, in the given order, each as soon as it is
    done: the consumer works on the first while later ones still run. An error is raised as in
    :func:`fan_out`; stopping early (an error, or closing the iterator) cancels the rest."""
    ray = ensure_ray()
    refs = [_remote(function).options(**task_options()).remote(*arguments)
            for arguments in _shared_once(ray, [tuple(a) for a in argument_lists])]
    given = 0
    try:
        for ref in refs:
            outcome = _get(ray, ref)
            if isinstance(outcome, Failure):
                raise outcome.exception from None
            given += 1
            yield outcome
    finally:
        for ref in refs[given:]:
            ray.cancel(ref)


def _local_outcomes(function: Callable, argument_lists: list[tuple]) -> Iterator[tuple[int, Any]]:
    for i, arguments in enumerate(argument_lists):
        try:
            outcome = function(*arguments)
        except Exception as exc:  # reported in the task's place; the caller decides what it means
            log.debug("%s failed", getattr(function, "__name__", function), exc_info=True)
            outcome = Failure.of(exc)
        yield i, outcome


def _ray_outcomes(function: Callable, argument_lists: list[tuple]) -> Iterator[tuple[int, Any]]:
    ray = ensure_ray()
    task = _remote(function).options(**task_options())
    refs = [task.remote(*arguments) for arguments in _shared_once(ray, argument_lists)]
    position = {ref: i for i, ref in enumerate(refs)}
    pending = list(refs)
    try:
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            yield position[done[0]], _get(ray, done[0])
    finally:
        for ref in pending:
            ray.cancel(ref)


def _get(ray, ref) -> Any:
    try:
        return ray.get(ref)
    except ray.exceptions.RayError as exc:
        return Failure.of(exc)


def _cause(exc: BaseException) -> BaseException:
    """The error raised inside a Ray task (RayTaskError wraps it), else ``exc`` itself."""
    cause = getattr(exc, "cause", None)
    return cause if isinstance(cause, BaseException) else exc


@functools.cache
def _remote(function: Callable):
    """The Ray remote version of ``function``, made once (registering costs a round trip)."""
    import ray

    return ray.remote(num_cpus=1)(function)


def _shared_once(ray, argument_lists: list[tuple]) -> list[tuple]:
    """Arrays that several tasks take (the same object) go to the object store once, not per task."""
    arrays = [id(v) for arguments in argument_lists for v in arguments if isinstance(v, np.ndarray)]
    refs: dict[int, Any] = {}

    def once(value):
        if not isinstance(value, np.ndarray) or arrays.count(id(value)) < 2:
            return value
        if id(value) not in refs:
            refs[id(value)] = ray.put(value)
        return refs[id(value)]

    return [tuple(once(value) for value in arguments) for arguments in argument_lists]


# -- sizing model-replica actors -----------------------------------------------------------------
@dataclass
class Resources:
    """Where workers run: how many, and what each one holds."""

    num_workers: int = 1
    cpus_per_worker: float = 1.0
    gpus_per_worker: float = 0.0
    threads_per_worker: int | None = None
    device: str | None = "auto"
    address: str | None = None


def worker_resources(num_workers: int | None, gputouse: int | None = None, address: str | None = None,
                     gpus_per_worker: float | None = None) -> Resources:
    """Workers sized from what the Ray cluster holds, not from the machine of the driver: a job
    submitted to a cluster usually runs its driver on a head node with no GPU.

    ``num_workers=0``: no Ray, one worker in this process (on GPU ``gputouse`` if given). Else
    one replica per GPU of the cluster (``gpus_per_worker`` each), or, without GPUs, CPU
    replicas (one per 4 CPUs by default) whose threads fit on one node.
    """
    if num_workers == 0:
        import torch

        device = f"cuda:{gputouse}" if gputouse is not None and torch.cuda.device_count() else "auto"
        return Resources(num_workers=0, device=device, address=address)
    ray = ensure_ray(address)
    gpus = float(ray.cluster_resources().get("GPU", 0))
    if gpus_per_worker is None and gpus:
        gpus_per_worker = 1.0
    if gpus_per_worker:
        workers = num_workers or int(gpus // gpus_per_worker)
        if not workers:
            log.warning("the cluster has no GPU yet: starting 1 worker; pass num_workers to have the "
                        "autoscaler add more GPU nodes")
        return Resources(num_workers=max(1, workers), cpus_per_worker=1, gpus_per_worker=gpus_per_worker,
                         device="cuda", address=address)
    total_cpus, largest_node_cpus = cluster_cpus(ray)
    workers = num_workers or max(1, total_cpus // 4)
    # Each worker's threads fit on one node, or its actor could never be placed.
    threads = max(1, min(total_cpus // workers, largest_node_cpus))
    return Resources(num_workers=workers, cpus_per_worker=threads, threads_per_worker=threads,
                     device="cpu", address=address)


def cluster_cpus(ray) -> tuple[int, int]:
    """(CPUs of the whole cluster, CPUs of its largest live node)."""
    per_node = [int(node["Resources"].get("CPU", 0)) for node in ray.nodes() if node.get("Alive")]
    total = int(ray.cluster_resources().get("CPU", 0)) or sum(per_node) or (os.cpu_count() or 1)
    return total, max(per_node or [total])
