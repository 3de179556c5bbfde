"""Points on a sequence of images: what a click, a key or a drag does, and how it is undone.

:class:`PointEditor` holds an (images x bodyparts x 2) array of points, NaN where a bodypart is
not placed (hidden or occluded points stay NaN, as DeepLabCut stores them), the current image and
the selected bodypart. Every edit is one :class:`Step` on the undo stack: a list of cell changes
with the values before and after, so undo and redo are exact and a drag that moved a point
across many mouse events is one step. Nothing here draws or touches files: the labeling and
refinement sessions add loading and saving, and the views translate events into these calls.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from posering.gui.state.cursor import FrameCursor

Cell = tuple[int, int]  # (image index, bodypart index)


@dataclass
class Step:
    """One undoable action: cell -> (before, after) values, and where the user was."""

    name: str
    changes: dict[Cell, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    frame: int = 0
    bodypart: int = 0


def same(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Elementwise equality where NaN equals NaN; over the last axis (x, y) for point arrays."""
    equal = (a == b) | (np.isnan(a) & np.isnan(b))
    return equal.all(axis=-1)


class PointEditor(FrameCursor):
    """Images, bodyparts, points, the current image and bodypart, and the undo history."""

    def __init__(self, images: list[str], bodyparts: list[str], points: np.ndarray):
        if points.shape != (len(images), len(bodyparts), 2):
            raise ValueError(f"points must have shape {(len(images), len(bodyparts), 2)}, got {points.shape}")
        self.images = list(images)
        self.bodyparts = list(bodyparts)
        self.points = np.array(points, dtype=float)
        self.frame = 0
        self.bodypart = 0
        self.active: list[int] = list(range(len(bodyparts)))  # bodyparts that navigation visits
        self._undo: list[Step] = []
        self._redo: list[Step] = []

    # -- what is shown ---------------------------------------------------------------------------------
    @property
    def nframes(self) -> int:
        return len(self.images)

    def point(self, bodypart: int | None = None, frame: int | None = None) -> tuple[float, float] | None:
        xy = self.points[self.frame if frame is None else frame, self.bodypart if bodypart is None else bodypart]
        return None if np.isnan(xy).any() else (float(xy[0]), float(xy[1]))

    def placed(self, frame: int | None = None) -> np.ndarray:
        """(K,) True where the bodypart is placed on the image."""
        return ~np.isnan(self.points[self.frame if frame is None else frame]).any(axis=-1)

    def complete(self, frame: int) -> bool:
        """Every bodypart that navigation visits is placed on this image."""
        return bool(self.placed(frame)[self.active].all())

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    # -- moving around (goto, next/prev/first/last_frame: FrameCursor) -----------------------------------
    def next_incomplete(self) -> bool:
        """The next image (after this one, wrapping around) with an unplaced bodypart."""
        for step in range(1, self.nframes + 1):
            frame = (self.frame + step) % self.nframes
            if not self.complete(frame):
                changed = self.goto(frame)
                self.select_first_unplaced()
                return changed
        return False

    def select(self, bodypart: int) -> None:
        self.bodypart = int(min(max(bodypart, 0), len(self.bodyparts) - 1))

    def next_bodypart(self) -> None:
        self.select(self._cycle(+1))

    def prev_bodypart(self) -> None:
        self.select(self._cycle(-1))

    def _cycle(self, direction: int) -> int:
        order = self.active or list(range(len(self.bodyparts)))
        if self.bodypart not in order:
            return order[0]
        return order[(order.index(self.bodypart) + direction) % len(order)]

    def select_first_unplaced(self) -> None:
        placed = self.placed()
        for k in self.active:
            if not placed[k]:
                self.select(k)
                return

    def restrict(self, bodyparts: list[int] | None) -> None:
        """Let navigation visit only these bodyparts (None: all), e.g. the ones new in config.yaml."""
        self.active = list(bodyparts) if bodyparts else list(range(len(self.bodyparts)))
        if self.bodypart not in self.active:
            self.select(self.active[0])

    # -- editing --------------------------------------------------------------------------------------------
    def place(self, x: float, y: float) -> None:
        """Put the selected bodypart at (x, y), then select the next unplaced one of this image."""
        self._apply("place", {(self.frame, self.bodypart): (x, y)})
        placed = self.placed()
        order = self.active
        start = order.index(self.bodypart) if self.bodypart in order else -1
        for offset in range(1, len(order) + 1):
            k = order[(start + offset) % len(order)]
            if not placed[k]:
                self.select(k)
                return

    def move(self, bodypart: int, x: float, y: float) -> None:
        """A drag ended: one step, whatever the number of mouse events in between."""
        self._apply("move", {(self.frame, bodypart): (x, y)})

    def remove(self, bodypart: int | None = None) -> bool:
        """Unplace a bodypart (the selected one by default); False if it was not placed."""
        bodypart = self.bodypart if bodypart is None else bodypart
        if self.point(bodypart) is None:
            return False
        self._apply("remove", {(self.frame, bodypart): (np.nan, np.nan)})
        self.select(bodypart)
        return True

    def nearest(self, x: float, y: float, within: float) -> int | None:
        """The placed bodypart nearest to (x, y), if it is closer than ``within``."""
        xy = self.points[self.frame]
        distance = np.hypot(xy[:, 0] - x, xy[:, 1] - y)
        distance[np.isnan(distance)] = np.inf
        k = int(np.argmin(distance)) if len(distance) else -1
        return k if k >= 0 and distance[k] <= within else None

    def copy_previous(self) -> int:
        """Fill this image's unplaced bodyparts from the previous image; points placed here stay."""
        if self.frame == 0:
            return 0
        source, placed = self.points[self.frame - 1], self.placed()
        cells = {(self.frame, k): tuple(source[k]) for k in range(len(self.bodyparts))
                 if not placed[k] and not np.isnan(source[k]).any()}
        if cells:
            self._apply("copy previous", cells)
        return len(cells)

    def undo(self) -> bool:
        if not self._undo:
            return False
        step = self._undo.pop()
        for (f, k), (before, _) in step.changes.items():
            self.points[f, k] = before
        self._redo.append(step)
        self._show(step)
        return True

    def redo(self) -> bool:
        if not self._redo:
            return False
        step = self._redo.pop()
        for (f, k), (_, after) in step.changes.items():
            self.points[f, k] = after
        self._undo.append(step)
        self._show(step)
        return True

    def _show(self, step: Step) -> None:
        """After undo/redo, show the image where it happened."""
        cells = sorted(step.changes)
        self.goto(cells[0][0] if cells else step.frame)
        self.select(cells[0][1] if len(cells) == 1 else step.bodypart)

    def _apply(self, name: str, cells: dict[Cell, tuple[float, float]]) -> Step | None:
        step = Step(name, frame=self.frame, bodypart=self.bodypart)
        for (f, k), xy in cells.items():
            after = np.array(xy, dtype=float)
            before = self.points[f, k].copy()
            if same(before, after):
                continue
            step.changes[(f, k)] = (before, after)
            self.points[f, k] = after
        if not step.changes:
            return None
        self._undo.append(step)
        self._redo.clear()
        return step
