"""The analysis files a post-processing step reads and writes, and running it over many videos.

Every step after ``analyze_videos`` (filterpredictions, analyzeskeleton, plot_trajectories,
create_labeled_video, extract_outlier_frames) starts the same way DeepLabCut's do: the config and
shuffle name the model, the model names the scorer, and the scorer names each video's files
(``<stem><scorer>.h5`` beside the video or in ``destfolder``). This module does that once:

* :func:`analysis_targets`: config + videos (files, folders, s3 prefixes) -> one
  :class:`AnalysisTarget` per video;
* :func:`read_poses_file` / :func:`write_table`: tables in DeepLabCut's HDF5 *table* layout (key
  ``df_with_missing``) and the CSV twin, through posering.storage;
* :func:`analysis_crop`: whether the poses were computed on a crop, read from posering's
  ``_meta.yaml`` or DeepLabCut's ``_meta.pickle`` (unpickled with a short allow-list: a file a user
  hands us is parsed, never executed), and :func:`full_frame_poses` to bring DeepLabCut's
  crop-relative coordinates back into the frame (posering's are full-frame already);
* :func:`map_videos`: one Ray task per video when there are several, a plain call for one.
"""

from __future__ import annotations

import io
import logging
import pickle
from dataclasses import dataclass
from typing import Any, Callable

import pandas as pd
import yaml

from posering import storage
from posering.errors import PoseringError
from posering.formats import labels
from posering.post.poses import validate_poses
from posering.project import load_config
from posering.project.config import Crop, ProjectConfig
from posering.project.models import resolve_model
from posering.project.paths import analysis_base, analysis_file
from posering.project.videos import collect_videos

log = logging.getLogger("posering.post")


@dataclass(frozen=True)
class AnalysisTarget:
    """One video and where its analysis files are (plain values: it travels to Ray workers)."""

    video: str
    scorer: str
    destfolder: str | None = None

    def poses_file(self, filtered: bool = False, suffix: str = ".h5") -> str:
        """``<stem><scorer>[_filtered].h5`` (or ``.csv``)."""
        return analysis_file(self.video, self.scorer, self.destfolder, filtered, suffix)

    @property
    def base(self) -> str:
        return analysis_base(self.video, self.scorer, self.destfolder)


def analysis_targets(config: str | ProjectConfig, videos: list[str] | str, videotype: str = "",
                     shuffle: int = 1, trainingsetindex: int = 0,
                     destfolder: str | None = None) -> tuple[ProjectConfig, list[AnalysisTarget]]:
    """The project config and one target per video found in ``videos``."""
    cfg = load_config(config)
    scorer = resolve_model(cfg, shuffle, trainingsetindex).scorer
    found = collect_videos(videos, videotype)
    if not found:
        raise PoseringError(f"no videos found in {videos} (videotype {videotype!r})")
    dest = storage.normalize(destfolder) if destfolder else None
    return cfg, [AnalysisTarget(video, scorer, dest) for video in found]


def read_poses_file(location: str) -> pd.DataFrame:
    """A pose table from an analysis ``.h5`` (posering's or DeepLabCut's), validated."""
    if not storage.exists(location):
        raise PoseringError(f"{location}: no analysis file here; run analyze_videos on the video "
                            "first (with the same shuffle, trainingsetindex and destfolder)")
    with storage.local_copy(location) as local:
        try:
            df = pd.read_hdf(local, labels.HDF_KEY)
        except (KeyError, ValueError, OSError) as exc:
            raise PoseringError(f"{location}: not a readable analysis file ({type(exc).__name__}: "
                                f"{exc}); analyze the video again with overwrite=True") from None
    return validate_poses(df, location)


def write_table(df: pd.DataFrame, location_h5: str, csv: bool = False) -> list[str]:
    """Write ``df`` as DeepLabCut does (HDF5 table, key df_with_missing), the .h5 last.

    The .h5's presence marks the step as done for this video, so it is moved into place only
    after the CSV twin is complete.
    """
    written = []
    if csv:
        location_csv = location_h5[: -len(".h5")] + ".csv"
        with storage.atomic_write(location_csv, "w") as handle:
            df.to_csv(handle)
        written.append(location_csv)
    with storage.local_target(location_h5, suffix=".h5") as tmp:
        df.to_hdf(tmp, key=labels.HDF_KEY, format="table", mode="w")
    written.append(location_h5)
    return written


# -- where the coordinates are: crop metadata -------------------------------------------------------
@dataclass(frozen=True)
class AnalysisCrop:
    """The crop an analysis used, and whether its coordinates are relative to that crop."""

    crop: Crop | None = None
    relative: bool = False  # DeepLabCut: True with a fixed crop; posering: always full-frame


def analysis_crop(target: AnalysisTarget) -> AnalysisCrop:
    """What the metadata beside the analysis says about cropping (no metadata: no crop)."""
    meta_yaml = target.base + "_meta.yaml"
    if storage.exists(meta_yaml):
        data = yaml.safe_load(storage.read_text(meta_yaml)) or {}
        crop = (data.get("settings") or {}).get("crop")
        relative = "full-frame" not in str(data.get("coordinates", "full-frame"))
        return AnalysisCrop(Crop.parse(crop, meta_yaml) if crop else None, relative)
    meta_pickle = target.base + "_meta.pickle"
    if storage.exists(meta_pickle):
        data = _safe_unpickle(storage.read_bytes(meta_pickle), meta_pickle)
        info = (data or {}).get("data", {}) if isinstance(data, dict) else {}
        if info.get("cropping") and info.get("cropping_parameters") is not None:
            crop = Crop.parse(list(info["cropping_parameters"]), meta_pickle)
            return AnalysisCrop(crop, relative=True)
    return AnalysisCrop()


def full_frame_poses(df: pd.DataFrame, crop: AnalysisCrop) -> pd.DataFrame:
    """``df`` with coordinates in full-frame pixels (adds the crop offset when relative)."""
    if crop.crop is None or not crop.relative:
        return df
    out = df.copy()
    coords = df.columns.get_level_values(-1)
    out.loc[:, coords == "x"] += crop.crop.x1
    out.loc[:, coords == "y"] += crop.crop.y1
    return out


# DeepLabCut's _meta.pickle holds dicts, lists, strings and numbers, some as numpy scalars or
# arrays. Only the classes those need are rebuilt; anything else stops the read.
_ALLOWED = {
    ("collections", "OrderedDict"),
    ("numpy", "dtype"), ("numpy", "ndarray"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
}


class _AllowListUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed")


def _safe_unpickle(data: bytes, where: str) -> Any:
    try:
        return _AllowListUnpickler(io.BytesIO(data)).load()
    except Exception as exc:  # a pickle we cannot read safely is treated as absent
        log.warning("%s: not read (%s); assuming the analysis was not cropped", where, exc)
        return None


# -- many videos -----------------------------------------------------------------------------------
def map_videos(function: Callable, argument_lists: list[tuple]) -> list:
    """``function(*arguments)`` per video: Ray tasks for several videos, a plain call for one.

    One video runs here, in this process, with no Ray start-up cost; several run in parallel on
    the local Ray instance or the cluster of ``RAY_ADDRESS``.
    """
    if len(argument_lists) > 1:
        from posering.ray_utils import run_tasks

        return run_tasks(function, argument_lists)
    return [function(*arguments) for arguments in argument_lists]
