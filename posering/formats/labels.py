"""The labels table and its DeepLabCut files (``CollectedData_<scorer>.h5`` and ``.csv``).

A labels table is a pandas DataFrame:

* columns: a 3-level MultiIndex ``scorer / bodyparts / coords`` with coords ``x, y`` (human
  labels) or ``x, y, likelihood`` (machine labels), float64, NaN where a point is not labeled;
* rows: one per image. DeepLabCut has written two forms and both are read and kept as found:
  a path string ``labeled-data/<video>/img0042.png`` (legacy) and the 3-level tuple
  ``("labeled-data", <video>, "img0042.png")`` (DeepLabCut 2.2+). New files use the tuple form.

Files: HDF5 with key ``df_with_missing`` (layout by :mod:`posering.formats.tables`: *fixed* for
tuple rows, *table* for path strings, as DeepLabCut writes them), and the CSV twin with three
header rows. Writing is atomic, and :func:`save_labels` refuses to drop labels that the file on
disk holds (DeepLabCut's labeling plugin has lost users' points exactly there).

``posering.labels`` re-exports this module: it is the public labels API.
"""

from __future__ import annotations

import logging
import posixpath

import numpy as np
import pandas as pd

from posering import storage
from posering.errors import LabelsError
from posering.formats.tables import HDF_KEY, csv_twin, h5_keys, read_h5, read_problem, write_csv, write_h5

log = logging.getLogger("posering.labels")
COLUMN_LEVELS = ["scorer", "bodyparts", "coords"]


# -- reading -----------------------------------------------------------------------------------------
def labels_source(location_h5: str) -> str | None:
    """The file that holds a folder's human labels: the ``.h5``, else its ``.csv`` twin (a folder
    labeled in a spreadsheet, or an ``.h5`` lost); None when there is neither.

    Every step that reads a folder's labels asks here, so checking, training and labeling see the
    same labels. Where both exist the ``.h5`` is the truth: each save writes it first and the
    ``.csv`` after, so a save stopped between the two leaves the ``.h5`` the newer.
    """
    location_h5 = storage.normalize(location_h5)
    if storage.exists(location_h5):
        return location_h5
    twin = csv_twin(location_h5) if location_h5.endswith(".h5") else None
    return twin if twin and storage.exists(twin) else None


def read_labels(location: str) -> pd.DataFrame:
    """Read a labels file (``.h5`` or ``.csv``) and check its layout."""
    location = storage.normalize(location)
    if not storage.exists(location):
        raise LabelsError(f"{location}: labels file not found")
    if location.endswith(".csv"):
        df = _read_csv(location)
    else:
        df = _read_h5(location)
    check_layout(df, location)
    return df


def _read_h5(location: str) -> pd.DataFrame:
    with storage.local_copy(location) as local:
        try:
            keys = h5_keys(local)
            key = HDF_KEY if HDF_KEY in keys else (keys[0] if len(keys) == 1 else None)
            if key is None:
                raise LabelsError(f"{location}: no '{HDF_KEY}' table in this HDF5 file (found {keys})")
            return read_h5(local, key)
        except LabelsError:
            raise
        except Exception as exc:
            raise LabelsError(f"{location}: damaged labels file, HDF5 cannot read it ({read_problem(exc)}); "
                              f"{_restore_advice(location)}") from None


def _restore_advice(location_h5: str) -> str:
    twin = csv_twin(location_h5)
    if location_h5.endswith(".h5") and storage.exists(twin):
        return (f"rebuild it from its CSV twin {storage.name(twin)} (the labels of the last save that "
                "finished) with `posering convertcsv2h5 <config.yaml>`")
    return "restore it from a backup (there is no CSV twin beside it to rebuild it from)"


def _read_csv(location: str) -> pd.DataFrame:
    with storage.open_read(location, "rb") as handle:
        head = pd.read_csv(handle, header=None, nrows=4)
    if head.shape[0] < 3 or str(head.iloc[0, 0]) != "scorer":
        raise LabelsError(f"{location}: expected three header rows (scorer, bodyparts, coords)")
    # Modern files put the image tuple in three leading columns; their header cells are empty.
    index_cols = 3 if head.shape[1] > 3 and head.iloc[0, 1:3].isna().all() else 1
    with storage.open_read(location, "rb") as handle:
        try:
            df = pd.read_csv(handle, header=[0, 1, 2], index_col=list(range(index_cols)),
                             float_precision="round_trip")
        except Exception as exc:
            raise LabelsError(f"{location}: cannot parse as a DeepLabCut labels CSV ({exc})") from None
    df.columns = df.columns.set_names(COLUMN_LEVELS)
    if index_cols == 3:
        df.index = df.index.set_names([None, None, None])
    else:
        df.index.name = None
    return df.astype(float)


