"""Training benchmarks on DeepLabCut's openfield project (95% train split, shuffle 1).

    python -m benchmarks.train throughput [--net resnet_50] [--batch 8] [--steps 6]
        [--variants fp32,auto]
    python -m benchmarks.train rmse [--net mobilenet_v2_1.0] [--minutes 30] [--eval-every 3]
        [--crop 256] [--lr 0.001] [--batch 8]

``throughput``: training images/s of the real loop (augmentation, loading, forward, targets,
loss, backward, AdamW) at DeepLabCut's defaults (448x448 crops, batch 8, random init), for each
variant in one run: ``fp32`` is plain float32 NCHW (what DeepLabCut 3 runs on a CPU), ``auto``
posering's default path (bf16 autocast + channels_last where measured to pay), plus ``bf16``,
``fp32-cl``, ``bf16-nchw`` and ``auto-compile`` on request.

``rmse``: trains for a wall-clock budget and evaluates the test RMSE (full frames, float32, as
evaluate_network) every ``--eval-every`` minutes of training, evaluation time excluded; writes
``rmse_vs_minutes.csv`` and ``.png`` in the work folder, then evaluates the final snapshot with
evaluate_network (train and test rows, DeepLabCut's files).
"""

from __future__ import annotations

import argparse
import csv
import logging
import os
import shutil
import time
from pathlib import Path

import numpy as np
import torch

from benchmarks._shared import _writable_copy, shared_data, table

log = logging.getLogger("benchmarks")

VARIANTS = {  # name: (precision, channels_last, compile)
    "fp32": ("fp32", False, False),
    "auto": ("auto", "auto", False),
    "bf16": ("bf16", "auto", False),
    "fp32-cl": ("fp32", True, False),
    "bf16-nchw": ("bf16", False, False),
    "auto-compile": ("auto", "auto", True),
}


def openfield_shuffle(workdir: Path, net_type: str, overrides: dict) -> tuple[str, dict]:
    """A fresh copy of openfield with shuffle 1 (95%) for `net_type`; (config path, model config)."""
    from posering.dataset.create_training_dataset import create_training_dataset
    from posering.model import load_model_config, save_model_config
    from posering.project import ProjectPaths, load_config
    from posering.train.train_network import set_dotted

    root = workdir / "openfield"
    if root.exists():
        shutil.rmtree(root)
    _writable_copy(shared_data() / "openfield-Pranav-2018-10-30", root)
    config = str(root / "config.yaml")
    create_training_dataset(config, Shuffles=[1], net_type=net_type)
    cfg = load_config(config)
    config_file = ProjectPaths(cfg).model_config_file(cfg.training_fractions[0], 1)
    model_cfg = load_model_config(config_file)
    for dotted, value in overrides.items():
        set_dotted(model_cfg, dotted, value)
    save_model_config(model_cfg, config_file)
    return config, model_cfg


def _datasets(config: str, model_cfg: dict, seed: int = 42):
    from posering.train.augment import Augmenter
    from posering.train.data import PoseDataset
    from posering.train.split import load_training_set

    training_set = load_training_set(config)
    augmenter = Augmenter(model_cfg["data"]["train"], training_set.bodyparts)
    return training_set, PoseDataset.from_training_set(training_set, "train", augmenter, seed=seed)


