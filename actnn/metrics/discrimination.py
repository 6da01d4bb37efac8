"""Discrimination: Lorenz curves, Gini indices, ordered Lorenz curves, double lift and lift by
ratio.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from .._validation import _arrays, _positive, _volume
from ._binning import _blocks, _check_n_bins, _equal_volume_bins
from .scores import _losses

__all__ = ["lorenz_curve", "gini", "ordered_lorenz", "ordered_gini", "double_lift", "lift_by_ratio"]


def _concentration(
    losses: np.ndarray, key: np.ndarray, volume: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative shares of ``volume`` and ``losses`` by ``key`` ascending, from (0, 0).

    One point per block of tied keys, so the curve is linear through a tied block.
    """
    _, block = _blocks(key)
    cum_volume = np.concatenate([[0.0], np.cumsum(np.bincount(block, weights=volume))])
    cum_losses = np.concatenate([[0.0], np.cumsum(np.bincount(block, weights=losses))])
    if not cum_losses[-1] > 0:
        raise ValueError("y sums to 0: there are no losses to concentrate")
    # dividing by the last cumulative sum makes the last point exactly (1, 1)
    return cum_volume / cum_volume[-1], cum_losses / cum_losses[-1]


def _gini_of_curve(x: np.ndarray, s: np.ndarray) -> float:
    """``1 - 2 * area`` under the piecewise linear curve through the points ``(x, s)``."""
    area = float(np.sum(np.diff(x) * (s[1:] + s[:-1]))) / 2.0
    return 1.0 - 2.0 * area


# ---------------------------------------------------------------------------------- discrimination
def lorenz_curve(
    y: npt.ArrayLike, pred: npt.ArrayLike, exposure: npt.ArrayLike | None = None
) -> pd.DataFrame:
    """Concentration curve of the observed losses, ordered by the prediction.

    Parameters
    ----------
    y : array-like
        Observed totals per row (claim counts or losses), >= 0 with a positive sum.
    pred : array-like
        Predicted rate per unit of exposure (frequency or pure premium); only its order matters.
        Pass rates, not expected counts: ordering by ``exposure * rate`` mixes in the exposure.
    exposure : array-like, optional
        Volume of each row, > 0 (default 1: the x-axis is the share of policies).

    Returns
    -------
    pandas.DataFrame
        Columns ``exposure_share`` and ``loss_share`` (fractions in [0, 1]): rows sorted by
        ``pred`` ascending, the cumulative share of exposure and of ``y``. The first row is
        (0, 0), the last (1, 1), and there is one row per distinct value of ``pred``.

    Notes
    -----
    Rows with equal ``pred`` form one block: the curve has one point at the end of each block
    and is linear through it, the average over all orders of the tied rows. So the curve does
    not depend on the order of the rows, and a constant tariff gives the diagonal. A tariff that
    ranks well puts the small losses first: its curve lies below the diagonal.
    """
    y_arr, pred_arr, v = _arrays(y=y, pred=pred, exposure=exposure)
    v = _volume(v, "exposure", y_arr.size)
    x, s = _concentration(_losses(y_arr), pred_arr, v)
    return pd.DataFrame({"exposure_share": x, "loss_share": s})


def gini(y: npt.ArrayLike, pred: npt.ArrayLike, exposure: npt.ArrayLike | None = None) -> float:
    """Gini index of a tariff: ``1 - 2 * (area under the Lorenz curve)``.

    Parameters
    ----------
    y, pred, exposure
        As in :func:`lorenz_curve` (``pred`` a rate per unit of exposure).

    Returns
    -------
    float
        Positive when ``pred`` ranks the losses in the right order (the curve lies below the
        diagonal), 0 exactly for a constant tariff, negative for a reversed order; below 1.

    Notes
    -----
    The area is the trapezoidal integral of :func:`lorenz_curve`, exact for the piecewise linear
    curve; ties in ``pred`` are pooled as described there.
    """
    curve = lorenz_curve(y, pred, exposure)
    return _gini_of_curve(curve["exposure_share"].to_numpy(), curve["loss_share"].to_numpy())


def _ordered_curve(
    y: npt.ArrayLike,
    base: npt.ArrayLike,
    alternative: npt.ArrayLike,
    exposure: npt.ArrayLike | None,
) -> tuple[np.ndarray, np.ndarray]:
    y_arr, base_arr, alt_arr, v = _arrays(
        y=y, base=base, alternative=alternative, exposure=exposure
    )
    base_arr, alt_arr = _positive(base_arr, "base"), _positive(alt_arr, "alternative")
    v = _volume(v, "exposure", y_arr.size)
    return _concentration(_losses(y_arr), alt_arr / base_arr, v * base_arr)


def ordered_lorenz(
    y: npt.ArrayLike,
    base: npt.ArrayLike,
    alternative: npt.ArrayLike,
    exposure: npt.ArrayLike | None = None,
) -> pd.DataFrame:
    """Ordered Lorenz curve of Frees, Meyers & Cummings (2011): losses against base premium.

    Parameters
    ----------
    y : array-like
        Observed totals per row (claim counts or losses), >= 0 with a positive sum.
    base, alternative : array-like
        Rates per unit of exposure of the base tariff (the premium charged) and of the
        alternative score, > 0.
    exposure : array-like, optional
        Volume of each row, > 0 (default 1: ``base`` and ``alternative`` are premiums).

    Returns
    -------
    pandas.DataFrame
        Columns ``premium_share`` and ``loss_share`` (fractions in [0, 1]): rows sorted by the
        relativity ``alternative / base`` ascending, the cumulative share of the base premium
        ``exposure * base`` and of ``y``; from (0, 0) to (1, 1), one row per distinct relativity.

    Notes
    -----
    Ties in the relativity are pooled as in :func:`lorenz_curve`. With a flat base the curve is
    the Lorenz curve of ``alternative``; with ``alternative == base`` it is the diagonal.

    References
    ----------
    Frees, E. W., Meyers, G., Cummings, A. D. (2011). Summarizing Insurance Scores Using a Gini
    Index. Journal of the American Statistical Association 106(495), 1085-1098.
    """
    x, s = _ordered_curve(y, base, alternative, exposure)
    return pd.DataFrame({"premium_share": x, "loss_share": s})