def check_layout(df: pd.DataFrame, where: str) -> None:
    """Raise LabelsError unless ``df`` has DeepLabCut's single-animal labels layout."""
    if not isinstance(df.columns, pd.MultiIndex):
        raise LabelsError(f"{where}: columns must be a (scorer, bodyparts, coords) MultiIndex")
    if df.columns.nlevels == 4:
        raise LabelsError(f"{where}: has an 'individuals' level (multi-animal labels); posering "
                          "handles single-animal projects only")
    if df.columns.nlevels != 3:
        raise LabelsError(f"{where}: columns have {df.columns.nlevels} levels, expected 3 "
                          "(scorer, bodyparts, coords)")
    coords = set(df.columns.get_level_values(-1))
    if not {"x", "y"} <= coords or not coords <= {"x", "y", "likelihood"}:
        raise LabelsError(f"{where}: coords must be x, y (and optionally likelihood), found {sorted(coords)}")
    if len(set(df.columns.get_level_values(0))) != 1:
        raise LabelsError(f"{where}: more than one scorer in one labels file")
    if not df.index.is_unique:
        duplicated = df.index[df.index.duplicated()][0]
        raise LabelsError(f"{where}: image {duplicated!r} appears twice")
    bad = [c for c in df.columns if not np.issubdtype(df[c].dtype, np.number)]
    if bad:
        raise LabelsError(f"{where}: column {bad[0]} holds non-numeric values")


# -- the row index -------------------------------------------------------------------------------------
def image_relpath(row_key) -> str:
    """``labeled-data/<video>/img0042.png`` for either row form."""
    if isinstance(row_key, tuple):
        return "/".join(str(part) for part in row_key)
    return str(row_key).replace("\\", "/")


def image_relpaths(df: pd.DataFrame) -> list[str]:
    return [image_relpath(key) for key in df.index]


def tuple_index(relpaths: list[str]) -> pd.MultiIndex:
    """The modern row index for ``labeled-data/<video>/<image>`` paths."""
    tuples = []
    for path in relpaths:
        parts = path.replace("\\", "/").split("/")
        if len(parts) < 3:
            raise LabelsError(f"image path {path!r} is not labeled-data/<video>/<image>")
        tuples.append(tuple(parts[-3:]))
    return pd.MultiIndex.from_tuples(tuples)


def with_index_form(df: pd.DataFrame, like: pd.Index) -> pd.DataFrame:
    """``df`` with its rows in the same form (string or tuple) as ``like``."""
    out = df.copy()
    paths = image_relpaths(df)
    out.index = tuple_index(paths) if isinstance(like, pd.MultiIndex) else pd.Index(paths)
    return out


# -- building ------------------------------------------------------------------------------------------
def make_columns(scorer: str, bodyparts: list[str], likelihood: bool = False) -> pd.MultiIndex:
    coords = ["x", "y", "likelihood"] if likelihood else ["x", "y"]
    return pd.MultiIndex.from_product([[scorer], list(bodyparts), coords], names=COLUMN_LEVELS)


def from_arrays(scorer: str, bodyparts: list[str], relpaths: list[str], xy: np.ndarray,
                likelihood: np.ndarray | None = None) -> pd.DataFrame:
    """A labels table from an (N, K, 2) array of points (NaN = unlabeled)."""
    xy = np.asarray(xy, dtype=float)
    if likelihood is None:
        values = xy.reshape(len(relpaths), -1)
    else:
        values = np.concatenate([xy, np.asarray(likelihood, float)[..., None]], axis=2).reshape(len(relpaths), -1)
    return pd.DataFrame(values, index=tuple_index(relpaths),
                        columns=make_columns(scorer, bodyparts, likelihood is not None))


def scorer_of(df: pd.DataFrame) -> str:
    return str(df.columns.get_level_values(0)[0])


def bodyparts_of(df: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(df.columns.get_level_values(1)))


def points(df: pd.DataFrame, bodyparts: list[str] | None = None) -> np.ndarray:
    """(N, K, 2) array of x, y for the given bodyparts (in that order)."""
    bodyparts = bodyparts or bodyparts_of(df)
    scorer = scorer_of(df)
    cols = [(scorer, bp, c) for bp in bodyparts for c in ("x", "y")]
    return df.loc[:, cols].to_numpy(dtype=float).reshape(len(df), len(bodyparts), 2)


