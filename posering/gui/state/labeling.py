"""Labeling one ``labeled-data/<video>/`` folder: load, edit, save without ever losing a label.

A :class:`LabelingSession` is a :class:`~posering.gui.state.editing.PointEditor` over the folder's
images and config.yaml's bodyparts, plus what the file on disk looked like when it was last read
or written (``baseline`` and its ``version``). Saving writes only what the user changed since
then, through :func:`posering.labels.save_labels`, which merges with the file on disk:

* a point is removed from the file only when the user removed it here (napari-deeplabcut 221);
* labels on disk the session never loaded, or bodyparts no longer in config.yaml, are kept;
* when the file changed on disk since it was read (a second window, a refinement, a script), the
  others' changes are taken into this session; a point both changed differently is a conflict,
  and nothing is written until the user says whose wins;
* "saved" is reported only after reading the file back and finding the changes there
  (DeepLabCut 2259: a save that wrote nothing).

Saves run as a :class:`SaveJob` (plain values, so it can run on a worker thread while the user
goes on labeling); :meth:`LabelingSession.finish_save` takes its result back on the main thread.
Autosave: after every image change when there are unsaved changes, and every 30 s.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import yaml

from posering import labels, storage
from posering.errors import LabelsError, PoseringError
from posering.gui.state.editing import Cell, PointEditor, same
from posering.project import ProjectConfig, ProjectPaths, load_config
from posering.project.paths import LABELED_DATA, is_video_folder

AUTOSAVE_EVERY_S = 30.0
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
MINE, THEIRS = "mine", "theirs"


@dataclass
class SaveResult:
    written: bool = False
    disk: np.ndarray | None = None  # the points as the file now holds them
    version: str | None = None
    conflicts: list[Cell] = field(default_factory=list)
    error: str | None = None


@dataclass
class SaveJob:
    """One save, with copies of everything it needs."""

    location: str
    scorer: str
    relpaths: list[str]
    bodyparts: list[str]
    points: np.ndarray  # what the user sees, at the time the save started
    baseline: np.ndarray  # the file as last read or written
    version: str | None
    resolve: str | None = None  # MINE or THEIRS when the user settled a conflict
    resume_file: str | None = None
    resume: dict | None = None

    def run(self) -> SaveResult:
        """Check the file on disk, write the changes, read them back. Never raises for bad files."""
        try:
            return self._run()
        except PoseringError as exc:
            return SaveResult(error=str(exc))
        except Exception as exc:  # a disk, HDF5 or network failure: report it, claim nothing
            return SaveResult(error=f"{self.location}: could not save ({type(exc).__name__}: {exc})")

    def _run(self) -> SaveResult:
        points = self.points.copy()
        changed = ~same(points, self.baseline)
        version = labels.file_version(self.location)
        disk = self.baseline
        if version != self.version:  # someone else saved since we read the file
            disk = self.read_disk()
            theirs = ~same(disk, self.baseline)
            conflict = changed & theirs & ~same(disk, points)
            if conflict.any():
                if self.resolve is None:
                    cells = [tuple(int(i) for i in c) for c in np.argwhere(conflict)]
                    return SaveResult(disk=disk, version=version, conflicts=cells)
                if self.resolve == THEIRS:
                    points[conflict] = disk[conflict]
                    changed &= ~conflict
        if changed.any():
            self._write(points, changed)
            disk = self.read_disk()
            lost = changed & ~same(disk, points)
            if lost.any():
                f, k = np.argwhere(lost)[0]
                raise LabelsError(f"{self.location}: after saving, {self.bodyparts[k]} of "
                                  f"{self.relpaths[f]} is not in the file; the labels stay unsaved here")
            version = labels.file_version(self.location)
        if self.resume_file and self.resume:
            storage.write_text(self.resume_file, yaml.safe_dump(self.resume, sort_keys=False))
        return SaveResult(written=bool(changed.any()), disk=disk, version=version)

    def _write(self, points: np.ndarray, changed: np.ndarray) -> None:
        rows = np.flatnonzero(changed.any(axis=1))
        values = np.where(changed[rows][..., None], points[rows], np.nan)
        table = labels.from_arrays(self.scorer, self.bodyparts, [self.relpaths[r] for r in rows], values)
        deleted = [(self.relpaths[f], self.bodyparts[k]) for f, k in np.argwhere(changed)
                   if np.isnan(points[f, k]).any()]
        labels.save_labels(table, self.location, deleted=deleted)

    def read_disk(self) -> np.ndarray:
        names = [storage.name(p) for p in self.relpaths]
        if not storage.exists(self.location):
            return np.full((len(names), len(self.bodyparts), 2), np.nan)
        return labels.points_by_image(labels.read_labels(self.location), names, self.bodyparts)


class LabelingSession(PointEditor):
    """One labeled-data folder being labeled: images, config's bodyparts, points, saving."""

    def __init__(self, config: str | ProjectConfig, video: str):
        self.config = load_config(config)
        self.paths = ProjectPaths(self.config)
        self.stem = storage.stem(video)
        self.folder = self.paths.labeled_folder(self.stem)
        self.location = self.paths.collected_data(self.stem)
        names = self.image_names(self.config, self.stem)
        if not names:
            raise LabelsError(f"{self.folder}: no images to label; extract frames first "
                              "(Extract by hand, or `posering extract_frames`)")
        relpaths = [f"{LABELED_DATA}/{self.stem}/{name}" for name in names]
        table = self._read_table()
        bodyparts = self.config.bodyparts
        in_file = labels.bodyparts_of(table) if table is not None else []
        self.new_bodyparts = [bp for bp in bodyparts if table is not None and bp not in in_file]
        self.kept_bodyparts = [bp for bp in in_file if bp not in bodyparts]  # saved as they are
        points = labels.points_by_image(table, names, bodyparts)
        super().__init__(relpaths, bodyparts, points)
        self.baseline = points.copy()
        self.version = labels.file_version(self.location) if table is not None else None
        self.conflicts: list[Cell] = []
        self.error: str | None = None
        self.saving = False
        self.last_saved: float | None = None  # wall-clock time of the last successful save
        self._pending: str | None = None  # a save asked for while one was running ("" or resolve)
        self._autosave_clock = time.monotonic()
        self._resume()

    @staticmethod
    def image_names(config, video: str) -> list[str]:
        """The images of a labeled-data folder, in order."""
        folder = ProjectPaths(load_config(config)).labeled_folder(storage.stem(video))
        return sorted(n for n in storage.listdir(folder) if n.lower().endswith(IMAGE_SUFFIXES))

    def _read_table(self):
        for location in (self.location, self.paths.collected_data(self.stem, ".csv")):
            if storage.exists(location):
                return labels.read_labels(location)
        return None

    # -- what the window shows -------------------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        return [storage.name(p) for p in self.images]

    @property
    def dirty(self) -> bool:
        return bool((~same(self.points, self.baseline)).any())

    def unsaved_count(self) -> int:
        return int((~same(self.points, self.baseline)).sum())

    def status(self) -> str:
        if self.error:
            return f"not saved: {self.error}"
        if self.conflicts:
            return f"{len(self.conflicts)} points were changed on disk too: choose whose to keep"
        if self.saving:
            return "saving..."
        if self.dirty:
            return f"{self.unsaved_count()} unsaved changes"
        if self.last_saved:
            return "saved " + time.strftime("%H:%M:%S", time.localtime(self.last_saved))
        return "no changes"

    def only_new_bodyparts(self, on: bool) -> None:
        """Navigation over the bodyparts config.yaml has but the file lacked, or over all."""
        new = [self.bodyparts.index(bp) for bp in self.new_bodyparts]
        self.restrict(new if on and new else None)

    # -- saving ------------------------------------------------------------------------------------------
    def start_save(self, resolve: str | None = None) -> SaveJob | None:
        """The save to run now, or None if one is running (it runs again when that one ends)."""
        if self.saving:
            self._pending = resolve or self._pending or ""
            return None
        self.saving = True
        self._autosave_clock = time.monotonic()
        resume = {"image": self.names[self.frame], "bodypart": self.bodyparts[self.bodypart], "at": time.time()}
        return SaveJob(self.location, self.config.scorer, list(self.images), list(self.bodyparts),
                       self.points.copy(), self.baseline.copy(), self.version, resolve,
                       self.paths.labeling_state(self.stem), resume)

    def finish_save(self, job: SaveJob, result: SaveResult) -> SaveJob | None:
        """Take a save's result; returns the next save to run if one was asked for meanwhile."""
        self.saving = False
        self.error = result.error
        if result.error is None:
            self.conflicts = list(result.conflicts)
            if not result.conflicts and result.disk is not None:
                # Points the user did not touch while saving take what the file now holds
                # (the others' changes, or theirs where the user chose so).
                untouched = same(self.points, job.points)
                self.points[untouched] = result.disk[untouched]
                self.baseline = result.disk.copy()
                self.version = result.version
                if result.written or not self.dirty:
                    self.last_saved = time.time()
        if self._pending is not None and not self.conflicts:
            resolve, self._pending = self._pending or None, None
            return self.start_save(resolve)
        self._pending = None
        return None

    def save(self, resolve: str | None = None) -> SaveResult:
        """Save now, on this thread (Ctrl+S from tests and scripts, and on close)."""
        job = self.start_save(resolve)
        result = SaveResult()
        while job is not None:
            result = job.run()
            job = self.finish_save(job, result)
        return result

    def autosave_job(self, frame_changed: bool = False, now: float | None = None) -> SaveJob | None:
        """The autosave to run now, if any: after an image change when there are unsaved changes,
        and every 30 s (which also takes in changes others saved to the file)."""
        if self.saving or self.conflicts:
            return None
        now = time.monotonic() if now is None else now
        if (frame_changed and self.dirty) or now - self._autosave_clock >= AUTOSAVE_EVERY_S:
            return self.start_save()
        return None

    # -- resuming ------------------------------------------------------------------------------------------
    def _resume(self) -> None:
        """Back to the image and bodypart of the last session in this folder."""
        state_file = self.paths.labeling_state(self.stem)
        try:
            state = yaml.safe_load(storage.read_text(state_file)) if storage.exists(state_file) else None
        except (yaml.YAMLError, PoseringError, UnicodeDecodeError):
            state = None  # a damaged resume file only costs the position
        if not isinstance(state, dict):
            return
        if state.get("image") in self.names:
            PointEditor.goto(self, self.names.index(state["image"]))
        if state.get("bodypart") in self.bodyparts:
            self.select(self.bodyparts.index(state["bodypart"]))

    def remember_position(self) -> None:
        """Write where the user is (also done with every save)."""
        state = {"image": self.names[self.frame], "bodypart": self.bodyparts[self.bodypart], "at": time.time()}
        storage.write_text(self.paths.labeling_state(self.stem), yaml.safe_dump(state, sort_keys=False))


def labeled_folders(config: ProjectConfig) -> list[str]:
    """The labeled-data folders that hold images (check_labels' ``*_labeled`` ones excluded)."""
    root = ProjectPaths(config).labeled_data_dir
    out = []
    for entry in storage.listdir(root):
        if not is_video_folder(entry):
            continue
        folder = storage.join(root, entry)
        if storage.isdir(folder) and any(n.lower().endswith(IMAGE_SUFFIXES) for n in storage.listdir(folder)):
            out.append(entry)
    return out


def last_labeled_folder(config: ProjectConfig, folders: list[str]) -> str:
    """The folder labeled most recently (its position file says when), else the first."""
    paths, newest = ProjectPaths(config), (0.0, folders[0])
    for folder in folders:
        state = paths.labeling_state(folder)
        try:
            saved = yaml.safe_load(storage.read_text(state)) if storage.exists(state) else None
            stamp = float(saved.get("at", 0)) if isinstance(saved, dict) else 0.0
        except (yaml.YAMLError, PoseringError, ValueError, TypeError, UnicodeDecodeError):
            stamp = 0.0
        newest = max(newest, (stamp, folder))
    return newest[1]
