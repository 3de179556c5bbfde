"""compare_models: models trained to one budget on Ray Tune, ranked, resumable; shuffle="best"."""

import csv
import io
import re

import pytest
import yaml

from posering import storage
from posering.errors import ConfigError
from posering.formats.model_config import load_model_config
from posering.project import ProjectPaths, load_config
from posering.project.models import resolve_model
from posering.train.comparison_plan import apply_setting, plan_comparison, request_key, sample_space
from posering.train.compare_models import compare_models
from tests.training_helpers import TINY_NET, TINY_SETTINGS, TINY_TRAIN, make_shuffle


def test_draws_are_seeded_and_use_tunes_distributions():
    space = {"lr": {"loguniform": [1e-4, 1e-2]}, "batch_size": [2, 4], "augmentation": 0.5}
    draws = sample_space(space, 4, seed=3)
    assert draws == sample_space(space, 4, seed=3) and draws != sample_space(space, 4, seed=4)
    assert all(1e-4 <= d["lr"] <= 1e-2 and d["batch_size"] in (2, 4) and d["augmentation"] == 0.5 for d in draws)
    assert sample_space(None, 5, 0) == [{}]
    with pytest.raises(ConfigError, match="search_space.lr"):
        sample_space({"lr": {"gamma": [1, 2]}}, 1, 0)


def test_settings_are_written_where_deeplabcut_keeps_them():
    cfg = {"runner": {"optimizer": {"params": {"lr": 5e-4}},
                      "scheduler": {"params": {"lr_list": [[1e-4], [1e-5]]}}},
           "data": {"train": {"affine": {"p": 0.5, "rotation": 30, "scaling": [0.5, 1.25]},
                              "gaussian_noise": 12.75, "crop_sampling": {"width": 448, "height": 448}}}}
    apply_setting(cfg, "lr", 1e-3)
    apply_setting(cfg, "crop_size", 256)
    apply_setting(cfg, "augmentation", 0.5)
    apply_setting(cfg, "train_settings.batch_size", 4)
    assert cfg["runner"]["optimizer"]["params"]["lr"] == 1e-3
    assert cfg["runner"]["scheduler"]["params"]["lr_list"] == [[pytest.approx(2e-4)], [pytest.approx(2e-5)]]
    assert cfg["data"]["train"]["crop_sampling"] == {"width": 256, "height": 256}
    assert cfg["data"]["train"]["affine"]["rotation"] == 15 and cfg["data"]["train"]["affine"]["scaling"] == [0.75, 1.125]
    assert cfg["data"]["train"]["gaussian_noise"] == pytest.approx(6.375)
    assert cfg["train_settings"]["batch_size"] == 4


def test_samples_become_shuffles_on_the_same_frames(demo_project):
    make_shuffle(demo_project, TINY_NET, shuffle=1, train=TINY_TRAIN, test=[2, 12], **TINY_SETTINGS)
    request = {"net_types": [], "shuffles": [1], "search_space": {"lr": [1e-3, 3e-3]}, "num_samples": 2,
               "minutes_per_trial": 1.0, "metric": "test_rmse", "trainingsetindex": 0, "seed": 0}
    key, trials = plan_comparison(demo_project, request)
    assert [t.shuffle for t in trials] == [2, 3] and all(t.base_shuffle == 1 for t in trials)
    cfg = load_config(demo_project)
    paths = ProjectPaths(cfg)
    for trial in trials:
        model_cfg = load_model_config(paths.model_config_file(0.95, trial.shuffle))
        assert model_cfg["runner"]["optimizer"]["params"]["lr"] == trial.params["lr"]
        assert model_cfg["runner"]["key_metric"] == "test.rmse" and model_cfg["runner"]["key_metric_asc"] is False
        assert model_cfg["posering"]["weight_init"] == "none"  # the base shuffle's settings carried over
        split = yaml.safe_load(storage.read_text(paths.split_file(0.95, trial.shuffle)))
        assert split["train_indices"] == TINY_TRAIN and split["test_indices"] == [2, 12]
    # The same request again: the same plan, no new shuffles.
    assert plan_comparison(demo_project, request) == (key, trials) and key == request_key(request)


