"""Gather the human labels of a project into one checked table.

Every ``labeled-data/<video>/CollectedData_<scorer>.h5`` of the project's videos is read, checked
and brought to config's bodyparts (a bodypart added to config gets NaN in old files, so old
labels are kept). Frames with no label at all are dropped; a NaN point stays a missing point.
Rows become DeepLabCut 3's ``("labeled-data", <video>, <image>)`` form, and the table is sorted,
exactly as DeepLabCut merges them, so row positions agree with a DeepLabCut project's split.

Anything that would give a wrong training set is refused with a :class:`DatasetError` that names
the file, the frame and the bodypart: a scorer that is not config's, bodyparts config does not
know, images that are missing, labels outside their image. Left/right pairs labeled the wrong way
round in a frame (:mod:`posering.labeling.swapped_pairs`) are warned about, naming the frame.
"""

from __future__ import annotations

import logging
import struct

import numpy as np
import pandas as pd

from posering import storage
from posering.errors import DatasetError, LabelsError
from posering.formats import labels
from posering.frames.images import decode_image
from posering.labeling.swapped_pairs import find_swapped_in_labels
from posering.project import ProjectPaths
from posering.project.config import ProjectConfig
from posering.project.paths import LABELED_DATA, is_collected_data
from posering.project.videos import dataset_video_stems

log = logging.getLogger("posering.dataset")


def collect_labels(cfg: ProjectConfig, check_images: bool = True) -> pd.DataFrame:
    """The project's labels, one table, checked (see the module's description)."""
    paths = ProjectPaths(cfg)
    tables = []
    for stem in dataset_video_stems(cfg):
        table = read_video_labels(cfg, paths, stem)
        if table is None:
            continue
        if check_images:
            check_label_images(table, paths.collected_data(stem), paths.labeled_folder(stem))
        for suspect in find_swapped_in_labels(table, cfg.bodyparts):
            log.warning("%s", suspect.message())
        labeled = table.notna().any(axis=1)
        if not labeled.all():
            log.info("%s: %d frames without any label are left out", stem, int((~labeled).sum()))
        tables.append(table[labeled])
    if not tables or sum(len(t) for t in tables) == 0:
        raise DatasetError(f"{paths.labeled_data_dir}: no labeled frames (CollectedData_{cfg.scorer}.h5) "
                           "in the project's videos; extract and label frames first")
    return pd.concat(tables).sort_index()


def read_video_labels(cfg: ProjectConfig, paths: ProjectPaths, stem: str) -> pd.DataFrame | None:
    """One video's labels in config's bodyparts and scorer, rows as tuples; None if unlabeled."""
    folder = paths.labeled_folder(stem)
    location = labels.labels_source(paths.collected_data(stem))
    if location is None:
        _check_other_scorers(cfg, folder)
        log.info("%s: no %s; this video has no labels yet", stem, storage.name(paths.collected_data(stem)))
        return None
    try:
        table = labels.read_labels(location)
    except LabelsError as exc:
        raise DatasetError(str(exc)) from None
    scorer = labels.scorer_of(table)
    if scorer != cfg.scorer:
        raise DatasetError(f"{location}: labels are by scorer {scorer!r} but config.yaml's scorer is "
                           f"{cfg.scorer!r}; set scorer: {scorer} in config.yaml if these are yours")
    _check_bodyparts(table, cfg, location)
    table = labels.conform_bodyparts(table, cfg.bodyparts, location)
    table = table.loc[:, [c for c in table.columns if c[2] in ("x", "y")]]
    names = [labels.image_relpath(key).split("/")[-1] for key in table.index]
    # The images are those of this folder, whatever folder name the file's rows carry
    # (projects get renamed; DeepLabCut's legacy files may hold Windows paths).
    table.index = pd.MultiIndex.from_tuples([(LABELED_DATA, stem, name) for name in names])
    if not table.index.is_unique:
        raise DatasetError(f"{location}: image {table.index[table.index.duplicated()][0][2]} "
                           "has two rows; delete one of them")
    return table


def _check_other_scorers(cfg: ProjectConfig, folder: str) -> None:
    others = sorted((n for n in storage.listdir(folder)
                     if is_collected_data(n)),
                    key=lambda n: not n.endswith(".h5"))  # name the .h5 where there is one
    if others:
        other = others[0].split("_", 1)[1].rsplit(".", 1)[0]
        raise DatasetError(f"{storage.join(folder, others[0])}: labels by scorer {other!r}, but config.yaml's "
                           f"scorer is {cfg.scorer!r}; set scorer: {other} in config.yaml (or rename "
                           f"the file to CollectedData_{cfg.scorer}.h5 if they are {cfg.scorer}'s)")


def _check_bodyparts(table: pd.DataFrame, cfg: ProjectConfig, location: str) -> None:
    for bodypart in labels.bodyparts_of(table):
        if bodypart in cfg.bodyparts:
            continue
        values = table.xs(bodypart, level=1, axis=1)
        rows = values.index[values.notna().any(axis=1)]
        frame = f" (labeled in frame {labels.image_relpath(rows[0])})" if len(rows) else ""
        raise DatasetError(f"{location}: bodypart {bodypart!r}{frame} is not in config.yaml's "
                           f"bodyparts {cfg.bodyparts}; add '- {bodypart}' under bodyparts in "
                           f"{cfg.location} (or fix the name) so its labels are kept")


def check_label_images(table: pd.DataFrame, location: str, folder: str) -> None:
    """Every row's image exists and every label lies inside its image."""
    present = set(storage.listdir(folder))
    names = [key[2] for key in table.index]
    missing = [n for n in names if n not in present]
    if missing:
        label_file = storage.name(location)
        if len(missing) == len(names):
            what = f"none of the {len(names)} images labeled in {label_file} is there"
        else:
            what = f"{len(missing)} of the {len(names)} images labeled in {label_file} are missing"
        raise DatasetError(f"{folder}: {what} (e.g. {missing[0]}); "
                           "restore the images, or delete their rows by relabeling")
    bodyparts = labels.bodyparts_of(table)
    points = labels.points(table, bodyparts)
    for name, xy in zip(names, points):
        width, height = image_size(storage.join(folder, name))
        outside = np.isfinite(xy).all(axis=1) & ((xy[:, 0] < 0) | (xy[:, 0] > width)
                                                 | (xy[:, 1] < 0) | (xy[:, 1] > height))
        if outside.any():
            k = int(np.flatnonzero(outside)[0])
            raise DatasetError(f"{location}: frame {name}, bodypart {bodyparts[k]!r} at "
                               f"({xy[k, 0]:.1f}, {xy[k, 1]:.1f}) lies outside the image "
                               f"({width}x{height}); move it into the image or delete it, then save")


def image_size(location: str) -> tuple[int, int]:
    """(width, height) of an image; PNGs are sized from their header alone."""
    _, height, width = image_shape(location)
    return width, height


# Bands of a PNG by its colour type, as DeepLabCut counts them (grey, RGB, palette, grey+alpha, RGBA).
_PNG_BANDS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def image_shape(location: str) -> tuple[int, int, int]:
    """(bands, height, width) of an image; PNGs are measured from their header alone."""
    with storage.open_read(location) as handle:
        head = handle.read(26)
    if head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR" and head[25] in _PNG_BANDS:
        width, height = struct.unpack(">II", head[16:24])
        return _PNG_BANDS[head[25]], int(height), int(width)
    image = decode_image(location)
    return (image.shape[2] if image.ndim == 3 else 1), image.shape[0], image.shape[1]
