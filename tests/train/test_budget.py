"""Training to a wall-clock budget: the schedule in fractions of it, the stop, the last epoch saved."""

import re

import pytest

from posering import storage
from posering.errors import ModelError
from posering.train.budget import TimeBudget, budget_model_config, budget_schedule
from posering.formats.snapshots import latest_resumable, read_snapshot
from posering.train.train_network import train_network
from tests.training_helpers import TINY_NET, TINY_SETTINGS, TINY_TRAIN, make_shuffle


def test_milestones_become_fractions_of_the_budget():
    runner = {"scheduler": {"type": "LRListScheduler",
                            "params": {"milestones": [90, 120], "lr_list": [[1e-4], ["1e-05"]]}}}
    assert budget_schedule(runner, 200) == [(0.45, [1e-4]), (0.6, [1e-5])]
    assert budget_schedule({}, 200) == []
    assert budget_schedule({"scheduler": {"type": "StepLR", "params": {"step_size": 3}}}, 200) == []
    loop_cfg = budget_model_config({"runner": {**runner, "eval_interval": 10}, "net_type": "x"})
    assert "scheduler" not in loop_cfg["runner"] and loop_cfg["runner"]["eval_interval"] == 1
    assert runner["scheduler"]  # the config itself is left alone


def test_the_clock_stops_and_evaluates_at_tenths(monkeypatch):
    now = [100.0]
    monkeypatch.setattr("posering.train.budget.time.perf_counter", lambda: now[0])
    budget = TimeBudget(1.0, [(0.5, [1e-4])], spent=6.0)
    budget.start(0, first_epoch=3, epochs=10)
    assert not budget.should_stop() and budget.elapsed == 6.0
    assert budget.evaluation_due(3)          # the first epoch of a run
    now[0] += 3.0
    budget.should_stop()
    assert not budget.evaluation_due(4)      # still within the same tenth (9 s of 60)
    now[0] += 4.0
    budget.should_stop()
    assert budget.evaluation_due(5)          # 13 s: a new tenth
    assert budget.rates_at(0.49) is None and budget.rates_at(0.5) == [1e-4]
    now[0] += 60.0
    assert budget.should_stop() and budget.evaluation_due(6)
    assert budget.metadata() == {"train_seconds": 73.0, "budget_seconds": 60.0}


def test_a_budget_of_seconds_trains_and_saves_the_last_epoch(demo_project):
    # DeepLabCut's default LRListScheduler (epochs 90 and 120 of 200), not the tiny model's cosine:
    # a budget scales LRListScheduler's milestones to fractions of itself.
    settings = {key: value for key, value in TINY_SETTINGS.items() if key != "runner.scheduler"}
    make_shuffle(demo_project, TINY_NET, train=TINY_TRAIN, test=[2], **settings)
    minutes = 0.15
    last = train_network(demo_project, minutes=minutes, save_epochs=1000, progress=False, precision="fp32")
    train_dir = storage.parent(last)
    snapshot = read_snapshot(last)
    epoch = snapshot["metadata"]["epoch"]
    assert last.endswith(f"snapshot-{epoch:03d}.pt") and latest_resumable(train_dir).epoch == epoch
    assert snapshot["metadata"]["train_seconds"] >= minutes * 60
    log = storage.read_text(storage.join(train_dir, "train.txt"))
    fitted = re.search(r"time budget of 0.15 minutes spent: (\d+) epochs fitted in this run \(epochs 1-(\d+)", log)
    assert fitted and int(fitted.group(1)) == epoch == int(fitted.group(2)), log
    assert "learning rate in fractions of the budget: 0.0001 from 45%, 1e-05 from 60%" in log
    # The rate dropped at 45% of the budget: the optimizer state of the last snapshot says so.
    assert snapshot["optimizer"]["param_groups"][0]["lr"] == pytest.approx(1e-5)
    # The budget is posering's setting: in posering.yaml, not in DeepLabCut's strict pytorch_config.yaml.
    assert "train_minutes: 0.15" in storage.read_text(storage.join(train_dir, "posering.yaml"))
    assert "train_minutes" not in storage.read_text(storage.join(train_dir, "pytorch_config.yaml"))

    # Resumed, the run continues the same budget: nothing is left, one more step ends it.
    again = train_network(demo_project, minutes=minutes, resume=True, progress=False, precision="fp32")
    assert read_snapshot(again)["metadata"]["epoch"] == epoch + 1


def test_minutes_and_epochs_are_one_or_the_other(demo_project):
    make_shuffle(demo_project, TINY_NET, train=TINY_TRAIN, test=[2], **TINY_SETTINGS)
    with pytest.raises(ModelError, match="either minutes .* or epochs"):
        train_network(demo_project, minutes=1, epochs=3)
    with pytest.raises(ModelError, match="positive number of minutes"):
        train_network(demo_project, minutes=0)
