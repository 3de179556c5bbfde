"""The analysis files a post-processing step reads and writes, and running it over many videos.

Every step after ``analyze_videos`` (filterpredictions, analyzeskeleton, plot_trajectories,
create_labeled_video, extract_outlier_frames) starts the same way DeepLabCut's do: the config and
shuffle name the model, the model names the scorer, and the scorer names each video's files
(``<stem><scorer>.h5`` beside the video or in ``destfolder``). This module does that once:

* :func:`analysis_targets`: config + videos (files, folders, s3 prefixes) -> one
  :class:`AnalysisTarget` per video, which names its files and reads its metadata;

Reading and writing the files themselves is :mod:`posering.formats.poses`; running a step over
the videos (skip what is done, Ray tasks, results, failures) is :mod:`posering.per_video`.
"""

from __future__ import annotations

from dataclasses import dataclass

from posering import storage
from posering.errors import PoseringError
from posering.formats.poses import AnalysisMeta, read_analysis_meta
from posering.project import load_config
from posering.project.config import ProjectConfig
from posering.project.models import resolve_model
from posering.project.paths import analysis_file
from posering.project.videos import collect_videos


@dataclass(frozen=True)
class AnalysisTarget:
    """One video and where its analysis files are (plain values: it travels to Ray workers)."""

    video: str
    scorer: str
    destfolder: str | None = None

    def poses_file(self, filtered: bool = False, suffix: str = ".h5") -> str:
        """``<stem><scorer>[_filtered].h5`` (or ``.csv``)."""
        return analysis_file(self.video, self.scorer, self.destfolder, filtered, suffix)

    def meta(self) -> AnalysisMeta:
        """What the analysis' metadata says (crop, coordinates, frame size)."""
        return read_analysis_meta(self.video, self.scorer, self.destfolder)


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
