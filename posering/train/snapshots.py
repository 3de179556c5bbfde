"""Snapshots: DeepLabCut 3's files, names and selection rules, written atomically.

A snapshot is ``torch.save({"metadata": {"epoch", "iteration", "metrics", "losses"}, "model":
state_dict, "optimizer": ..., "scheduler": ...})`` named ``snapshot-<EEE>.pt`` (epochs, at least
three digits) or ``snapshot-best-<EEE>.pt`` for the best by the key metric. Regular snapshots hold
the optimizer and scheduler state so training resumes exactly where it stopped (DeepLabCut's
``save_optimizer_state: false`` keeps files smaller but loses that); the best one holds the
weights only, being meant for analysis.

Listing and selection by DeepLabCut's rules (by epoch, the best last, so ``snapshotindex: -1``
picks the best when there is one, else the latest) live in :mod:`posering.project.snapshots`;
this module writes and rotates. Everything is read back with ``weights_only=True``: tensors and
plain values only, never code.
"""

from __future__ import annotations

import io
import math
import re

import torch

from posering import storage
from posering.errors import ModelError
from posering.project.snapshots import Snapshot, list_snapshots, select_snapshot

__all__ = ["Snapshot", "SnapshotKeeper", "latest_resumable", "list_snapshots", "read_snapshot", "snapshot_files",
           "select_snapshots", "snapshot_name", "write_snapshot"]

PREFIX = "snapshot"
_NAME = re.compile(r"^snapshot(-best)?-(\d+)\.pt$")


def snapshot_name(epoch: int, best: bool = False) -> str:
    return f"{PREFIX}-{'best-' if best else ''}{epoch:03d}.pt"


def snapshot_files(train_dir: str) -> list[Snapshot]:
    """Every snapshot file, older best ones included (the listing shows the latest best only)."""
    found = []
    for name in storage.listdir(train_dir):
        match = _NAME.match(name)
        if match:
            found.append(Snapshot(storage.join(train_dir, name), int(match.group(2)), bool(match.group(1))))
    return sorted(found, key=lambda s: (s.best, s.epoch))


def select_snapshots(train_dir: str, index) -> list[Snapshot]:
    """Snapshots picked by a config-style ``snapshotindex``: an int (-1 = best or last), "all",
    or a list of ints / snapshot names (``snapshot-050`` or ``snapshot-050.pt``)."""
    snapshots = list_snapshots(train_dir)
    if index in ("all", None):
        if not snapshots:
            select_snapshot(train_dir)  # raises the one-line "train the network first"
        return snapshots
    chosen = []
    for pick in index if isinstance(index, (list, tuple)) else [index]:
        if isinstance(pick, str) and not pick.lstrip("-").isdigit():
            names = {storage.name(s.location): s for s in snapshots}
            names.update({name[:-3]: s for name, s in list(names.items())})
            if pick not in names:
                raise ModelError(f"{train_dir}: no snapshot named {pick!r} (found "
                                 f"{', '.join(storage.name(s.location) for s in snapshots) or 'none'})")
            chosen.append(names[pick])
        else:
            chosen.append(select_snapshot(train_dir, int(pick)))
    return chosen


def latest_resumable(train_dir: str) -> Snapshot | None:
    """The regular snapshot with the most epochs (the one to resume from), if any."""
    regular = [s for s in list_snapshots(train_dir) if not s.best]
    return max(regular, key=lambda s: s.epoch) if regular else None


def read_snapshot(location: str) -> dict:
    """The whole snapshot dict, loaded safely (``weights_only=True``) onto the CPU."""
    try:
        payload = torch.load(io.BytesIO(storage.read_bytes(location)), weights_only=True, map_location="cpu")
    except Exception as exc:
        raise ModelError(f"{location}: cannot read snapshot ({type(exc).__name__}: "
                         f"{str(exc).strip().splitlines()[0] if str(exc).strip() else ''}); it must be "
                         "a torch.save'd dict of tensors and plain values") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("model"), dict):
        raise ModelError(f"{location}: not a snapshot (expected a dict with a 'model' state dict)")
    return payload


def write_snapshot(location: str, payload: dict) -> None:
    """Write atomically: a killed process leaves the previous file or this one, never half."""
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    storage.write_bytes(location, buffer.getvalue())


def _plain(value):
    """Metadata as plain Python (floats, not tensors or numpy), readable with weights_only."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (bool, int, str)) or value is None:
        return value
    return float(value)


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
        metadata = _plain(metadata)
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
