"""The tables of a fitted GLM: Wald tests, confidence intervals and relativities.

Where the dispersion is estimated (Gamma and Tweedie, or ``dispersion="pearson"``) Wald
statistics are compared with Student's t with ``df_resid_`` degrees of freedom, where it is fixed
with the normal distribution, as R's ``summary.glm`` and ``confint.default``.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
import pandas as pd

from .families import Family

#: A fitted :class:`actnn.GLM` (not imported: :mod:`actnn.glm` imports this module).
GLM = Any

_INTERCEPT = "(Intercept)"

__all__: list[str] = []


def dispersion_method(dispersion: Any, family: Family) -> str:
    """How a GLM's ``dispersion`` argument sets the dispersion: ``"pearson"`` or ``"fixed"``."""
    valid = "None (the family's: 1 for Poisson, Pearson's otherwise), 'pearson' or a number > 0"
    if dispersion is None:
        return "fixed" if family.fixed_dispersion else "pearson"
    if isinstance(dispersion, str):
        if dispersion.lower() == "pearson":
            return "pearson"
        raise ValueError(f"dispersion must be {valid}, got {dispersion!r}")
    if isinstance(dispersion, bool) or not isinstance(dispersion, numbers.Real):
        raise TypeError(f"dispersion must be {valid}, got {type(dispersion).__name__}")
    if not (math.isfinite(dispersion) and dispersion > 0):
        raise ValueError(f"dispersion must be {valid}, got {dispersion!r}")
    return "fixed"


def _wald_distribution(df: float | None, alpha: float) -> tuple[Any, float]:
    """The reference distribution of Wald statistics and its ``1 - alpha/2`` quantile.

    Student's t with ``df`` degrees of freedom where the dispersion is estimated, the standard
    normal (``df=None``) where it is fixed.
    """
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    from scipy import stats  # SciPy comes with scikit-learn; imported when tables are asked for

    reference = stats.norm if df is None else stats.t(df)
    return reference, float(reference.isf(alpha / 2))


def _wald_df(glm: GLM) -> int | None:
    """Degrees of freedom of the Wald tests: ``df_resid_`` if the dispersion is estimated,
    None (the normal distribution) if it is fixed."""
    return glm.df_resid_ if glm.dispersion_method_ == "pearson" else None


def coef_table(glm: GLM, alpha: float) -> pd.DataFrame:
    """The table of :meth:`actnn.GLM.coef_table`."""
    df = _wald_df(glm)
    estimate, std_error = glm.coef_.to_numpy(), glm.bse_.to_numpy()
    statistic = estimate / std_error
    reference, q = _wald_distribution(df, alpha)
    half_width = q * std_error
    column_of = glm._term_columns()
    return pd.DataFrame(
        {
            "term": glm.coef_.index,
            "feature": [column_of[t] for t in glm.coef_.index],
            "estimate": estimate,
            "std_error": std_error,
            "z_value" if df is None else "t_value": statistic,
            "p_value": 2 * reference.sf(np.abs(statistic)),
            "ci_lower": estimate - half_width,
            "ci_upper": estimate + half_width,
        }
    )


def relativities(glm: GLM, alpha: float) -> pd.DataFrame:
    """The table of :meth:`actnn.GLM.relativities`."""
    rows = [(_INTERCEPT, "", _INTERCEPT)]
    for f in glm.features_.features:
        rows += [(f.column, level, term) for level, term in f.levels_table()]
    coef = np.array([0.0 if t is None else glm.coef_[t] for _, _, t in rows])
    se = np.array([0.0 if t is None else glm.bse_[t] for _, _, t in rows])
    half_width = _wald_distribution(_wald_df(glm), alpha)[1] * se
    return pd.DataFrame(
        {
            "feature": [r[0] for r in rows],
            "level": [str(r[1]) for r in rows],
            "term": [r[2] for r in rows],
            "coefficient": coef,
            "relativity": np.exp(coef),
            "std_error": se,
            "relativity_lower": np.exp(coef - half_width),
            "relativity_upper": np.exp(coef + half_width),
            "is_reference": [r[2] is None for r in rows],
        }
    )
