"""Finding a model's snapshots and picking one, by DeepLabCut 3's rules.

Snapshots are ``train/snapshot-<epoch>.pt`` and ``train/snapshot-best-<epoch>.pt``. The listing
is sorted by epoch with the best snapshot placed last, so ``snapshotindex: -1`` picks the best
snapshot when there is one and the last otherwise. A snapshot's uid in scorer names is its epoch
(``200``) or ``best-<epoch>`` (``best-10``), without zero padding.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from posering import storage
from posering.errors import ModelError

_PATTERN = re.compile(r"^snapshot-(best-)?(\d+)\.pt$")


@dataclass(frozen=True)
class Snapshot:
    location: str
    epoch: int
    best: bool

    @property
    def uid(self) -> str:
        return f"best-{self.epoch}" if self.best else str(self.epoch)


def list_snapshots(train_dir: str) -> list[Snapshot]:
    """Snapshots in ``train_dir``, by epoch, the best one last (detector snapshots ignored)."""
    found = []
    for name in storage.listdir(train_dir):
        match = _PATTERN.match(name)
        if match:
            found.append(Snapshot(storage.join(train_dir, name), int(match.group(2)), bool(match.group(1))))
    regular = sorted((s for s in found if not s.best), key=lambda s: s.epoch)
    best = sorted((s for s in found if s.best), key=lambda s: s.epoch)
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
