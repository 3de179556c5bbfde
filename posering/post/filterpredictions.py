"""filterpredictions: smooth analysed poses into ``<stem><scorer>_filtered.h5`` (and ``.csv``).

The filters themselves are in `posering.post.filters` (median, ARIMA, spline); this step finds
each video's analysis file, filters it and writes the filtered twin in the same layout. Several
videos are filtered in parallel (one Ray task each); with ``filtertype='arima'`` the
bodypart/axis series of a video are Ray tasks as well, because statsmodels takes seconds per
series on a long video and the series are independent.

As in DeepLabCut, a video whose filtered file exists is skipped; ``overwrite=True`` filters again.
"""

from __future__ import annotations

import logging

from posering import storage
from posering.errors import PoseringError
from posering.formats.poses import read_poses_file, write_table
from posering.post.analysis_files import AnalysisTarget, analysis_targets, map_videos
from posering.post.filters import FILTERTYPES, filter_poses

log = logging.getLogger("posering.post")


def filterpredictions(
    config: str,
    video: list[str] | str,
    videotype: str = "",
    shuffle: int = 1,
    trainingsetindex: int = 0,
    filtertype: str = "median",
    windowlength: int = 5,
    p_bound: float = 0.001,
    ARdegree: int = 3,
    MAdegree: int = 1,
    alpha: float = 0.01,
    save_as_csv: bool = True,
    destfolder: str | None = None,
    overwrite: bool = False,
) -> dict[str, str]:
    """Filter the analysed poses of videos; writes <video><scorer>_filtered.h5 (and .csv).

    Returns, per video, the filtered file (written now or found from an earlier run).

    Parameters
    ----------
    config: path or URL of the project's config.yaml.
    video: video files, folders of videos or s3:// prefixes whose analysis files to filter.
    videotype: only videos with this extension in folders (e.g. .mp4); default: all video types.
    shuffle: the shuffle whose model analysed the videos (names the analysis files).
    trainingsetindex: which TrainingFraction of config.yaml that model was trained with.
    filtertype: 'median' (per coordinate, windowlength frames), 'arima' (SARIMAX per bodypart and
        axis, points below p_bound treated as missing) or 'spline' (fills gaps of missing points
        up to windowlength frames).
    windowlength: median kernel in frames (odd), or the longest gap the spline fills.
    p_bound: arima: points with likelihood below this are missing data for the fit.
    ARdegree: arima: autoregressive order.
    MAdegree: arima: moving-average order.
    alpha: arima: significance level of the confidence interval (kept for DeepLabCut's signature).
    save_as_csv: also write the filtered table as CSV.
    destfolder: where the analysis files are and the filtered ones go (default: beside each video).
    overwrite: filter again videos that already have a filtered file.
    """
    if filtertype not in FILTERTYPES:
        raise PoseringError(f"filtertype={filtertype!r} is not known; use one of {', '.join(FILTERTYPES)}")
    _, targets = analysis_targets(config, video, videotype, shuffle, trainingsetindex, destfolder)
    results, todo = {}, []
    for target in targets:
        out = target.poses_file(filtered=True)
        if storage.exists(out) and not overwrite:
            log.info("%s: already filtered (%s); pass overwrite=True to filter again", target.video, out)
            results[target.video] = out
        else:
            todo.append(target)
    options = dict(filtertype=filtertype, windowlength=windowlength, p_bound=p_bound, ARdegree=ARdegree,
                   MAdegree=MAdegree, alpha=alpha)
    if filtertype == "arima" and len(todo) == 1:
        # One video: its series are the only parallelism there is, so start Ray for them.
        from posering.ray_utils import ensure_ray

        ensure_ray()
    for target, out in zip(todo, map_videos(filter_video, [(t, options, save_as_csv) for t in todo])):
        log.info("%s: filtered (%s) into %s", target.video, filtertype, out)
        results[target.video] = out
    return results


def filter_video(target: AnalysisTarget, options: dict, save_as_csv: bool) -> str:
    """Filter one video's analysis file (a Ray task when there are several videos)."""
    df = read_poses_file(target.poses_file())
    # Inside a Ray worker Ray is initialised, so ARIMA series become nested tasks there too.
    filtered = filter_poses(df, parallel="ray", **options)
    return write_table(filtered, target.poses_file(filtered=True), csv=save_as_csv)[-1]
