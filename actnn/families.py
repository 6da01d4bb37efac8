"""Distribution families with log link: unit deviances in NumPy and in Keras ops.

Each family exists once for reporting (NumPy, float64) and once for training (Keras ops, any float
dtype); ``tests/test_families.py`` shows the two agree. All families use the log link
``eta = log(mu)``, the link of every model in actnn. Keras is imported only by the Keras ops
(``keras_unit_deviance``) and :class:`DevianceLoss` (defined in :mod:`actnn.losses`, importable
from here), so that fitting and pricing a GLM need no TensorFlow.

Notes
-----
Unit deviances, for a response ``y`` and a mean ``mu = exp(eta)``:

- Poisson: ``d(y, mu) = 2 [mu - y - y log(mu / y)]``, the last term 0 for ``y = 0``.
- Gamma: ``d(y, mu) = 2 [(y - mu) / mu - log(y / mu)]``, for ``y > 0``.
- Tweedie, ``1 < p < 2``: ``d(y, mu) = 2 [y^(2-p) / ((1-p)(2-p)) - y mu^(1-p) / (1-p)
  + mu^(2-p) / (2-p)]``.

The Keras losses can take ``eta`` instead of ``mu`` (``from_eta=True``), so that no ``log(0)`` and
no overflowing ``exp`` can reach a gradient; with ``mu`` they clip it to the positive normal range
of its dtype before taking logs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import _moved
from ._validation import _rows_message

__all__ = [
    "Family",
    "Poisson",
    "Gamma",
    "Tweedie",
    "get_family",
    "FAMILIES",
]


def _xlogy(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``x * log(y)``, 0 where ``x == 0`` (NumPy)."""
    x = np.asarray(x, dtype=np.float64)
    return x * np.log(np.where(x == 0, 1.0, y))


def _lgamma(x: np.ndarray) -> np.ndarray:
    """``log Gamma(x)`` elementwise, evaluated once per distinct value (counts repeat a lot)."""
    values, inverse = np.unique(np.asarray(x, dtype=np.float64), return_inverse=True)
    return np.array([math.lgamma(v) for v in values.tolist()])[inverse.reshape(-1)]


def _gamma_log_normaliser(shape: float) -> float:
    """``k log k - k - log Gamma(k)`` for the shape ``k > 0``, accurate however large ``k`` is.

    Below 50 it is computed as written; from 50 on (where the terms cancel to about
    ``log(k) / 2``) by Stirling's series, whose truncation error there is below 1e-15.
    """
    if shape < 50.0:
        return shape * math.log(shape) - shape - math.lgamma(shape)
    inv = 1.0 / shape
    return 0.5 * math.log(shape / (2.0 * math.pi)) - inv / 12.0 + inv**3 / 360.0 - inv**5 / 1260.0