def ordered_gini(
    y: npt.ArrayLike,
    base: npt.ArrayLike,
    alternative: npt.ArrayLike,
    exposure: npt.ArrayLike | None = None,
) -> float:
    """Gini index of the ordered Lorenz curve, ``1 - 2 * area`` (Frees, Meyers & Cummings 2011).

    Parameters
    ----------
    y, base, alternative, exposure
        As in :func:`ordered_lorenz`.

    Returns
    -------
    float
        Positive when the relativity ``alternative / base`` finds the policies whose losses are
        low relative to their base premium (the alternative would improve the base tariff),
        0 exactly for a constant relativity (e.g. ``alternative == base``), negative when the
        relativity points the wrong way.
    """
    x, s = _ordered_curve(y, base, alternative, exposure)
    return _gini_of_curve(x, s)


def double_lift(
    y: npt.ArrayLike,
    pred_a: npt.ArrayLike,
    pred_b: npt.ArrayLike,
    exposure: npt.ArrayLike | None = None,
    *,
    n_bins: int = 10,
) -> pd.DataFrame:
    """Double lift chart table: observed and both predictions by bins of ``pred_a / pred_b``.

    Parameters
    ----------
    y : array-like
        Observed totals per row (claim counts or losses), >= 0.
    pred_a, pred_b : array-like
        Predicted rates per unit of exposure of the two models, > 0.
    exposure : array-like, optional
        Volume of each row, > 0 (default 1).
    n_bins : int
        Number of bins of equal exposure.

    Returns
    -------
    pandas.DataFrame
        One row per non-empty bin, by ratio ascending. Columns: ``bin`` (1..n_bins),
        ``exposure`` (total), ``observed``, ``predicted_a``, ``predicted_b`` (rates: totals
        ``sum y``, ``sum exposure * pred`` divided by the bin's exposure) and ``ratio_mean``
        (exposure-weighted mean of ``pred_a / pred_b``).

    Notes
    -----
    Rows with equal ratio stay in one bin (the bin of the midpoint of their cumulative
    exposure), so bins can hold unequal exposure, and a bin that receives no row is left out;
    ``bin`` keeps the position by cumulative exposure. The better model is the one whose
    prediction follows ``observed`` across the bins, above all in the outer bins, where the two
    models disagree most.
    """
    n_bins = _check_n_bins(n_bins)
    y_arr, a, b, v = _arrays(y=y, pred_a=pred_a, pred_b=pred_b, exposure=exposure)
    y_arr = _losses(y_arr)
    a, b = _positive(a, "pred_a"), _positive(b, "pred_b")
    v = _volume(v, "exposure", y_arr.size)
    ratio = a / b
    bins, groups = _blocks(_equal_volume_bins(ratio, v, n_bins))
    total = np.bincount(groups, weights=v)

    def rate(values: np.ndarray) -> np.ndarray:
        return np.bincount(groups, weights=values) / total

    return pd.DataFrame(
        {
            "bin": bins + 1,
            "exposure": total,
            "observed": rate(y_arr),
            "predicted_a": rate(v * a),
            "predicted_b": rate(v * b),
            "ratio_mean": rate(v * ratio),
        }
    )


def lift_by_ratio(
    y: npt.ArrayLike,
    base: npt.ArrayLike,
    alternative: npt.ArrayLike,
    exposure: npt.ArrayLike | None = None,
    *,
    n_bins: int = 10,
) -> pd.DataFrame:
    """Loss ratios of a base and an alternative tariff by bins of the relativity alternative/base.

    Parameters
    ----------
    y : array-like
        Observed totals per row (claim counts or losses), >= 0.
    base, alternative : array-like
        Rates per unit of exposure of the base tariff and the alternative, > 0.
    exposure : array-like, optional
        Volume of each row, > 0 (default 1).
    n_bins : int
        Number of bins of equal exposure (10: deciles).

    Returns
    -------
    pandas.DataFrame
        One row per non-empty bin, by relativity ascending. Columns: ``bin`` (1..n_bins),
        ``exposure`` (total), ``observed``, ``base``, ``alternative`` (rates: totals divided
        by the bin's exposure), ``ratio_mean`` (exposure-weighted mean of ``alternative /
        base``), ``loss_ratio_base`` (observed / base premium, the actual-to-expected ratio of
        the base tariff) and ``loss_ratio_alternative`` (observed / alternative premium).

    Notes
    -----
    The bins are those of :func:`double_lift` with ``pred_a = alternative`` and
    ``pred_b = base``. If the alternative is better, ``loss_ratio_base`` rises with the
    relativity while ``loss_ratio_alternative`` stays near its overall level.
    """
    table = double_lift(y, alternative, base, exposure, n_bins=n_bins).rename(
        columns={"predicted_a": "alternative", "predicted_b": "base"}
    )
    table = table[["bin", "exposure", "observed", "base", "alternative", "ratio_mean"]]
    return table.assign(
        loss_ratio_base=table["observed"] / table["base"],
        loss_ratio_alternative=table["observed"] / table["alternative"],
    )
