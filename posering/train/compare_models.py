"""``compare_models``: train several models to the same time budget on Ray Tune, rank them.

Each trial is one shuffle (:mod:`posering.train.comparison_plan`), all on the same train/test
frames, and each is one Ray Train run (:func:`posering.train.ray_train.fit_shuffle`) launched
from a Tune trial, training for ``minutes_per_trial`` (:mod:`posering.train.budget`) and
reporting the test metrics as it goes. ASHA (Ray Tune's asynchronous successive halving) stops
trials that are clearly behind at 1/4 and 1/2 of the budget, so the budget goes to the promising
ones. Snapshots land in each shuffle's ``train/`` folder on the project's storage.

Resumable: Tune's experiment state lives in the project's ``ray-runs/`` folder, named after the
request. Call ``compare_models`` again with the same arguments after the driver died: the plan
and its shuffles are reused, finished trials are not trained again, unfinished ones continue
from their last snapshot with the budget they had left.

The results (:mod:`posering.train.leaderboard`): a leaderboard printed and saved as
``evaluation-results-pytorch/model-comparison/leaderboard.csv``, a plot of test RMSE against
training minutes, and ``best.yaml``, which ``analyze_videos(config, videos, shuffle="best")`` reads.
"""

from __future__ import annotations

import logging

import pandas as pd

from posering.errors import ConfigError, ModelError, PoseringError, TrainingError
from posering.model.build import pick_device
from posering.project import ProjectPaths, load_config
from posering.ray_utils import ensure_ray
from posering.train.comparison_plan import plan_comparison
from posering.train.leaderboard import build_leaderboard, curve_of, write_results
from posering.train.ray_train import (TRIAL_RESOURCES, cluster_has_gpus, fit_shuffle, posering_error,
                                      ray_runs_location, ray_storage, worker_resources)
from posering.train.shuffle_run import plan_training
from posering.formats.snapshots import latest_resumable
from posering.project.paths import COMPARISON_EXPERIMENT_PREFIX

log = logging.getLogger("posering.train")

METRICS = {"test_rmse": "min", "test_rmse_pcutoff": "min", "test_mAP": "max"}


def _comparison_trial(config: dict, plans: dict, settings: dict) -> None:
    """A Tune trial: the driver of one shuffle's Ray Train run (its name survives a restore)."""
    plan = plans[config["shuffle"]]
    options = {k: v for k, v in settings.items() if k != "experiment"}
    fit_shuffle(plan, name=f"{settings['experiment']}-shuffle{plan.shuffle}", in_tune=True, **options)


