"""train_network on Ray Train: shuffles at once, DDP, a time budget, a killed worker, s3 by the CLI.

Real local Ray (the session's, 2 CPUs), real training of a tiny network on the demo project's
frames, a real SIGKILL, the real moto S3 server. Ray workers import posering from the installed
package or PYTHONPATH (export PYTHONPATH=$PWD in a worktree).
"""

import csv
import io
import os
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest

from posering import storage
from posering.project import ProjectPaths, load_config
from posering.train.ray_train import data_parallel_plan, worker_resources
from posering.train.shuffle_run import TrainingPlan
from posering.formats.snapshots import list_snapshots, read_snapshot, snapshot_files
from posering.train.train_network import train_network
from tests.training_helpers import TINY_NET, TINY_SETTINGS, TINY_TRAIN, make_shuffle

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def shuffles(config, numbers, **overrides):
    for number in numbers:
        make_shuffle(config, TINY_NET, shuffle=number, train=TINY_TRAIN, test=[2, 12],
                     **dict(TINY_SETTINGS, **overrides))
    cfg = load_config(config)
    return {n: ProjectPaths(cfg).train_dir(cfg.training_fractions[0], n) for n in numbers}


def stats(train_dir):
    return list(csv.DictReader(io.StringIO(storage.read_text(storage.join(train_dir, "learning_stats.csv")))))


def log_of(train_dir):
    return storage.read_text(storage.join(train_dir, "train.txt"))


def epoch_times(train_dir):
    """Wall-clock times of the 'epoch N: ...' lines of train.txt."""
    return [datetime.strptime(line[:19], "%Y-%m-%d %H:%M:%S") for line in log_of(train_dir).splitlines()
            if re.match(r"^\S+ \S+ INFO epoch \d+:", line)]


def files(train_dir):
    return sorted(name for name in storage.listdir(train_dir) if not name.startswith("previous-run"))


def test_shuffles_train_at_once_with_the_files_and_numbers_of_one_process(demo_project, ray_session):
    dirs = shuffles(demo_project, [1, 2, 3])
    single = train_network(demo_project, shuffle=3, epochs=4, save_epochs=2, progress=False, precision="fp32")
    last = train_network(demo_project, shuffles=[1, 2], epochs=4, save_epochs=2, precision="fp32")
    assert last == [storage.join(dirs[n], "snapshot-004.pt") for n in (1, 2)]
    assert single == storage.join(dirs[3], "snapshot-004.pt")
    # The very same files as the single-process path ...
    assert files(dirs[1]) == files(dirs[2]) == files(dirs[3])
    assert {"learning_stats.csv", "learning_curve.png", "train.txt", "snapshot-002.pt",
            "snapshot-004.pt"} <= set(files(dirs[1]))
    # ... and the same numbers for the same seed and frames (threads differ: float rounding only).
    for n in (1, 2):
        assert [int(r["step"]) for r in stats(dirs[n])] == [1, 2, 3, 4]
        for ray_row, local_row in zip(stats(dirs[n]), stats(dirs[3])):
            assert float(ray_row["losses/train.total_loss"]) == pytest.approx(
                float(local_row["losses/train.total_loss"]), rel=0.02)
        assert read_snapshot(last[n - 1])["metadata"]["epoch"] == 4
    # The two runs overlapped in time: Ray ran them at once on the 2 CPUs (0.66 CPU each ...).
    first, second = epoch_times(dirs[1]), epoch_times(dirs[2])
    assert first[0] <= second[-1] and second[0] <= first[-1], (first, second)
    assert "Ray Train worker 0 of 1: pid" in log_of(dirs[1])


def test_data_parallel_workers_share_the_batch_and_stop_together_on_a_budget(demo_project, ray_session):
    dirs = shuffles(demo_project, [1])
    last = train_network(demo_project, shuffle=1, num_workers=2, minutes=0.2, save_epochs=1000, precision="fp32")
    log = log_of(dirs[1])
    assert ("data-parallel on 2 workers: 1 images per worker per step, a global batch of 2 as "
            "train_settings.batch_size says; learning rate as configured") in log
    epoch = read_snapshot(last)["metadata"]["epoch"]
    assert re.search(rf"time budget of 0.2 minutes spent: {epoch} epochs fitted", log), log
    # Two workers with one image each: one optimizer step per epoch, as with one worker of two.
    assert read_snapshot(last)["metadata"]["iteration"] == epoch
    assert [int(r["step"]) for r in stats(dirs[1])] == list(range(1, epoch + 1))


def test_batch_and_learning_rate_rules():
    plan = TrainingPlan(config="c", shuffle=1, trainingsetindex=0, config_file="f", train_dir="t",
                        start_snapshot=None, resumed=False,
                        model_cfg={"train_settings": {"batch_size": 8},
                                   "runner": {"optimizer": {"params": {"lr": 1e-3}},
                                              "scheduler": {"params": {"lr_list": [[1e-4]]}}}})
    same, per_worker = data_parallel_plan(plan, 4)
    assert per_worker == 2 and same.model_cfg["runner"]["optimizer"]["params"]["lr"] == 1e-3
    grown, per_worker = data_parallel_plan(plan, 3)  # 3 x 3 = 9 images: the rate grows by 9/8
    assert per_worker == 3
    assert grown.model_cfg["runner"]["optimizer"]["params"]["lr"] == pytest.approx(1.125e-3)
    assert grown.model_cfg["runner"]["scheduler"]["params"]["lr_list"] == [[pytest.approx(1.125e-4)]]
    assert "linear scaling rule" in grown.notes[0] and plan.model_cfg["runner"]["optimizer"]["params"]["lr"] == 1e-3


