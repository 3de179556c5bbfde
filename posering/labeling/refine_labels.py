"""Refining labels: machine predictions and human labels of one video as one editable table.

This is the API under the labeling GUI's refinement view (and usable without it):

>>> r = load_for_refinement("config.yaml", "m3v1mp4")        # a video path, file name or stem
>>> r.move("img0042.png", "snout", 101.5, 88.0)
>>> r.delete("img0042.png", "tailbase")
>>> save_refined(r)                                          # -> CollectedData_<scorer>.h5

What is loaded, for ``labeled-data/<video>/``: every ``img*.png`` of the folder; the human labels
of ``CollectedData_<scorer>.h5`` (or its .csv); and the machine labels of
``machinelabels-iter<N>.h5`` (config's iteration, else the latest there is). Human labels win: an
image that has a row in the human file is shown as that row says, and machine labels fill only
images no one has saved yet. So a point someone deleted, or left unplaced because it was hidden,
stays so when the folder is opened again, instead of the machine's guess coming back. Machine
points below ``pcutoff`` start unplaced, as in DeepLabCut's refinement tool, so that a wrong
guess is not saved as a label unless someone places it.

What is saved: the whole table, through `posering.labels.save_labels`, so machine points become
human labels, and human labels already on disk are never dropped: a point disappears only if
it was deleted here explicitly (DeepLabCut's labeling plugin has lost users' labels by
overwriting the file with what happened to be loaded).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from posering import storage
from posering.errors import LabelsError
from posering.formats import labels
from posering.project import ProjectPaths, load_config
from posering.project.paths import LABELED_DATA, machine_labels_iteration

HUMAN, MACHINE = "human", "machine"


@dataclass
class Refinement:
    """One video's labels being refined. ``points`` is in CollectedData layout (x, y) with the
    config's scorer; ``source`` says per image and bodypart where a point came from (human,
    machine, or '' when unplaced); ``likelihood`` is the machine's, NaN for human points."""

    config: str
    video: str  # labeled-data folder name (video stem)
    location: str  # CollectedData_<scorer>.h5 to save to
    points: pd.DataFrame
    source: pd.DataFrame
    likelihood: pd.DataFrame
    machine_file: str | None = None
    deleted: list[tuple[str, str]] = field(default_factory=list)

    @property
    def images(self) -> list[str]:
        """Image paths ``labeled-data/<video>/img0042.png``, in order."""
        return labels.image_relpaths(self.points)

    @property
    def bodyparts(self) -> list[str]:
        return labels.bodyparts_of(self.points)

    def point(self, image: str, bodypart: str) -> tuple[float, float] | None:
        """(x, y) of a point, or None where it is not placed."""
        row, scorer = self._row(image), labels.scorer_of(self.points)
        self._check_bodypart(bodypart)
        x, y = (self.points.loc[row, (scorer, bodypart, c)] for c in ("x", "y"))
        return None if np.isnan(x) or np.isnan(y) else (float(x), float(y))

    def move(self, image: str, bodypart: str, x: float, y: float) -> None:
        """Place a point (a correction becomes a human label)."""
        row, scorer = self._row(image), labels.scorer_of(self.points)
        self._check_bodypart(bodypart)
        if not (np.isfinite(x) and np.isfinite(y)):
            raise LabelsError(f"{image} {bodypart}: ({x}, {y}) is not a position; use delete() to remove it")
        self.points.loc[row, (scorer, bodypart, "x")] = float(x)
        self.points.loc[row, (scorer, bodypart, "y")] = float(y)
        self.source.loc[row, bodypart] = HUMAN
        self.likelihood.loc[row, bodypart] = np.nan
        relpath = labels.image_relpath(row)
        self.deleted = [d for d in self.deleted if d != (relpath, bodypart)]

    def delete(self, image: str, bodypart: str) -> None:
        """Remove a point; saving removes it from the labels file too."""
        row, scorer = self._row(image), labels.scorer_of(self.points)
        self._check_bodypart(bodypart)
        self.points.loc[row, [(scorer, bodypart, "x"), (scorer, bodypart, "y")]] = np.nan
        self.source.loc[row, bodypart] = ""
        self.likelihood.loc[row, bodypart] = np.nan
        entry = (labels.image_relpath(row), bodypart)
        if entry not in self.deleted:
            self.deleted.append(entry)

    def save(self) -> str:
        return save_refined(self)

    def to_string(self) -> str:
        """A readable summary (what ``posering load_for_refinement`` prints)."""
        counts = self.source.apply(lambda col: col.value_counts()).fillna(0).astype(int)
        lines = [f"{self.video}: {len(self.points)} images, saving to {self.location}",
                 f"machine labels: {self.machine_file or 'none'}", counts.to_string()]
        return "\n".join(lines)

    def _row(self, image: str):
        name = storage.name(labels.image_relpath(image))
        for key in self.points.index:
            if storage.name(labels.image_relpath(key)) == name:
                return key
        raise LabelsError(f"{image}: not an image of labeled-data/{self.video}/")

    def _check_bodypart(self, bodypart: str) -> None:
        if bodypart not in self.bodyparts:
            raise LabelsError(f"{bodypart!r} is not a bodypart of this project ({', '.join(self.bodyparts)})")


