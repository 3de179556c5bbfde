"""How a shuffle's train/test split is drawn, or taken as given (its records: formats/splits.py).

A split is two lists of row positions in the combined ``CollectedData_<scorer>.h5`` of the
training dataset, as DeepLabCut's loader reads them. posering draws it from a generator seeded by
the shuffle number, so shuffle 3 of a project is the same split on every machine, and takes any
given split (e.g. one taken from a DeepLabCut project) exactly as given.
"""

from __future__ import annotations

import numpy as np

from posering.errors import DatasetError


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
