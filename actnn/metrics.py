"""Model assessment: scores, discrimination and calibration, as numbers and tables.

Computation only (NumPy and pandas): every function returns a float, an array or a DataFrame
whose columns are documented; plotting them is left to the caller.

Inputs are 1-D array-likes of equal length. They are validated once, where they enter: an empty
input, a length mismatch, text, a NaN or infinite value, or a weight or exposure that is not > 0
raises ``ValueError`` naming the argument, the number of offending rows and the first of them
(positions counted from 0). An exposure above 1 is legal: :func:`score_table`, whose exposure is
years at risk, warns of it (:class:`~actnn.data.DataWarning`); in the discrimination functions
the exposure is a volume (e.g. claim counts for severities) and may be any number > 0.

Notes
-----
Three conventions for the three groups of functions, each the one its literature uses:

- **Scores** (:func:`deviance`, :func:`d2_score`, :func:`score_table`) take ``mu``, the expected
  response. For frequency with ``exposure`` these are expected claim counts
  ``mu = exposure * frequency`` (what ``GLM.predict`` returns), as in :mod:`actnn.scores`.
- **Discrimination** (:func:`lorenz_curve`, :func:`gini`, :func:`ordered_lorenz`,
  :func:`ordered_gini`, :func:`double_lift`, :func:`lift_by_ratio`) takes ``y`` as observed
  totals per row (claim counts or losses) and the predictions as **rates per unit of exposure**
  (frequencies or pure premiums, what ``GLM.predict_frequency`` returns); the expected total of a
  row is ``exposure * rate``. Without ``exposure`` every row has volume 1.
- **Calibration** (:func:`isotonic_regression`, :func:`calibration_bins`,
  :func:`calibration_isotonic`, :func:`bias_by_feature`, :func:`murphy_decomposition`) compares
  ``y`` and ``pred`` on the same scale with case ``weights``. For frequency pass
  ``y = claims / exposure``, ``pred = frequency`` and ``weights = exposure``.

Ties are never broken by row order: rows with equal sort keys form one block, which is never
split between bins and which a Lorenz curve crosses in a straight line. Results therefore do not
depend on the order of the rows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import numpy.typing as npt
import pandas as pd

from .data import _numeric_problems, _positive, _rows_message, _warn_exposure_over_one
from .families import Family, Poisson, get_family
from .scores import POISSON_EXPOSURE_UNITS, POISSON_UNITS

__all__ = [
    "deviance",
    "d2_score",
    "score_table",
    "lorenz_curve",
    "gini",
    "ordered_lorenz",
    "ordered_gini",
    "double_lift",
    "lift_by_ratio",
    "isotonic_regression",
    "calibration_bins",
    "calibration_isotonic",
    "bias_by_feature",
    "murphy_decomposition",
]

#: A numeric feature with more distinct values than this is binned by :func:`bias_by_feature`.
MAX_LEVELS = 20


# ---------------------------------------------------------------------------------- validation
def _arrays(**arrays: npt.ArrayLike | None) -> list[np.ndarray | None]:
    """The arguments as finite 1-D float64 arrays of equal length (``None`` stays ``None``).

    The first argument that is not ``None`` sets the length the others must have.
    """
    out: list[np.ndarray | None] = []
    ref_name, ref_len = None, 0
    for name, value in arrays.items():
        if value is None:
            out.append(None)
            continue
        try:
            arr = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError) as err:
            arr = np.asarray(value, dtype=object)  # text among numbers: named below, by row
            if arr.ndim == 0:
                message = f"{name} must be numeric, got {type(value).__name__} ({err})"
                raise TypeError(message) from None
        if arr.ndim == 2 and arr.shape[1] == 1:  # (n, 1) output of a Keras model
            arr = arr[:, 0]
        if arr.ndim != 1:
            raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
        if arr.size == 0:
            raise ValueError(f"{name} is empty")
        if ref_name is None:
            ref_name, ref_len = name, arr.size
        elif arr.size != ref_len:
            raise ValueError(f"{name} has length {arr.size} but {ref_name} has length {ref_len}")
        arr, problems = _numeric_problems(pd.Series(arr, copy=False), name)
        if problems:
            raise ValueError("; ".join(problems))
        out.append(arr)
    return out


def _volume(arr: np.ndarray | None, name: str, n: int) -> np.ndarray:
    """Weights or exposure: ones when not given, otherwise checked to be > 0."""
    return np.ones(n) if arr is None else _positive(arr, name)


def _losses(y: np.ndarray) -> np.ndarray:
    """Observed totals (claim counts or losses): >= 0."""
    bad = y < 0
    if bad.any():
        raise ValueError(f"{_rows_message('y', bad, y, 'a value < 0')}; claims must be >= 0")
    return y


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


# ---------------------------------------------------------------------------------- scores
def _family_data(
    y: npt.ArrayLike, mu: npt.ArrayLike, weights: npt.ArrayLike | None, family: Family, mu_name: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y_arr, mu_arr, w = _arrays(y=y, **{mu_name: mu}, weights=weights)
    y_arr = family.check_response(y_arr, "y")
    return y_arr, _positive(mu_arr, mu_name), _volume(w, "weights", y_arr.size)


def deviance(
    y: npt.ArrayLike,
    mu: npt.ArrayLike,
    family: str | Family = "poisson",
    weights: npt.ArrayLike | None = None,
) -> float:
    """Weighted mean unit deviance ``sum_i w_i d(y_i, mu_i) / sum_i w_i``.

    Parameters
    ----------
    y : array-like
        Observed responses, in the support of the family.
    mu : array-like
        Expected responses, > 0.
    family : str or Family
        ``"poisson"``, ``"gamma"``, ``"tweedie"`` or a :class:`~actnn.families.Family`.
    weights : array-like, optional
        Case weights, > 0 (default 1).

    Returns
    -------
    float
        The mean unit deviance, a plain number. For claim counts without weights, 100 times it
        is :func:`actnn.scores.poisson_deviance` (Wüthrich's units of 10^-2).
    """
    fam = get_family(family)
    y_arr, mu_arr, w = _family_data(y, mu, weights, fam, "mu")
    return fam.mean_deviance(y_arr, mu_arr, w)


def d2_score(
    y: npt.ArrayLike,
    mu: npt.ArrayLike,
    family: str | Family = "poisson",
    weights: npt.ArrayLike | None = None,
    mu_null: float | npt.ArrayLike | None = None,
) -> float:
    """Fraction of the null deviance explained, ``D2 = 1 - D(y, mu) / D(y, mu_null)``.

    Parameters
    ----------
    y, mu, family, weights
        As in :func:`deviance`.
    mu_null : float or array-like, optional
        The null model's expected responses (a number or one per row, > 0). Default: the
        weighted mean of ``y``. For claim counts with exposure ``v`` the null model is
        ``v * sum(y) / sum(v)``, the intercept-only GLM with offset (:func:`score_table` uses it).

    Returns
    -------
    float
        ``D2``: 1 for a perfect fit, 0 for the null model, negative for a worse one.

    Notes
    -----
    ``D`` is the weighted total deviance ``sum_i w_i d(y_i, mu_i)``; with the weighted mean as
    null model and a canonical link, D2 is the deviance analogue of R². It is undefined (a
    ``ValueError``) when the null deviance is 0, i.e. when ``y`` is constant.
    """
    fam = get_family(family)
    y_arr, mu_arr, w = _family_data(y, mu, weights, fam, "mu")
    if mu_null is None:
        null = np.full_like(y_arr, np.average(y_arr, weights=w))
    elif np.ndim(mu_null) == 0:
        null = _positive(np.full_like(y_arr, float(mu_null)), "mu_null")
    else:
        _, null = _arrays(y=y_arr, mu_null=mu_null)
        null = _positive(null, "mu_null")
    null_deviance = fam.deviance(y_arr, null, w)
    if not null_deviance > 0:
        raise ValueError("D2 is undefined: the null model's deviance is 0 (y is constant)")
    return 1.0 - fam.deviance(y_arr, mu_arr, w) / null_deviance


def score_table(
    predictions: Mapping[str, npt.ArrayLike],
    y: npt.ArrayLike,
    *,
    exposure: npt.ArrayLike | None = None,
    weights: npt.ArrayLike | None = None,
    family: str | Family = "poisson",
    published: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Scores of several models on the same data, one row per model.

    Parameters
    ----------
    predictions : mapping of str to array-like
        Model name -> expected responses ``mu`` (> 0). With ``exposure``: expected claim counts
        ``mu = exposure * frequency``, not frequencies.
    y : array-like
        Observed responses (claim counts with ``exposure``).
    exposure : array-like, optional
        Years at risk, > 0 (above 1 a :class:`~actnn.data.DataWarning`). Only for the Poisson
        family; switches to frequency reporting.
    weights : array-like, optional
        Case weights, > 0 (default 1), e.g. claim counts behind average claim sizes (Gamma).
    family : str or Family
        The family whose deviance is reported.
    published : mapping of str to float, optional
        Published deviances by model name, in the units of the ``deviance`` column. Models
        without a published value get NaN; a name that is not in ``predictions`` is an error.

    Returns
    -------
    pandas.DataFrame
        Indexed by model name (``"model"``), columns:

        - ``deviance``: with ``exposure``, the average Poisson deviance per policy in units of
          10^-2, ``100 sum_i w_i d(N_i, mu_i) / sum_i w_i`` (Wüthrich's tables, ``w = 1``);
          otherwise the weighted mean unit deviance (a plain number).
        - ``deviance_per_exposure`` (only with ``exposure``): Poisson deviance per unit of
          exposure in units of 10^-2, ``100 sum_i w_i d(N_i, mu_i) / sum_i w_i v_i``.
        - ``d2``: :func:`d2_score`; with ``exposure`` the null model is the homogeneous frequency
          ``mu_0 = v * sum(w N) / sum(w v)``, otherwise the weighted mean of ``y``.
        - ``mae``, ``mse``: mean absolute and squared error on the response scale, weighted by
          ``weights``; with ``exposure`` on the frequency scale, ``|N/v - mu/v|``, weighted by
          ``w * v`` (claims per year, and its square).
        - ``observed``, ``predicted``: totals ``sum_i w_i y_i`` and ``sum_i w_i mu_i`` (claim
          counts; for Gamma severities with claim-count weights, total claim amounts).
        - ``balance``: ``predicted / observed``, 1 for a model in balance.
        - ``published`` (only with ``published``): the published deviance.

        ``attrs["units"]`` maps each column to its units.
    """
    fam = get_family(family)
    if not isinstance(predictions, Mapping) or not predictions:
        raise TypeError("predictions must be a non-empty mapping of model name -> mu")
    y_arr, v, w = _arrays(y=y, exposure=exposure, weights=weights)
    y_arr = fam.check_response(y_arr, "y")
    w = _volume(w, "weights", y_arr.size)
    if v is not None and not isinstance(fam, Poisson):
        raise ValueError(
            f"exposure is for Poisson claim counts, not the {fam.name} family; for severities "
            "pass average claim sizes with the claim counts as weights"
        )
    observed = float(np.sum(w * y_arr))
    if not observed > 0:
        raise ValueError("y sums to 0: D2 and the balance are undefined")
    if v is None:
        mu_null = None
        error_weights, rate_scale = w, 1.0
    else:
        v = _positive(v, "exposure")
        _warn_exposure_over_one(v, "exposure")
        mu_null = v * observed / np.sum(w * v)
        error_weights, rate_scale = w * v, v
    if published is not None:
        unknown = sorted(set(published) - set(predictions))
        if unknown:
            raise ValueError(
                f"published has models that are not in predictions: {unknown}; "
                f"predictions has {list(predictions)}"
            )

    rows = []
    for name, pred in predictions.items():
        _, mu = _arrays(y=y_arr, **{f"predictions[{name!r}]": pred})
        mu = _positive(mu, f"predictions[{name!r}]")
        mean_deviance = fam.mean_deviance(y_arr, mu, w)
        row: dict[str, float] = {}
        if v is None:
            row["deviance"] = mean_deviance
        else:
            row["deviance"] = 100.0 * mean_deviance
            row["deviance_per_exposure"] = 100.0 * fam.deviance(y_arr, mu, w) / np.sum(w * v)
        row["d2"] = d2_score(y_arr, mu, fam, w, mu_null)
        error = (mu - y_arr) / rate_scale
        row["mae"] = float(np.average(np.abs(error), weights=error_weights))
        row["mse"] = float(np.average(error**2, weights=error_weights))
        row["observed"] = observed
        row["predicted"] = float(np.sum(w * mu))
        row["balance"] = row["predicted"] / observed
        if published is not None:
            row["published"] = float(published.get(name, np.nan))
        rows.append(row)
    table = pd.DataFrame(rows, index=pd.Index(list(predictions), name="model"))

    if v is None:
        units = {
            "deviance": f"weighted mean {fam.name} unit deviance (plain number)",
            "mae": "response units",
            "mse": "squared response units",
            "observed": "weighted total response, sum w y",
            "predicted": "weighted total prediction, sum w mu",
        }
    else:
        units = {
            "deviance": POISSON_UNITS,
            "deviance_per_exposure": POISSON_EXPOSURE_UNITS,
            "mae": "claims per unit of exposure, exposure-weighted",
            "mse": "(claims per unit of exposure)^2, exposure-weighted",
            "observed": "claim count",
            "predicted": "expected claim count",
        }
    units["d2"] = "fraction of the null deviance explained (plain number)"
    units["balance"] = "predicted / observed (plain number)"
    if published is not None:
        units["published"] = units["deviance"]
    table.attrs["units"] = {column: units[column] for column in table.columns}
    return table


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
