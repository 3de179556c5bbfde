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

from posering.errors import PoseringError
from posering.formats.poses import read_poses_file, write_table
from posering.per_video import AnalysedVideos, analysis_step
from posering.post.analysis_files import AnalysisTarget
from posering.post.filters import FILTERTYPES, filter_poses

log = logging.getLogger("posering.post")


@analysis_step("video")
def filterpredictions(
    videos: AnalysedVideos,
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
    todo = videos.todo(lambda target: target.poses_file(filtered=True), overwrite)
    options = dict(filtertype=filtertype, windowlength=windowlength, p_bound=p_bound, ARdegree=ARdegree,
                   MAdegree=MAdegree, alpha=alpha)
    # With one video (no Ray task per video), ARIMA's series are Ray tasks: filter_poses starts Ray.
    written = videos.each(filter_video, {t.video: (t, options, save_as_csv) for t in todo})
    for video, out in written.items():
        log.info("%s: filtered (%s) into %s", video, filtertype, out)
    return videos.finish(written)


def filter_video(target: AnalysisTarget, options: dict, save_as_csv: bool) -> str:
    """Filter one video's analysis file (a Ray task when there are several videos)."""
    df = read_poses_file(target.poses_file())
    # Inside a Ray worker Ray is initialised, so ARIMA series become nested tasks there too.
    filtered = filter_poses(df, parallel="ray", **options)
    return write_table(filtered, target.poses_file(filtered=True), csv=save_as_csv)[-1]
