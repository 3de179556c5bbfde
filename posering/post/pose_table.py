"""The pose table: DeepLabCut's analysis layout, checked and taken apart.

A pose table is a pandas DataFrame with one row per frame (the index is the frame number) and
3-level MultiIndex columns ``(scorer, bodyparts, coords)``, where every bodypart has the three
coords ``x, y, likelihood`` in that order. This is what DeepLabCut's ``analyze_videos`` writes
to ``<video><scorer>.h5`` (key ``df_with_missing``) and what its filters, skeleton analysis,
outlier extraction and plots read.

DeepLabCut has also written a 4-level variant with an ``individuals`` level between scorer and
bodyparts (multi-animal projects, or single-animal data passed through multi-animal code). posering
is single-animal: a table with one individual is accepted and the level dropped; a table with
several is refused, because picking one animal silently would give wrong results.

Everything in ``posering.post`` goes through `validate_poses` first, so the other modules can
rely on the canonical layout and on `to_arrays` / `from_arrays` for the numeric work.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from posering.errors import PoseringError

COORDS = ("x", "y", "likelihood")
LEVELS = ("scorer", "bodyparts", "coords")


class PosesError(PoseringError):
    """A pose table (analysis .h5/.csv, or a DataFrame handed in) is not in DeepLabCut's layout."""


def _where(source: str | None) -> str:
    """Prefix for error messages: the file (or 'pose table') at fault."""
    return f"{source}: " if source else "pose table: "


def validate_poses(df: pd.DataFrame, source: str | None = None) -> pd.DataFrame:
    """Check a pose table and return it in the canonical 3-level layout.

    `source` (a file name) is only used in error messages. Returns a new DataFrame whenever the
    layout had to change (individuals level dropped, level names set, columns reordered to
    ``x, y, likelihood`` per bodypart); otherwise the same object. Raises `PosesError` naming
    what is wrong and what to do.
    """
    where = _where(source)
    if not isinstance(df, pd.DataFrame):
        raise PosesError(f"{where}expected a pandas DataFrame, got {type(df).__name__}")
    cols = df.columns
    if not isinstance(cols, pd.MultiIndex) or cols.nlevels not in (3, 4):
        raise PosesError(
            f"{where}columns must be a 3-level MultiIndex (scorer, bodyparts, coords), "
            f"found {cols.nlevels} level(s); pass a DeepLabCut analysis table (key df_with_missing)"
        )
    if cols.nlevels == 4:
        df = _drop_single_individual(df, where)
        cols = df.columns
    if list(cols.names) != list(LEVELS):
        # CSVs read without names, or tables built by hand: the positions are what counts.
        df = df.copy(deep=False)
        df.columns = cols.set_names(list(LEVELS))
        cols = df.columns

    scorers = cols.get_level_values("scorer").unique()
    if len(scorers) != 1:
        raise PosesError(
            f"{where}expected one scorer, found {len(scorers)} ({', '.join(map(str, scorers))}); "
            "select one with df[scorer]"
        )
    bodyparts = list(dict.fromkeys(cols.get_level_values("bodyparts")))
    for bp in bodyparts:
        found = list(df[scorers[0]][bp].columns)
        if sorted(found) != sorted(COORDS):
            raise PosesError(
                f"{where}bodypart {bp!r} has coords {found}, expected x, y, likelihood; "
                "labels files (x, y only) are not pose tables"
            )
    canonical = pd.MultiIndex.from_product([[scorers[0]], bodyparts, COORDS], names=LEVELS)
    if not cols.equals(canonical):
        df = df.reindex(columns=canonical)
    non_numeric = [c for c, t in df.dtypes.items() if not pd.api.types.is_numeric_dtype(t)]
    if non_numeric:
        raise PosesError(
            f"{where}column {non_numeric[0]} is not numeric ({df[non_numeric[0]].dtype}); "
            "coordinates and likelihoods must be numbers"
        )
    if df.index.has_duplicates:
        dup = df.index[df.index.duplicated()][0]
        raise PosesError(f"{where}frame {dup!r} appears more than once in the index")
    return df


