import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from posering.errors import PoseringError
from posering.post.filters import arima_filter_series, filter_poses, spline_fill_series

from .conftest import smooth_table


def _same_layout(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert a.columns.equals(b.columns)
    assert a.index.equals(b.index)
    assert (a.dtypes == b.dtypes).all()


def test_median_removes_single_frame_jump():
    df, true_x, _ = smooth_table(100, 2)
    col = ("DLC_test_scorer", "snout", "x")
    df.loc[50, col] += 200
    out = filter_poses(df, "median", windowlength=5)
    _same_layout(out, df)
    assert abs(out.loc[50, col] - true_x[50, 0]) < 3
    like = df.columns.get_level_values("coords") == "likelihood"
    pd.testing.assert_frame_equal(out.loc[:, like], df.loc[:, like])


def test_median_needs_odd_window():
    df, _, _ = smooth_table(20, 1)
    with pytest.raises(PoseringError, match="windowlength=4 must be a positive odd"):
        filter_poses(df, "median", windowlength=4)


def test_unknown_filtertype():
    df, _, _ = smooth_table(20, 1)
    with pytest.raises(PoseringError, match="filtertype='kalman' is not known"):
        filter_poses(df, "kalman")


def _gappy_table():
    """Two bodyparts; snout frames 200..209 have likelihood 0 and garbage coordinates."""
    df, true_x, true_y = smooth_table(300, 2, noise=1.0)
    rng = np.random.default_rng(5)
    rows = np.arange(200, 210)
    df.loc[rows, ("DLC_test_scorer", "snout", "x")] = rng.uniform(0, 640, 10).astype(np.float32)
    df.loc[rows, ("DLC_test_scorer", "snout", "y")] = rng.uniform(0, 480, 10).astype(np.float32)
    df.loc[rows, ("DLC_test_scorer", "snout", "likelihood")] = 0.0
    return df, true_x, true_y


def test_arima_fills_low_likelihood_gap_near_truth():
    df, true_x, true_y = _gappy_table()
    out = filter_poses(df, "arima")
    _same_layout(out, df)
    s = out["DLC_test_scorer"]["snout"]
    gap = slice(200, 210)
    # The garbage was hundreds of px off. An ARMA(3,1) without intercept on pixel coordinates
    # (DeepLabCut's model) bridges a 10-frame gap of ~1 px/frame motion to within ~10 px;
    # it often does much better, but the optimizer's local optimum varies with the data.
    err_x = np.abs(s["x"].to_numpy()[gap] - true_x[gap, 0])
    err_y = np.abs(s["y"].to_numpy()[gap] - true_y[gap, 0])
    assert err_x.max() < 12 and err_y.max() < 12
    assert np.abs(df["DLC_test_scorer"]["snout"]["x"].to_numpy()[gap] - true_x[gap, 0]).mean() > 50
    # elsewhere the filter follows the data closely
    assert np.median(np.abs(s["x"].to_numpy()[1:] - true_x[1:, 0])) < 2
    # first sample is the raw value; likelihood untouched
    assert out.iloc[0, 0] == df.iloc[0, 0]
    pd.testing.assert_series_equal(s["likelihood"], df["DLC_test_scorer"]["snout"]["likelihood"])


def test_arima_too_few_samples_gives_nan():
    values = np.arange(30.0)
    like = np.zeros(30)
    like[:5] = 1.0
    out = arima_filter_series(values, like, p_bound=0.5)
    assert out[0] == 0.0 and np.isnan(out[1:]).all()


def test_arima_is_serial_unless_asked_and_ray_starts_when_asked():
    # In a fresh interpreter, since this session's Ray may already be up: the default never
    # touches Ray; parallel='ray' starts a local instance (the one policy, ray_utils.ensure_ray)
    # and computes the same numbers.
    code = (
        "import numpy as np, ray\n"
        "from tests.post.conftest import smooth_table\n"
        "from posering.post.filters import filter_poses\n"
        "df, _, _ = smooth_table(60, 1)\n"
        "serial = filter_poses(df, 'arima')\n"
        "assert not ray.is_initialized()\n"
        "parallel = filter_poses(df, 'arima', parallel='ray')\n"
        "assert ray.is_initialized()\n"
        "assert np.array_equal(parallel.to_numpy(), serial.to_numpy(), equal_nan=True)\n"
    )
    root = Path(__file__).resolve().parents[2]
    run = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr


def test_arima_ray_matches_serial(ray_session):
    df, _, _ = _gappy_table()
    serial = filter_poses(df, "arima")
    parallel = filter_poses(df, "arima", parallel="ray")
    pd.testing.assert_frame_equal(serial, parallel)


def test_spline_fills_short_gaps_only():
    df, true_x, true_y = smooth_table(100, 2, noise=0.0)
    sc = "DLC_test_scorer"
    for bp, rows in (("snout", np.arange(20, 24)), ("leftear", np.arange(50, 60))):  # 4- and 10-frame gaps
        df.loc[rows, (sc, bp, "x")] = np.nan
        df.loc[rows, (sc, bp, "y")] = np.nan
    df.loc[[0, 1], (sc, "snout", "x")] = np.nan  # leading gap: no data before it
    out = filter_poses(df, "spline", windowlength=5)
    _same_layout(out, df)
    snout, ear = out[sc]["snout"], out[sc]["leftear"]
    np.testing.assert_allclose(snout["x"].to_numpy()[20:24], true_x[20:24, 0], atol=0.05)
    np.testing.assert_allclose(snout["y"].to_numpy()[20:24], true_y[20:24, 0], atol=0.05)
    assert (snout["likelihood"].to_numpy()[20:24] == np.float32(0.01)).all()
    assert snout["x"].iloc[:2].isna().all()
    assert ear["x"].iloc[50:60].isna().all() and (ear["likelihood"].iloc[50:60] == np.float32(0.95)).all()
    # untouched samples are exactly the input
    keep = np.r_[2:20, 24:100]
    np.testing.assert_array_equal(snout["x"].to_numpy()[keep], df[sc]["snout"]["x"].to_numpy()[keep])
    assert (snout["likelihood"].to_numpy()[keep] == np.float32(0.95)).all()


def test_spline_window_zero_fills_every_interior_gap():
    v = np.arange(30.0) ** 1.5
    v[5:25] = np.nan
    out = spline_fill_series(v, 0)
    assert np.isfinite(out).all()


def test_real_file_through_filters(dlc_poses):
    med = filter_poses(dlc_poses, "median")
    _same_layout(med, dlc_poses)
    # a 3-bodypart ARIMA fit on 600 frames is a few seconds; one bodypart is enough here
    small = dlc_poses.loc[:, dlc_poses.columns.get_level_values("bodyparts") == "leftear"]
    ar = filter_poses(small, "arima", p_bound=0.001)
    _same_layout(ar, small)
    assert np.isfinite(ar.to_numpy()).all()
    sp = filter_poses(dlc_poses, "spline")
    pd.testing.assert_frame_equal(sp, dlc_poses)  # no NaN in DeepLabCut's output: nothing to fill
