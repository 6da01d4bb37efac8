"""Deviances and scores: the published-unit losses (average Poisson deviance per policy in
10^-2) and the deviance, D² and score tables of any family.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt
import pandas as pd

from .._validation import _arrays, _positive, _rows_message, _volume, _warn_exposure_over_one
from ..families import Family, Gamma, Poisson, get_family

__all__ = [
    "deviance",
    "d2_score",
    "score_table",
    "POISSON_UNITS",
    "POISSON_EXPOSURE_UNITS",
    "GAMMA_UNITS",
    "poisson_deviance",
    "poisson_deviance_per_exposure",
    "gamma_deviance",
]


POISSON_UNITS = "average Poisson deviance per policy, in units of 10^-2"


POISSON_EXPOSURE_UNITS = "Poisson deviance per unit of exposure, in units of 10^-2"


GAMMA_UNITS = "weighted mean Gamma unit deviance, sum w_i d_i / sum w_i (plain number)"


_POISSON = Poisson()


_GAMMA = Gamma()


def _checked(
    family: Family,
    y_name: str,
    y: np.ndarray,
    mu: np.ndarray,
    weights: np.ndarray | None = None,
    weights_name: str = "weights",
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The arrays as float64, or a ValueError naming the argument and the offending rows.

    Equal lengths, numbers only (no text, NaN or inf), ``y`` in the family's support, ``mu``
    and ``weights`` > 0.
    """
    from .._validation import _arrays  # metrics imports this module

    y_arr, mu_arr, w_arr = _arrays(**{y_name: y, "mu": mu, weights_name: weights})
    family.check_response(y_arr, y_name)
    _positive(mu_arr, "mu")
    if w_arr is not None:
        _positive(w_arr, weights_name)
    return y_arr, mu_arr, w_arr


def poisson_deviance(claims: np.ndarray, mu: np.ndarray) -> float:
    """Average Poisson deviance per policy in units of 10^-2 (the published tables' loss).

    Parameters
    ----------
    claims : array
        Observed claim counts ``N_i``.
    mu : array
        Expected claim counts ``mu_i = exposure_i * frequency_i`` (not frequencies), > 0.

    Raises
    ------
    ValueError
        Arrays of different lengths, text, NaN or inf, negative claims or ``mu <= 0``; the
        message names the argument and the first offending rows.
    """
    y, mu = _checked(_POISSON, "claims", claims, mu)[:2]
    return 100.0 * _POISSON.mean_deviance(y, mu)


def poisson_deviance_per_exposure(
    claims: np.ndarray, mu: np.ndarray, exposure: np.ndarray
) -> float:
    """Poisson deviance per unit of exposure in units of 10^-2: ``100 sum_i d_i / sum_i v_i``.

    The arrays are checked as by :func:`poisson_deviance`, the exposure to be > 0.
    """
    y, mu, v = _checked(_POISSON, "claims", claims, mu, exposure, "exposure")
    return 100.0 * _POISSON.deviance(y, mu) / float(np.sum(v))


def gamma_deviance(y: np.ndarray, mu: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Weighted mean Gamma unit deviance ``sum_i w_i d(y_i, mu_i) / sum_i w_i`` (plain number).

    The arrays are checked as by :func:`poisson_deviance`: ``y`` and ``mu`` > 0, weights > 0.
    """
    y_arr, mu_arr, w = _checked(_GAMMA, "y", y, mu, weights)
    return _GAMMA.mean_deviance(y_arr, mu_arr, w)


def _losses(y: np.ndarray) -> np.ndarray:
    """Observed totals (claim counts or losses): >= 0."""
    bad = y < 0
    if bad.any():
        raise ValueError(f"{_rows_message('y', bad, y, 'a value < 0')}; claims must be >= 0")
    return y


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
        is :func:`actnn.metrics.poisson_deviance` (Wüthrich's units of 10^-2).
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
        Years at risk, > 0 (above 1 a :class:`~actnn.DataWarning`). Only for the Poisson
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
