"""Pure premium: expected claim cost as frequency times severity, or directly by a Tweedie GLM.

The expected claim cost of a policy with exposure ``v`` is ``v * lambda(x) * m(x)``, with
``lambda`` the claim frequency (per year) of a Poisson model and ``m`` the expected claim size
of a Gamma model. A direct alternative is a Tweedie GLM on the pure premium per year
``S / v`` with weights ``v`` (as in scikit-learn's freMTPL2 example). :func:`pure_premium_table`
compares such tariffs on observed claim amounts: totals, Tweedie deviance and Gini.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from . import metrics
from .families import Tweedie
from .features import FeatureSpec
from .glm import GLM

__all__ = ["pure_premium", "fit_tweedie_pure_premium", "pure_premium_table"]


def pure_premium(
    frequency_model: Any, severity_model: Any, data: pd.DataFrame, *, unseen: str = "reference"
) -> np.ndarray:
    """Expected claim cost per policy per year: predicted frequency times predicted severity.

    ``frequency_model`` must have been fitted with an exposure (its ``predict_frequency`` is per
    unit of exposure); ``severity_model`` predicts the mean claim size.

    ``unseen`` is passed to both models' predictions. A severity model is fitted on the policies
    with claims only, so the policies it prices have levels and values it did not see (an older
    car than any that claimed); by default (``"reference"``) they are priced at the feature's
    reference level or at the nearest end of the fitted range, with a
    :class:`~actnn.DataWarning` naming them; ``"error"`` refuses them, as ``predict`` does.
    """
    if not getattr(frequency_model, "uses_exposure_", True):
        raise ValueError("the frequency model was fitted without an exposure")
    frequency = np.asarray(frequency_model.predict_frequency(data, unseen=unseen), dtype=float)
    severity = np.asarray(severity_model.predict(data, unseen=unseen), dtype=float)
    return frequency * severity


def fit_tweedie_pure_premium(
    features: FeatureSpec,
    data: pd.DataFrame,
    *,
    claims_total: str = "ClaimTotal",
    exposure: str = "Exposure",
    power: float = 1.9,
    name: str | None = "Tweedie GLM",
) -> GLM:
    """A Tweedie GLM (log link) on the pure premium per year ``S / v``, weights ``v``.

    Its ``predict_frequency``-like prediction is :meth:`GLM.predict` (per year, the GLM has no
    exposure offset): multiply by the exposure for the expected cost of a policy.
    """
    for column in (claims_total, exposure):
        if column not in data.columns:
            raise ValueError(f"column {column!r} is not in the data; it has {list(data.columns)}")
    v = data[exposure].to_numpy(dtype=float)
    if np.any(v <= 0) or not np.all(np.isfinite(v)):
        raise ValueError(f"{exposure} must be finite and > 0")
    premium = data[claims_total].to_numpy(dtype=float) / v
    glm = GLM(features, family=Tweedie(power), name=name)
    return glm.fit(data, premium, weights=exposure)


def pure_premium_table(
    premiums: Mapping[str, npt.ArrayLike],
    data: pd.DataFrame,
    *,
    claims_total: str = "ClaimTotal",
    exposure: str = "Exposure",
    power: float = 1.9,
) -> pd.DataFrame:
    """Compare pure-premium tariffs on observed claim amounts.

    Parameters
    ----------
    premiums : mapping of str to array
        Name -> predicted pure premium per year (e.g. :func:`pure_premium`).
    data : DataFrame
        Policies with the observed claim amounts ``claims_total`` and ``exposure``.
    power : float
        Power of the Tweedie deviance used as score.

    Returns
    -------
    DataFrame
        Indexed by tariff: ``observed`` (total claim amount), ``predicted`` (total of
        ``exposure * premium``), ``balance`` (predicted / observed), ``tweedie_deviance``
        (exposure-weighted mean Tweedie unit deviance of ``S / v`` against the premium, power in
        ``attrs["power"]``), ``gini`` (of claim amounts ordered by premium, exposure-weighted).
    """
    s = data[claims_total].to_numpy(dtype=float)
    v = data[exposure].to_numpy(dtype=float)
    family = Tweedie(power)
    rows = {}
    for name, premium in premiums.items():
        p = np.asarray(premium, dtype=float)
        if p.shape != (len(data),):
            raise ValueError(f"premium {name!r} has shape {p.shape}, the data {len(data)} rows")
        rows[name] = {
            "observed": float(s.sum()),
            "predicted": float(np.sum(v * p)),
            "balance": float(np.sum(v * p) / s.sum()),
            "tweedie_deviance": metrics.deviance(s / v, p, family, weights=v),
            "gini": metrics.gini(s, p, v),
        }
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "tariff"
    table.attrs["power"] = power
    return table