class Family:
    """A distribution of the exponential dispersion family with log link.

    Subclasses define the unit deviance (NumPy and Keras ops), the variance function and the
    log-likelihood used for the AIC.
    """

    name: str = ""
    #: Whether the dispersion is fixed at 1 (Poisson) or estimated (Gamma, Tweedie).
    fixed_dispersion: bool = False
    #: Whether the log link is the family's canonical link (then Fisher scoring is Newton's method).
    canonical_log_link: bool = False

    def unit_variance(self, mu: np.ndarray) -> np.ndarray:
        """Variance function ``V(mu)``."""
        raise NotImplementedError

    def unit_deviance(self, y: np.ndarray, mu: np.ndarray) -> np.ndarray:
        """Unit deviance ``d(y, mu)`` per observation, float64 (NumPy)."""
        raise NotImplementedError

    def keras_unit_deviance(self, y, eta):
        """Unit deviance from the linear predictor ``eta = log(mu)``, in Keras ops."""
        raise NotImplementedError

    def check_response(self, y: np.ndarray, name: str = "y") -> np.ndarray:
        """Return ``y`` as float64, or raise ``ValueError`` naming the offending rows.

        ``name`` labels the response in the message (e.g. ``"response column 'n_claims'"``).
        """
        y = np.asarray(y, dtype=np.float64)
        bad = ~np.isfinite(y) | ~self._in_support(y)
        if bad.any():
            what = f"a value outside the support of the {self.name} family ({self._support_text})"
            raise ValueError(_rows_message(name, bad, y, what))
        return y

    _support_text = ""

    def _in_support(self, y: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def deviance(self, y: np.ndarray, mu: np.ndarray, weights: np.ndarray | None = None) -> float:
        """Total deviance ``sum_i w_i d(y_i, mu_i)``."""
        d = self.unit_deviance(y, mu)
        return float(np.sum(d if weights is None else np.asarray(weights) * d))

    def mean_deviance(
        self, y: np.ndarray, mu: np.ndarray, weights: np.ndarray | None = None
    ) -> float:
        """Weighted mean unit deviance ``sum_i w_i d_i / sum_i w_i`` (the mean without weights)."""
        d = self.unit_deviance(y, mu)
        return float(np.average(d, weights=weights))

    def loglik(
        self,
        y: np.ndarray,
        mu: np.ndarray,
        weights: np.ndarray | None = None,
        dispersion: float = 1.0,
    ) -> float:
        """Log-likelihood at ``mu`` (the quantity R's ``family()$aic`` uses)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Poisson(Family):
    """Poisson family, log link: claim counts with exposure offset."""

    name = "poisson"
    fixed_dispersion = True
    canonical_log_link = True
    _support_text = "y >= 0"

    def _in_support(self, y):
        return y >= 0

    def unit_variance(self, mu):
        """Poisson variance function ``V(mu) = mu``."""
        return np.asarray(mu, dtype=np.float64)

    def unit_deviance(self, y, mu):
        """Poisson unit deviance ``2 [mu - y - y log(mu / y)]`` (NumPy, float64; 0 log 0 = 0)."""
        y = np.asarray(y, dtype=np.float64)
        mu = np.asarray(mu, dtype=np.float64)
        return 2.0 * (mu - y - _xlogy(y, mu) + _xlogy(y, y))

    def keras_unit_deviance(self, y, eta):
        """Poisson unit deviance from ``eta = log(mu)``, in Keras ops."""
        from keras import ops

        # 2 [exp(eta) - y - y eta + y log y]; y log y is 0 at y = 0
        y_log_y = ops.where(y > 0, y * ops.log(ops.where(y > 0, y, ops.ones_like(y))), 0.0)
        return 2.0 * (ops.exp(eta) - y - y * eta + y_log_y)

    def loglik(self, y, mu, weights=None, dispersion=1.0):
        """Poisson log-likelihood ``sum_i w_i (y_i log mu_i - mu_i - log y_i!)``.

        ``dispersion`` is ignored (fixed at 1).
        """
        y = np.asarray(y, dtype=np.float64)
        ll = _xlogy(y, np.asarray(mu, dtype=np.float64)) - mu - _lgamma(y + 1.0)
        return float(np.sum(ll if weights is None else np.asarray(weights) * ll))


class Gamma(Family):
    """Gamma family, log link: average claim sizes with claim counts as weights."""

    name = "gamma"
    _support_text = "y > 0"

    def _in_support(self, y):
        return y > 0

    def unit_variance(self, mu):
        """Gamma variance function ``V(mu) = mu^2``."""
        return np.asarray(mu, dtype=np.float64) ** 2

    def unit_deviance(self, y, mu):
        """Gamma unit deviance ``2 [(y - mu) / mu - log(y / mu)]`` (NumPy, float64)."""
        y = np.asarray(y, dtype=np.float64)
        mu = np.asarray(mu, dtype=np.float64)
        ratio = y / mu
        return 2.0 * (ratio - 1.0 - np.log(ratio))

    def keras_unit_deviance(self, y, eta):
        """Gamma unit deviance from ``eta = log(mu)``, in Keras ops."""
        import keras
        from keras import ops

        # 2 [y exp(-eta) - 1 - log y + eta], with log y taken on y clipped to the positive range
        tiny = float(np.finfo(keras.backend.standardize_dtype(y.dtype)).tiny)
        log_y = ops.log(ops.maximum(y, tiny))
        return 2.0 * (y * ops.exp(-eta) - 1.0 - log_y + eta)

    def loglik(self, y, mu, weights=None, dispersion=1.0):
        """Gamma log-likelihood with shape ``1 / dispersion`` and mean ``mu``, weighted sum.

        As R's ``Gamma()$aic``: ``sum_i w_i log f(y_i)`` with ``f`` the density of shape
        ``k = 1 / dispersion`` and scale ``mu dispersion`` (R's ``dgamma(..., log = TRUE)``).

        Notes
        -----
        The log density is written ``-log y - k d(y, mu) / 2 + k log k - k - log Gamma(k)``
        with the unit deviance ``d``, so that it stays exact for a small dispersion (large
        ``k``, where the terms of the direct formula cancel). ``dispersion = 0`` (e.g. the
        estimate ``D / sum(w)`` of a fit with deviance 0, data reproduced exactly) is the
        limit: ``+inf`` if every unit deviance is 0, else ``-inf``; the AIC is then ``-inf``.
        A negative dispersion is a ``ValueError``.
        """
        if dispersion < 0:
            raise ValueError(f"dispersion must be >= 0, got {dispersion}")
        d = self.unit_deviance(y, mu)
        w = np.ones_like(d) if weights is None else np.asarray(weights, dtype=np.float64)
        shape = math.inf if dispersion == 0 else 1.0 / dispersion
        if math.isinf(shape):
            # the density tends to a point mass at mu: inf at y = mu, 0 elsewhere
            return -math.inf if np.any(w * d > 0) else math.inf
        ll = -np.log(np.asarray(y, dtype=np.float64)) - shape * d / 2.0
        return float(np.sum(w * ll)) + float(np.sum(w)) * _gamma_log_normaliser(shape)


@dataclass(frozen=True, repr=False)
class Tweedie(Family):
    """Tweedie family with power ``1 < p < 2`` (compound Poisson-Gamma), log link."""

    power: float = 1.5
    name = "tweedie"
    _support_text = "y >= 0"

    def __post_init__(self):
        if not 1.0 < self.power < 2.0:
            raise ValueError(f"Tweedie power must be in (1, 2), got {self.power}")

    def _in_support(self, y):
        return y >= 0

    def unit_variance(self, mu):
        """Tweedie variance function ``V(mu) = mu^p``."""
        return np.asarray(mu, dtype=np.float64) ** self.power

    def unit_deviance(self, y, mu):
        """Tweedie unit deviance for power ``p`` (formula in the module docstring), NumPy."""
        p = self.power
        y = np.asarray(y, dtype=np.float64)
        mu = np.asarray(mu, dtype=np.float64)
        d = 2.0 * (
            y ** (2 - p) / ((1 - p) * (2 - p))
            - y * mu ** (1 - p) / (1 - p)
            + mu ** (2 - p) / (2 - p)
        )
        return np.maximum(d, 0.0)  # >= 0 exactly; the three terms cancel to rounding at y = mu

    def keras_unit_deviance(self, y, eta):
        """Tweedie unit deviance from ``eta = log(mu)``, in Keras ops."""
        from keras import ops

        p = self.power
        return 2.0 * (
            ops.power(y, 2 - p) / ((1 - p) * (2 - p))
            - y * ops.exp((1 - p) * eta) / (1 - p)
            + ops.exp((2 - p) * eta) / (2 - p)
        )

    def loglik(self, y, mu, weights=None, dispersion=1.0):
        """Not implemented: always raises ``NotImplementedError`` (compare by deviance)."""
        raise NotImplementedError(
            "the Tweedie log-likelihood needs a series expansion that actnn does not implement; "
            "compare Tweedie models by deviance"
        )

    def __repr__(self) -> str:
        return f"Tweedie(power={self.power})"


FAMILIES: dict[str, type[Family]] = {"poisson": Poisson, "gamma": Gamma, "tweedie": Tweedie}


def get_family(family: str | Family) -> Family:
    """Return a family object from its name (``"poisson"``, ``"gamma"``, ``"tweedie"``)."""
    if isinstance(family, Family):
        return family
    if not isinstance(family, str):
        raise TypeError(f"family must be a str or Family, got {type(family).__name__}")
    key = family.lower()
    if key not in FAMILIES:
        raise ValueError(f"unknown family {family!r}; valid: {', '.join(sorted(FAMILIES))}")
    return FAMILIES[key]()


#: ``actnn.families.DevianceLoss`` (now :class:`actnn.losses.DevianceLoss`, a Keras class:
#: importing it imports TensorFlow, so only when asked for).
__getattr__ = _moved.names_of(__name__)
