"""A video's analysis files, as DeepLabCut 3 writes and reads them (plus Parquet and a readable metadata file).

Beside the video, or in ``destfolder`` (names in :mod:`posering.project.paths`):

* ``<stem><scorer>.h5``: the pose table (key ``df_with_missing``, PyTables *table* format, columns
  scorer / bodyparts / x, y, likelihood, one row per frame). ``_filtered.h5`` and ``_skeleton.h5``
  are written alike, and so are the tables of time-lapse frames and of evaluation predictions.
* ``.csv`` twins; ``<stem><scorer>.parquet`` with ``output_format`` containing ``parquet`` (flat
  ``<bodypart>_<coord>`` columns and a ``frame`` column, the scorer in the file's metadata).
* ``<stem><scorer>_meta.yaml``: posering's record of the run (model, snapshot, config hash, video
  facts, settings, timings, version), readable by a person;
* ``<stem><scorer>_meta.pickle``: DeepLabCut's record, ``{"data": {...}}`` with the keys its
  ``create_labeled_video``, ``extract_outlier_frames`` and tracking read (plain values only).

posering's coordinates are always full-frame pixels, so its ``_meta.pickle`` says ``cropping:
False``; DeepLabCut's own analyses with a fixed crop are crop-relative, and
:func:`full_frame_poses` adds the crop's corner back. The ``.h5`` is written last: its presence
marks the video as done.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from posering import storage
from posering.errors import PoseringError
from posering.formats import labels, pickles
from posering.formats.tables import HDF_KEY, csv_twin, read_problem, write_csv, write_h5
from posering.post.pose_table import validate_poses
from posering.project.config import Crop
from posering.project.paths import analysis_file, analysis_meta_file

log = logging.getLogger("posering.formats")

OUTPUT_FORMATS = ("h5", "csv", "parquet")


def poses_table(poses: np.ndarray, scorer: str, bodyparts: list[str], index=None) -> pd.DataFrame:
    """The pose table of (N, K, 3) x, y, likelihood; rows are frame numbers unless ``index`` is given."""
    columns = labels.make_columns(scorer, bodyparts, likelihood=True)
    return pd.DataFrame(np.asarray(poses).reshape(len(poses), -1).astype(np.float64), columns=columns,
                        index=pd.RangeIndex(len(poses)) if index is None else index)


# -- writing ---------------------------------------------------------------------------------------------
def output_locations(video: str, scorer: str, destfolder: str | None) -> dict[str, str]:
    """Where ``analyze_videos`` writes a video's files."""
    return {"h5": analysis_file(video, scorer, destfolder), "csv": analysis_file(video, scorer, destfolder, suffix=".csv"),
            "parquet": analysis_file(video, scorer, destfolder, suffix=".parquet"),
            "meta": analysis_meta_file(video, scorer, destfolder),
            "meta_pickle": analysis_meta_file(video, scorer, destfolder, ".pickle")}


def write_analysis(table: pd.DataFrame, locations: dict[str, str], formats, metadata: dict,
                   dlc_metadata: dict | None = None) -> list[str]:
    """Write the requested formats, both metadata files, and the .h5 last; returns what was written."""
    written = []
    if "csv" in formats:
        write_csv(table, locations["csv"])
        written.append(locations["csv"])
    if "parquet" in formats:
        storage.write_bytes(locations["parquet"], _parquet_bytes(table))
        written.append(locations["parquet"])
    storage.write_text(locations["meta"], yaml.safe_dump(metadata, sort_keys=False))
    written.append(locations["meta"])
    if dlc_metadata is not None:
        pickles.write_pickle(locations["meta_pickle"], {"data": dlc_metadata})
        written.append(locations["meta_pickle"])
    write_h5(table, locations["h5"])
    written.append(locations["h5"])
    return written


def write_table(df: pd.DataFrame, location_h5: str, csv: bool = False) -> list[str]:
    """Write a pose-like table (filtered poses, skeleton features, ...) and its CSV twin, the .h5
    last: its presence marks the step as done for this video."""
    written = []
    if csv:
        write_csv(df, csv_twin(location_h5))
        written.append(csv_twin(location_h5))
    write_h5(df, location_h5)
    written.append(location_h5)
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


