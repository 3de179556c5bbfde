"""Snapshots: DeepLabCut 3's files, names and selection rules, read safely and written atomically.

A snapshot is ``torch.save({"metadata": {"epoch", "iteration", "metrics", "losses"}, "model":
state_dict[, "optimizer", "scheduler"]})`` named ``snapshot-<EEE>.pt`` (the epoch, at least three
digits) or ``snapshot-best-<EEE>.pt`` for the best by the key metric; DeepLabCut 3 loads
posering's and posering loads DeepLabCut's. Everything is read with ``weights_only=True``:
tensors and plain values only, never code.

Selection follows DeepLabCut: the listing is sorted by epoch with the best snapshot last, so
``snapshotindex: -1`` picks the best snapshot when there is one and the latest otherwise. A
snapshot's uid in scorer names is its epoch (``200``) or ``best-<epoch>`` (``best-10``), without
zero padding. Files of detectors (``snapshot-detector-*``) are not pose snapshots and are ignored.
"""

from __future__ import annotations

import io
import pickle
import re
from dataclasses import dataclass

import torch

from posering import storage
from posering.errors import ModelError, PoseringError

PREFIX = "snapshot"
_NAME = re.compile(r"^snapshot-(best-)?(\d+)\.pt$")


@dataclass(frozen=True)
class Snapshot:
    location: str
    epoch: int
    best: bool

    @property
    def uid(self) -> str:
        return f"best-{self.epoch}" if self.best else str(self.epoch)


def snapshot_name(epoch: int, best: bool = False) -> str:
    """``snapshot-005.pt`` / ``snapshot-best-005.pt``."""
    return f"{PREFIX}-{'best-' if best else ''}{epoch:03d}.pt"


# -- listing and choosing ------------------------------------------------------------------------------
def snapshot_files(train_dir: str) -> list[Snapshot]:
    """Every snapshot file, older best ones included, regular ones first, each by epoch."""
    found = []
    for name in storage.listdir(train_dir):
        match = _NAME.match(name)
        if match:
            found.append(Snapshot(storage.join(train_dir, name), int(match.group(2)), bool(match.group(1))))
    return sorted(found, key=lambda s: (s.best, s.epoch))


def list_snapshots(train_dir: str) -> list[Snapshot]:
    """Snapshots in ``train_dir`` by DeepLabCut's listing: by epoch, the latest best one last."""
    found = snapshot_files(train_dir)
    regular = [s for s in found if not s.best]
    best = [s for s in found if s.best]
    return regular + best[-1:]


def select_snapshot(train_dir: str, index: int | str = -1) -> Snapshot:
    """The snapshot at ``index`` of :func:`list_snapshots` (-1: best, else last)."""
    snapshots = list_snapshots(train_dir)
    if not snapshots:
        raise ModelError(f"{train_dir}: no snapshot-*.pt here; train the network first "
                         "(`posering train_network <config>`)")
    if index == "all":
        raise ModelError("snapshot index 'all' selects several snapshots; pick one (e.g. -1) here")
    try:
        return snapshots[int(index)]
    except (IndexError, ValueError):
        names = ", ".join(storage.name(s.location) for s in snapshots)
        raise ModelError(f"{train_dir}: snapshot index {index} does not exist (found: {names})") from None


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


# -- reading and writing ---------------------------------------------------------------------------------
RESAVE = ("if it is yours, load it where you trust it and save its tensors alone, e.g. "
          "torch.save({'model': model.state_dict()}, 'snapshot-plain.pt')")


def load_torch_file(location: str, what: str = "snapshot"):
    """``torch.load(weights_only=True)`` of a local path or URL onto the CPU; ModelError if refused.

    Every torch file posering reads (snapshots, backbone weights) comes through here. When torch
    refuses a file, its message advises loading it again with ``weights_only=False``, which is
    exactly the unsafe thing (the file's pickled objects run code on load); the message here
    says instead what the file holds and how its owner re-saves a plain checkpoint.
    """
    try:
        return torch.load(io.BytesIO(storage.read_bytes(location)), weights_only=True, map_location="cpu")
    except PoseringError:  # already one line naming the location
        raise
    except pickle.UnpicklingError as err:
        found = re.search(r"Unsupported global: GLOBAL (\S+)", str(err))
        if not found:  # not a refusal: a damaged or foreign file
            raise ModelError(f"{location}: cannot read {what} (not a torch file, or a damaged one); it "
                             "must be a torch.save'd dict of tensors and plain values") from None
        raise ModelError(f"{location}: {what} refused: it holds code or Python objects ({found.group(1)}) "
                         f"besides tensors and plain values, which posering does not load; {RESAVE}") from None
    except Exception as err:
        raise ModelError(f"{location}: cannot read {what} ({_first_line(err)}); it must be a "
                         "torch.save'd dict of tensors and plain values") from None


def _first_line(err: Exception) -> str:
    text = str(err).strip()
    return f"{type(err).__name__}: {text.splitlines()[0] if text else ''}"


def read_snapshot(location: str) -> dict:
    """The whole snapshot dict, loaded safely (``weights_only=True``) onto the CPU."""
    payload = load_torch_file(location, "snapshot")
    if not isinstance(payload, dict) or not isinstance(payload.get("model"), dict):
        raise ModelError(f"{location}: not a snapshot (expected a dict with a 'model' state dict)")
    return payload


def read_weights(location: str) -> tuple[dict[str, torch.Tensor], dict]:
    """(state_dict, metadata) of a posering or DeepLabCut 3 snapshot."""
    payload = read_snapshot(location)
    return payload["model"], dict(payload.get("metadata") or {})


def write_snapshot(location: str, payload: dict) -> None:
    """Write atomically: a killed process leaves the previous file or this one, never half."""
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    storage.write_bytes(location, buffer.getvalue())


def plain_metadata(value):
    """Metadata as plain Python (floats, not tensors or numpy), readable with weights_only."""
    if isinstance(value, dict):
        return {str(k): plain_metadata(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_metadata(v) for v in value]
    if isinstance(value, (bool, int, str)) or value is None:
        return value
    return float(value)