def _drop_single_individual(df: pd.DataFrame, where: str) -> pd.DataFrame:
    """Accept a 4-level (scorer, individuals, bodyparts, coords) table with one individual."""
    names = list(df.columns.names)
    if names[1] != "individuals":
        raise PosesError(
            f"{where}4-level columns must be (scorer, individuals, bodyparts, coords), "
            f"found {names}"
        )
    individuals = list(dict.fromkeys(df.columns.get_level_values(1)))
    if len(individuals) != 1:
        raise PosesError(
            f"{where}holds {len(individuals)} individuals ({', '.join(map(str, individuals))}); "
            "posering is single-animal: keep one with df.xs(name, level='individuals', axis=1, "
            "drop_level=False)"
        )
    return df.droplevel(1, axis=1)


def get_scorer(df: pd.DataFrame) -> str:
    """The scorer name (top column level) of a validated pose table."""
    return str(df.columns.get_level_values(0)[0])


def get_bodyparts(df: pd.DataFrame) -> list[str]:
    """Bodypart names in column order."""
    return list(dict.fromkeys(df.columns.get_level_values(1)))


def resolve_bodyparts(
    df: pd.DataFrame, bodyparts: str | Sequence[str] = "all", source: str | None = None
) -> list[str]:
    """Turn ``'all'`` or a list of names into a list of bodyparts of `df`, in table order.

    A single name is accepted as a one-element list. An unknown name raises `PosesError`
    naming it and listing the known ones.
    """
    known = get_bodyparts(df)
    if isinstance(bodyparts, str):
        if bodyparts == "all":
            return known
        bodyparts = [bodyparts]
    wanted = list(bodyparts)
    unknown = [bp for bp in wanted if bp not in known]
    if unknown:
        raise PosesError(
            f"{_where(source)}unknown bodypart {unknown[0]!r}; known bodyparts: {', '.join(known)}"
        )
    if not wanted:
        raise PosesError(f"{_where(source)}no bodyparts selected; known: {', '.join(known)}")
    chosen = set(wanted)
    return [bp for bp in known if bp in chosen]


def select_bodyparts(
    df: pd.DataFrame, bodyparts: str | Sequence[str] = "all", source: str | None = None
) -> pd.DataFrame:
    """The sub-table of the chosen bodyparts (all three coords each)."""
    names = resolve_bodyparts(df, bodyparts, source)
    if names == get_bodyparts(df):
        return df
    return df.loc[:, df.columns.get_level_values(1).isin(names)]


def to_arrays(
    df: pd.DataFrame, bodyparts: str | Sequence[str] = "all"
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(x, y, likelihood)``, each a float64 array of shape (frames, bodyparts).

    float64 whatever the file held (DeepLabCut writes float32), so that fits and differences
    are not done at single precision.
    """
    names = resolve_bodyparts(df, bodyparts)
    sub = df.loc[:, df.columns.get_level_values(1).isin(names)]
    values = sub.to_numpy(dtype=np.float64).reshape(len(sub), len(names), 3)
    return values[:, :, 0], values[:, :, 1], values[:, :, 2]


def from_arrays(
    x: np.ndarray,
    y: np.ndarray,
    likelihood: np.ndarray,
    scorer: str,
    bodyparts: Sequence[str],
    index: pd.Index | Sequence[int] | None = None,
    dtype: np.dtype | type = np.float64,
) -> pd.DataFrame:
    """Build a pose table from (frames, bodyparts) arrays; `index` defaults to 0..n-1."""
    x, y, p = (np.asarray(a, dtype=np.float64) for a in (x, y, likelihood))
    if not (x.shape == y.shape == p.shape) or x.ndim != 2 or x.shape[1] != len(bodyparts):
        raise PosesError(
            f"pose table: x, y, likelihood must all be (frames, {len(bodyparts)}) arrays, "
            f"got {x.shape}, {y.shape}, {p.shape}"
        )
    columns = pd.MultiIndex.from_product([[scorer], list(bodyparts), COORDS], names=LEVELS)
    data = np.stack([x, y, p], axis=2).reshape(len(x), -1).astype(dtype, copy=False)
    if index is None:
        index = pd.RangeIndex(len(x))
    return pd.DataFrame(data, columns=columns, index=index)