def points_by_image(df: pd.DataFrame, image_names: list[str], bodyparts: list[str]) -> np.ndarray:
    """(N, K, 2) x, y for the given image file names and bodyparts, NaN where ``df`` has none.

    Rows are matched by image file name (``img0042.png``), whatever row form or folder name the
    file uses; bodyparts the file lacks come out unplaced.
    """
    out = np.full((len(image_names), len(bodyparts), 2), np.nan)
    if df is None or not len(df):
        return out
    scorer, present = scorer_of(df), set(bodyparts_of(df))
    row_of = {posixpath.basename(image_relpath(key)): i for i, key in enumerate(df.index)}
    rows = [row_of.get(name) for name in image_names]
    found = np.array([r is not None for r in rows], dtype=bool)
    taken = np.array([r for r in rows if r is not None], dtype=int)
    for k, bodypart in enumerate(bodyparts):
        if bodypart in present and len(taken):
            values = df.loc[:, [(scorer, bodypart, "x"), (scorer, bodypart, "y")]].to_numpy(dtype=float)
            out[found, k] = values[taken]
    return out


def file_version(location: str) -> str | None:
    """A token of the labels file on disk that changes whenever it is saved again (None: no file).

    An editor keeps the token of the file it read; a different token at its next save means
    another program (or a second window) saved meanwhile, so it must merge rather than overwrite.
    """
    return storage.version(storage.normalize(location))


def conform_bodyparts(df: pd.DataFrame, bodyparts: list[str], where: str) -> pd.DataFrame:
    """Reorder columns to config's bodyparts; new bodyparts become NaN columns.

    Bodyparts in the file but not in config are refused: dropping them would lose labels.
    """
    present = bodyparts_of(df)
    unknown = [bp for bp in present if bp not in bodyparts]
    if unknown:
        raise LabelsError(f"{where}: bodypart {unknown[0]!r} is labeled here but not in config.yaml's "
                          f"bodyparts; add it to bodyparts (or rename it) in config.yaml")
    scorer = scorer_of(df)
    coords = ["x", "y", "likelihood"] if "likelihood" in df.columns.get_level_values(2) else ["x", "y"]
    columns = pd.MultiIndex.from_product([[scorer], bodyparts, coords], names=COLUMN_LEVELS)
    return df.reindex(columns=columns)


# -- writing -------------------------------------------------------------------------------------------
def write_labels(df: pd.DataFrame, location_h5: str, csv: bool = True) -> None:
    """Write ``.h5`` (and the ``.csv`` twin) atomically, the ``.h5`` first (it is the truth).

    Temporaries that an earlier save of these files left when it was killed midway are removed
    once this one has succeeded (only stale ones: see :func:`posering.storage.remove_stale_temporaries`).
    """
    check_layout(df, location_h5)
    write_h5(df, location_h5)
    written = [location_h5]
    if csv:
        write_csv(df, csv_twin(location_h5))
        written.append(csv_twin(location_h5))
    for location in written:
        for leftover in storage.remove_stale_temporaries(location):
            log.info("removed %s, left by a save of %s that was stopped midway", leftover, storage.name(location))


def merge_keeping_existing(existing: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """Union of rows and bodyparts; where ``new`` has NaN, the existing value is kept.

    ``new`` overrides existing values it actually holds (a moved point), so only deliberate
    deletions (see :func:`save_labels`) ever remove a label.
    """
    new = with_index_form(new, existing.index)
    new.columns = new.columns.set_levels([scorer_of(existing)], level=0)
    merged = new.combine_first(existing)
    columns = list(dict.fromkeys(list(existing.columns) + list(new.columns)))
    return merged.reindex(columns=pd.MultiIndex.from_tuples(columns, names=COLUMN_LEVELS)).sort_index()


def save_labels(df: pd.DataFrame, location_h5: str, deleted: list[tuple[str, str]] | None = None) -> pd.DataFrame:
    """Save human labels without losing any already on disk.

    Rows and points in the existing file that ``df`` lacks are kept. Points listed in
    ``deleted`` as ``(image relpath, bodypart)`` are the only ones removed. Returns what was saved.
    Where there is no ``.h5`` but its ``.csv`` twin (a folder labeled by hand in a spreadsheet, or
    an .h5 lost), the labels of the ``.csv`` are the ones kept.
    """
    location_h5 = storage.normalize(location_h5)
    existing_file = labels_source(location_h5)
    if existing_file is not None:
        existing = read_labels(existing_file)
        merged = merge_keeping_existing(existing, df)
    else:
        merged = df.copy()
    scorer = scorer_of(merged)
    for relpath, bodypart in deleted or []:
        rows = [key for key in merged.index if image_relpath(key) == relpath]
        for row in rows:
            merged.loc[row, (scorer, bodypart, "x")] = np.nan
            merged.loc[row, (scorer, bodypart, "y")] = np.nan
    write_labels(merged, location_h5)
    return merged