# -- images/s ----------------------------------------------------------------------------------
def throughput(args) -> list[dict]:
    from posering.train.loop import Hooks, train, training_precision, use_channels_last

    class StepTimer(Hooks):
        def __init__(self):
            self.times = []

        def iteration(self, iteration, epoch, loss):
            self.times.append(time.perf_counter())

    config, model_cfg = openfield_shuffle(Path(args.workdir), args.net, {
        "posering.weight_init": "none", "runner.eval_interval": 0,
        "train_settings.batch_size": args.batch})
    _, dataset = _datasets(config, model_cfg)
    rows = []
    device = torch.device("cpu")
    # Variants alternate over rounds, and each step is timed: on a shared machine the load of
    # other jobs moves from minute to minute, and the median / best step shows through it.
    steps: dict[str, list[float]] = {name: [] for name in args.variants.split(",")}
    firsts: dict[str, float] = {}
    for _round in range(args.rounds):
        for name in steps:
            precision, channels_last, compile_ = VARIANTS[name]
            timer = StepTimer()
            started = time.perf_counter()
            train(model_cfg, dataset, "cpu", hooks=timer, weight_init="none", max_iters=args.warmup + args.steps,
                  precision=precision, channels_last=channels_last, compile=compile_)
            firsts.setdefault(name, timer.times[args.warmup - 1] - started)
            steps[name] += [b - a for a, b in zip(timer.times[args.warmup - 1:], timer.times[args.warmup:])]
            print(f"{name}: steps {[round(t, 2) for t in steps[name]]} s, load {os.getloadavg()[0]:.1f}", flush=True)
    for name, times in steps.items():
        precision, channels_last, _ = VARIANTS[name]
        median = float(np.median(times))
        rows.append({"net": args.net, "variant": name, "precision": training_precision(precision, device),
                     "channels_last": use_channels_last(channels_last, device, args.net),
                     "steps": len(times), "median s/step": median, "images/s (median)": args.batch / median,
                     "images/s (best)": args.batch / min(times), "first steps s": firsts[name]})
    base = next((r for r in rows if r["variant"] == "fp32"), None)
    for row in rows:
        row["vs fp32"] = row["images/s (median)"] / base["images/s (median)"] if base else float("nan")
        row["vs DeepLabCut 0.71"] = row["images/s (median)"] / 0.71
    print(table(rows, list(rows[0])))
    return rows


# -- test RMSE against training minutes ----------------------------------------------------------
def rmse_curve(args) -> list[dict]:
    from posering.evaluate.evaluate_network import evaluate_network
    from posering.project import ProjectPaths, load_config
    from posering.train.loop import Hooks, train
    from posering.train.snapshots import snapshot_name, write_snapshot
    from posering.train.holdout import TestSetEvaluator

    overrides = {
        "posering.weight_init": args.weight_init,
        "runner.eval_interval": 0,
        "runner.optimizer.params.lr": args.lr,
        "runner.scheduler": None,
        "train_settings.batch_size": args.batch,
        "train_settings.epochs": 100000,
        "data.train.crop_sampling": {"width": args.crop, "height": args.crop, "max_shift": args.max_shift,
                                     "method": args.crop_method},
        "data.train.affine": {"p": 0.7, "rotation": args.rotation, "scaling": [1 - args.scaling, 1 + args.scaling],
                              "translation": 0},
        # A wider Gaussian target (std = 2/3 of it) gives the score maps more positive cells to
        # learn from early on; decoding is unchanged (argmax + locref).
        "model.heads.bodypart.target_generator.pos_dist_thresh": args.pos_dist_thresh,
    }
    workdir = Path(args.workdir)
    config, model_cfg = openfield_shuffle(workdir, args.net, overrides)
    training_set, dataset = _datasets(config, model_cfg)
    test = [storage_join(training_set.root, training_set.relpaths[i]) for i in training_set.test_indices]
    evaluator = TestSetEvaluator(test, training_set.keypoints[training_set.test_indices],
                                 load_config(config).get("pcutoff", 0.6), "cpu")
    budget, every = args.minutes * 60, args.eval_every * 60
    rows: list[dict] = []

    class Budget(Hooks):
        def __init__(self):
            self.clock = 0.0          # training seconds, evaluation excluded
            self.mark = None
            self.next_eval = every
            self.dropped = False

        def start(self, total_iterations, first_epoch, epochs):
            self.mark = time.perf_counter()

        def iteration(self, iteration, epoch, loss):
            now = time.perf_counter()
            self.clock += now - self.mark
            self.mark = now
            self.loss = float(loss)

        def should_stop(self):
            return self.clock >= budget

        def epoch_end(self, end):
            if not self.dropped and self.clock >= args.lr_drop * budget:
                # The last quarter at a tenth of the rate settles the keypoints (DeepLabCut's
                # schedule does the same in epochs; here the budget is minutes).
                for group in end.optimizer.param_groups:
                    group["lr"] *= 0.1
                self.dropped = True
                print(f"learning rate {args.lr} -> {args.lr * 0.1:g} at {self.clock / 60:.1f} min", flush=True)
            if self.clock >= self.next_eval or end.last:
                paused = time.perf_counter()
                metrics = evaluator(self.model)
                self.next_eval += every
                row = {"minutes": self.clock / 60, "epoch": end.epoch, "iteration": end.iteration,
                       "train_loss": end.losses.get("total_loss"), "test_rmse": metrics["test.rmse"],
                       "test_rmse_pcutoff": metrics["test.rmse_pcutoff"], "test_mAP": metrics["test.mAP"],
                       "eval_seconds": time.perf_counter() - paused}
                rows.append(row)
                print(table([row], list(row)), flush=True)
                write_curve(rows, workdir)
                self.mark = time.perf_counter()  # evaluation time does not count as training
            if end.last:
                self.final = end

        def prepare_model(self, model):
            self.model = model
            return model

    hooks = Budget()
    model = train(model_cfg, dataset, "cpu", hooks=hooks, weight_init=args.weight_init, precision=args.precision)
    cfg = load_config(config)
    paths = ProjectPaths(cfg)
    end = hooks.final
    write_snapshot(storage_join(paths.train_dir(cfg.training_fractions[0], 1), snapshot_name(end.epoch)),
                   {"metadata": {"epoch": end.epoch, "iteration": end.iteration}, "model": model.state_dict()})
    result = evaluate_network(config, snapshots=-1, show_errors=True)
    print(f"final ({args.net}, {hooks.clock / 60:.1f} training minutes): \n{result.reset_index().to_string(index=False)}")
    return rows


