"""One ARMA state-space fit of one coordinate series, as DeepLabCut's filter and outlier search use it.

Both ``filterpredictions(filtertype='arima')`` and ``extract_outlier_frames(outlieralgorithm=
'fitting')`` in DeepLabCut fit, for every bodypart and axis independently, a statsmodels
``SARIMAX(order=(AR, 0, MA), seasonal_order=(0, 0, 0, 0), simple_differencing=True)`` to the
coordinate series, with samples whose likelihood is below a bound set to NaN so the Kalman filter
treats them as missing. The in-sample one-step-ahead prediction is the "filtered" series; its
confidence band feeds the outlier statistics.

`fit_series` is a plain function of one series (numbers in, numbers out) so a Ray task can run
each series on its own core: the series are independent and a fit on a long video takes seconds.
"""

from __future__ import annotations

import warnings

import numpy as np

# Fewer finite samples than this and the fit is not attempted (DeepLabCut's threshold: > 10).
MIN_FINITE = 11


def fit_series(
    values: np.ndarray,
    likelihood: np.ndarray,
    p_bound: float = 0.001,
    ARdegree: int = 3,
    MAdegree: int = 1,
    alpha: float = 0.01,
) -> tuple[np.ndarray, np.ndarray]:
    """Fit one coordinate series; return ``(mean, conf_int)``.

    `values`, `likelihood`: 1-D arrays of the same length. Samples with likelihood < `p_bound`
    (and non-finite samples) are missing data. `mean` is the in-sample one-step-ahead predicted
    mean (length n; its first sample is the model's prior mean, not data), `conf_int` the
    (n, 2) lower/upper band at level 1 - `alpha`. With too few finite samples both are all NaN,
    as in DeepLabCut.
    """
    # Imported here: statsmodels costs about a second to import and most callers never fit.
    from statsmodels.tsa.statespace.sarimax import SARIMAX
    from threadpoolctl import threadpool_limits

    series = np.array(values, dtype=np.float64)
    # NaN likelihood counts as missing too (`>=` is False for NaN), as does a non-finite value.
    series[~(np.asarray(likelihood, dtype=np.float64) >= p_bound)] = np.nan
    series[~np.isfinite(series)] = np.nan
    n = len(series)
    if np.isfinite(series).sum() < MIN_FINITE:
        return np.full(n, np.nan), np.full((n, 2), np.nan)

    def model(relaxed: bool) -> SARIMAX:
        extra = (
            dict(enforce_stationarity=False, enforce_invertibility=False, use_exact_diffuse=False)
            if relaxed
            else {}
        )
        return SARIMAX(
            series,
            order=(ARdegree, 0, MAdegree),
            seasonal_order=(0, 0, 0, 0),
            simple_differencing=True,
            **extra,
        )

    # statsmodels warns on nearly every pose series (non-stationary start values, convergence);
    # thousands of fits would bury the user's terminal, and the fit is used regardless.
    # One BLAS thread: the state-space matrices are 4x4, and a multi-threaded BLAS spends more
    # on waking threads than on the work (measured: ~5x the CPU time of one thread, 2 cores).
    with warnings.catch_warnings(), threadpool_limits(limits=1, user_api="blas"):
        warnings.simplefilter("ignore")
        mod = model(relaxed=False)
        try:
            res = mod.fit(disp=False)
        except np.linalg.LinAlgError:
            # Non-stationary series make the stationary prior singular: drop the constraints.
            mod = model(relaxed=True)
            res = mod.fit(disp=False)
        except ValueError:
            # Bad automatic start values: start from zero AR/MA terms and unit variance.
            start = [1.0 if name.startswith("sigma") else 0.0 for name in mod.param_names]
            res = mod.fit(start_params=np.array(start), disp=False)
        pred = res.get_prediction(start=0, end=n - 1)
        mean = np.asarray(pred.predicted_mean, dtype=np.float64)
        ci = np.asarray(pred.conf_int(alpha=alpha), dtype=np.float64)
    return mean, ci
