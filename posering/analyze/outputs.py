"""A video's analysis files, as DeepLabCut 3 writes them (plus Parquet and a readable metadata file).

* ``<stem><scorer>.h5``: key ``df_with_missing``, PyTables table format, columns MultiIndex
  (scorer, bodyparts, coords = x, y, likelihood), one row per frame, frame index as the index.
* ``<stem><scorer>.csv`` with ``save_as_csv``; ``<stem><scorer>.parquet`` with
  ``output_format`` containing ``parquet`` (flat ``<bodypart>_<coord>`` columns and a ``frame``
  column, the scorer in the file's metadata: easy to query across a collection with pyarrow).
* ``<stem><scorer>_meta.yaml``: model, snapshot, config hash, video facts, crop, dynamic
  settings, timings, posering version (DeepLabCut keeps a pickle; posering writes no pickles).

The ``.h5`` is written last: its presence marks the video as done.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from posering import storage
from posering.formats import labels
from posering.project.paths import analysis_base

OUTPUT_FORMATS = ("h5", "csv", "parquet")


def poses_table(poses: np.ndarray, scorer: str, bodyparts: list[str]) -> pd.DataFrame:
    columns = labels.make_columns(scorer, bodyparts, likelihood=True)
    return pd.DataFrame(poses.reshape(len(poses), -1).astype(np.float64), columns=columns,
                        index=pd.RangeIndex(len(poses)))


def output_locations(video: str, scorer: str, destfolder: str | None) -> dict[str, str]:
    base = analysis_base(video, scorer, destfolder)
    return {"h5": base + ".h5", "csv": base + ".csv", "parquet": base + ".parquet", "meta": base + "_meta.yaml"}


def write_outputs(table: pd.DataFrame, locations: dict[str, str], formats, metadata: dict) -> list[str]:
    """Write the requested formats, metadata, and the .h5 last; returns what was written."""
    written = []
    if "csv" in formats:
        with storage.atomic_write(locations["csv"], "w") as handle:
            table.to_csv(handle)
        written.append(locations["csv"])
    if "parquet" in formats:
        storage.write_bytes(locations["parquet"], _parquet_bytes(table))
        written.append(locations["parquet"])
    storage.write_text(locations["meta"], yaml.safe_dump(metadata, sort_keys=False))
    written.append(locations["meta"])
    with storage.local_target(locations["h5"], suffix=".h5") as tmp:
        table.to_hdf(tmp, key=labels.HDF_KEY, format="table", mode="w")
    written.append(locations["h5"])
    return written


def _parquet_bytes(table: pd.DataFrame) -> bytes:
    flat = pd.DataFrame({f"{bp}_{coord}": table[(scorer, bp, coord)].to_numpy()
                         for scorer, bp, coord in table.columns})
    flat.insert(0, "frame", table.index.to_numpy())
    arrow = pa.Table.from_pandas(flat, preserve_index=False)
    arrow = arrow.replace_schema_metadata({**(arrow.schema.metadata or {}),
                                           b"scorer": labels.scorer_of(table).encode()})
    buffer = io.BytesIO()
    pq.write_table(arrow, buffer)
    return buffer.getvalue()


def read_poses(location: str) -> pd.DataFrame:
    """An analysis .h5 written by posering or DeepLabCut."""
    with storage.local_copy(location) as local:
        return pd.read_hdf(local, labels.HDF_KEY)