def compare_models(config: str, shuffles: list[int] | None = None, net_types: list[str] | None = None,
                   search_space: dict | None = None, num_samples: int = 1, minutes_per_trial: float = 10.0,
                   metric: str = "test_rmse", scheduler: str = "asha", trainingsetindex: int = 0,
                   num_workers: int = 1, use_gpu: bool | None = None, max_concurrent: int | None = None,
                   ray_address: str | None = None, max_failures: int = 3, seed: int = 0) -> pd.DataFrame:
    """Train models to the same time budget on Ray Tune and rank them; returns the leaderboard.

    Parameters
    ----------
    config: path or URL of the project's config.yaml.
    shuffles: existing shuffles to compare (e.g. made by create_training_model_comparison).
    net_types: networks to compare, each a new shuffle on one shared split, e.g. resnet_50 mobilenet_v2_1.0 mobilenet_v4_small.
    search_space: settings to draw per model: {name: value | [choices] | {loguniform: [low, high]}}; names lr, batch_size, crop_size, augmentation or dotted pytorch_config.yaml keys.
    num_samples: draws from search_space per model (each its own shuffle).
    minutes_per_trial: the time budget of each trial, in minutes of training.
    metric: what ranks the models: test_rmse, test_rmse_pcutoff or test_mAP.
    scheduler: asha (stop trials that are behind early) or none (train every trial to its budget).
    trainingsetindex: which TrainingFraction of config.yaml (0 = the first).
    num_workers: data-parallel Ray Train workers per trial.
    use_gpu: one GPU per worker (default: when the Ray cluster has GPUs).
    max_concurrent: trials training at once (default: all; on CPUs they share the cores).
    ray_address: the Ray cluster to train on (default: RAY_ADDRESS, else a local Ray instance).
    max_failures: how often a trial's run restarts its workers after a worker dies.
    seed: seed of the draws from search_space.
    """
    import ray.tune

    if metric not in METRICS:
        raise ConfigError(f"metric {metric!r}: use one of {', '.join(METRICS)}")
    if scheduler not in ("asha", "none"):
        raise ConfigError(f"scheduler {scheduler!r}: use asha or none")
    if not float(minutes_per_trial) > 0:
        raise ConfigError(f"minutes_per_trial must be a positive number of minutes, got {minutes_per_trial!r}")
    request = {"net_types": list(net_types or []), "shuffles": [int(s) for s in shuffles or []],
               "search_space": search_space or {}, "num_samples": int(num_samples),
               "minutes_per_trial": float(minutes_per_trial), "metric": metric,
               "trainingsetindex": int(trainingsetindex), "seed": int(seed)}
    key, trials = plan_comparison(config, request)
    storage_path, filesystem = ray_storage(ray_runs_location(config))
    experiment = COMPARISON_EXPERIMENT_PREFIX + key
    path = f"{storage_path.rstrip('/')}/{experiment}"
    restoring = ray.tune.Tuner.can_restore(path, storage_filesystem=filesystem)

    # Plans first (checks every shuffle before anything trains); a restored comparison resumes its
    # shuffles from their last snapshots instead of starting them over.
    plans = {}
    paths = ProjectPaths(load_config(config))
    fraction = load_config(config).training_fractions[int(trainingsetindex)]
    for trial in trials:
        started = latest_resumable(paths.train_dir(fraction, trial.shuffle)) is not None
        plan = plan_training(config, trial.shuffle, trainingsetindex, minutes=float(minutes_per_trial),
                             resume=restoring and started)
        if not _test_frames(plan):
            raise ModelError(f"shuffle {trial.shuffle}: its split has no test frame to compare models on; "
                             "use a TrainingFraction below 1")
        plans[trial.shuffle] = plan

    ray = ensure_ray(ray_address)
    use_gpu = cluster_has_gpus(ray) if use_gpu is None else bool(use_gpu)
    concurrent = min(len(trials), int(max_concurrent or len(trials)))
    resources, threads = worker_resources(ray, concurrent * num_workers, use_gpu)
    settings = dict(num_workers=num_workers, use_gpu=use_gpu, resources=resources, threads=threads,
                    max_failures=max_failures, experiment=experiment)
    trainable = ray.tune.with_resources(ray.tune.with_parameters(_comparison_trial, plans=plans, settings=settings),
                                        TRIAL_RESOURCES)
    if restoring:
        log.info("model comparison %s: resuming the Tune experiment in %s (finished trials are kept)", key, path)
        tuner = ray.tune.Tuner.restore(path, trainable, resume_unfinished=True, resume_errored=True,
                                       storage_filesystem=filesystem)
    else:
        asha = None
        if scheduler == "asha":
            asha = ray.tune.schedulers.ASHAScheduler(time_attr="minutes", max_t=float(minutes_per_trial),
                                                     grace_period=float(minutes_per_trial) / 4, reduction_factor=2)
        log.info("model comparison %s: %d trials of %.4g minutes, %d at once, %d worker(s) each with %s",
                 key, len(trials), minutes_per_trial, concurrent, num_workers, resources)
        tuner = ray.tune.Tuner(
            trainable, param_space={"shuffle": ray.tune.grid_search([t.shuffle for t in trials])},
            tune_config=ray.tune.TuneConfig(metric=metric, mode=METRICS[metric], scheduler=asha,
                                            max_concurrent_trials=concurrent),
            run_config=ray.tune.RunConfig(name=experiment, storage_path=storage_path, storage_filesystem=filesystem,
                                          failure_config=ray.tune.FailureConfig(max_failures=1), verbose=1))
    grid = tuner.fit()
    results, errors = {}, []
    for result in grid:
        shuffle = (result.config or {}).get("shuffle")
        if shuffle is not None:
            results[int(shuffle)] = result
        if result.error is not None:
            errors.append(posering_error(result.error) or result.error)
            log.warning("shuffle %s failed: %s", shuffle, str(errors[-1]).strip().splitlines()[-1])
    if errors and len(errors) == len(trials):
        raise errors[0] if isinstance(errors[0], PoseringError) else TrainingError(
            f"every trial of the comparison failed: {str(errors[0]).strip().splitlines()[-1]}")

    board = build_leaderboard(config, trainingsetindex, trials, results, float(minutes_per_trial), metric,
                              pick_device("auto"))
    curves = {_label(t): curve_of(results.get(t.shuffle)) for t in trials}
    winner = write_results(config, trainingsetindex, board, curves, float(minutes_per_trial), metric, key)
    with pd.option_context("display.max_columns", None, "display.width", 200):
        print(board.drop(columns=["snapshot"]).to_string(index=False))
    if winner:
        log.info("best: shuffle %d (%s), %s %.2f, snapshot %s; analyze with shuffle=\"best\" (%s)", winner["shuffle"],
                 winner["net_type"], metric, winner["value"], winner["snapshot"], paths.comparison_winner)
    log.info("leaderboard: %s; plot: %s", paths.leaderboard_file, paths.leaderboard_plot)
    return board


def _label(trial) -> str:
    drawn = ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in trial.params.items())
    return f"shuffle {trial.shuffle}: {trial.net_type}" + (f" ({drawn})" if drawn else "")


def _test_frames(plan) -> bool:
    from posering.dataset.training_set import load_training_set

    return bool(load_training_set(plan.config, plan.shuffle, plan.trainingsetindex).test_indices)
