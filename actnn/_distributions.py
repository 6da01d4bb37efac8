"""Two-sided p-values and critical values of the normal and Student's t distributions.

The Wald tests of a GLM's coefficients need them; actnn does not depend on SciPy, so Student's t
is computed here from the regularized incomplete beta function (a continued fraction).
``df=None`` means the standard normal distribution throughout.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

__all__ = []


#: From this df on, Student's t is its normal approximation with the first correction in
#: ``1 / df`` (the continued fraction loses digits to cancellation there: 1e-9 at a df of 1e8).
#: Its relative error is below 1e-7 for ``|t| < 10``.
_LARGE_DF = 1e7


#: Relative accuracy of the continued fraction, and its most terms (it needs a few times
#: ``sqrt(df)`` terms).
_CF_TOL = 1e-15
_CF_TERMS = 10_000


def _beta_continued_fraction(a: float, b: float, x: float, one_minus_x: float) -> float:
    """The continued fraction of ``I_x(a, b)`` (modified Lentz), fast for ``x < (a+1)/(a+b+2)``.

    ``I_x(a, b) = x^a (1-x)^b / (a B(a, b)) / (1 + d_1 / (1 + d_2 / (1 + ...))`` with
    ``d_{2m+1} = -(a+m)(a+b+m) x / ((a+2m)(a+2m+1))`` and
    ``d_{2m} = m (b-m) x / ((a+2m-1)(a+2m))``; this returns ``1 / (1 + d_1 / (1 + ...))``.
    """
    tiny = 1e-300
    # 1 - (a + b) x / (a + 1), written without its cancellation for x near 1 and large a
    c, d = 1.0, ((1.0 - b) + (a + b) * one_minus_x) / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    value = d
    for m in range(1, _CF_TERMS + 1):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1.0) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1.0)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            value *= c * d
        if abs(c * d - 1.0) < _CF_TOL:
            return value
    raise ArithmeticError(f"the incomplete beta fraction did not converge (a={a}, b={b}, x={x})")


def _log_gamma_half_ratio(a: float) -> float:
    """``log Gamma(a + 1/2) - log Gamma(a)``, without the cancellation of the two for large ``a``.

    From ``a = 50`` on by the difference of the two Stirling series (truncation below 1e-15),
    whose large terms are taken together: ``1/2 log a + a log1p(1 / (2a)) - 1/2 + ...``.
    """
    if a < 50.0:
        return math.lgamma(a + 0.5) - math.lgamma(a)
    h = a + 0.5
    return (
        0.5 * math.log(a)
        + (a * math.log1p(0.5 / a) - 0.5)
        - (1.0 / a - 1.0 / h) / 12.0
        + (1.0 / a**3 - 1.0 / h**3) / 360.0
        - (1.0 / a**5 - 1.0 / h**5) / 1260.0
    )


def _t_two_sided(t: float, df: float) -> float:
    """``P(|T| > |t|)`` for Student's t with ``df`` degrees of freedom.

    It is ``I_x(df/2, 1/2)`` with ``x = df / (df + t^2)``; ``1 - x = t^2 / (df + t^2)`` is
    computed as such, so that small p-values keep their relative accuracy.
    """
    if math.isnan(t) or not df > 0:
        return math.nan
    t2 = t * t
    if t2 == 0.0:
        return 1.0
    if math.isinf(t2):
        return 0.0
    if df > _LARGE_DF:
        # the first term of the expansion in 1 / df, exact to far below the fraction's rounding
        density = math.exp(-t2 / 2.0) / math.sqrt(2.0 * math.pi)
        return math.erfc(math.sqrt(t2 / 2.0)) + density * abs(t) * (t2 + 1.0) / (2.0 * df)
    a, b = df / 2.0, 0.5
    x, one_minus_x = df / (df + t2), t2 / (df + t2)
    log_beta = math.lgamma(b) - _log_gamma_half_ratio(a)  # log B(a, 1/2)
    # log(x) from whichever of x and 1 - x is computed without cancellation
    log_x = math.log(x) if x < 0.5 else math.log1p(-one_minus_x)
    log_front = a * log_x + b * math.log(one_minus_x) - log_beta
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_continued_fraction(a, b, x, one_minus_x) / a
    return 1.0 - math.exp(log_front) * _beta_continued_fraction(b, a, one_minus_x, x) / b


def two_sided_p(statistic: np.ndarray, df: float | None = None) -> np.ndarray:
    """Two-sided p-values ``P(|T| > |statistic|)``: normal for ``df=None``, else Student's t."""
    values = np.asarray(statistic, dtype=np.float64).reshape(-1)
    if df is None:
        p = [math.erfc(abs(v) / math.sqrt(2.0)) for v in values.tolist()]
    else:
        p = [_t_two_sided(v, float(df)) for v in values.tolist()]
    return np.array(p, dtype=np.float64).reshape(np.shape(statistic))


def critical_value(alpha: float, df: float | None = None) -> float:
    """The ``1 - alpha/2`` quantile: normal for ``df=None``, else Student's t.

    The t quantile is found by Newton's method on ``P(|T| > q) = alpha`` from the normal
    quantile, which lies below it; the function is convex and decreasing in ``q > 0``, so the
    steps rise monotonically to the root.
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    q = NormalDist().inv_cdf(1.0 - alpha / 2.0)
    if df is None:
        return q
    df = float(df)
    if not df > 0:
        return math.nan
    log_norm = _log_gamma_half_ratio(df / 2.0) - 0.5 * math.log(df * math.pi)
    for _ in range(200):
        density = math.exp(log_norm - (df + 1.0) / 2.0 * math.log1p(q * q / df))
        step = (_t_two_sided(q, df) - alpha) / (2.0 * density)
        # the steps are > 0 until the root: a step <= 0, or one below the rounding of p (about
        # 1e-11 for a df in the millions), is the end
        if step <= 1e-10 * q:
            return q + step
        q += step
    raise ArithmeticError(f"the t quantile did not converge (alpha={alpha}, df={df})")
