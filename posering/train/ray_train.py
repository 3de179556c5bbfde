"""Training on Ray Train: one ``TorchTrainer`` run per shuffle, several shuffles through Ray Tune.

``train_network(config, shuffles=[1, 2, 3], num_workers=2)`` comes here. Each shuffle is its own
Ray Train run (``TorchTrainer``) of ``num_workers`` data-parallel workers running
:func:`posering.train.ray_worker.train_worker`, which runs the same loop and writes the same
files as the single-process path. One shuffle's run is started from this process; several are
Ray Tune trials (Ray's way of running many Train runs at once, as its docs describe: each trial
is the small driver of one run), so Ray places them and runs them concurrently as resources allow.

Resources: Ray Train V2's controller reserves no CPU, and a Tune trial here reserves none
either (only a byte of memory: Tune needs some request), so the CPUs all go to training workers.
On CPUs each worker reserves an equal share of the cluster, at most one node's CPUs, so all
workers of all shuffles run at once (3 shuffles on 2 cores: 0.66 CPU and one thread each); on
GPUs one GPU per worker, and runs wait for free GPUs.

Batch and learning rate with several workers: ``train_settings.batch_size`` stays the batch of
one optimizer step (the *global* batch), split between the workers, so DDP's averaged gradient
is the single-process one and the configured learning rate applies unchanged. Only when the
batch does not divide evenly does the global batch grow, and then the learning rate grows with
it (the linear scaling rule, Goyal et al. 2017). train.txt says which applied.

Ray's own state (checkpoints naming snapshots, Tune's experiment state) lives in the project's
``ray-runs/`` folder, on the project's storage: a local folder for a local project, the same
bucket for an ``s3://`` project, so every node of a cluster reaches it (Ray Train requires that).
"""

from __future__ import annotations

import copy
import logging
import math
import time

from posering import storage
from posering.errors import PoseringError, TrainingError
from posering.project import ProjectPaths, load_config
from posering.ray_utils import ensure_ray, worker_env
from posering.train.shuffle_run import TrainingPlan
from posering.formats.snapshots import latest_resumable
from posering.project.paths import TRAINING_EXPERIMENT_PREFIX

log = logging.getLogger("posering.train")

# What a Tune trial that only drives a Ray Train run reserves: Tune needs a non-empty request.
TRIAL_RESOURCES = {"memory": 1}