@pytest.mark.slow
def test_models_are_ranked_and_the_best_is_analyzed(demo_project, ray_session):
    make_shuffle(demo_project, TINY_NET, shuffle=1, train=TINY_TRAIN, test=[2, 12], **TINY_SETTINGS)
    make_shuffle(demo_project, "resnet_18", shuffle=2, train=TINY_TRAIN, test=[2, 12], **TINY_SETTINGS)
    board = compare_models(demo_project, shuffles=[1, 2], minutes_per_trial=0.25, scheduler="none")
    cfg = load_config(demo_project)
    paths = ProjectPaths(cfg)
    assert sorted(board["shuffle"]) == [1, 2] and list(board["rank"]) == [1, 2]
    assert set(board["model"]) == {TINY_NET, "resnet_18"}
    assert board["test RMSE"].is_monotonic_increasing and board["test RMSE"].notna().all()
    assert (board["train RMSE"] >= 0).all() and (board["inference frames/s"] > 0).all()
    assert (board["status"] == "finished").all(), board["status"].tolist()
    assert (board["training minutes"] >= 0.25).all()
    saved = list(csv.DictReader(io.StringIO(storage.read_text(paths.leaderboard_file))))
    assert [int(r["shuffle"]) for r in saved] == list(board["shuffle"])
    assert storage.read_bytes(paths.leaderboard_plot)[:4] == b"\x89PNG"
    # The numbers are evaluate_network's: its result file for the winner says the same.
    winner = yaml.safe_load(storage.read_text(paths.comparison_winner))
    assert winner["shuffle"] == int(board["shuffle"][0]) and winner["value"] == pytest.approx(board["test RMSE"][0])

    # shuffle="best" is the winner's shuffle and snapshot.
    ref = resolve_model(cfg, "best")
    assert ref.shuffle == winner["shuffle"] and storage.name(ref.snapshot.location) == winner["snapshot"]
    from posering.analyze.analyze_videos import analyze_videos

    video = storage.join(paths.videos_dir, storage.listdir(paths.videos_dir)[0])
    scorer = analyze_videos(demo_project, [video], shuffle="best", num_workers=0)
    assert scorer == ref.scorer and f"shuffle{winner['shuffle']}" in scorer

    # Run again with the same request (as after the driver died): nothing is trained again.
    stats = {n: storage.read_text(storage.join(paths.train_dir(0.95, n), "learning_stats.csv")) for n in (1, 2)}
    again = compare_models(demo_project, shuffles=[1, 2], minutes_per_trial=0.25, scheduler="none")
    assert list(again["shuffle"]) == list(board["shuffle"])
    for n in (1, 2):
        assert storage.read_text(storage.join(paths.train_dir(0.95, n), "learning_stats.csv")) == stats[n]


@pytest.mark.slow
def test_a_comparison_resumes_after_its_driver_dies(demo_project, ray_session, tmp_path):
    """The driver is SIGKILLed (with the local Ray it started) while the second of two trials
    trains; calling compare_models again keeps the finished trial and continues the other."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    settings = dict(TINY_SETTINGS, **{"runner.snapshots.save_epochs": 1})
    make_shuffle(demo_project, TINY_NET, shuffle=1, train=TINY_TRAIN, test=[2, 12], **settings)
    make_shuffle(demo_project, TINY_NET, shuffle=2, train=TINY_TRAIN, test=[2, 12], **settings)
    paths = ProjectPaths(load_config(demo_project))
    first, second = (paths.train_dir(0.95, n) for n in (1, 2))
    options = dict(shuffles=[1, 2], minutes_per_trial=0.5, scheduler="none", max_concurrent=1)
    code = ("from posering.train.compare_models import compare_models; "
            f"compare_models({str(demo_project)!r}, **{options!r})")
    repo = Path(__file__).resolve().parents[2]
    # Tune saves its experiment state every second here (default: every 10 s or more), so the
    # finished first trial is on record when the driver dies.
    env = dict(os.environ, PYTHONPATH=str(repo), TUNE_GLOBAL_CHECKPOINT_S="1")
    env.pop("RAY_ADDRESS", None)
    with open(tmp_path / "driver.log", "w") as log:
        driver = subprocess.Popen([sys.executable, "-c", code], stdout=log, stderr=log, env=env,
                                  start_new_session=True)  # its own process group: the driver and its Ray
        try:
            deadline = time.monotonic() + 600
            while not storage.exists(storage.join(second, "snapshot-002.pt")):
                assert driver.poll() is None, (tmp_path / "driver.log").read_text()[-3000:]
                assert time.monotonic() < deadline, "the second trial saved nothing within 10 minutes"
                time.sleep(0.2)
            time.sleep(3)
        finally:
            os.killpg(driver.pid, signal.SIGKILL)
            driver.wait(timeout=60)
    finished = storage.read_text(storage.join(first, "learning_stats.csv"))
    assert not storage.exists(paths.leaderboard_file)

    board = compare_models(demo_project, **options)
    assert storage.read_text(storage.join(first, "learning_stats.csv")) == finished  # not trained again
    log = storage.read_text(storage.join(second, "train.txt"))
    assert re.search(r"resuming from \S+snapshot-\d{3}\.pt \(epoch \d+, with optimizer state\)", log), log
    rows = {int(r["shuffle"]): r for _, r in board.iterrows()}
    assert rows[1]["status"] == rows[2]["status"] == "finished"
    # The second trial continued its budget rather than starting a new one: 0.5 minutes in all.
    assert 0.5 <= rows[2]["training minutes"] < 0.5 + 0.25
