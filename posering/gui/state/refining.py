"""Refining machine labels (DeepLabCut step K): what the Refine view edits, on top of
:func:`posering.labeling.load_for_refinement` and :func:`~posering.labeling.save_refined`.

Every machine point is loaded (``pcutoff=0``); the view's likelihood slider decides how each is
shown and whether it is kept: a human label, or a machine point at or above the slider, is a
filled disk and is saved as a label; a machine point below it is an open circle and is saved
only if the user moves or places it (as DeepLabCut's refinement tool leaves points below
``pcutoff`` out). Edits go through the Refinement's ``move`` and ``delete``, so saving keeps
every human label already on disk and removes only what was deleted here.
"""

from __future__ import annotations

import numpy as np

from posering import storage
from posering.gui.state.editing import PointEditor, same
from posering.gui.state.labeling import labeled_folders
from posering.labeling import load_for_refinement, save_refined
from posering.labeling.refine_labels import HUMAN, MACHINE, machine_labels_file
from posering.project import ProjectPaths, load_config


class RefineSession(PointEditor):
    """One labeled-data folder with machine labels, being corrected."""

    def __init__(self, config, video: str):
        self.config = load_config(config)
        self.paths = ProjectPaths(self.config)
        self.stem = storage.stem(video)
        self.threshold = float(self.config.get("pcutoff", 0.6))
        self.error: str | None = None
        self.last_saved: float | None = None
        self._load()

    def _load(self, frame: int = 0, bodypart: int = 0) -> None:
        self.refinement = r = load_for_refinement(self.config, self.stem, pcutoff=0)
        present = set(storage.listdir(ProjectPaths(self.config).labeled_folder(self.stem)))
        rows = [i for i, image in enumerate(r.images) if storage.name(image) in present]
        self._rows = rows  # editor index -> Refinement row (rows of vanished images stay, unseen)
        bodyparts = r.bodyparts
        points = r.points.to_numpy(dtype=float).reshape(len(r.points), len(bodyparts), 2)[rows]
        super().__init__([r.images[i] for i in rows], bodyparts, points)
        self.baseline = self.points.copy()
        self.source = r.source.to_numpy()[rows]
        self.likelihood = r.likelihood.to_numpy(dtype=float)[rows]
        self.location = r.location
        self.goto(frame)
        self.select(bodypart)

    @staticmethod
    def image_names(config, video: str) -> list[str]:
        folder = ProjectPaths(load_config(config)).labeled_folder(storage.stem(video))
        return sorted(n for n in storage.listdir(folder) if n.lower().endswith(".png"))

    # -- what is shown ------------------------------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        return [storage.name(p) for p in self.images]

    @property
    def machine_file(self) -> str | None:
        return self.refinement.machine_file

    @property
    def dirty(self) -> bool:
        return bool((~same(self.points, self.baseline)).any())

    def unsaved_count(self) -> int:
        return int((~same(self.points, self.baseline)).sum())

    def kept(self, frame: int | None = None) -> np.ndarray:
        """(K,) True where a point is saved as a label: human, edited here, or a machine point at
        or above the likelihood slider (filled disks; the others are open circles)."""
        frame = self.frame if frame is None else frame
        edited = ~same(self.points[frame], self.baseline[frame])
        sure = (self.source[frame] == MACHINE) & (np.nan_to_num(self.likelihood[frame], nan=0.0) >= self.threshold)
        return (self.source[frame] == HUMAN) | edited | sure

    def set_threshold(self, value: float) -> None:
        self.threshold = float(value)

    def counts(self) -> dict[str, int]:
        placed = ~np.isnan(self.points).any(axis=-1)
        edited = ~same(self.points, self.baseline)
        machine = placed & (self.source == MACHINE) & ~edited
        sure = machine & (np.nan_to_num(self.likelihood, nan=0.0) >= self.threshold)
        return {"human": int((placed & ((self.source == HUMAN) | edited)).sum()),
                "machine kept": int(sure.sum()), "machine left out": int((machine & ~sure).sum())}

    def status(self) -> str:
        if self.error:
            return f"not saved: {self.error}"
        if self.dirty:
            return f"{self.unsaved_count()} unsaved changes"
        return "saved" if self.last_saved else "no changes yet"

    # -- saving --------------------------------------------------------------------------------------------
    def save(self) -> str:
        """Apply the edits to the Refinement and save it: the edits, and the machine points at or
        above the slider; those below it that were not touched are left out, and human labels not
        edited here are left as the file has them. Reloads from the saved file afterwards."""
        import time

        r, scorer = self.refinement, self.config.scorer
        # Human labels are on disk already: leave them out of what is written, so a label changed
        # meanwhile in another window (or the Label view) is kept, not overwritten by this copy.
        for bodypart in self.bodyparts:
            on_disk = r.source[bodypart] == HUMAN
            r.points.loc[on_disk, [(scorer, bodypart, "x"), (scorer, bodypart, "y")]] = np.nan
        changed = ~same(self.points, self.baseline)
        for f, k in np.argwhere(changed):
            image, bodypart = self.images[f], self.bodyparts[k]
            if np.isnan(self.points[f, k]).any():
                r.delete(image, bodypart)
            else:
                r.move(image, bodypart, *self.points[f, k])
        row_keys = r.points.index
        for f, k in np.argwhere(~changed & (self.source == MACHINE)
                                & (np.nan_to_num(self.likelihood, nan=0.0) < self.threshold)):
            key = row_keys[self._rows[f]]
            r.points.loc[key, (scorer, self.bodyparts[k], "x")] = np.nan
            r.points.loc[key, (scorer, self.bodyparts[k], "y")] = np.nan
        try:
            location = save_refined(r)
        except Exception as exc:
            self.error = str(exc)
            raise
        self.error = None
        self.last_saved = time.time()
        self._load(self.frame, self.bodypart)
        return location

    # the Label view's saving hooks: refinement saves only when asked
    saving = False
    conflicts: list = []
    new_bodyparts: list = []
    kept_bodyparts: list = []

    def autosave_job(self, frame_changed: bool = False, now: float | None = None):
        return None

    def remember_position(self) -> None:
        """Refinement keeps no position file (the Label view's is for labeling)."""


def refinable_folders(config) -> list[str]:
    """labeled-data folders that have a machinelabels file to refine."""
    config = load_config(config)
    return [stem for stem in labeled_folders(config) if machine_labels_file(config, stem)]