def worker_resources(ray, concurrent_workers: int, use_gpu: bool) -> tuple[dict, int]:
    """``(resources per worker, torch threads per worker)`` so that all workers run at once."""
    nodes = [node.get("Resources", {}) for node in ray.nodes() if node.get("Alive")]
    largest = max((n.get("CPU", 0.0) for n in nodes), default=0.0)
    total = sum(n.get("CPU", 0.0) for n in nodes)
    if use_gpu:  # one GPU each; the CPU threads of a node are split between its GPUs
        gpus = max((n.get("GPU", 0.0) for n in nodes), default=0.0) or 1.0
        return {"CPU": 1, "GPU": 1}, max(1, int(largest // gpus))
    if total <= 0:  # a cluster still at zero workers: one CPU each, the autoscaler adds nodes
        return {"CPU": 1}, 1
    share = min(largest, total / max(1, concurrent_workers))
    share = max(0.01, math.floor(share * 100) / 100)
    return {"CPU": share}, max(1, int(share))


def cluster_has_gpus(ray) -> bool:
    return ray.cluster_resources().get("GPU", 0) > 0


def data_parallel_plan(plan: TrainingPlan, num_workers: int) -> tuple[TrainingPlan, int]:
    """A copy of the plan for ``num_workers`` workers and the batch of each worker."""
    plan = copy.deepcopy(plan)
    configured = plan.batch_size
    if num_workers == 1:
        return plan, configured
    per_worker = max(1, round(configured / num_workers))
    effective = per_worker * num_workers
    note = (f"data-parallel on {num_workers} workers: {per_worker} images per worker per step, a global "
            f"batch of {effective}")
    if effective == configured:
        note += (" as train_settings.batch_size says; learning rate as configured (the averaged gradient "
                 "is that of one process with the whole batch)")
    else:
        scale = effective / configured
        runner = plan.model_cfg.setdefault("runner", {})
        params = runner.setdefault("optimizer", {}).setdefault("params", {})
        params["lr"] = float(params.get("lr", 5e-4)) * scale
        scheduler = (runner.get("scheduler") or {}).get("params") or {}
        if scheduler.get("lr_list"):
            scheduler["lr_list"] = [[float(v) * scale for v in (lrs if isinstance(lrs, list) else [lrs])]
                                    for lrs in scheduler["lr_list"]]
        note += (f" instead of {configured} (it does not divide by {num_workers}); learning rates scaled "
                 f"x{scale:.3g} (linear scaling rule)")
    plan.notes.append(note)
    return plan, per_worker


def ray_runs_location(config: str) -> str:
    return ProjectPaths(load_config(config)).ray_runs_dir


def ray_storage(location: str) -> tuple[str, object]:
    """``(storage_path, storage_filesystem)`` for Ray of the project's ``ray-runs/`` folder
    (``ray_runs_location``)."""
    filesystem, path = storage.arrow_filesystem(location)
    if filesystem is None:
        storage.makedirs(location)
    return path, filesystem


def posering_error(exc: BaseException) -> PoseringError | None:
    """The PoseringError a worker raised, found inside Ray's wrappers (None if there is none)."""
    seen, pending = set(), [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, PoseringError):
            return current
        pending.extend([getattr(current, "cause", None), current.__cause__, current.__context__,
                        getattr(current, "controller_failure", None)])
        pending.extend((getattr(current, "worker_failures", None) or {}).values())
    return None


def fit_shuffle(plan: TrainingPlan, *, num_workers: int, use_gpu: bool, resources: dict, threads: int,
                max_failures: int, name: str, in_tune: bool = False) -> str | None:
    """One Ray Train run of one shuffle; returns its last snapshot."""
    import ray.train
    from ray.train.torch import TorchTrainer

    from posering.train.ray_worker import train_worker

    plan, per_worker = data_parallel_plan(plan, num_workers)
    runs = ray_runs_location(plan.config)
    storage_path, filesystem = ray_storage(runs)
    callbacks = None
    if in_tune:
        from ray.tune.integration.ray_train import TuneReportCallback

        callbacks = [TuneReportCallback()]
    trainer = TorchTrainer(
        train_worker,
        train_loop_config={"plan": plan, "env": worker_env(), "threads": threads, "batch_size": per_worker,
                           "run_folder": storage.join(runs, name)},
        scaling_config=ray.train.ScalingConfig(num_workers=num_workers, use_gpu=use_gpu,
                                               resources_per_worker=resources),
        run_config=ray.train.RunConfig(
            name=name, storage_path=storage_path, storage_filesystem=filesystem, callbacks=callbacks,
            failure_config=ray.train.FailureConfig(max_failures=max_failures),
            checkpoint_config=ray.train.CheckpointConfig(num_to_keep=2)))
    log.info("shuffle %d: Ray Train run %s, %d worker(s) with %s each", plan.shuffle, name, num_workers, resources)
    try:
        trainer.fit()
    except ray.train.TrainingFailedError as exc:
        cause = posering_error(exc)
        if cause is not None:
            raise cause from None
        raise TrainingError(f"shuffle {plan.shuffle}: training on Ray failed after {max_failures} restart(s) "
                            f"({str(exc).strip().splitlines()[-1]}); the last snapshot is in {plan.train_dir}, "
                            "continue with resume=True") from None
    found = latest_resumable(plan.train_dir)
    return found.location if found else None


def _run_name(plan: TrainingPlan) -> str:
    return f"train-shuffle{plan.shuffle}-{time.strftime('%Y%m%d-%H%M%S')}"


def train_on_ray(plans: list[TrainingPlan], *, num_workers: int = 1, use_gpu: bool | None = None,
                 ray_address: str | None = None, max_failures: int = 3) -> list[str | None]:
    """Train the planned shuffles on Ray; returns each one's last snapshot, in order."""
    ray = ensure_ray(ray_address)
    use_gpu = cluster_has_gpus(ray) if use_gpu is None else bool(use_gpu)
    resources, threads = worker_resources(ray, len(plans) * num_workers, use_gpu)
    settings = dict(num_workers=num_workers, use_gpu=use_gpu, resources=resources, threads=threads,
                    max_failures=max_failures)
    if len(plans) == 1:
        return [fit_shuffle(plans[0], name=_run_name(plans[0]), **settings)]
    return _fit_on_tune(plans, settings)


def _shuffle_trial(config: dict, plans: dict, settings: dict) -> None:
    """A Tune trial: the driver of one shuffle's Ray Train run."""
    import ray.tune

    plan = plans[config["shuffle"]]
    trial = ray.tune.get_context().get_trial_id()
    fit_shuffle(plan, name=f"train-shuffle{plan.shuffle}-{trial}", in_tune=True, **settings)


def _fit_on_tune(plans: list[TrainingPlan], settings: dict) -> list[str | None]:
    import ray.tune

    storage_path, filesystem = ray_storage(ray_runs_location(plans[0].config))
    by_shuffle = {plan.shuffle: plan for plan in plans}
    trainable = ray.tune.with_resources(ray.tune.with_parameters(_shuffle_trial, plans=by_shuffle, settings=settings),
                                        TRIAL_RESOURCES)
    name = f"{TRAINING_EXPERIMENT_PREFIX}{'-'.join(str(p.shuffle) for p in plans)}-{time.strftime('%Y%m%d-%H%M%S')}"
    log.info("training shuffles %s on Ray Tune (%s), %d worker(s) each with %s", list(by_shuffle), name,
             settings["num_workers"], settings["resources"])
    tuner = ray.tune.Tuner(trainable, param_space={"shuffle": ray.tune.grid_search(list(by_shuffle))},
                           run_config=ray.tune.RunConfig(name=name, storage_path=storage_path,
                                                         storage_filesystem=filesystem, verbose=0))
    results = tuner.fit()
    for result in results:
        if result.error is not None:
            cause = posering_error(result.error)
            if cause is not None:
                raise cause from None
            shuffle = (result.config or {}).get("shuffle")
            raise TrainingError(f"shuffle {shuffle}: training on Ray failed "
                                f"({str(result.error).strip().splitlines()[-1]}); continue with resume=True")
    last = []
    for plan in plans:
        found = latest_resumable(plan.train_dir)
        last.append(found.location if found else None)
    return last
