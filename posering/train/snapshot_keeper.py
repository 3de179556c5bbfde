"""Which snapshots a training run keeps: DeepLabCut 3's rotation (the files: formats/snapshots.py).

Regular snapshots every ``save_epochs`` hold the optimizer and scheduler state, so training
resumes exactly where it stopped (DeepLabCut's ``save_optimizer_state: false`` keeps files smaller
but loses that); the best one by the key metric holds the weights only, being meant for analysis.
The last ``max_snapshots`` regular snapshots are kept, plus one best.
"""

from __future__ import annotations

import math

from posering import storage
from posering.formats.snapshots import plain_metadata, read_snapshot, snapshot_files, snapshot_name, write_snapshot


class SnapshotKeeper:
    """Saves regular snapshots every ``save_epochs`` and the best by ``key_metric``.

    Keeps the last ``max_snapshots`` regular snapshots plus one best (DeepLabCut's rotation).
    key_metric: a metrics key such as ``test.rmse`` or ``test.mAP``; key_metric_asc: True when
    larger is better (DeepLabCut's meaning).
    """

    def __init__(self, train_dir: str, max_snapshots: int = 5, save_epochs: int = 25,
                 key_metric: str | None = "test.mAP", key_metric_asc: bool = True):
        if int(max_snapshots) < 1:
            raise ValueError("max_snapshots_to_keep must be at least 1")
        self.train_dir = train_dir
        self.max_snapshots = int(max_snapshots)
        self.save_epochs = max(1, int(save_epochs))
        self.key = f"metrics/{key_metric}" if key_metric else None
        self.larger_is_better = bool(key_metric_asc)
        self.best_value: float | None = None
        best = [s for s in snapshot_files(train_dir) if s.best]
        if best and self.key:  # carry the best metric across a resume
            value = (read_snapshot(best[-1].location).get("metadata") or {}).get("metrics", {}).get(self.key)
            if value is not None and not math.isnan(float(value)):
                self.best_value = float(value)

    def due(self, epoch: int, last: bool) -> bool:
        return last or epoch % self.save_epochs == 0

    def update(self, epoch: int, state: dict, metadata: dict, last: bool = False) -> list[str]:
        """Save what this epoch calls for; returns the locations written."""
        metadata = plain_metadata(metadata)
        written = []
        value = (metadata.get("metrics") or {}).get(self.key) if self.key else None
        if value is not None and not math.isnan(value) and (
                self.best_value is None
                or (value > self.best_value if self.larger_is_better else value < self.best_value)):
            self.best_value = value
            location = storage.join(self.train_dir, snapshot_name(epoch, best=True))
            write_snapshot(location, {"metadata": metadata, "model": state["model"]})
            written.append(location)
            for old in snapshot_files(self.train_dir):
                if old.best and old.location != location:
                    storage.remove(old.location)
        if self.due(epoch, last):
            location = storage.join(self.train_dir, snapshot_name(epoch))
            payload = {"metadata": metadata, "model": state["model"]}
            if state.get("optimizer") is not None:
                payload["optimizer"] = state["optimizer"]
            if state.get("scheduler") is not None:
                payload["scheduler"] = state["scheduler"]
            write_snapshot(location, payload)
            written.append(location)
            regular = [s for s in snapshot_files(self.train_dir) if not s.best]
            for old in regular[: max(0, len(regular) - self.max_snapshots)]:
                storage.remove(old.location)
        return written