def load_for_refinement(config: str, video: str, pcutoff: float | None = None) -> Refinement:
    """Load a video's machine labels and human labels as one editable table (human labels win).

    Parameters
    ----------
    config: path or URL of the project's config.yaml.
    video: the video (path, file name or stem) whose labeled-data folder to refine.
    pcutoff: machine points below this likelihood start unplaced (default: config's pcutoff;
        0 keeps every machine point).
    """
    cfg = load_config(config)
    paths = ProjectPaths(cfg)
    stem = storage.stem(video)
    folder = paths.labeled_folder(stem)
    images = sorted(n for n in storage.listdir(folder) if n.lower().endswith(".png"))
    if not images:
        raise LabelsError(f"{folder}: no images to refine; extract frames or outlier frames first")
    cut = float(cfg.get("pcutoff", 0.6) if pcutoff is None else pcutoff)
    bodyparts, scorer = cfg.bodyparts, cfg.scorer
    index = labels.tuple_index([f"{LABELED_DATA}/{stem}/{name}" for name in images])
    points = pd.DataFrame(np.nan, index=index, columns=labels.make_columns(scorer, bodyparts))
    source = pd.DataFrame("", index=index, columns=bodyparts)
    likelihood = pd.DataFrame(np.nan, index=index, columns=bodyparts)

    location = paths.collected_data(stem)
    human_file = labels.labels_source(location)
    human = None
    if human_file is not None:
        human = labels.conform_bodyparts(labels.read_labels(human_file), bodyparts, human_file)
        human = _in_folder(human, stem, bodyparts, human_file)

    machine_file = _machine_file(paths, stem, cfg.iteration)
    if machine_file:
        machine = _in_folder(labels.read_labels(machine_file), stem, bodyparts, machine_file)
        unsaved = ~index.isin(human.index) if human is not None else np.ones(len(index), bool)
        for bp in bodyparts:
            if bp not in labels.bodyparts_of(machine):
                continue
            m = machine[labels.scorer_of(machine)][bp].reindex(index)
            p = m["likelihood"] if "likelihood" in m else pd.Series(1.0, index=index)
            ok = m["x"].notna() & m["y"].notna() & (p >= cut) & unsaved
            points.loc[ok, (scorer, bp, "x")] = m.loc[ok, "x"]
            points.loc[ok, (scorer, bp, "y")] = m.loc[ok, "y"]
            source.loc[ok, bp] = MACHINE
            likelihood.loc[ok, bp] = p[ok]

    if human is not None:
        extra = human.index.difference(index)
        if len(extra):  # labels of images no longer in the folder: keep them, never drop labels
            points = pd.concat([points, pd.DataFrame(np.nan, index=extra, columns=points.columns)])
            source = pd.concat([source, pd.DataFrame("", index=extra, columns=bodyparts)])
            likelihood = pd.concat([likelihood, pd.DataFrame(np.nan, index=extra, columns=bodyparts)])
        for bp in bodyparts:
            h = human[labels.scorer_of(human)][bp].reindex(points.index)
            ok = h["x"].notna() & h["y"].notna()
            points.loc[ok, (scorer, bp, "x")] = h.loc[ok, "x"]
            points.loc[ok, (scorer, bp, "y")] = h.loc[ok, "y"]
            source.loc[ok, bp] = HUMAN
            likelihood.loc[ok, bp] = np.nan
    return Refinement(cfg.location, stem, location, points, source, likelihood, machine_file)


