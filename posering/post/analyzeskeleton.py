"""analyzeskeleton: bone lengths, orientations and likelihoods -> ``<stem><scorer>_skeleton.h5``.

For every bone of config.yaml's ``skeleton`` and every frame, `posering.post.skeleton` computes
the bone's length (px), orientation (degrees, DeepLabCut's convention) and likelihood (the
smaller of its two ends). This step reads each video's analysis file (or the filtered one),
writes the feature table in DeepLabCut's layout (HDF5 table, key ``df_with_missing``; optional
CSV), and runs one Ray task per video when there are several. Existing outputs are skipped.
"""

from __future__ import annotations

import logging

from posering.errors import ConfigError
from posering.formats.poses import read_poses_file, write_table
from posering.per_video import AnalysedVideos, analysis_step
from posering.post.analysis_files import AnalysisTarget
from posering.post.skeleton import skeleton_features
from posering.project.paths import skeleton_file

log = logging.getLogger("posering.post")


@analysis_step()
def analyzeskeleton(
    videos: AnalysedVideos,
    filtered: bool = False,
    save_as_csv: bool = False,
    destfolder: str | None = None,
    overwrite: bool = False,
) -> dict[str, str]:
    """Bone length, orientation and likelihood per frame; writes <video><scorer>_skeleton.h5.

    The bones are those of config.yaml's skeleton. Returns, per video, the skeleton file
    (written now or found from an earlier run).

    Parameters
    ----------
    filtered: read the filtered poses (<video><scorer>_filtered.h5) instead of the raw ones.
    save_as_csv: also write the table as CSV.
    destfolder: where the analysis files are and the skeleton files go (default: beside each video).
    overwrite: compute again for videos that already have a skeleton file.
    """
    bones = videos.cfg.skeleton
    if not bones:
        raise ConfigError(f"{videos.cfg.location}: skeleton is empty; list the bones as pairs of bodyparts, "
                          "e.g. skeleton: [[snout, tailbase]]")
    todo = videos.todo(lambda target: skeleton_file(target.video, target.scorer, target.destfolder), overwrite)
    written = videos.each(skeleton_video, {t.video: (t, bones, filtered, save_as_csv) for t in todo})
    for video, out in written.items():
        log.info("%s: %d bones into %s", video, len(bones), out)
    return videos.finish(written)


def skeleton_video(target: AnalysisTarget, bones: list[list[str]], filtered: bool, save_as_csv: bool) -> str:
    """One video's bone features (a Ray task when there are several videos)."""
    source = target.poses_file(filtered=filtered)
    features = skeleton_features(read_poses_file(source), bones, source=source)
    out = skeleton_file(target.video, target.scorer, target.destfolder)
    return write_table(features, out, csv=save_as_csv)[-1]
