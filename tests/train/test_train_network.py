"""train_network on real frames: a tiny network learns, files are DeepLabCut's, resume after a kill."""

import csv
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from posering import storage
from posering.evaluate.predict import load_model, predict_images
from posering.project import ProjectPaths, load_config
from posering.train.record import COLUMNS
from posering.train.snapshots import list_snapshots, read_snapshot
from posering.train.train_network import apply_overrides, train_network
from tests.conftest import SHARED_DATA
from tests.training_helpers import (TINY_EPOCHS, TINY_NET, TINY_SETTINGS, TINY_TRAIN, make_shuffle,
                                    trained_demo_project)

REPO = Path(__file__).resolve().parents[2]


def model_paths(config):
    cfg = load_config(config)
    paths = ProjectPaths(cfg)
    return cfg, paths, paths.train_dir(0.95, 1)


def stats(train_dir):
    return list(csv.DictReader(io.StringIO(storage.read_text(storage.join(train_dir, "learning_stats.csv")))))


def test_a_tiny_network_learns_its_training_frames(tmp_path_factory):
    config = trained_demo_project(tmp_path_factory)
    cfg, paths, train_dir = model_paths(config)
    rows = stats(train_dir)
    assert [int(r["step"]) for r in rows] == list(range(1, TINY_EPOCHS + 1))
    losses = [float(r["losses/train.total_loss"]) for r in rows]
    assert losses[-1] < losses[0] / 5, losses
    # Test metrics every eval_interval (10) epochs, as DeepLabCut logs them.
    assert [r["step"] for r in rows if r["metrics/test.rmse"]] == ["10", "20", "30", "40", "50"]

    names = [Path(s.location).name for s in list_snapshots(train_dir)]
    assert "snapshot-025.pt" in names and "snapshot-050.pt" in names
    assert names[-1].startswith("snapshot-best-")
    log = storage.read_text(storage.join(train_dir, "train.txt"))
    assert "backbone weights: random initialisation for mobilenet_v4_small" in log
    assert storage.exists(storage.join(train_dir, "learning_curve.png"))
    written = yaml.safe_load(storage.read_text(paths.model_config_file(0.95, 1)))
    assert written["train_settings"]["epochs"] == 50 and written["runner"]["snapshots"]["save_epochs"] == 25

    # Predictions land on the labels of the frames it trained on.
    model = load_model(paths.model_config_file(0.95, 1), storage.join(train_dir, "snapshot-050.pt"), "cpu")
    from posering.train.split import load_training_set

    training_set = load_training_set(cfg)
    frames = [storage.join(training_set.root, training_set.relpaths[i]) for i in TINY_TRAIN]
    predicted = predict_images(model, frames, "cpu")
    errors = np.linalg.norm(predicted[..., :2] - training_set.keypoints[TINY_TRAIN], axis=-1)
    # Most keypoints land within a few pixels (an untrained network is ~100 px off). From random
    # weights on two frames, one keypoint now and then settles on a wrong spot ~30 px away, and
    # which one depends on the CPU's kernels: the median holds on any CPU, the mean did not.
    assert np.median(errors) < 3.0, errors


@pytest.mark.skipif(SHARED_DATA is None, reason="needs ../shared/data")
def test_learning_stats_columns_are_deeplabcuts():
    real = SHARED_DATA / "dlc3-openfield-resnet50/dlc-models-pytorch/iteration-0/openfieldOct30-trainset95shuffle1/train"
    header = (real / "learning_stats.csv").read_text().splitlines()[0].split(",")
    assert header == COLUMNS


def test_both_vocabularies_iterations_and_epochs():
    cfg = {"train_settings": {"epochs": 200, "batch_size": 8}, "runner": {"snapshots": {"save_epochs": 25}}}
    apply_overrides(cfg, steps_per_epoch=13, maxiters=100, saveiters=30, displayiters=7, max_snapshots_to_keep=3)
    assert cfg["train_settings"]["epochs"] == 8  # ceil(100 / 13); the loop stops at step 100
    assert cfg["runner"]["snapshots"] == {"save_epochs": 3, "max_snapshots": 3}
    assert cfg["train_settings"]["display_iters"] == 7
    apply_overrides(cfg, steps_per_epoch=13, epochs=50, save_epochs=10, batch_size=4)
    assert (cfg["train_settings"]["epochs"], cfg["runner"]["snapshots"]["save_epochs"],
            cfg["train_settings"]["batch_size"]) == (50, 10, 4)


