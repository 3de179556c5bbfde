"""Training on Ray, on DeepLabCut's openfield project (95% splits).

    python -m benchmarks.train_ray shuffles [--net mobilenet_v2_1.0] [--shuffles 3] [--epochs 20]
    python -m benchmarks.train_ray ddp [--net mobilenet_v2_1.0] [--epochs 10]
    python -m benchmarks.train_ray compare [--nets resnet_50 mobilenet_v2_1.0 mobilenet_v4_small]
        [--minutes 10] [--docs-image docs/img/model-comparison.png]

``shuffles``: the same N shuffles trained one after another in one process (all cores) and
then at once on local Ray (``train_network(shuffles=[...])``, each worker a share of the
cores), the same epochs each; wall-clock of both (Ray's start not counted, printed apart) and
each shuffle's final test RMSE from both runs (evaluate_network on the last snapshot).

``ddp``: one shuffle on Ray Train with 1 worker and with 2 data-parallel workers, the same
epochs: training images/s (from train.txt's epoch times, start-up excluded) and both loss
curves in one plot (``ddp-loss.png`` in the work folder).

``compare``: ``compare_models`` over the net types on one shared split, each trial trained for
``--minutes``; prints the leaderboard, copies the plot to ``--docs-image`` when given.

All use the CPU recipe of ``benchmarks.train rmse`` (224-pixel crops around a keypoint, target
radius 34, AdamW 1e-3 with a drop to 1e-4 at 75%, ImageNet weights where installed).
"""

from __future__ import annotations

import argparse
import csv
import io
import logging
import os
import re
import shutil
import time
from datetime import datetime
from pathlib import Path

from benchmarks._shared import _writable_copy, shared_data, table

log = logging.getLogger("benchmarks")

RECIPE = {
    "data.train.crop_sampling": {"width": 224, "height": 224, "max_shift": 0.3, "method": "keypoints"},
    "data.train.affine": {"p": 0.7, "rotation": 30, "scaling": [0.9, 1.1], "translation": 0},
    "model.heads.bodypart.target_generator.pos_dist_thresh": 34,
    "runner.optimizer.params.lr": 1e-3,
    "runner.scheduler": {"type": "LRListScheduler", "params": {"milestones": [75], "lr_list": [[1e-4]]}},
    "train_settings.epochs": 100,
    "train_settings.batch_size": 8,
    "runner.eval_interval": 10,
}


def openfield(workdir: Path, name: str, net: str, shuffles: list[int]) -> str:
    """A fresh copy of openfield with these shuffles (the recipe written into each); config path."""
    from posering.dataset.create_training_dataset import create_training_dataset

    root = workdir / name
    if root.exists():
        shutil.rmtree(root)
    _writable_copy(shared_data() / "openfield-Pranav-2018-10-30", root)
    config = str(root / "config.yaml")
    create_training_dataset(config, Shuffles=shuffles, net_type=net)
    apply_recipe(config, shuffles)
    return config


def apply_recipe(config: str, shuffles: list[int]) -> None:
    from posering.formats.model_config import load_model_config, save_model_config
    from posering.formats.model_config import set_dotted
    from posering.project import ProjectPaths, load_config

    cfg = load_config(config)
    for shuffle in shuffles:
        location = ProjectPaths(cfg).model_config_file(cfg.training_fractions[0], shuffle)
        model_cfg = load_model_config(location)
        for dotted, value in RECIPE.items():
            set_dotted(model_cfg, dotted, value)
        save_model_config(model_cfg, location)


def train_dir(config: str, shuffle: int) -> str:
    from posering.project import ProjectPaths, load_config

    cfg = load_config(config)
    return ProjectPaths(cfg).train_dir(cfg.training_fractions[0], shuffle)


def final_test_rmse(config: str, shuffle: int, epoch: int) -> float:
    from posering.evaluate.evaluate_network import evaluate_network

    row = evaluate_network(config, Shuffles=[shuffle], snapshots=[f"snapshot-{epoch:03d}"], show_errors=False)
    return float(row["test rmse"].iloc[0])


def epoch_seconds(folder: str) -> list[float]:
    """Seconds between consecutive 'epoch N:' lines of train.txt (start-up excluded)."""
    from posering import storage

    stamps = [datetime.strptime(line[:19], "%Y-%m-%d %H:%M:%S")
              for line in storage.read_text(f"{folder}/train.txt").splitlines()
              if re.match(r"^\S+ \S+ INFO epoch \d+:", line)]
    return [(b - a).total_seconds() for a, b in zip(stamps, stamps[1:])]


def start_ray() -> float:
    from posering.ray_utils import ensure_ray

    started = time.perf_counter()
    ensure_ray()
    return time.perf_counter() - started


