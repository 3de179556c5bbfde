"""The labeled frames of one shuffle and its train/test split, read from the training dataset.

``create_training_dataset`` writes, under ``training-datasets/iteration-<N>/UnaugmentedDataSet_
<Task><date>/``, the combined ``CollectedData_<scorer>.h5`` and one split record per shuffle.
This module reads them back for training and evaluation, from any of the forms a project may
hold, first found wins:

1. posering's YAML record (``Documentation_data-<Task>_<pct>shuffle<k>.yaml``, ProjectPaths.split_file);
2. ``split-shuffle<k>.json``, DeepLabCut's split written out as JSON (``train_indices``,
   ``test_indices``), as in ``../shared/data/dlc3-openfield-resnet50``;
3. DeepLabCut's own ``Documentation_data-<Task>_<pct>shuffle<k>.pickle``, read with an
   unpickler that only rebuilds plain containers and numpy arrays (it cannot run code).

Indices are row positions in the combined CollectedData, as DeepLabCut defines them.
"""

from __future__ import annotations

import io
import json
import pickle
from dataclasses import dataclass

import numpy as np
import pandas as pd
import yaml

from posering import storage
from posering.errors import DatasetError
from posering.formats import labels
from posering.project import ProjectPaths, load_config
from posering.project.paths import trainset_percent


@dataclass
class TrainingSet:
    """The labeled frames of one shuffle.

    root: the project folder; ``relpaths`` are relative to it (``labeled-data/<video>/img.png``).
    keypoints: (N, K, 2) float32 in image pixels, NaN where not labeled.
    index: the row index of the combined CollectedData (kept to write predictions alike).
    """

    root: str
    relpaths: list[str]
    keypoints: np.ndarray
    bodyparts: list[str]
    scorer: str
    index: pd.Index
    train_indices: list[int]
    test_indices: list[int]
    fraction: float
    shuffle: int
    split_source: str

    def subset(self, which: str) -> list[int]:
        return {"train": self.train_indices, "test": self.test_indices}[which]


def load_training_set(config, shuffle: int = 1, trainingsetindex: int = 0) -> TrainingSet:
    """The combined labels and the split of ``shuffle`` at ``TrainingFraction[trainingsetindex]``."""
    cfg = load_config(config)
    paths = ProjectPaths(cfg)
    fractions = cfg.training_fractions
    if not 0 <= trainingsetindex < len(fractions):
        raise DatasetError(f"{cfg.location}: trainingsetindex {trainingsetindex} but TrainingFraction "
                           f"has {len(fractions)} value(s) {fractions}")
    fraction = fractions[trainingsetindex]
    location = paths.dataset_collected_data()
    if not storage.exists(location):
        raise DatasetError(f"{location}: training dataset not found; run `posering "
                           "create_training_dataset` first")
    table = labels.read_labels(location)
    present = labels.bodyparts_of(table)
    missing = [bp for bp in cfg.bodyparts if bp not in present]
    if missing:
        raise DatasetError(f"{location}: bodypart {missing[0]!r} of config.yaml is not in the training "
                           "dataset; run create_training_dataset again")
    keypoints = labels.points(table, cfg.bodyparts).astype(np.float32)
    train, test, source = load_split(paths, fraction, shuffle, len(table))
    relpaths = labels.image_relpaths(table)
    _check_images(source, relpaths, train, test)
    return TrainingSet(root=cfg.project_path, relpaths=relpaths,
                       keypoints=keypoints, bodyparts=cfg.bodyparts, scorer=labels.scorer_of(table),
                       index=table.index, train_indices=train, test_indices=test,
                       fraction=fraction, shuffle=shuffle, split_source=source)


def _check_images(source: str, relpaths: list[str], train: list[int], test: list[int]) -> None:
    """posering's records also name the images: they must still be those rows of CollectedData."""
    if not source.endswith(".yaml"):
        return
    record = yaml.safe_load(storage.read_text(source)) or {}
    for rows, key in ((train, "train_images"), (test, "test_images")):
        named = record.get(key)
        if named and [relpaths[i] for i in rows] != [str(n).replace("\\", "/") for n in named]:
            raise DatasetError(f"{source}: {key} no longer match the rows of the training dataset's "
                               "CollectedData (it was rebuilt since); run create_training_dataset again")


def split_candidates(paths: ProjectPaths, fraction: float, shuffle: int) -> list[str]:
    """Where a split record of this shuffle may be, in the order they are tried."""
    folder = paths.dataset_dir()
    pct = trainset_percent(fraction)
    return [paths.split_file(fraction, shuffle),
            storage.join(folder, f"split-shuffle{shuffle}.json"),
            storage.join(folder, f"Documentation_data-{paths.config.task}_{pct}shuffle{shuffle}.pickle")]


def load_split(paths: ProjectPaths, fraction: float, shuffle: int, nrows: int) -> tuple[list[int], list[int], str]:
    """(train indices, test indices, file read) for one shuffle, checked against ``nrows``."""
    for location in split_candidates(paths, fraction, shuffle):
        if not storage.exists(location):
            continue
        if location.endswith(".pickle"):
            record = _read_dlc_pickle(location)
        elif location.endswith(".json"):
            record = json.loads(storage.read_text(location))
        else:
            record = yaml.safe_load(storage.read_text(location))
        train, test = _indices(record, location)
        bad = [i for i in train + test if not 0 <= i < nrows]
        if bad:
            raise DatasetError(f"{location}: row {bad[0]} is outside the training dataset ({nrows} rows); "
                               "the split does not belong to this CollectedData, recreate the dataset")
        return train, test, location
    tried = ", ".join(storage.name(c) for c in split_candidates(paths, fraction, shuffle))
    raise DatasetError(f"{paths.dataset_dir()}: no split for shuffle {shuffle} at fraction {fraction} "
                       f"(looked for {tried}); run `posering create_training_dataset`")


def _indices(record, location: str) -> tuple[list[int], list[int]]:
    if isinstance(record, list) and len(record) >= 3:  # DeepLabCut's pickle layout
        return [int(i) for i in record[1]], [int(i) for i in record[2]]
    if isinstance(record, dict):
        for train_key, test_key in (("train_indices", "test_indices"), ("trainIndices", "testIndices"),
                                    ("train", "test")):
            if train_key in record and test_key in record:
                return [int(i) for i in record[train_key]], [int(i) for i in record[test_key] or []]
    raise DatasetError(f"{location}: no train_indices/test_indices in this split record")


class _DataOnlyUnpickler(pickle.Unpickler):
    """Rebuilds numpy arrays and plain Python values only; any other class is refused."""

    ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
               ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"),
               ("numpy._core.multiarray", "scalar"), ("numpy.core.numeric", "_frombuffer"),
               ("numpy._core.numeric", "_frombuffer"), ("builtins", "slice"),
               ("_codecs", "encode")}

    def find_class(self, module, name):
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing {module}.{name}")


def _read_dlc_pickle(location: str):
    try:
        return _DataOnlyUnpickler(io.BytesIO(storage.read_bytes(location))).load()
    except Exception as exc:
        raise DatasetError(f"{location}: cannot read DeepLabCut's split record safely ({exc}); "
                           "recreate the split with `posering create_training_dataset`") from None
