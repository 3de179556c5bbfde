"""Accuracy a training budget buys with ``net_type: auto``, on real labeled datasets.

    python -m benchmarks.train_budget [--datasets openfield,reaching] [--minutes 30]
        [--workdir /tmp/posering-bench-budget] [--threads N] [--set data.train.crop_sampling.method=hybrid]

What a new user does, step by step, on a fresh copy of each dataset in ``../shared/data``:
``create_training_dataset(net_type="auto")`` (settings chosen from the data, printed with their
reasons), ``train_network(minutes=N)``, then ``evaluate_network(plotting=True)`` on the last
snapshot (not the best one: choosing by the test frames would tune on them). Reports the test
RMSE, test RMSE above pcutoff and test mAP against training minutes (the run's own evaluations,
at every tenth of the budget), and train/test RMSE of the final model; the evaluation images lie
in each project's ``evaluation-results-pytorch`` folder. Datasets whose settings the automatic
rules were tuned on are marked ``tuned``; ``--set dotted.key=value`` (YAML values) changes an
automatic choice after the fact, as a user would in pytorch_config.yaml, to try a variant.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import time
from pathlib import Path

from benchmarks._shared import _writable_copy, shared_data, table

# name: (folder in ../shared/data, were the automatic rules tuned on it?)
DATASETS = {
    "openfield": ("openfield-Pranav-2018-10-30", True),
    "reaching": ("Reaching-Mackenzie-2018-08-30", False),
}


def run_dataset(name: str, minutes: float, workdir: Path, overrides: dict | None = None) -> tuple[list[dict], dict]:
    from posering.dataset.create_training_dataset import create_training_dataset
    from posering.evaluate.evaluate_network import evaluate_network
    from posering.train.loop import Hooks
    from posering.train.shuffle_run import plan_training, run_training

    folder, tuned = DATASETS[name]
    root = workdir / folder
    if root.exists():
        shutil.rmtree(root)
    _writable_copy(shared_data() / folder, root)
    config = str(root / "config.yaml")
    created = create_training_dataset(config, Shuffles=[1], net_type="auto")[0]
    if overrides:
        from posering.formats.model_config import read_model_config

        model_cfg = read_model_config(str(Path(created["model_folder"]) / "train" / "pytorch_config.yaml"))
        for dotted, value in overrides.items():
            model_cfg.set(dotted, value)
        model_cfg.save()
    curve: list[dict] = []

    class Curve(Hooks):
        """The run's own test evaluations against the budget's clock."""

        def __init__(self, run):
            self.run = run

        def epoch_end(self, end):
            if end.metrics:
                curve.append({"dataset": name, "minutes": self.run.budget.elapsed / 60, "epoch": end.epoch,
                              "train loss": end.losses.get("total_loss"), "test RMSE": end.metrics.get("test.rmse"),
                              "test RMSE pcutoff": end.metrics.get("test.rmse_pcutoff"),
                              "test mAP": end.metrics.get("test.mAP"), "load": os.getloadavg()[0]})
                print(table(curve[-1:], list(curve[-1])), flush=True)

    started = time.perf_counter()
    plan = plan_training(config, 1, minutes=minutes)
    run_training(plan, back=Curve, progress=False)
    wall = time.perf_counter() - started
    last = sorted(n for n in os.listdir(plan.train_dir) if n.startswith("snapshot-") and n[9:12].isdigit())[-1]
    result = evaluate_network(config, Shuffles=[1], snapshots=[last], plotting=True, show_errors=False)
    row = result.reset_index().iloc[0]
    final = {"dataset": name + (" (tuned)" if tuned else ""), "net": created["net_type"],
             "train/test frames": f"{created['train_frames']}/{created['test_frames']}", "minutes": minutes,
             "epochs": int(row["Training epochs"]),
             "train RMSE": row["train rmse"], "train RMSE pcutoff": row["train rmse_pcutoff"],
             "test RMSE": row["test rmse"], "test RMSE pcutoff": row["test rmse_pcutoff"], "test mAP": row["test mAP"],
             "wall s": wall, "load": os.getloadavg()[0]}
    return curve, final


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.train_budget", description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", default=",".join(DATASETS), help=f"comma-separated, of {', '.join(DATASETS)}")
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--workdir", default="/tmp/posering-bench-budget")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all cores)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="change an automatic choice, e.g. data.train.crop_sampling.method=hybrid")
    args = parser.parse_args(argv)
    import yaml

    overrides = {key: yaml.safe_load(value) for key, value in (item.split("=", 1) for item in args.set)}
    import logging

    import torch

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.threads:
        torch.set_num_threads(args.threads)
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"{os.cpu_count()} cores, torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"load average {os.getloadavg()[0]:.1f}", flush=True)
    curves, finals = [], []
    for name in args.datasets.split(","):
        curve, final = run_dataset(name, args.minutes, workdir, overrides)
        final["changed"] = ", ".join(args.set) or "-"
        curves += curve
        finals.append(final)
        for rows, file in ((curves, "curve.csv"), (finals, "final.csv")):
            with open(workdir / file, "w", newline="") as handle:
                writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
                writer.writeheader()
                writer.writerows(rows)
    print(table(curves, list(curves[0])))
    print(table(finals, list(finals[0])))


if __name__ == "__main__":
    main()
