"""Which frames to send back for labeling: DeepLabCut's outlier search, on data.

`find_outlier_candidates` returns the frame numbers (pose-table index labels, sorted, unique) that
an ``extract_outlier_frames(outlieralgorithm=...)`` call would consider, looking only at frames in
``[floor(n*start), ceil(n*stop))`` (positions in the table) and only at the chosen bodyparts:

- ``uncertain``: some bodypart's likelihood < `p_bound`.
- ``jump``: some bodypart moved more than `epsilon` px since the previous frame (the first frame
  of the range has no previous frame and is never a jump).
- ``fitting``: per bodypart and axis an ARMA model is fitted (`posering.post.sarimax`, samples
  below `p_bound` missing); d = the bodypart-mean distance between observation and fit. Frames
  with d > `epsilon`; if fewer than ``2*numframes2pick`` qualify, the ``2*numframes2pick`` frames
  with the largest d instead. Differences from DeepLabCut, on purpose: DeepLabCut returns
  positions inside the range (wrong frame numbers when start > 0), compares the range's first
  frame with the model's prior (so it is always a candidate), and can rank NaN distances first;
  posering returns frame numbers, has no d for the first frame, and ranks only finite d.
- ``list``: the frames in `frames2use`, which must exist in the table (not limited by start/stop:
  the user named them).

`select_frames` then picks `n` of the candidates, uniformly at random or one per k-means cluster
of per-frame feature vectors the caller supplies (downsampled frames, as DeepLabCut clusters).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from posering.errors import PoseringError
from posering.post.pose_table import resolve_bodyparts, to_arrays, validate_poses
from posering.post.sarimax import fit_series
from posering.ray_utils import fan_out, wants_ray

ALGORITHMS = ("uncertain", "jump", "fitting", "list")
SELECTIONS = ("uniform", "kmeans")


def frame_range(n_frames: int, start: float = 0.0, stop: float = 1.0) -> tuple[int, int]:
    """Row positions ``[first, end)`` covered by the `start`/`stop` fractions (config.yaml keys)."""
    if not (0.0 <= start < stop <= 1.0):
        raise PoseringError(f"start={start}, stop={stop}: need 0 <= start < stop <= 1 (fractions of the video)")
    first = max(int(np.floor(n_frames * start)), 0)
    end = min(int(np.ceil(n_frames * stop)), n_frames)
    return first, end


def fitting_deviation(
    df: pd.DataFrame,
    bodyparts: str | Sequence[str] = "all",
    p_bound: float = 0.01,
    ARdegree: int = 3,
    MAdegree: int = 1,
    alpha: float = 0.01,
    parallel: str | None = None,
) -> np.ndarray:
    """Per frame, the mean over `bodyparts` of |observation - ARMA fit| in px (NaN-skipping).

    Bodyparts whose fit failed (too few confident samples) do not count; a frame where no
    bodypart has a distance gets NaN.
    """
    x, y, p = to_arrays(df, bodyparts)
    jobs = [(axis[:, k], p[:, k], p_bound, ARdegree, MAdegree, alpha) for k in range(x.shape[1]) for axis in (x, y)]
    fits = fan_out(fit_series, jobs, on_ray=wants_ray(parallel) and len(jobs) > 1)
    mx = np.column_stack([mean for mean, _ in fits[0::2]])
    my = np.column_stack([mean for mean, _ in fits[1::2]])
    # The first "prediction" is only the model's prior (about 0 px), which would make the first
    # frame look hundreds of px off every time; there is nothing to compare it with.
    mx[:1], my[:1] = np.nan, np.nan
    dist = np.hypot(x - mx, y - my)
    counted = np.isfinite(dist).sum(axis=1)
    total = np.where(np.isfinite(dist), dist, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counted > 0, total / counted, np.nan)


def deviant_rows(d: np.ndarray, epsilon: float, numframes2pick: int) -> np.ndarray:
    """Positions where `d` > `epsilon`; if fewer than 2*numframes2pick, the 2*numframes2pick largest."""
    d = np.asarray(d, dtype=np.float64)
    rows = np.flatnonzero(d > epsilon)
    want = 2 * numframes2pick
    if len(rows) < want and len(d) > want:
        finite = np.flatnonzero(np.isfinite(d))
        # Stable sort on -d: the largest deviations, ties in frame order.
        rows = np.sort(finite[np.argsort(-d[finite], kind="stable")[:want]])
    return rows


def find_outlier_candidates(
    df: pd.DataFrame,
    outlieralgorithm: str = "jump",
    comparisonbodyparts: str | Sequence[str] = "all",
    epsilon: float = 20,
    p_bound: float = 0.01,
    ARdegree: int = 3,
    MAdegree: int = 1,
    alpha: float = 0.01,
    start: float = 0.0,
    stop: float = 1.0,
    numframes2pick: int = 20,
    frames2use: Sequence[int] | None = None,
    parallel: str | None = None,
) -> np.ndarray:
    """Sorted, unique frame numbers flagged by `outlieralgorithm` (see module doc).

    Arguments and defaults are DeepLabCut's ``extract_outlier_frames`` ones; `start`, `stop`,
    `numframes2pick` come from config.yaml. `parallel='ray'` runs the ``fitting`` fits as Ray
    tasks (starting a local Ray instance if none is running).
    """
    df = validate_poses(df)
    wants_ray(parallel)
    if outlieralgorithm not in ALGORITHMS:
        raise PoseringError(
            f"outlieralgorithm={outlieralgorithm!r} is not known; use one of {', '.join(ALGORITHMS)} "
            "('manual' is the labeling GUI, not a search)"
        )
    if outlieralgorithm == "list":
        return _listed_frames(df, frames2use)

    first, end = frame_range(len(df), start, stop)
    window = df.iloc[first:end]
    bodyparts = resolve_bodyparts(df, comparisonbodyparts)
    x, y, p = to_arrays(window, bodyparts)
    if outlieralgorithm == "uncertain":
        # NaN likelihood compares False: an unknown likelihood is not "uncertain" (as DeepLabCut).
        rows = np.flatnonzero((p < p_bound).any(axis=1))
    elif outlieralgorithm == "jump":
        step2 = np.diff(x, axis=0) ** 2 + np.diff(y, axis=0) ** 2
        rows = np.flatnonzero((step2 > epsilon**2).any(axis=1)) + 1
    else:
        d = fitting_deviation(window, bodyparts, p_bound, ARdegree, MAdegree, alpha, parallel)
        rows = deviant_rows(d, epsilon, numframes2pick)
    return np.sort(np.unique(window.index.to_numpy()[rows]))


def _listed_frames(df: pd.DataFrame, frames2use: Sequence[int] | None) -> np.ndarray:
    if frames2use is None or len(frames2use) == 0:
        raise PoseringError("outlieralgorithm='list' needs frames2use, the frame numbers to extract")
    frames = np.unique(np.asarray(list(frames2use)))
    missing = frames[~np.isin(frames, df.index.to_numpy())]
    if len(missing):
        raise PoseringError(
            f"frames2use: frame {missing[0]} is not in the pose table (frames {df.index[0]}..{df.index[-1]})"
        )
    return frames


def select_frames(
    candidates: Sequence[int] | np.ndarray,
    n: int,
    method: str = "uniform",
    frame_features: np.ndarray | None = None,
    seed: int | None = None,
) -> np.ndarray:
    """Pick at most `n` of the candidate frames; returns them sorted.

    ``uniform``: a seeded random choice without replacement. ``kmeans``: MiniBatchKMeans with `n`
    clusters on `frame_features` (one row per candidate, e.g. a downsampled grayscale frame,
    flattened), then one random member of each non-empty cluster, so the picks differ in
    appearance. With no more candidates than `n`, all are returned.
    """
    if method not in SELECTIONS:
        raise PoseringError(f"extractionalgorithm={method!r} is not known; use one of {', '.join(SELECTIONS)}")
    candidates = np.asarray(candidates)
    if n < 1:
        raise PoseringError(f"numframes2pick={n}: must be at least 1")
    rng = np.random.default_rng(seed)
    if len(candidates) <= n:
        return np.sort(candidates)
    if method == "uniform":
        return np.sort(rng.choice(candidates, size=n, replace=False))

    if frame_features is None or len(frame_features) != len(candidates):
        got = "none" if frame_features is None else f"{len(frame_features)} rows"
        raise PoseringError(
            f"kmeans frame selection needs one feature row per candidate ({len(candidates)}), got {got}"
        )
    from sklearn.cluster import MiniBatchKMeans

    features = np.asarray(frame_features, dtype=np.float64).reshape(len(candidates), -1)
    # DeepLabCut's settings; batch size halves for short lists so each batch holds real frames.
    batch = 100 if len(candidates) >= 200 else max(len(candidates) // 2, 1)
    kmeans = MiniBatchKMeans(
        n_clusters=n, tol=1e-3, batch_size=batch, max_iter=50,
        random_state=int(rng.integers(2**31 - 1)),
    )
    labels = kmeans.fit_predict(features)
    picks = [rng.choice(candidates[labels == c]) for c in np.unique(labels)]
    return np.sort(np.asarray(picks))