def save_refined(refinement: Refinement) -> str:
    """Save as CollectedData_<scorer>.h5 (+ .csv); labels on disk are kept unless deleted here."""
    labels.save_labels(refinement.points, refinement.location, deleted=refinement.deleted)
    refinement.source = refinement.source.replace(MACHINE, HUMAN)
    refinement.likelihood.loc[:, :] = np.nan
    return refinement.location


def refine_labels(config: str, video: str, moves: dict | None = None, deletions: list | None = None,
                  pcutoff: float | None = None) -> str:
    """Accept a video's machine labels as labels, with corrections, into CollectedData_<scorer>.h5.

    Returns the labels file. Human labels already there are kept (and win over machine ones);
    only the points listed in deletions are removed.

    Parameters
    ----------
    config: path or URL of the project's config.yaml.
    video: the video (path, file name or stem) whose labeled-data folder to refine.
    moves: corrections, {image: {bodypart: [x, y]}}, e.g. '{img0042.png: {snout: [101, 88]}}'.
    deletions: points to remove, [[image, bodypart], ...].
    pcutoff: machine points below this likelihood are not accepted (default: config's pcutoff).
    """
    refinement = load_for_refinement(config, video, pcutoff)
    for image, points in (moves or {}).items():
        for bodypart, xy in points.items():
            refinement.move(str(image), str(bodypart), float(xy[0]), float(xy[1]))
    for image, bodypart in deletions or []:
        refinement.delete(str(image), str(bodypart))
    return save_refined(refinement)


def machine_labels_file(config, video: str) -> str | None:
    """The machinelabels file :func:`load_for_refinement` would read for a video (None: none)."""
    cfg = load_config(config)
    return _machine_file(ProjectPaths(cfg), storage.stem(video), cfg.iteration)


def _machine_file(paths: ProjectPaths, stem: str, iteration: int) -> str | None:
    """This iteration's machinelabels file, else the latest one in the folder."""
    current = paths.machine_labels(stem, iteration)
    if storage.exists(current):
        return current
    found = sorted((n, name) for name in storage.listdir(paths.labeled_folder(stem))
                   if (n := machine_labels_iteration(name)) is not None)
    return storage.join(paths.labeled_folder(stem), found[-1][1]) if found else None


def _in_folder(table: pd.DataFrame, stem: str, bodyparts: list[str], where: str) -> pd.DataFrame:
    """Rows as (labeled-data, stem, image) tuples, whatever form or folder name the file used."""
    unknown = [bp for bp in labels.bodyparts_of(table) if bp not in bodyparts]
    if unknown:
        raise LabelsError(f"{where}: bodypart {unknown[0]!r} is not in config.yaml's bodyparts; add it "
                          "there (or rename it) so its points are kept")
    names = [storage.name(labels.image_relpath(key)) for key in table.index]
    out = table.copy()
    out.index = labels.tuple_index([f"{LABELED_DATA}/{stem}/{name}" for name in names])
    return out
