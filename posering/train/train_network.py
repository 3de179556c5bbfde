"""``train_network``: train shuffles' networks (DeepLabCut's step G), here or on Ray Train.

Reads the model folder that ``create_training_dataset`` made
(``dlc-models-pytorch/iteration-<N>/<Task><date>-trainset<pct>shuffle<k>/train/pytorch_config.yaml``),
writes the options given here back into it, then trains with :func:`posering.train.loop.train`
and hooks that write snapshots, ``learning_stats.csv``, ``train.txt`` and
``learning_curve.png`` into ``train/`` (:mod:`posering.train.shuffle_run`).

By default one shuffle trains in this process, as DeepLabCut does. Naming ``shuffles``,
``num_workers`` or a Ray address (or asking for GPUs with ``use_gpu=True``) trains on Ray Train
instead (:mod:`posering.train.ray_train`): every shuffle its own run, concurrently as the
cluster allows, each data-parallel over ``num_workers`` workers, with the same files.
"""

from __future__ import annotations

import logging

from posering.train.shuffle_run import apply_overrides, plan_training, resolve_device, run_training, set_dotted

__all__ = ["apply_overrides", "resolve_device", "set_dotted", "train_network"]

log = logging.getLogger("posering.train")


def train_network(config: str, shuffle: int = 1, trainingsetindex: int = 0, gputouse: int | None = None,
                  max_snapshots_to_keep: int = 5, displayiters: int | None = None,
                  saveiters: int | None = None, maxiters: int | None = None, epochs: int | None = None,
                  save_epochs: int | None = None, batch_size: int | None = None, device: str | None = None,
                  snapshot_path: str | None = None, resume: bool = False, precision: str = "auto",
                  progress: bool = True, minutes: float | None = None, shuffles: list[int] | None = None,
                  num_workers: int | None = None, use_gpu: bool | None = None, ray_address: str | None = None,
                  max_failures: int = 3) -> str | list[str] | None:
    """Train the network of one shuffle (or several on Ray); returns the last snapshot written.

    Parameters
    ----------
    config: path or URL of the project's config.yaml.
    shuffle: the shuffle (training dataset) to train.
    trainingsetindex: which TrainingFraction of config.yaml (0 = the first).
    gputouse: number of the GPU to use (CUDA); ignored when device is given.
    max_snapshots_to_keep: regular snapshots kept besides the best one.
    displayiters: log the loss every this many iterations (optimizer steps).
    saveiters: save a snapshot every this many iterations (rounded up to whole epochs).
    maxiters: stop after this many iterations in total.
    epochs: train this many epochs in total (DeepLabCut 3's vocabulary; default from the model config, 200).
    save_epochs: save a snapshot every this many epochs (default from the model config).
    batch_size: images per training batch (default from the model config, 8); on several workers, the batch of all of them together.
    device: cpu, cuda, cuda:1, ... or auto (default: the model config's device, auto).
    snapshot_path: continue training from this snapshot (weights, and optimizer state when it holds it).
    resume: continue from the latest snapshot in train/ (after an interruption).
    precision: auto, fp32, bf16 or fp16 (auto: bf16 on GPUs and on CPUs with native bf16).
    progress: show a progress bar.
    minutes: train for this many minutes of wall-clock time instead of a number of epochs; the learning-rate milestones become fractions of the budget.
    shuffles: train these shuffles on Ray Train, each its own run, concurrently as resources allow (e.g. 1 2 3).
    num_workers: data-parallel Ray Train workers per shuffle (DDP: gloo on CPUs, NCCL on GPUs).
    use_gpu: one GPU per Ray Train worker (default: when the Ray cluster has GPUs).
    ray_address: the Ray cluster to train on (default: RAY_ADDRESS, else a local Ray instance).
    max_failures: on Ray, how often a run restarts its workers from the last snapshot after a worker dies.
    """
    options = dict(max_snapshots_to_keep=max_snapshots_to_keep, displayiters=displayiters, saveiters=saveiters,
                   maxiters=maxiters, epochs=epochs, save_epochs=save_epochs, batch_size=batch_size,
                   snapshot_path=snapshot_path, resume=resume, minutes=minutes, precision=precision,
                   device=device, gputouse=gputouse)
    on_ray = shuffles is not None or num_workers is not None or ray_address is not None or use_gpu is True
    if on_ray:
        from posering.train.ray_train import train_on_ray

        numbers = [int(s) for s in (shuffles if shuffles is not None else [shuffle])]
        if snapshot_path is not None and len(numbers) > 1:
            from posering.errors import ModelError

            raise ModelError("snapshot_path names one snapshot: train one shuffle with it, not several")
        plans = [plan_training(config, number, trainingsetindex, **options) for number in numbers]
        last = train_on_ray(plans, num_workers=num_workers or 1, use_gpu=use_gpu, ray_address=ray_address,
                            max_failures=max_failures)
        return last[0] if shuffles is None else last
    plan = plan_training(config, shuffle, trainingsetindex, **options)
    recorder = run_training(plan, progress=progress)
    return recorder.saved[-1] if recorder is not None and recorder.saved else None
