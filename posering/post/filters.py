"""Filtering a pose table: DeepLabCut's ``filterpredictions`` on data, without files.

`filter_poses` takes a pose table (see `posering.post.pose_table`) and returns a new table with the
same columns (in `validate_poses`'s canonical layout), index and dtypes, as DeepLabCut writes to
``<video><scorer>_filtered.h5``:

- ``median``: `scipy.signal.medfilt` with kernel `windowlength` (odd) on every x and y column;
  likelihoods untouched. medfilt zero-pads the ends, as in DeepLabCut.
- ``arima``: per bodypart and axis, samples with likelihood < `p_bound` are missing data; an
  ARMA(`ARdegree`, `MAdegree`) state-space model is fitted (`posering.post.sarimax`) and the
  in-sample one-step-ahead prediction replaces the series, except the first sample which keeps
  the raw value (the prediction there is only the model's prior). Series with too few usable
  samples come out NaN. Likelihoods untouched. The series are independent: with
  ``parallel='ray'`` each is a Ray task.
- ``spline``: per bodypart and axis, a cubic spline through the finite samples fills runs of
  NaN of at most `windowlength` frames (``0`` = any length); a bodypart filled in a frame gets
  likelihood 0.01 there so later steps can tell data from interpolation. Only gaps with data on
  both sides are filled: DeepLabCut also extrapolates short leading/trailing gaps, which a cubic
  does badly, so posering leaves those NaN. Missing means NaN here, as in DeepLabCut: tables from
  ``analyze_videos`` have no NaN, so run this on tables where unreliable points were blanked.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from posering.errors import PoseringError
from posering.post.pose_table import from_arrays, get_bodyparts, get_scorer, to_arrays, validate_poses
from posering.post.sarimax import fit_series
from posering.ray_utils import fan_out, wants_ray

FILTERTYPES = ("median", "arima", "spline")
SPLINE_LIKELIHOOD = 0.01  # likelihood written where the spline filled a gap (DeepLabCut's value)


def filter_poses(
    df: pd.DataFrame,
    filtertype: str = "median",
    windowlength: int = 5,
    p_bound: float = 0.001,
    ARdegree: int = 3,
    MAdegree: int = 1,
    alpha: float = 0.01,
    parallel: str | None = None,
) -> pd.DataFrame:
    """Filter a pose table; DeepLabCut's ``filterpredictions`` arguments and defaults.

    `windowlength` is the median kernel (odd) or the longest gap the spline fills. `p_bound`,
    `ARdegree`, `MAdegree` are for ``arima``; `alpha` is accepted for compatibility (the filter
    uses only the mean). `parallel='ray'` fans the ARIMA series out as Ray tasks (starting a
    local Ray instance if none is running, see `posering.ray_utils`). Returns a new table with
    the input's columns, index, dtypes.
    """
    df = validate_poses(df)
    wants_ray(parallel)
    if filtertype == "median":
        return median_filter(df, windowlength)
    if filtertype == "arima":
        return arima_filter(df, p_bound, ARdegree, MAdegree, parallel=parallel)
    if filtertype == "spline":
        return spline_filter(df, windowlength)
    raise PoseringError(f"filtertype={filtertype!r} is not known; use one of {', '.join(FILTERTYPES)}")


def _xy_columns(df: pd.DataFrame) -> np.ndarray:
    return df.columns.get_level_values(-1).isin(("x", "y"))


def _rebuild(df: pd.DataFrame, x: np.ndarray, y: np.ndarray, p: np.ndarray) -> pd.DataFrame:
    """A table like `df` (columns, index, per-column dtypes) holding the new arrays."""
    out = from_arrays(x, y, p, get_scorer(df), get_bodyparts(df), index=df.index)
    return out.astype(df.dtypes.to_dict())


def median_filter(df: pd.DataFrame, windowlength: int = 5) -> pd.DataFrame:
    """Median-filter every x and y column with an odd kernel of `windowlength` frames."""
    if int(windowlength) != windowlength or windowlength < 1 or windowlength % 2 == 0:
        raise PoseringError(
            f"median filter: windowlength={windowlength!r} must be a positive odd integer (e.g. 5)"
        )
    from scipy.signal import (
        medfilt,  # imported on use: scipy.signal costs ~1 s to import
    )

    df = validate_poses(df)
    out = df.copy()
    for col in df.columns[_xy_columns(df)]:
        out[col] = medfilt(df[col].to_numpy(), int(windowlength)).astype(df[col].dtype)
    return out


def arima_filter_series(
    values: np.ndarray,
    likelihood: np.ndarray,
    p_bound: float = 0.001,
    ARdegree: int = 3,
    MAdegree: int = 1,
) -> np.ndarray:
    """ARIMA-filter one coordinate series (1-D); the unit of work of a Ray task.

    Returns the one-step-ahead predicted mean with the first sample set back to the raw value;
    all NaN (first sample raw) when fewer than 11 samples reach `p_bound`.
    """
    mean, _ = fit_series(values, likelihood, p_bound, ARdegree, MAdegree)
    if len(mean):
        mean[0] = np.asarray(values, dtype=np.float64)[0]
    return mean


def arima_filter(
    df: pd.DataFrame,
    p_bound: float = 0.001,
    ARdegree: int = 3,
    MAdegree: int = 1,
    parallel: str | None = None,
) -> pd.DataFrame:
    """ARIMA-filter every bodypart's x and y (see `arima_filter_series`); likelihood kept."""
    df = validate_poses(df)
    x, y, p = to_arrays(df)
    jobs = [(axis[:, k], p[:, k], p_bound, ARdegree, MAdegree) for k in range(x.shape[1]) for axis in (x, y)]
    results = fan_out(arima_filter_series, jobs, on_ray=wants_ray(parallel) and len(jobs) > 1)
    fx = np.column_stack(results[0::2]) if results else x
    fy = np.column_stack(results[1::2]) if results else y
    return _rebuild(df, fx, fy, p)