# -- N shuffles: one after another against at once on Ray -----------------------------------------
def shuffles(args) -> list[dict]:
    from posering.train.train_network import train_network

    numbers = list(range(1, args.shuffles + 1))
    workdir = Path(args.workdir)
    sequential = openfield(workdir, "sequential", args.net, numbers)
    concurrent = openfield(workdir, "concurrent", args.net, numbers)
    started = time.perf_counter()
    for shuffle in numbers:
        train_network(sequential, shuffle=shuffle, epochs=args.epochs, save_epochs=args.epochs, progress=False)
    one_by_one = time.perf_counter() - started
    ray_start = start_ray()
    started = time.perf_counter()
    train_network(concurrent, shuffles=numbers, epochs=args.epochs, save_epochs=args.epochs)
    at_once = time.perf_counter() - started
    rows = [{"shuffle": n, "test RMSE one by one": final_test_rmse(sequential, n, args.epochs),
             "test RMSE at once on Ray": final_test_rmse(concurrent, n, args.epochs)} for n in numbers]
    for row in rows:
        row["difference"] = row["test RMSE at once on Ray"] - row["test RMSE one by one"]
    print(table(rows, list(rows[0])))
    summary = [{"net": args.net, "shuffles": len(numbers), "epochs": args.epochs, "one by one s": one_by_one,
                "at once on Ray s": at_once, "ratio (one by one / Ray)": one_by_one / at_once,
                "Ray start s": ray_start, "load": os.getloadavg()[0]}]
    print(table(summary, list(summary[0])))
    return rows + summary


# -- DDP: 2 workers against 1 --------------------------------------------------------------------------
def ddp(args) -> list[dict]:
    from posering import storage
    from posering.formats.snapshots import read_snapshot
    from posering.train.train_network import train_network

    workdir = Path(args.workdir)
    start_ray()
    rows, curves = [], {}
    for workers in (1, 2):
        config = openfield(workdir, f"ddp{workers}", args.net, [1])
        train_network(config, shuffle=1, num_workers=workers, epochs=args.epochs, save_epochs=args.epochs)
        folder = train_dir(config, 1)
        seconds = epoch_seconds(folder)
        last = read_snapshot(f"{folder}/snapshot-{args.epochs:03d}.pt")["metadata"]
        images_per_epoch = last["iteration"] / last["epoch"] * RECIPE["train_settings.batch_size"]  # global batch
        per_second = images_per_epoch * len(seconds) / sum(seconds) if seconds else float("nan")
        stats = list(csv.DictReader(io.StringIO(storage.read_text(f"{folder}/learning_stats.csv"))))
        curves[workers] = [(int(r["step"]), float(r["losses/train.total_loss"])) for r in stats]
        rows.append({"net": args.net, "workers": workers, "epochs": args.epochs, "images/s": per_second,
                     "s/epoch (median)": sorted(seconds)[len(seconds) // 2] if seconds else float("nan"),
                     "final train loss": curves[workers][-1][1], "load": os.getloadavg()[0]})
    rows[1]["vs 1 worker"] = rows[1]["images/s"] / rows[0]["images/s"]
    print(table(rows, list(rows[-1])))
    plot_losses(curves, workdir / "ddp-loss.png", args.net)
    return rows


def plot_losses(curves: dict, location: Path, net: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6, 4), dpi=100)
    axis = figure.add_subplot(1, 1, 1)
    for workers, points in curves.items():
        axis.plot([p[0] for p in points], [p[1] for p in points], label=f"{workers} worker(s)")
    axis.set_xlabel("epoch")
    axis.set_ylabel("training loss")
    axis.set_yscale("log")
    axis.set_title(f"{net} on openfield: DDP against one worker")
    axis.legend()
    figure.tight_layout()
    figure.savefig(location)
    print(f"loss curves: {location}")


# -- compare_models ---------------------------------------------------------------------------------------
def compare(args) -> None:
    from posering.dataset.create_training_model_comparison import create_training_model_comparison
    from posering.project import ProjectPaths, load_config
    from posering.train.compare_models import compare_models

    root = Path(args.workdir) / "compare"
    if root.exists():
        shutil.rmtree(root)
    _writable_copy(shared_data() / "openfield-Pranav-2018-10-30", root)
    config = str(root / "config.yaml")
    made = create_training_model_comparison(config, net_types=args.nets)
    numbers = [int(m["shuffle"]) for m in made]
    apply_recipe(config, numbers)
    start_ray()
    compare_models(config, shuffles=numbers, minutes_per_trial=args.minutes, scheduler=args.scheduler)
    paths = ProjectPaths(load_config(config))
    print(f"leaderboard: {paths.leaderboard_file}\nplot: {paths.leaderboard_plot}")
    if args.docs_image:
        from posering import storage

        storage.copy(paths.leaderboard_plot, args.docs_image)
        print(f"copied the plot to {args.docs_image}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.train_ray", description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", default="/tmp/posering-bench-train-ray")
    sub = parser.add_subparsers(dest="what", required=True)
    many = sub.add_parser("shuffles", help="N shuffles one after another against at once on Ray")
    many.add_argument("--net", default="mobilenet_v2_1.0")
    many.add_argument("--shuffles", type=int, default=3)
    many.add_argument("--epochs", type=int, default=20)
    parallel = sub.add_parser("ddp", help="one shuffle on 2 data-parallel workers against 1")
    parallel.add_argument("--net", default="mobilenet_v2_1.0")
    parallel.add_argument("--epochs", type=int, default=10)
    versus = sub.add_parser("compare", help="compare_models over net types")
    versus.add_argument("--nets", nargs="+", default=["resnet_50", "mobilenet_v2_1.0", "mobilenet_v4_small"])
    versus.add_argument("--minutes", type=float, default=10)
    versus.add_argument("--scheduler", default="asha")
    versus.add_argument("--docs-image", default=None, help="copy the plot here (e.g. docs/img/model-comparison.png)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    os.makedirs(args.workdir, exist_ok=True)
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}", flush=True)
    {"shuffles": shuffles, "ddp": ddp, "compare": compare}[args.what](args)


if __name__ == "__main__":
    main()
