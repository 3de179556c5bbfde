"""DeepLabCut's table files: a pandas DataFrame in HDF5 under the key ``df_with_missing``, and its CSV twin.

Every table posering writes for DeepLabCut (labels, analysis poses, filtered poses, skeleton
features, time-lapse poses, evaluation predictions) goes through here, so one rule decides the
HDF5 layout: PyTables' *table* format cannot hold a row MultiIndex beside MultiIndex columns, so
tables whose rows are ``("labeled-data", <video>, <image>)`` tuples are written in *fixed* format,
all others (frame numbers, image names, legacy path strings) as *table*, which is what
DeepLabCut writes for each of them. Writes are atomic (see :mod:`posering.storage`).
"""

from __future__ import annotations

import pandas as pd

from posering import storage

HDF_KEY = "df_with_missing"


def hdf_layout(df: pd.DataFrame) -> str:
    """``fixed`` for tuple-indexed rows, ``table`` otherwise (DeepLabCut's choice for each)."""
    return "fixed" if isinstance(df.index, pd.MultiIndex) else "table"


def write_h5(df: pd.DataFrame, location: str) -> None:
    """Write ``df`` under ``df_with_missing``, atomically, in the layout its rows call for."""
    with storage.local_target(location, suffix=".h5") as tmp:
        df.to_hdf(tmp, key=HDF_KEY, format=hdf_layout(df), mode="w")


def write_csv(df: pd.DataFrame, location: str, **options) -> None:
    """Write ``df`` as CSV (pandas' header rows for MultiIndex columns), atomically."""
    with storage.atomic_write(location, "w") as handle:
        df.to_csv(handle, **options)


def h5_keys(local_path: str) -> list[str]:
    """The keys of an HDF5 file, without the leading slash."""
    with pd.HDFStore(local_path, mode="r") as store:
        return [key.lstrip("/") for key in store.keys()]


def read_h5(local_path: str, key: str = HDF_KEY) -> pd.DataFrame:
    """The DataFrame under ``key`` of a local HDF5 file (callers turn errors into their own)."""
    return pd.read_hdf(local_path, key)


def read_problem(exc: BaseException) -> str:
    """Why an HDF5 file could not be read, in one line.

    PyTables' errors carry HDF5's whole C back trace (about 20 lines); the line that names the
    problem (``truncated file: eof = ...``, ``file signature not found``) is its innermost one,
    the last before the trace ends.
    """
    text = str(exc)
    end = "End of HDF5 error back trace"
    if end in text:
        trace = text.split(end)[0].splitlines()[1:]
        causes = [line.strip() for line in trace if line.strip() and not line.strip().startswith("File ")]
        if causes:
            return causes[-1]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def csv_twin(location_h5: str) -> str:
    """``<name>.csv`` beside ``<name>.h5``."""
    return location_h5[: -len(".h5")] + ".csv"