def storage_join(root: str, relpath: str) -> str:
    from posering import storage

    return storage.join(root, *relpath.split("/"))


def write_curve(rows: list[dict], workdir: Path) -> None:
    with open(workdir / "rmse_vs_minutes.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6, 4), dpi=100)
    axis = figure.add_subplot(1, 1, 1)
    axis.plot([r["minutes"] for r in rows], [r["test_rmse"] for r in rows], "o-", label="test RMSE")
    axis.axhline(8, color="gray", linestyle=":", label="goal 8 px")
    axis.set_xlabel("training minutes (2 CPU cores)")
    axis.set_ylabel("test error (px)")
    axis.set_yscale("log")
    axis.legend()
    figure.tight_layout()
    figure.savefig(workdir / "rmse_vs_minutes.png")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.train", description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", default="/tmp/posering-bench-train")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all cores)")
    sub = parser.add_subparsers(dest="what", required=True)
    speed = sub.add_parser("throughput", help="training images/s, fp32 against posering's path")
    speed.add_argument("--net", default="resnet_50")
    speed.add_argument("--batch", type=int, default=8)
    speed.add_argument("--steps", type=int, default=6, help="timed steps per variant")
    speed.add_argument("--warmup", type=int, default=2)
    speed.add_argument("--rounds", type=int, default=2, help="alternate the variants this many times")
    speed.add_argument("--variants", default="fp32,auto", help=f"comma-separated, of {', '.join(VARIANTS)}")
    curve = sub.add_parser("rmse", help="test RMSE against minutes of training")
    curve.add_argument("--net", default="mobilenet_v2_1.0")
    curve.add_argument("--minutes", type=float, default=30)
    curve.add_argument("--eval-every", type=float, default=3)
    curve.add_argument("--crop", type=int, default=224, help="training crop size (square)")
    curve.add_argument("--crop-method", default="keypoints", help="keypoints, hybrid or uniform")
    curve.add_argument("--max-shift", type=float, default=0.3)
    curve.add_argument("--rotation", type=float, default=30)
    curve.add_argument("--scaling", type=float, default=0.1, help="scale range 1 +- this")
    curve.add_argument("--pos-dist-thresh", type=float, default=34, help="target radius (DeepLabCut: 17)")
    curve.add_argument("--lr", type=float, default=1e-3)
    curve.add_argument("--batch", type=int, default=8)
    curve.add_argument("--lr-drop", type=float, default=0.75, help="fraction of the budget after which lr /= 10")
    curve.add_argument("--precision", default="auto")
    curve.add_argument("--weight-init", default="auto", help="auto, package, hub, none or a weights file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.threads:
        torch.set_num_threads(args.threads)
    os.makedirs(args.workdir, exist_ok=True)
    print(f"{os.cpu_count()} cores, torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"load average {os.getloadavg()[0]:.1f}", flush=True)
    (throughput if args.what == "throughput" else rmse_curve)(args)


if __name__ == "__main__":
    main()
