"""Binning helpers of the metrics: equal-volume bins, blocks of ties, group means and isotonic
blocks.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from .._validation import _arrays, _rows_message

__all__ = []


#: A numeric feature with more distinct values than this is binned by :func:`bias_by_feature`.
MAX_LEVELS = 20


def _check_n_bins(n_bins: int) -> int:
    if isinstance(n_bins, bool) or not isinstance(n_bins, int | np.integer):
        raise TypeError(f"n_bins must be an int, got {type(n_bins).__name__}")
    if n_bins < 1:
        raise ValueError(f"n_bins must be >= 1, got {n_bins}")
    return int(n_bins)


# ---------------------------------------------------------------------------------- helpers
def _blocks(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values of ``key`` ascending, and the block index of every row."""
    values, block = np.unique(key, return_inverse=True)
    return values, block.reshape(-1)


def _equal_volume_bins(key: np.ndarray, volume: np.ndarray, n_bins: int) -> np.ndarray:
    """Bin index (0-based) of every row: bins of about equal volume by ``key`` ascending.

    A block of tied keys goes whole to the bin holding the midpoint of its cumulative volume.
    """
    _, block = _blocks(key)
    block_volume = np.bincount(block, weights=volume)
    upper = np.cumsum(block_volume)
    middle = upper - block_volume / 2.0
    block_bin = np.minimum((n_bins * middle / upper[-1]).astype(np.int64), n_bins - 1)
    return block_bin[block]


def _group_mean(
    values: np.ndarray, weights: np.ndarray, groups: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per group: total weight, weighted mean and its standard error (NaN for a single row)."""
    total = np.bincount(groups, weights=weights)
    mean = np.bincount(groups, weights=weights * values) / total
    count = np.bincount(groups)
    squares = np.bincount(groups, weights=(weights * (values - mean[groups])) ** 2)
    factor = count / np.maximum(count - 1, 1)
    std_error = np.where(count > 1, np.sqrt(factor * squares) / total, np.nan)
    return total, mean, std_error


def _pava(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted pool-adjacent-violators: the increasing fit to ``values`` in their order."""
    means: list[float] = []
    totals: list[float] = []
    sizes: list[int] = []
    for value, weight in zip(values.tolist(), weights.tolist(), strict=True):
        means.append(value)
        totals.append(weight)
        sizes.append(1)
        while len(means) > 1 and means[-2] > means[-1]:
            weight_right, mean_right, size_right = totals.pop(), means.pop(), sizes.pop()
            pooled = totals[-1] + weight_right
            means[-1] = (totals[-1] * means[-1] + weight_right * mean_right) / pooled
            totals[-1] = pooled
            sizes[-1] += size_right
    return np.repeat(np.asarray(means), sizes)


def _isotonic_blocks(
    y: np.ndarray, x: np.ndarray, w: np.ndarray, increasing: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct ``x`` ascending, the isotonic fit at each, and the block index of every row."""
    keys, block = _blocks(x)
    block_weight = np.bincount(block, weights=w)
    block_mean = np.bincount(block, weights=w * y) / block_weight
    if increasing:
        fitted = _pava(block_mean, block_weight)
    else:
        fitted = -_pava(-block_mean, block_weight)
    return keys, fitted, block


def _feature_levels(
    feature_values: npt.ArrayLike, w: np.ndarray, n_bins: int
) -> tuple[np.ndarray, list]:
    """Group index of every row and the group labels: levels, or quantile bins of a number."""
    values = pd.Series(feature_values).reset_index(drop=True)
    if values.size != w.size:
        raise ValueError(f"feature_values has length {values.size} but y has length {w.size}")
    missing = values.isna().to_numpy()
    if missing.any():
        raise ValueError(_rows_message("feature_values", missing, values, "no value (NaN)"))
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    if numeric and values.nunique() > MAX_LEVELS:
        (x,) = _arrays(feature_values=values.to_numpy())
        bins, groups = _blocks(_equal_volume_bins(x, w, n_bins))
        lows = [x[groups == k].min() for k in range(bins.size)]
        highs = [x[groups == k].max() for k in range(bins.size)]
        levels = [pd.Interval(lo, hi, closed="both") for lo, hi in zip(lows, highs, strict=True)]
        return groups, levels
    groups, uniques = pd.factorize(values, sort=True)
    return groups, list(uniques)


def _number(x: float) -> str:
    """A bound in the data's units: ``18`` for 18.0, else up to 6 significant digits."""
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.6g}"


def _level_label(level: object) -> str:
    """How a table or a figure shows a level: a bin closed on both sides, as
    :func:`_feature_levels` makes, as ``"18-27"``; other intervals keep their brackets
    (``"[18-28)"``); anything else as ``str``."""
    if not isinstance(level, pd.Interval):
        return str(level)
    left, right = _number(level.left), _number(level.right)
    if level.closed == "both":
        return f"{left}-{right}"
    opening = "[" if level.closed_left else "("
    return f"{opening}{left}-{right}{']' if level.closed_right else ')'}"
