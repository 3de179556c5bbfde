"""Train/test splits and their readable record.

A split is two lists of row positions in the combined ``CollectedData_<scorer>.h5`` of the
training dataset, as DeepLabCut's loader reads them. posering draws it from a generator seeded by
the shuffle number, so shuffle 3 of a project is the same split on every machine, and takes any
given split (e.g. one taken from a DeepLabCut project) exactly as given.

Where DeepLabCut pickles ``Documentation_data-<Task>_<pct>shuffle<k>.pickle``, posering writes the
same facts as YAML beside it (:meth:`ProjectPaths.split_file`): the fraction, the shuffle, the net
type and augmenter, the indices and the image paths of the train and test frames.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import yaml

from posering import storage
from posering.errors import DatasetError
from posering.project import ProjectPaths
from posering.project.config import ProjectConfig

HEADER = ("# posering training/test split (DeepLabCut's Documentation_data pickle, as YAML).\n"
          "# Indices are row positions in the dataset's CollectedData file; images name the same rows.\n")


@dataclass
class Split:
    """One shuffle's split of the dataset's rows."""

    shuffle: int
    train_fraction: float
    train_indices: list[int]
    test_indices: list[int]
    net_type: str = ""
    augmenter_type: str = ""
    train_images: list[str] = field(default_factory=list)
    test_images: list[str] = field(default_factory=list)

    def same_frames(self, other: "Split") -> bool:
        """True when both splits put the same frames in train and in test."""
        mine = (set(self.train_images), set(self.test_images))
        return bool(self.train_images) and mine == (set(other.train_images), set(other.test_images))


def random_split(nrows: int, fraction: float, shuffle: int, where: str) -> tuple[list[int], list[int]]:
    """DeepLabCut's rule, seeded: permute the rows, the first ``int(n * fraction)`` train."""
    ntrain = int(nrows * round(float(fraction), 2))
    if ntrain >= nrows:
        raise DatasetError(f"{where}: TrainingFraction {fraction} of {nrows} labeled frames leaves no test "
                           f"frame; lower it (at most {(nrows - 1) / nrows:.2f}) or label more frames")
    if ntrain < 1:
        raise DatasetError(f"{where}: TrainingFraction {fraction} of {nrows} labeled frames leaves no "
                           "training frame; raise it or label more frames")
    order = np.random.default_rng(int(shuffle)).permutation(nrows)
    return sorted(order[:ntrain].tolist()), sorted(order[ntrain:].tolist())


def given_split(train: list, test: list, nrows: int, shuffle: int) -> tuple[float, list[int], list[int]]:
    """(fraction, train, test) of a split given as indices; ``-1`` padding is dropped as in DeepLabCut."""
    try:
        train = [int(i) for i in train if int(i) != -1]
        test = [int(i) for i in test if int(i) != -1]
    except (TypeError, ValueError):
        raise DatasetError(f"shuffle {shuffle}: trainIndices/testIndices must be lists of row "
                           "numbers") from None
    where = f"shuffle {shuffle}"
    if not train or not test:
        raise DatasetError(f"{where}: the given split needs at least one train and one test frame")
    for name, values in (("trainIndices", train), ("testIndices", test)):
        bad = [i for i in values if not 0 <= i < nrows]
        if bad:
            raise DatasetError(f"{where}: {name} holds {bad[0]}, but the dataset has rows 0 to {nrows - 1}")
        if len(set(values)) != len(values):
            raise DatasetError(f"{where}: {name} lists a row twice")
    both = set(train) & set(test)
    if both:
        raise DatasetError(f"{where}: row {min(both)} is in both trainIndices and testIndices")
    return round(len(train) / (len(train) + len(test)), 2), train, test


# -- the record --------------------------------------------------------------------------------------
def write_split(cfg: ProjectConfig, split: Split, iteration: int | None = None) -> str:
    location = ProjectPaths(cfg).split_file(split.train_fraction, split.shuffle, iteration)
    record = {
        "task": cfg.task,
        "scorer": cfg.scorer,
        "iteration": cfg.iteration if iteration is None else int(iteration),
        "shuffle": split.shuffle,
        "train_fraction": split.train_fraction,
        "net_type": split.net_type,
        "augmenter_type": split.augmenter_type,
        "engine": "pytorch",
        "collected_data": storage.name(ProjectPaths(cfg).dataset_collected_data(iteration)),
        "train_indices": split.train_indices,
        "test_indices": split.test_indices,
    }
    images = {"train_images": split.train_images, "test_images": split.test_images}
    # Indices as compact lines, image paths one per line: a person can read and diff both.
    text = (HEADER + yaml.safe_dump(record, sort_keys=False, default_flow_style=None, width=100)
            + yaml.safe_dump(images, sort_keys=False, default_flow_style=False))
    storage.write_text(location, text)
    return location


def read_split(cfg: ProjectConfig, train_fraction: float, shuffle: int,
               iteration: int | None = None) -> Split:
    """The split of a shuffle, from its YAML record."""
    location = ProjectPaths(cfg).split_file(train_fraction, shuffle, iteration)
    if not storage.exists(location):
        raise DatasetError(f"{location}: no split for shuffle {shuffle} (trainset "
                           f"{int(100 * train_fraction)}%); create it with `posering create_training_dataset`")
    data = yaml.safe_load(storage.read_text(location)) or {}
    try:
        return Split(shuffle=int(data["shuffle"]), train_fraction=float(data["train_fraction"]),
                     train_indices=[int(i) for i in data["train_indices"]],
                     test_indices=[int(i) for i in data["test_indices"]],
                     net_type=str(data.get("net_type") or ""),
                     augmenter_type=str(data.get("augmenter_type") or ""),
                     train_images=list(data.get("train_images") or []),
                     test_images=list(data.get("test_images") or []))
    except (KeyError, TypeError, ValueError) as exc:
        raise DatasetError(f"{location}: not a posering split record ({exc}); recreate the shuffle") from None
