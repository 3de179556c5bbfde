"""Snapshots: DeepLabCut's names, rotation and selection; safe loading; the LR schedule."""

import pickle
from pathlib import Path

import pytest
import torch

from posering.errors import ModelError
from posering.formats.snapshots import (latest_resumable, list_snapshots, read_snapshot, select_snapshots,
                                        snapshot_name, write_snapshot)
from posering.train.optim import LRListScheduler, build_optimizer, build_scheduler
from posering.train.snapshot_keeper import SnapshotKeeper


def tiny_state(value: float) -> dict:
    model = torch.nn.Linear(2, 1)
    torch.nn.init.constant_(model.weight, value)
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.1)
    model(torch.ones(1, 2)).sum().backward()
    optimizer.step()
    return {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
            "scheduler": {"last_epoch": 3}}


def test_names_follow_deeplabcut():
    assert snapshot_name(5) == "snapshot-005.pt"
    assert snapshot_name(200) == "snapshot-200.pt"
    assert snapshot_name(1200, best=True) == "snapshot-best-1200.pt"


def test_rotation_keeps_last_n_plus_best_and_index_minus_one_is_best(tmp_path):
    keeper = SnapshotKeeper(str(tmp_path), max_snapshots=2, save_epochs=2, key_metric="test.rmse",
                            key_metric_asc=False)
    rmse = {1: 50.0, 2: 40.0, 3: 10.0, 4: 30.0, 5: 20.0, 6: 25.0, 7: 60.0, 8: 70.0}
    for epoch in range(1, 9):
        keeper.update(epoch, tiny_state(epoch), {"epoch": epoch, "metrics": {"metrics/test.rmse": rmse[epoch]}},
                      last=epoch == 8)
    names = [Path(s.location).name for s in list_snapshots(str(tmp_path))]
    assert names == ["snapshot-006.pt", "snapshot-008.pt", "snapshot-best-003.pt"]
    assert Path(select_snapshots(str(tmp_path), -1)[0].location).name == "snapshot-best-003.pt"
    assert Path(select_snapshots(str(tmp_path), 0)[0].location).name == "snapshot-006.pt"
    assert [Path(s.location).name for s in select_snapshots(str(tmp_path), "all")] == names
    assert select_snapshots(str(tmp_path), "snapshot-008")[0].epoch == 8
    assert Path(latest_resumable(str(tmp_path)).location).name == "snapshot-008.pt"
    assert select_snapshots(str(tmp_path), -1)[0].uid == "best-3"
    assert select_snapshots(str(tmp_path), 1)[0].uid == "8"
    with pytest.raises(ModelError, match="snapshot index 5 does not exist"):
        select_snapshots(str(tmp_path), 5)
    # The best metric carries over to a new keeper (a resumed run) and a worse value does not replace it.
    again = SnapshotKeeper(str(tmp_path), max_snapshots=2, save_epochs=2, key_metric="test.rmse",
                           key_metric_asc=False)
    assert again.best_value == 10.0
    again.update(9, tiny_state(9), {"epoch": 9, "metrics": {"metrics/test.rmse": 11.0}})
    assert Path(select_snapshots(str(tmp_path), -1)[0].location).name == "snapshot-best-003.pt"


def test_snapshots_load_with_weights_only_and_hold_resume_state(tmp_path):
    keeper = SnapshotKeeper(str(tmp_path), max_snapshots=5, save_epochs=1)
    keeper.update(1, tiny_state(1.5), {"epoch": 1, "iteration": 13, "losses": {"train.total_loss": torch.tensor(0.5)},
                                       "metrics": {}})
    location = str(tmp_path / "snapshot-001.pt")
    raw = torch.load(location, weights_only=True)  # plain torch, the strict loader
    assert set(raw) == {"metadata", "model", "optimizer", "scheduler"}
    assert raw["metadata"] == {"epoch": 1, "iteration": 13, "losses": {"train.total_loss": 0.5}, "metrics": {}}
    assert read_snapshot(location)["model"]["weight"].shape == (1, 2)


def test_a_snapshot_that_would_run_code_is_refused(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    location = tmp_path / "snapshot-001.pt"
    location.write_bytes(pickle.dumps({"model": {}, "x": Evil()}, protocol=2))
    with pytest.raises(ModelError, match="snapshot refused: it holds code or Python objects") as refused:
        read_snapshot(str(location))
    # torch's own advice (load again with weights_only=False) is the unsafe thing: not repeated.
    message = str(refused.value)
    assert "weights_only=False" not in message and "Re-running" not in message
    assert "print" in message and "state_dict()" in message
    assert len(message.splitlines()) == 1
    write_snapshot(str(tmp_path / "snapshot-002.pt"), {"metadata": {}, "model": {"w": torch.ones(1)}})
    with pytest.raises(ModelError, match="no snapshot named"):
        select_snapshots(str(tmp_path), "snapshot-009")


def test_lr_list_scheduler_has_deeplabcut_semantics():
    runner = {"optimizer": {"type": "AdamW", "params": {"lr": 5e-4}},
              "scheduler": {"type": "LRListScheduler",
                            "params": {"lr_list": [["0.0001"], ["1e-05"]], "milestones": [3, 5]}}}
    model = torch.nn.Linear(2, 1)
    optimizer = build_optimizer(runner, model.parameters())
    scheduler = build_scheduler(runner, optimizer)
    assert isinstance(scheduler, LRListScheduler)
    seen = []
    for _epoch in range(7):
        seen.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert seen == [5e-4, 5e-4, 5e-4, 1e-4, 1e-4, 1e-5, 1e-5]
    state = scheduler.state_dict()
    assert {"milestones", "lr_list", "last_epoch", "base_lrs"} <= set(state)
    fresh_opt = build_optimizer(runner, model.parameters())
    fresh = build_scheduler(runner, fresh_opt)
    from posering.train.optim import load_scheduler_state

    load_scheduler_state(fresh, state)
    assert fresh_opt.param_groups[0]["lr"] == 1e-5 and fresh.last_epoch == 7
    with pytest.raises(ModelError, match="not an optimizer"):
        build_optimizer({"optimizer": {"type": "Adamm"}}, model.parameters())