def dlc_analysis_metadata(scorer: str, model_config: dict, video: dict, batch_size: int, iteration: int,
                          fraction: float, start: float, stop: float) -> dict:
    """The ``data`` of DeepLabCut's ``_meta.pickle`` for an analysis posering ran.

    ``model_config``: the pytorch_config.yaml settings; ``video``: fps, nframes, width, height.
    The coordinates are full-frame, so the record says no crop (DeepLabCut shifts by the crop only
    when ``cropping`` is true) and, as DeepLabCut does then, the whole frame as the crop's box.
    """
    settings = {k: v for k, v in model_config.items() if k != "posering"}
    meta = settings.get("metadata") or {}
    width, height = int(video["width"]), int(video["height"])
    return {
        "start": float(start), "stop": float(stop), "run_duration": float(stop) - float(start),
        "Scorer": scorer, "pytorch-config": settings, "fps": float(video["fps"] or 0.0),
        "batch_size": int(batch_size), "frame_dimensions": (width, height), "nframes": int(video["nframes"]),
        "iteration (active-learning)": int(iteration), "training set fraction": float(fraction),
        "cropping": False, "cropping_parameters": [0, width, 0, height],
        "individuals": list(meta.get("individuals") or ["individual_1"]),
        "bodyparts": list(meta.get("bodyparts") or []),
        "unique_bodyparts": list(meta.get("unique_bodyparts") or []),
    }


# -- reading ---------------------------------------------------------------------------------------------
def read_poses_file(location: str) -> pd.DataFrame:
    """A pose table from an analysis ``.h5`` (posering's or DeepLabCut's), validated."""
    if not storage.exists(location):
        raise PoseringError(f"{location}: no analysis file here; run analyze_videos on the video "
                            "first (with the same shuffle, trainingsetindex and destfolder)")
    with storage.local_copy(location) as local:
        try:
            df = pd.read_hdf(local, HDF_KEY)
        except (KeyError, ValueError, OSError, RuntimeError) as exc:  # HDF5's errors are RuntimeErrors
            raise PoseringError(f"{location}: not a readable analysis file ({read_problem(exc)}); "
                                "analyze the video again with overwrite=True") from None
    return validate_poses(df, location)


@dataclass(frozen=True)
class AnalysisMeta:
    """What the metadata beside an analysis says: its crop, whether coordinates are relative to
    that crop (DeepLabCut with a fixed crop; posering never), and the frame's size."""

    crop: Crop | None = None
    relative: bool = False
    frame_size: tuple[int, int] | None = None


def read_analysis_meta(video: str, scorer: str, destfolder: str | None = None) -> AnalysisMeta:
    """posering's ``_meta.yaml`` if there is one, else DeepLabCut's ``_meta.pickle``, else nothing known."""
    meta_yaml = analysis_meta_file(video, scorer, destfolder)
    if storage.exists(meta_yaml):
        data = yaml.safe_load(storage.read_text(meta_yaml)) or {}
        crop = (data.get("settings") or {}).get("crop")
        relative = "full-frame" not in str(data.get("coordinates", "full-frame"))
        facts = data.get("video") or {}
        size = (int(facts["width"]), int(facts["height"])) if facts.get("width") and facts.get("height") else None
        return AnalysisMeta(Crop.parse(crop, meta_yaml) if crop else None, relative, size)
    meta_pickle = analysis_meta_file(video, scorer, destfolder, ".pickle")
    if storage.exists(meta_pickle):
        try:
            data = pickles.read_pickle(meta_pickle)
        except Exception as exc:  # a pickle we cannot read safely is treated as absent
            log.warning("%s: not read (%s); assuming the analysis was not cropped", meta_pickle, exc)
            return AnalysisMeta()
        info = (data or {}).get("data", {}) if isinstance(data, dict) else {}
        dims = info.get("frame_dimensions")
        size = (int(dims[0]), int(dims[1])) if dims is not None and len(dims) == 2 else None
        if info.get("cropping") and info.get("cropping_parameters") is not None:
            crop = Crop.parse(list(info["cropping_parameters"]), meta_pickle)
            return AnalysisMeta(crop, relative=True, frame_size=size)
        return AnalysisMeta(frame_size=size)
    return AnalysisMeta()


def full_frame_poses(df: pd.DataFrame, meta: AnalysisMeta) -> pd.DataFrame:
    """``df`` with coordinates in full-frame pixels (adds the crop offset when relative)."""
    if meta.crop is None or not meta.relative:
        return df
    out = df.copy()
    coords = df.columns.get_level_values(-1)
    out.loc[:, coords == "x"] += meta.crop.x1
    out.loc[:, coords == "y"] += meta.crop.y1
    return out