def test_workers_share_the_cpus_so_none_waits(ray_session):
    resources, threads = worker_resources(ray_session, 3, use_gpu=False)
    cpus = ray_session.cluster_resources()["CPU"]
    assert resources["CPU"] * 3 <= cpus and threads >= 1
    resources, threads = worker_resources(ray_session, 1, use_gpu=False)
    assert resources == {"CPU": cpus} and threads == int(cpus)


def _worker_pid(train_dir, deadline):
    """The pid rank 0 wrote into train.txt (written with the first snapshot)."""
    while time.monotonic() < deadline:
        location = storage.join(train_dir, "train.txt")
        if storage.exists(location):
            found = re.search(r"Ray Train worker 0 of 1: pid (\d+)", storage.read_text(location))
            if found:
                return int(found.group(1))
        time.sleep(0.2)
    raise AssertionError("no worker pid in train.txt")


def test_a_killed_worker_costs_at_most_one_checkpoint_interval(demo_project, ray_session):
    dirs = shuffles(demo_project, [1], **{"runner.eval_interval": 0})
    train_dir = dirs[1]
    outcome = {}

    def run():
        try:
            outcome["last"] = train_network(demo_project, shuffle=1, num_workers=1, epochs=12, save_epochs=2,
                                            max_failures=2, precision="fp32")
        except BaseException as exc:  # reported below
            outcome["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.monotonic() + 600
    # Killed as soon as the first snapshot is on disk: most often before its report reached Ray's
    # controller, so Ray holds no checkpoint yet and the restart must find the snapshot itself.
    while not storage.exists(storage.join(train_dir, "snapshot-002.pt")):
        assert thread.is_alive(), outcome
        assert time.monotonic() < deadline, "no snapshot-002 within 10 minutes"
        time.sleep(0.1)
    pid = _worker_pid(train_dir, deadline)
    saved_at_kill = max(s.epoch for s in snapshot_files(train_dir) if not s.best)
    os.kill(pid, signal.SIGKILL)  # mid-epoch: the worker is training epoch 3 or later
    thread.join(timeout=600)
    assert not thread.is_alive() and "error" not in outcome, outcome
    assert outcome["last"].endswith("snapshot-012.pt")

    log = log_of(train_dir)
    restart = re.search(r"Ray Train restarted the workers after a failure: continuing from epoch (\d+)", log)
    assert restart, log
    resumed_from = int(restart.group(1))
    # Nothing saved is lost: the restart continues from the newest snapshot on disk, even one whose
    # report had not reached Ray's controller yet (a kill right after the file appears), or from
    # one written between the test's look and the kill.
    assert saved_at_kill <= resumed_from <= saved_at_kill + 2
    assert f"resuming from {storage.join(train_dir, f'snapshot-{resumed_from:03d}.pt')} (epoch {resumed_from}, " \
           "with optimizer state)" in log
    assert int(re.findall(r"Ray Train worker 0 of 1: pid (\d+)", log)[-1]) != pid
    # The epochs continue from the checkpoint: each once in learning_stats.csv, 1 to 12.
    assert [int(r["step"]) for r in stats(train_dir)] == list(range(1, 13))
    for snapshot in list_snapshots(train_dir):  # none is corrupt
        assert read_snapshot(snapshot.location)["metadata"]["epoch"] == snapshot.epoch


def _upload(local_root: Path, url: str) -> None:
    for path in local_root.rglob("*"):
        if path.is_file():
            storage.copy(str(path), storage.join(url, str(path.relative_to(local_root))))


def test_command_line_trains_shuffles_of_an_s3_project_on_a_cluster(demo_project, s3, tmp_path):
    """``posering train_network s3://.../config.yaml --shuffles 1 2 --ray_address HEAD``: a driver
    joins a real ``ray start --head`` cluster (token authentication on) and its workers train
    from and to the bucket."""
    from tests.cluster.ray_cluster import RayCluster

    shuffles(demo_project, [1, 2])
    root = Path(demo_project).parent
    project = f"{s3}/demo"
    _upload(root, project)
    cluster = RayCluster(head_cpus=2)
    try:
        env = cluster.client_env(RAY_AUTH_MODE="token")  # the AWS_* variables point at the moto server
        result = subprocess.run([sys.executable, "-m", "posering.cli", "train_network", f"{project}/config.yaml",
                                 "--shuffles", "1", "2", "--epochs", "2", "--save_epochs", "1", "--precision", "fp32",
                                 "--ray_address", cluster.address],
                                capture_output=True, text=True, env=env, cwd=str(tmp_path), timeout=900)
    finally:
        cluster.stop()
    assert f"joining the Ray cluster at {cluster.address}" in result.stderr, result.stderr[-3000:]
    assert "started a local Ray instance" not in result.stderr  # the cluster's workers trained
    assert result.returncode == 0, result.stderr[-3000:]
    cfg = load_config(f"{project}/config.yaml")
    for number in (1, 2):
        train_dir = ProjectPaths(cfg).train_dir(cfg.training_fractions[0], number)
        assert f"{train_dir}/snapshot-002.pt" in result.stdout
        names = storage.listdir(train_dir)
        assert {"snapshot-001.pt", "snapshot-002.pt", "learning_stats.csv", "train.txt",
                "learning_curve.png"} <= set(names), names
        assert read_snapshot(f"{train_dir}/snapshot-002.pt")["metadata"]["epoch"] == 2
    # Ray's own state went to the same bucket, beside the project.
    assert storage.listdir(ProjectPaths(cfg).ray_runs_dir)