def spline_fill_series(values: np.ndarray, max_gap: int = 0) -> np.ndarray:
    """Fill interior NaN runs of at most `max_gap` samples (0: any) with a cubic spline.

    Finite samples are returned unchanged. Needs more than 3 finite samples, else returns a copy.
    """
    out = np.array(values, dtype=np.float64)
    valid = np.isfinite(out)
    if valid.sum() <= 3:
        return out
    frames = np.flatnonzero(valid)
    first, last = frames[0], frames[-1]
    fill = ~valid
    fill[:first] = False  # leading and trailing gaps are not bounded by data: leave them
    fill[last + 1 :] = False
    if max_gap > 0:
        fill &= _run_lengths(~valid) <= max_gap
    if fill.any():
        from scipy.interpolate import CubicSpline

        spline = CubicSpline(frames, out[valid])
        out[fill] = spline(np.flatnonzero(fill))
    return out


def _run_lengths(mask: np.ndarray) -> np.ndarray:
    """For each sample, the length of the run of equal `mask` values it belongs to."""
    edges = np.flatnonzero(np.diff(mask.astype(np.int8))) + 1
    starts = np.r_[0, edges]
    lengths = np.diff(np.r_[starts, len(mask)])
    return np.repeat(lengths, lengths)


def spline_filter(df: pd.DataFrame, windowlength: int = 5) -> pd.DataFrame:
    """Fill short NaN gaps of every x and y by cubic spline; filled frames get likelihood 0.01."""
    if int(windowlength) != windowlength or windowlength < 0:
        raise PoseringError(
            f"spline filter: windowlength={windowlength!r} must be an integer >= 0 "
            "(the longest gap to fill, 0 = any)"
        )
    df = validate_poses(df)
    x, y, p = to_arrays(df)
    fx = np.column_stack([spline_fill_series(x[:, k], int(windowlength)) for k in range(x.shape[1])])
    fy = np.column_stack([spline_fill_series(y[:, k], int(windowlength)) for k in range(y.shape[1])])
    filled = (np.isnan(x) & np.isfinite(fx)) | (np.isnan(y) & np.isfinite(fy))
    p = np.where(filled, SPLINE_LIKELIHOOD, p)
    return _rebuild(df, fx, fy, p)