def test_resume_after_killing_a_real_training_process(demo_project, tmp_path, tmp_path_factory):
    make_shuffle(demo_project, TINY_NET, train=TINY_TRAIN, test=[2], **dict(TINY_SETTINGS, **{"runner.eval_interval": 0}))
    cfg, paths, train_dir = model_paths(demo_project)
    log_file = tmp_path / "killed.log"
    code = ("import logging, sys; logging.basicConfig(level=logging.INFO, stream=sys.stderr, format='%(message)s');"
            "from posering.train.train_network import train_network;"
            f"train_network({str(demo_project)!r}, epochs=500, save_epochs=2, progress=False, precision='fp32')")
    # As many threads as this process trains the reference run with: another count sums in
    # another order, and 6 epochs of training turn that into percents of loss.
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS=str(torch.get_num_threads()))
    with open(log_file, "w") as err:
        process = subprocess.Popen([sys.executable, "-c", code], stderr=err, env=env, cwd=str(REPO))
        try:
            deadline = time.monotonic() + 240
            while not Path(storage.join(train_dir, "snapshot-004.pt")).exists():
                assert process.poll() is None, log_file.read_text()
                assert time.monotonic() < deadline, "no snapshot within 4 minutes"
                time.sleep(0.2)
            process.send_signal(signal.SIGKILL)
        finally:
            process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL

    lines = log_file.read_text().splitlines()
    done = [int(line.split()[1].rstrip(":")) for line in lines if line.startswith("epoch ")]
    saved = max(s.epoch for s in list_snapshots(train_dir) if not s.best)
    assert saved >= 4 and max(done) - saved < 2 + 1, (done, saved)  # at most one save interval lost
    snapshot = read_snapshot(storage.join(train_dir, f"snapshot-{saved:03d}.pt"))
    assert snapshot["optimizer"]["state"] and snapshot["metadata"]["epoch"] == saved

    last = train_network(demo_project, epochs=saved + 2, resume=True, progress=False, precision="fp32")
    assert last.endswith(f"snapshot-{saved + 2:03d}.pt")
    log = storage.read_text(storage.join(train_dir, "train.txt"))
    assert f"resuming from {storage.join(train_dir, f'snapshot-{saved:03d}.pt')} (epoch {saved}, with optimizer state)" in log
    rows = stats(train_dir)
    assert [int(r["step"]) for r in rows][-3:] == [saved, saved + 1, saved + 2]
    assert [int(r["step"]) for r in rows] == sorted({int(r["step"]) for r in rows})
    losses = {int(r["step"]): float(r["losses/train.total_loss"]) for r in rows}
    # It continued training, Adam moments and all: the losses are those of the run that was never
    # interrupted (same seed, same frames), not those of a fresh start.
    reference = stats(model_paths(trained_demo_project(tmp_path_factory))[2])
    uninterrupted = {int(r["step"]): float(r["losses/train.total_loss"]) for r in reference}
    for epoch in (saved + 1, saved + 2):
        assert losses[epoch] == pytest.approx(uninterrupted[epoch], rel=0.02), (losses, uninterrupted)
    assert losses[saved + 1] != pytest.approx(losses[1], rel=0.02)
    resumed = read_snapshot(last)
    assert resumed["metadata"]["iteration"] == saved + 2  # one step per epoch here


def test_resume_adds_to_the_log_of_the_run_it_continues(demo_project):
    make_shuffle(demo_project, TINY_NET, train=TINY_TRAIN, test=[2], **dict(TINY_SETTINGS, **{"runner.eval_interval": 0}))
    cfg, paths, train_dir = model_paths(demo_project)
    train_network(demo_project, epochs=2, save_epochs=2, progress=False, precision="fp32")
    first = storage.read_text(storage.join(train_dir, "train.txt"))
    assert "backbone weights: random initialisation" in first

    train_network(demo_project, epochs=3, save_epochs=1, resume=True, progress=False, precision="fp32")
    log = storage.read_text(storage.join(train_dir, "train.txt"))
    assert log.startswith(first), "the first run's log was replaced"
    resumed = log[len(first):]
    assert f"weights: resuming from {storage.join(train_dir, 'snapshot-002.pt')} (epoch 2, with optimizer state)" in resumed
    assert "epoch 3:" in resumed and "epoch 1:" in first


def test_resume_with_nothing_to_resume_says_so_and_writes_nothing(demo_project):
    from posering.errors import ModelError

    make_shuffle(demo_project, TINY_NET, train=TINY_TRAIN, test=[2], **TINY_SETTINGS)
    cfg, paths, train_dir = model_paths(demo_project)
    model_config = storage.read_bytes(paths.model_config_file(0.95, 1))
    with pytest.raises(ModelError, match=r"train: nothing to resume: no snapshot-<epoch>\.pt there; run without resume"):
        train_network(demo_project, epochs=1, resume=True, progress=False)
    assert storage.read_bytes(paths.model_config_file(0.95, 1)) == model_config
    assert not [name for name in storage.listdir(train_dir) if name.endswith((".pt", ".txt", ".csv"))]
