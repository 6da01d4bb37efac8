"""Calibration: isotonic recalibration, calibration bins, bias by feature, Murphy decomposition.

``y`` and ``pred`` on the same scale with case ``weights`` (for frequency ``y = claims /
exposure``, ``pred = frequency``, ``weights = exposure``); the conventions of the three groups
of metrics are in :mod:`actnn.metrics`.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pandas as pd

from .._validation import _arrays, _volume
from ..families import Family, get_family
from ._binning import (
    _blocks,
    _check_n_bins,
    _equal_volume_bins,
    _feature_levels,
    _group_mean,
    _isotonic_blocks,
)
from .scores import _family_data

__all__ = [
    "isotonic_regression",
    "calibration_bins",
    "calibration_isotonic",
    "bias_by_feature",
    "murphy_decomposition",
]


# ---------------------------------------------------------------------------------- calibration
def isotonic_regression(
    y: npt.ArrayLike,
    x: npt.ArrayLike,
    weights: npt.ArrayLike | None = None,
    increasing: bool = True,
) -> np.ndarray:
    """Weighted isotonic regression of ``y`` on ``x`` by pool-adjacent-violators.

    Parameters
    ----------
    y : array-like
        Responses.
    x : array-like
        The covariate that orders the fit.
    weights : array-like, optional
        Case weights, > 0 (default 1).
    increasing : bool
        Fit a non-decreasing (default) or a non-increasing function of ``x``.

    Returns
    -------
    numpy.ndarray
        Fitted values, float64, in the order of the input rows (units of ``y``).

    Notes
    -----
    The fit minimises ``sum_i w_i (y_i - f(x_i))^2`` over monotone ``f``; the same ``f``
    minimises every Bregman loss, e.g. each deviance of :mod:`actnn.families`. Rows with equal
    ``x`` are pooled first (weighted mean), so they get the same fitted value. The fitted
    values are weighted means of ``y`` over blocks of consecutive ``x``, so
    ``sum w f = sum w y``.

    References
    ----------
    Barlow, R. E., Bartholomew, D. J., Bremner, J. M., Brunk, H. D. (1972). Statistical
    Inference under Order Restrictions. Wiley.
    """
    y_arr, x_arr, w = _arrays(y=y, x=x, weights=weights)
    w = _volume(w, "weights", y_arr.size)
    _, fitted, block = _isotonic_blocks(y_arr, x_arr, w, bool(increasing))
    return fitted[block]


def calibration_bins(
    y: npt.ArrayLike,
    pred: npt.ArrayLike,
    weights: npt.ArrayLike | None = None,
    *,
    n_bins: int = 10,
) -> pd.DataFrame:
    """Mean prediction and mean observation in bins of equal weight by the prediction.

    Parameters
    ----------
    y : array-like
        Observations (for frequency: claims / exposure).
    pred : array-like
        Predictions on the scale of ``y`` (for frequency: the predicted frequency).
    weights : array-like, optional
        Case weights, > 0 (for frequency: the exposure; default 1).
    n_bins : int
        Number of bins of equal weight.

    Returns
    -------
    pandas.DataFrame
        One row per non-empty bin, by ``pred`` ascending. Columns: ``bin`` (1..n_bins),
        ``weight`` (total), ``mean_predicted`` and ``mean_observed`` (weighted means, units of
        ``y``) and ``std_error`` (standard error of ``mean_observed``, NaN for a bin of one row).

    Notes
    -----
    Rows with equal ``pred`` stay in one bin, as in :func:`double_lift`. The standard error of
    a weighted mean ``m = sum w y / W`` of ``n`` rows is the heteroscedasticity-robust
    ``sqrt(n / (n - 1) * sum w^2 (y - m)^2) / W``; with equal weights it is ``sd(y) / sqrt(n)``.
    """
    n_bins = _check_n_bins(n_bins)
    y_arr, pred_arr, w = _arrays(y=y, pred=pred, weights=weights)
    w = _volume(w, "weights", y_arr.size)
    bins, groups = _blocks(_equal_volume_bins(pred_arr, w, n_bins))
    total, mean_observed, std_error = _group_mean(y_arr, w, groups)
    return pd.DataFrame(
        {
            "bin": bins + 1,
            "weight": total,
            "mean_predicted": np.bincount(groups, weights=w * pred_arr) / total,
            "mean_observed": mean_observed,
            "std_error": std_error,
        }
    )


def calibration_isotonic(
    y: npt.ArrayLike, pred: npt.ArrayLike, weights: npt.ArrayLike | None = None
) -> pd.DataFrame:
    """The isotonic recalibration of a prediction: ``E[y | pred]`` estimated monotonically.

    Parameters
    ----------
    y, pred, weights
        As in :func:`calibration_bins`.

    Returns
    -------
    pandas.DataFrame
        One row per distinct value of ``pred``, ascending. Columns ``pred`` and
        ``recalibrated`` (the increasing :func:`isotonic_regression` of ``y`` on ``pred``),
        both in units of ``y``. An auto-calibrated prediction lies on the diagonal.

    References
    ----------
    Dimitriadis, T., Gneiting, T., Jordan, A. I. (2021). Stable reliability diagrams for
    probabilistic classifiers. PNAS 118(8).
    """
    y_arr, pred_arr, w = _arrays(y=y, pred=pred, weights=weights)
    w = _volume(w, "weights", y_arr.size)
    keys, fitted, _ = _isotonic_blocks(y_arr, pred_arr, w, increasing=True)
    return pd.DataFrame({"pred": keys, "recalibrated": fitted})


def bias_by_feature(
    feature_values: npt.ArrayLike,
    y: npt.ArrayLike,
    pred: npt.ArrayLike,
    weights: npt.ArrayLike | None = None,
    family: str | Family = "poisson",
    *,
    n_bins: int = 10,
) -> pd.DataFrame:
    """Bias ``pred - y`` per level of a feature, with standard errors and p-values.

    Parameters
    ----------
    feature_values : array-like
        The feature, one value per row, no missing values. Levels are the categories of a
        categorical (in their order) or the sorted distinct values; a numeric feature with more
        than ``MAX_LEVELS = 20`` distinct values is cut into ``n_bins`` bins of equal weight.
    y : array-like
        Observations, in the support of ``family`` (for frequency: claims / exposure).
    pred : array-like
        Predictions on the scale of ``y``, > 0 (for frequency: the predicted frequency).
    weights : array-like, optional
        Case weights, > 0 (for frequency: the exposure; default 1).
    family : str or Family
        The family of ``y``; its support is checked.
    n_bins : int
        Number of bins for a numeric feature with many values.

    Returns
    -------
    pandas.DataFrame
        One row per level present. Columns: ``level`` (the level, or a ``pandas.Interval``
        closed on both sides spanning the values of a bin), ``weight`` (total), ``observed``
        and ``predicted`` (weighted means, units of ``y``), ``bias`` (weighted mean of
        ``pred - y``; positive: over-prediction), ``std_error`` (its standard error, NaN for a
        level of one row) and ``p_value`` (two-sided, normal approximation, for bias = 0).

    Notes
    -----
    ``std_error`` is the robust standard error of a weighted mean given in
    :func:`calibration_bins`, applied to the residuals ``pred - y``;
    ``p_value = erfc(|bias / std_error| / sqrt(2))``. A Poisson GLM with log link (the
    canonical link) and a categorical feature has zero bias on every level of that feature on
    its learning data: those are its score equations. With a non-canonical link, e.g. the
    Gamma's log link, the score equations balance ``w (y - mu) / mu`` instead, and the bias
    per level is small but not zero.
    """
    n_bins = _check_n_bins(n_bins)
    fam = get_family(family)
    y_arr, pred_arr, w = _family_data(y, pred, weights, fam, "pred")
    groups, levels = _feature_levels(feature_values, w, n_bins)
    total, bias, std_error = _group_mean(pred_arr - y_arr, w, groups)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.abs(bias) / std_error
    p_value = [math.nan if math.isnan(v) else math.erfc(v / math.sqrt(2.0)) for v in z.tolist()]
    return pd.DataFrame(
        {
            "level": levels,
            "weight": total,
            "observed": np.bincount(groups, weights=w * y_arr) / total,
            "predicted": np.bincount(groups, weights=w * pred_arr) / total,
            "bias": bias,
            "std_error": std_error,
            "p_value": p_value,
        }
    )


def _mean_deviance_of_means(fam: Family, y: np.ndarray, mu: np.ndarray, w: np.ndarray) -> float:
    """Mean deviance at weighted means ``mu`` of ``y``: a mean of 0 has only ``y = 0``, ``d = 0``.

    (The Tweedie formula would give ``0 * inf`` there.)
    """
    unit = np.zeros_like(y)
    positive = mu > 0
    unit[positive] = fam.unit_deviance(y[positive], mu[positive])
    return float(np.average(unit, weights=w))


def murphy_decomposition(
    y: npt.ArrayLike,
    pred: npt.ArrayLike,
    weights: npt.ArrayLike | None = None,
    family: str | Family = "poisson",
) -> pd.DataFrame:
    """Score = miscalibration - discrimination + uncertainty (CORP decomposition).

    Parameters
    ----------
    y : array-like
        Observations, in the support of ``family``. For frequency: ``claims / exposure``.
    pred : array-like
        Predictions on the scale of ``y``, > 0. For frequency: the predicted frequency.
    weights : array-like, optional
        Case weights, > 0 (default 1). For frequency: the exposure.
    family : str or Family
        The deviance used as score.

    Returns
    -------
    pandas.DataFrame
        One row, columns (all weighted mean unit deviances, plain numbers; lower score is
        better):

        - ``score``: ``S(pred)``, the weighted mean unit deviance of ``pred``.
        - ``miscalibration``: ``MCB = S(pred) - S(recalibrated)``, >= 0; 0 when ``pred`` is
          auto-calibrated.
        - ``discrimination``: ``DSC = S(mean) - S(recalibrated)``, >= 0; 0 for a constant
          prediction.
        - ``uncertainty``: ``UNC = S(mean)``, the score of the weighted mean of ``y``.

        ``score = miscalibration - discrimination + uncertainty`` up to rounding.
        ``attrs["units"]`` maps each column to its units.

    Notes
    -----
    ``recalibrated`` is the increasing :func:`isotonic_regression` of ``y`` on ``pred`` with
    ``weights``; being the optimal monotone function of ``pred`` for every Bregman loss, it
    makes MCB and DSC non-negative. For frequency with ``y = N / v``, ``weights = v``, the score
    is ``sum v d(N/v, lambda) / sum v = sum d(N, v lambda) / sum v``: 100 times it is the
    ``deviance_per_exposure`` of :func:`score_table`.

    References
    ----------
    Dimitriadis, T., Gneiting, T., Jordan, A. I. (2021). Stable reliability diagrams for
    probabilistic classifiers. PNAS 118(8).
    Gneiting, T., Resin, J. (2023). Regression diagnostics meets forecast evaluation:
    conditional calibration, reliability diagrams, and coefficient of determination.
    Electronic Journal of Statistics 17(2), 3226-3286.
    """
    fam = get_family(family)
    y_arr, pred_arr, w = _family_data(y, pred, weights, fam, "pred")
    _, fitted, block = _isotonic_blocks(y_arr, pred_arr, w, increasing=True)
    score = fam.mean_deviance(y_arr, pred_arr, w)
    recalibrated = _mean_deviance_of_means(fam, y_arr, fitted[block], w)
    mean = np.full_like(y_arr, np.average(y_arr, weights=w))
    uncertainty = _mean_deviance_of_means(fam, y_arr, mean, w)
    table = pd.DataFrame(
        {
            "score": [score],
            "miscalibration": [score - recalibrated],
            "discrimination": [uncertainty - recalibrated],
            "uncertainty": [uncertainty],
        }
    )
    unit = f"weighted mean {fam.name} unit deviance (plain number)"
    table.attrs["units"] = dict.fromkeys(table.columns, unit)
    return table
