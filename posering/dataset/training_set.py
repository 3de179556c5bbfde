"""The labeled frames of one shuffle and its train/test split: what training and evaluation read.

``create_training_dataset`` writes, under ``training-datasets/iteration-<N>/UnaugmentedDataSet_
<Task><date>/``, the combined ``CollectedData_<scorer>.h5`` and a split record per shuffle (any of
the forms :mod:`posering.formats.splits` reads: posering's, DeepLabCut's, or JSON). Indices are
row positions in the combined CollectedData, as DeepLabCut defines them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from posering import storage
from posering.errors import DatasetError
from posering.formats import labels
from posering.formats.splits import check_split_images, load_split
from posering.project import ProjectPaths, load_config


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
    check_split_images(source, relpaths, train, test)
    return TrainingSet(root=cfg.project_path, relpaths=relpaths,
                       keypoints=keypoints, bodyparts=cfg.bodyparts, scorer=labels.scorer_of(table),
                       index=table.index, train_indices=train, test_indices=test,
                       fraction=fraction, shuffle=shuffle, split_source=source)
