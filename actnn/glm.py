"""The GLM as a Keras network, fitted exactly by iteratively reweighted least squares.

A GLM with log link is a neural network without hidden layer: the design matrix enters one dense
unit (the linear predictor), the offset is added, and the exponential is the output activation.
:class:`GLM` finds the maximum-likelihood coefficients by Newton's method (IRLS, in float64) and
predicts ``exp(x @ beta + offset)`` with NumPy; its Keras network (``keras_model_``, the
coefficients in the network's weights) is built when first asked for, e.g. to grow it into a
network. Fitting, pricing, saving and loading a GLM thus never import TensorFlow.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .data import (
    DataWarning,
    _check_frame,
    _numeric_values,
    _positive,
    _repeated_columns,
    _rows_message,
    _warn_exposure_over_one,
)
from .families import Family, Gamma, Poisson, Tweedie, get_family
from .features import FeatureSpec, _Levelled

if TYPE_CHECKING:
    import keras

__all__ = ["GLM", "build_glm_network", "irls", "predict_network"]

_INTERCEPT = "(Intercept)"
_CHUNK_ROWS = 1 << 16
# rows per block of X' W X: small enough for the block to stay in cache (measured: 8,192 rows of
# 49 columns run 2.5 times faster than 65,536)
_GRAM_ROWS = 1 << 13
#: exp(eta) overflows to inf above _ETA_MAX and underflows to 0 below _ETA_MIN (float64).
_ETA_MAX = math.log(np.finfo(np.float64).max)
_ETA_MIN = math.log(np.finfo(np.float64).smallest_subnormal)
#: A change of the deviance within this many epsilons of ``sum w (y + mu) mu / V(mu)`` is
#: rounding (see :func:`irls`).
_DEVIANCE_ROUNDINGS = 1000.0
_EPS = float(np.finfo(np.float64).eps)


def build_glm_network(n_terms: int, *, name: str = "glm", dtype: str = "float64") -> keras.Model:
    """The Keras network of a log-link GLM with ``n_terms`` design-matrix columns.

    Inputs are a dict: ``"x"`` the design matrix without intercept ``(n, n_terms)`` and
    ``"offset"`` ``(n, 1)`` (``log(exposure)`` for frequency, 0 otherwise). The output is
    ``mu = exp(x @ beta + beta_0 + offset)``. Layers: ``linear_predictor`` (Dense with bias),
    ``eta`` (adds the offset), ``mu`` (exponential activation).
    """
    import keras

    from . import losses  # noqa: F401  (registers DevianceLoss with Keras, as actnn did at import)

    x = keras.Input((n_terms,), name="x", dtype=dtype)
    offset = keras.Input((1,), name="offset", dtype=dtype)
    linear = keras.layers.Dense(1, name="linear_predictor", dtype=dtype)(x)
    eta = keras.layers.Add(name="eta", dtype=dtype)([linear, offset])
    mu = keras.layers.Activation("exponential", name="mu", dtype=dtype)(eta)
    return keras.Model({"x": x, "offset": offset}, mu, name=name)


def predict_network(
    model: keras.Model,
    inputs: dict[str, np.ndarray],
    *,
    batch_size: int = _CHUNK_ROWS,
    flatten: bool = True,
) -> np.ndarray:
    """Call a Keras model on large batches of ``inputs``, keeping each input's dtype.

    ``keras.Model.predict`` casts float64 arrays to ``floatx`` (float32) before a float64 network
    sees them, which costs the GLM its exactness; calling the model on tensors of the inputs'
    declared dtypes does not.
    """
    import keras

    dtypes = {t.name: t.dtype for t in model.inputs}
    n = len(next(iter(inputs.values())))
    out = []
    for start in range(0, n, batch_size):
        batch = {
            k: keras.ops.convert_to_tensor(v[start : start + batch_size], dtype=dtypes[k])
            for k, v in inputs.items()
            if k in dtypes
        }
        out.append(keras.ops.convert_to_numpy(model(batch, training=False)))
    result = np.concatenate(out).astype(np.float64)
    return result.reshape(-1) if flatten else result


def _weighted_gram(x: np.ndarray, w: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``X' W X`` and ``X' W z``, accumulated over row chunks to bound temporary memory."""
    p = x.shape[1]
    gram = np.zeros((p, p))
    rhs = np.zeros(p)
    for start in range(0, x.shape[0], _GRAM_ROWS):
        sl = slice(start, start + _GRAM_ROWS)
        sw = np.sqrt(w[sl])
        xs = x[sl] * sw[:, None]
        gram += xs.T @ xs
        rhs += xs.T @ (z[sl] * sw)
    return gram, rhs


def _solve_spd(gram: np.ndarray, rhs: np.ndarray, terms: list[str]) -> np.ndarray:
    """Solve ``gram @ b = rhs`` for a symmetric positive definite ``gram`` (equilibrated)."""
    d = np.sqrt(np.diag(gram))
    if (d == 0).any():
        dead = [t for t, di in zip(terms, d, strict=True) if di == 0]
        raise ValueError(
            f"the design matrix has columns without information (no data or zero weight): {dead}"
        )
    scaled = gram / np.outer(d, d)
    eig = np.linalg.eigvalsh(scaled)
    if eig[0] <= 1e-13 * eig[-1]:
        _, vecs = np.linalg.eigh(scaled)
        weak = np.argsort(-np.abs(vecs[:, 0]))[:4]
        raise ValueError(
            "the design matrix is rank deficient (aliased terms), near-dependent terms: "
            f"{[terms[i] for i in weak]}"
        )
    chol = np.linalg.cholesky(scaled)
    b = np.linalg.solve(chol.T, np.linalg.solve(chol, rhs / d))
    return b / d


def _working_weights(
    family: Family, y: np.ndarray, mu: np.ndarray, w: np.ndarray
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Working weights ``W``, working residuals ``r`` of an IRLS step, and whether it is Newton's.

    The step solves ``X' W X b = X' W z`` with ``z = eta - offset + r``. For a log link the
    score of a row in ``eta`` is ``s = w (y - mu) mu / V(mu)``; Newton's method takes ``W`` as
    minus its derivative (the observed information) and ``r = s / W``. For ``V(mu) = mu^p``
    that is ``W = w mu^(1-p) a`` and ``r = (y - mu) / a`` with ``a = (2 - p) mu + (p - 1) y``,
    which is > 0 for ``1 <= p <= 2``. Fisher scoring (the expected information) takes
    ``W = w mu^2 / V(mu)``, ``r = (y - mu) / mu``: the same for Poisson (``p = 1``, the
    canonical link), and the fall-back for a family of unknown variance power.
    """
    fisher = w * mu**2 / family.unit_variance(mu)
    if family.canonical_log_link:
        return fisher, (y - mu) / mu, True
    if isinstance(family, Gamma | Tweedie):
        p = 2.0 if isinstance(family, Gamma) else family.power
        a = (2.0 - p) * mu + (p - 1.0) * y
        return fisher / mu * a, (y - mu) / a, True
    return fisher, (y - mu) / mu, False


def irls(
    x: np.ndarray,
    y: np.ndarray,
    family: Family,
    *,
    offset: np.ndarray | None = None,
    weights: np.ndarray | None = None,
    terms: list[str] | None = None,
    tol: float = 1e-12,
    coef_tol: float = 1e-11,
    max_iter: int = 100,
) -> dict[str, Any]:
    """Maximum-likelihood coefficients of a log-link GLM by Newton's method (IRLS).

    Parameters
    ----------
    x : ndarray of shape (n, p)
        Design matrix including the intercept column.
    y : ndarray of shape (n,)
        Response.
    family : Family
        Distribution family (log link).
    offset, weights : ndarray of shape (n,), optional
        Offset on the link scale and prior (case) weights.
    tol : float
        Convergence needs the relative change of the deviance, ``|D - D_old| / (|D| + 0.1)``,
        below ``tol`` (R's criterion, with a tighter default than R's 1e-8; a change within
        the deviance's rounding counts as none, see Notes) ...
    coef_tol : float
        ... and the coefficients within ``coef_tol`` of the solution, in the scale
        ``|b_new - b_old| / (|b_new| + 1)``: either the last step is below it, or the distance
        still to go, estimated from the ratio ``r`` of the last two steps, is. Newton's method
        converges quadratically: the estimate ``step r^2`` saves the last, confirming
        iteration. For a family of unknown variance power (Fisher scoring, which converges
        only linearly for a non-canonical link and where a small deviance change can hide
        coefficients still moving) it is the geometric tail ``step r / (1 - r)``.

    Returns
    -------
    dict
        ``coef``, ``cov_unscaled`` (``(X' W X)^-1`` with the Fisher weights
        ``W = w mu^2 / V(mu)``, the expected information that R and statsmodels report),
        ``deviance``, ``n_iter``, ``mu`` (the fitted means).

    Notes
    -----
    Each step solves a weighted least-squares problem with working weights ``W`` and working
    response ``z = eta - offset + r``: Newton's method on the log-likelihood in the
    coefficients, with the observed information. For ``V(mu) = mu^p`` that is
    ``W = w mu^(1-p) a`` and ``r = (y - mu) / a`` with ``a = (2 - p) mu + (p - 1) y``. For
    Poisson (``p = 1``), whose log link is canonical, it is Fisher scoring (``W = w mu``); for
    Gamma it is ``W = w y / mu`` instead of Fisher scoring's ``W = w``. The deviance of the
    Poisson, Gamma and Tweedie families is convex in ``eta`` (``W > 0``), so Newton's step is a
    descent step. Fisher scoring can converge very slowly for Gamma when ``y / mu`` is far from
    1 on some rows; Newton's method converges quadratically near the solution.

    The start is the homogeneous model (intercept at the weighted mean); a step that increases
    the deviance is halved, as in R's ``glm.fit``. Near a fit the terms of each unit deviance
    cancel, and the computed deviance is exact only to about ``3 / ((p - 1)(2 - p))``
    epsilons of ``(y + mu) mu / V(mu)`` per row for Tweedie (``log(mu)`` epsilons of ``y + mu``
    for Poisson, fewer for Gamma): a change of the deviance within 1,000 epsilons of
    ``sum w (y + mu) mu / V(mu)`` is rounding, not a rise that fails a step nor a change that
    delays convergence. Data the model reproduces exactly (deviance 0) thus converge.
    """
    n, p = x.shape
    terms = terms or [f"x{j}" for j in range(p)]
    off = np.zeros(n) if offset is None else np.asarray(offset, dtype=np.float64)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    coef = np.zeros(p)
    # intercept at the homogeneous MLE: sum w y = sum w exp(b0 + offset)
    coef[0] = math.log(np.sum(w * y) / np.sum(w * np.exp(off)))
    eta = x @ coef + off
    dev = family.deviance(y, np.exp(eta), w)
    n_iter, converged, prev_step = 0, False, np.inf
    while n_iter < max_iter:
        n_iter += 1
        mu = np.exp(eta)
        working_w, residual, newton = _working_weights(family, y, mu, w)
        gram, rhs = _weighted_gram(x, working_w, eta - off + residual)
        new = _solve_spd(gram, rhs, terms)
        # the rounding of the deviance (see Notes)
        scale = float(np.sum(w * (y + mu) * mu / family.unit_variance(mu)))
        rounding = _DEVIANCE_ROUNDINGS * _EPS * scale
        for _ in range(30):
            eta_new = x @ new + off
            # a trial step far out can overflow exp or divide by mu = 0: it is halved
            with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
                dev_new = family.deviance(y, np.exp(eta_new), w)
            # a rise within the rounding of the deviance is not a failed step
            if np.isfinite(dev_new) and dev_new <= dev * (1 + 1e-10) + rounding:
                break
            new = (new + coef) / 2
        else:
            raise FloatingPointError("IRLS step halving failed: the deviance does not decrease")
        step = float(np.max(np.abs(new - coef) / (np.abs(new) + 1.0)))
        # distance still to go, estimated from the contraction r of the steps: step r^2 for
        # Newton's method (quadratic convergence), else the geometric tail step r / (1 - r)
        rate = step / prev_step
        if rate >= 1.0:
            remaining = np.inf
        elif newton:
            remaining = step * rate**2
        else:
            remaining = step * rate / (1.0 - rate)
        converged = max(abs(dev_new - dev) - rounding, 0.0) / (abs(dev_new) + 0.1) < tol and (
            min(step, remaining) < coef_tol
        )
        coef, eta, dev, prev_step = new, eta_new, dev_new, step
        if converged:
            break
    if not converged:
        raise RuntimeError(f"IRLS did not converge in {max_iter} iterations (deviance {dev})")
    # (X' W X)^-1 with Fisher weights: for the canonical link the last step's, as R's glm.fit
    # (at convergence they differ from the solution's by less than the last coefficient step);
    # otherwise the steps had other weights (observed information), so those of the solution
    if not family.canonical_log_link:
        mu = np.exp(eta)
        gram, _ = _weighted_gram(x, w * mu**2 / family.unit_variance(mu), np.zeros(n))
    return {
        "coef": coef,
        "cov_unscaled": np.linalg.inv(gram),
        "deviance": dev,
        "n_iter": n_iter,
        "mu": np.exp(eta),
    }


def _column(data: pd.DataFrame, value: Any, what: str) -> tuple[np.ndarray, str | None]:
    """A column given by name, or an array of the data's length, as finite float64 values.

    Returns the values and the column's name (None for an array). Errors name the column (or
    ``what`` for an array) and the rows with no value, text or an infinite value.
    """
    _check_frame(data, "data")
    if isinstance(value, str):
        if value not in data.columns:
            raise ValueError(f"{what} column {value!r} is not in the data; it has {list(data)}")
        if _repeated_columns(data, [value]):
            raise ValueError(f"the data has the {what} column {value!r} more than once")
        return _numeric_values(data[value], f"{what} column {value!r}"), value
    if isinstance(value, pd.Series) and not value.index.equals(data.index):
        raise ValueError(
            f"{what} is a Series whose index differs from the data's: pass the name of a column "
            "of the data, or an array (Series.to_numpy()) in the data's row order"
        )
    arr = np.asarray(value).reshape(-1)
    if len(arr) != len(data):
        raise ValueError(f"{what} has {len(arr)} values but the data has {len(data)} rows")
    return _numeric_values(pd.Series(arr, index=data.index), what), None


def _label(what: str, name: str | None) -> str:
    """How a response, exposure or weights is named in messages: its column, if it has one."""
    return what if name is None else f"{what} column {name!r}"


def _response_column(
    data: pd.DataFrame, response: Any, family: Family
) -> tuple[np.ndarray, str | None]:
    """The response (a column name or an array) checked for the family: values and name.

    Values outside the family's support are a ValueError; non-integer values of a Poisson
    response a DataWarning (the fit is then a quasi-Poisson fit).
    """
    y, name = _column(data, response, "response")
    label = _label("response", name)
    y = family.check_response(y, label)
    if isinstance(family, Poisson):
        fraction = y != np.floor(y)
        if fraction.any():
            warnings.warn(
                f"{_rows_message(label, fraction, y, 'a value that is not a whole number')}; the "
                "Poisson family is for claim counts. The fit goes on as a quasi-Poisson fit (the "
                "coefficients and predictions are valid, the AIC is not)",
                DataWarning,
                stacklevel=3,
            )
    return y, name


def _exposure_column(data: pd.DataFrame, exposure: Any) -> tuple[np.ndarray | None, str | None]:
    """The exposure (a column name, an array or None): values > 0 and name; > 1 is warned of."""
    if exposure is None:
        return None, None
    v, name = _column(data, exposure, "exposure")
    label = _label("exposure", name)
    _positive(v, label)
    _warn_exposure_over_one(v, label)
    return v, name


def _weights_column(data: pd.DataFrame, weights: Any) -> tuple[np.ndarray | None, str | None]:
    """The case weights (a column name, an array or None): values > 0 and name."""
    if weights is None:
        return None, None
    w, name = _column(data, weights, "weights")
    return _positive(w, _label("weights", name)), name


def _check_levels_have_response(
    features: Sequence[_Levelled], data: pd.DataFrame, y: np.ndarray, w: np.ndarray
) -> None:
    """A ValueError naming every level whose rows all have response 0.

    For a family whose response can be 0 (Poisson, Tweedie), the score equation of such a level
    says that the sum of its means is 0: its maximum-likelihood coefficient is -inf and IRLS
    cannot converge.
    """
    problems = []
    for f in features:
        codes = f.codes(data)
        n_rows = np.bincount(codes, minlength=len(f.levels))
        total = np.bincount(codes, weights=w * y, minlength=len(f.levels))
        for k in np.flatnonzero((total == 0) & (n_rows > 0)):
            what = f"the level {f.levels[k]!r}, and the response is 0 on all of them"
            problems.append(_rows_message(f"column {f.column!r}", codes == k, data[f.column], what))
    if problems:
        raise ValueError(
            "; ".join(problems) + ". The maximum-likelihood coefficient of such a level is -inf "
            "and the fit cannot converge: merge the level with another one"
        )


def _check_mu(
    mu: np.ndarray,
    eta_of: Callable[[np.ndarray], np.ndarray],
    describe: Callable[[np.ndarray], list[str]],
) -> np.ndarray:
    """``mu`` if every prediction is a finite number > 0, else a ValueError naming the rows.

    ``eta_of(rows)`` gives the linear predictor of the rows, ``describe(rows)`` a note per row on
    what drives it (e.g. the largest term).
    """
    bad = ~(mu > 0) | np.isinf(mu)
    if not bad.any():
        return mu
    rows = np.flatnonzero(bad)
    shown = rows[:5]
    notes = [
        f"row {row}: eta = {eta:.6g}" + (f", {note}" if note else "")
        for row, eta, note in zip(shown, eta_of(shown), describe(shown), strict=True)
    ]
    more = ", ..." if rows.size > 5 else ""
    raise ValueError(
        f"{rows.size:,} {'row has' if rows.size == 1 else 'rows have'} a prediction "
        f"mu = exp(eta) that is not a finite number > 0: exp overflows to inf above "
        f"eta = {_ETA_MAX:.2f} and underflows to 0 below {_ETA_MIN:.2f} (first: "
        f"{'; '.join(notes)}{more}). The features of these rows are far outside the range of "
        "the learning data"
    )


class GLM:
    """A log-link GLM (Poisson frequency, Gamma severity, Tweedie) held in a Keras network.

    Parameters
    ----------
    features : FeatureSpec
        The design; fitted on the learning data by :meth:`fit`.
    family : str or Family
        ``"poisson"``, ``"gamma"`` or a :class:`~actnn.families.Tweedie` object.
    tol, max_iter : float, int
        IRLS convergence settings (see :func:`irls`).
    name : str, optional
        Name of the model in tables (default: the feature specification's name).

    Attributes
    ----------
    features_ : FeatureSpec
        The fitted feature specification.
    coef_ : pandas.Series
        Coefficients, indexed by ``"(Intercept)"`` and the design terms.
    bse_ : pandas.Series
        Standard errors, ``sqrt(diag(phi (X' W X)^-1))``.
    deviance_, null_deviance_ : float
        Total (weighted) deviance of the fit and of the homogeneous model on the learning data.
    dispersion_ : float
        1 for Poisson; otherwise the Pearson estimate ``sum w (y - mu)^2 / V(mu) / (n - p)``, as
        R's ``summary.glm``.
    aic_ : float
        Akaike information criterion with R's conventions (``-2 loglik + 2 p``, plus 2 for the
        dispersion of the Gamma family, whose log-likelihood uses ``phi = D / sum(w)``; ``-inf``
        for a Gamma fit with deviance 0, see :meth:`~actnn.families.Gamma.loglik`).
    keras_model_ : keras.Model
        The network (see :func:`build_glm_network`) holding the coefficients, built (and
        TensorFlow imported) when first asked for.
    n_iter_ : int
        IRLS iterations.
    fit_seconds_ : float
        Wall time of the fit (design matrix, IRLS).

    Examples
    --------
    >>> from actnn import GLM, simulate_mtpl
    >>> from actnn.presets import get_preset
    >>> df = simulate_mtpl(20_000, seed=1)
    >>> glm = GLM(get_preset("nsw2018_glm1")).fit(df, "ClaimNb", exposure="Exposure")
    >>> mu = glm.predict(df)  # expected claim counts, exposure included
    """

    def __init__(
        self,
        features: FeatureSpec,
        family: str | Family = "poisson",
        *,
        tol: float = 1e-12,
        max_iter: int = 100,
        name: str | None = None,
    ):
        if not isinstance(features, FeatureSpec):
            raise TypeError(f"features must be a FeatureSpec, got {type(features).__name__}")
        self.features = features
        self.family = family
        self.tol = tol
        self.max_iter = max_iter
        self.name = name

    # ------------------------------------------------------------------ fitting
    def fit(
        self,
        data: pd.DataFrame,
        response: str | np.ndarray,
        *,
        exposure: str | np.ndarray | None = None,
        weights: str | np.ndarray | None = None,
    ) -> GLM:
        """Fit by IRLS: the coefficients, their standard errors and the fit statistics.

        Parameters
        ----------
        data : pandas.DataFrame
            Learning data with the feature columns (further columns are ignored).
        response : str or array
            Response column (claim counts for frequency, average claim size for severity).
        exposure : str or array, optional
            Exposure (years at risk); enters as offset ``log(exposure)``. Predictions then are
            expected claim counts ``mu = exposure * frequency``.
        weights : str or array, optional
            Case weights, e.g. the number of claims behind an average claim size.

        Returns
        -------
        GLM
            self.

        Raises
        ------
        ValueError
            Naming the column, the number of rows and the first rows: no rows; a missing or
            repeated column; a missing value, text or an infinite value in a column used; a
            response outside the family's support (Poisson counts < 0, Gamma amounts <= 0);
            exposure or weights <= 0; an array of another length than the data; a level of a
            Poisson or Tweedie model whose rows all have response 0 (its coefficient would be
            -inf).

        Warns
        -----
        actnn.data.DataWarning
            Exposure > 1 (years are expected) and, for Poisson, a response that is not a whole
            number.
        """
        started = time.perf_counter()
        self.family_ = get_family(self.family)
        self.features_ = self.features.fit(data)
        y, self.response_ = _response_column(data, response, self.family_)
        v, self.exposure_ = _exposure_column(data, exposure)
        self.uses_exposure_ = exposure is not None
        offset = None if v is None else np.log(v)
        w, self.weights_ = _weights_column(data, weights)
        if isinstance(self.family_, Poisson | Tweedie):
            levelled = [f for f in self.features_.features if isinstance(f, _Levelled)]
            _check_levels_have_response(levelled, data, y, np.ones_like(y) if w is None else w)

        x = self.features_.design_matrix(data, intercept=True)
        terms = [_INTERCEPT, *self.features_.terms]
        sol = irls(
            x, y, self.family_, offset=offset, weights=w, terms=terms,
            tol=self.tol, max_iter=self.max_iter,
        )  # fmt: skip
        mu = sol["mu"]
        w_all = np.ones_like(y) if w is None else w
        self.n_obs_ = len(y)
        self.n_params_ = x.shape[1]
        self.df_resid_ = self.n_obs_ - self.n_params_
        self.n_iter_ = sol["n_iter"]
        self.deviance_ = sol["deviance"]
        self.null_deviance_ = irls(
            x[:, :1], y, self.family_, offset=offset, weights=w, tol=self.tol
        )["deviance"]
        if self.family_.fixed_dispersion:
            self.dispersion_ = 1.0
        else:
            pearson = np.sum(w_all * (y - mu) ** 2 / self.family_.unit_variance(mu))
            self.dispersion_ = float(pearson / self.df_resid_)
        self.aic_ = self._aic(y, mu, w)
        self.coef_ = pd.Series(sol["coef"], index=terms, name="coef")
        cov = self.dispersion_ * sol["cov_unscaled"]
        self.cov_params_ = pd.DataFrame(cov, index=terms, columns=terms)
        self.bse_ = pd.Series(np.sqrt(np.diag(cov)), index=terms, name="std_error")
        self._keras_model = None  # the network of the previous fit, if any, is stale
        self.fit_seconds_ = time.perf_counter() - started
        return self

    @property
    def keras_model_(self) -> keras.Model:
        """The Keras network of the fitted GLM, built (importing TensorFlow) when first asked for.

        The network of :func:`build_glm_network` with the coefficients as the weights of its
        ``linear_predictor`` layer (kernel ``coef_[1:]``, bias ``coef_[0]``), in float64: it
        predicts what :meth:`predict` does. Built once per fit and kept.
        """
        if not hasattr(self, "coef_"):  # an AttributeError, as for the other fitted attributes
            raise AttributeError("this GLM is not fitted yet: it has no keras_model_")
        if getattr(self, "_keras_model", None) is None:
            coef = self.coef_.to_numpy()
            model = build_glm_network(len(coef) - 1, name=self._keras_name())
            model.get_layer("linear_predictor").set_weights([coef[1:, None], coef[:1]])
            self._keras_model = model
        return self._keras_model

    def __getstate__(self) -> dict[str, Any]:
        # a pickle or copy holds the coefficients, not the network (rebuilt from them if asked)
        return {k: v for k, v in self.__dict__.items() if k != "_keras_model"}

    def _keras_name(self) -> str:
        raw = self.name or self.features.name or "glm"
        return "".join(c if c.isalnum() or c == "_" else "_" for c in raw)

    def _aic(self, y: np.ndarray, mu: np.ndarray, w: np.ndarray | None) -> float:
        if self.family_.fixed_dispersion:
            return -2.0 * self.family_.loglik(y, mu, w) + 2.0 * self.n_params_
        try:
            phi = self.deviance_ / (len(y) if w is None else float(np.sum(w)))
            return -2.0 * self.family_.loglik(y, mu, w, dispersion=phi) + 2.0 * (self.n_params_ + 1)
        except NotImplementedError:
            return float("nan")

    # ------------------------------------------------------------------ prediction
    def _check_fitted(self) -> None:
        if not hasattr(self, "coef_"):
            raise RuntimeError("this GLM is not fitted yet: call fit(data, response, ...) first")

    def design_matrix(self, data: pd.DataFrame, *, unseen: str = "error") -> np.ndarray:
        """The design matrix of ``data`` (without intercept), as the network's ``"x"`` input.

        ``unseen``: see :meth:`predict`.
        """
        self._check_fitted()
        return self.features_.design_matrix(data, unseen=unseen)

    def _offset(self, data: pd.DataFrame, exposure: str | np.ndarray | None) -> np.ndarray:
        if exposure is None and self.uses_exposure_:
            if self.exposure_ is None or self.exposure_ not in data.columns:
                raise ValueError(
                    "this model was fitted with an exposure: pass exposure=... (a column or an "
                    "array), or use predict_frequency for claims per unit of exposure"
                )
            exposure = self.exposure_
        if exposure is None:
            return np.zeros(len(data))
        v, _ = _exposure_column(data, exposure)
        return np.log(v)

    def network_inputs(
        self,
        data: pd.DataFrame,
        *,
        exposure: str | np.ndarray | None = None,
        unseen: str = "error",
    ) -> dict[str, np.ndarray]:
        """The dict of inputs the Keras network takes for ``data``."""
        x = self.design_matrix(data, unseen=unseen)
        return {"x": x, "offset": self._offset(data, exposure)[:, None]}

    def predict(
        self,
        data: pd.DataFrame,
        *,
        exposure: str | np.ndarray | None = None,
        unseen: str = "error",
    ) -> np.ndarray:
        """Expected response ``mu = exp(x @ beta + offset)``.

        For a model fitted with exposure these are expected claim counts,
        ``mu = exposure * frequency``; the exposure is the column named at fit unless given.
        Further columns of ``data`` are ignored.

        ``unseen`` says what to do with a row that has no level of a categorical feature (a
        level not seen at fit) or of a binned one (a value outside its classes): ``"error"``
        (default) raises a ``ValueError`` naming the column, the rows, the unseen and the fitted
        levels; ``"reference"`` predicts the row at the feature's reference level (relativity
        1) and warns (:class:`~actnn.data.DataWarning`) naming the same.

        A prediction that is not a finite number > 0 (``exp(eta)`` overflows above
        ``eta = 709.78``, e.g. for a numeric feature far outside the learning data's range) is a
        ``ValueError`` naming the rows, their ``eta`` and the largest term of each.

        The computation is the network's (``keras_model_``), in float64 with NumPy: the
        linear predictor ``x @ beta[1:] + beta[0]``, plus the offset, then ``exp``.
        """
        self._check_fitted()
        inputs = self.network_inputs(data, exposure=exposure, unseen=unseen)
        x = np.asarray(inputs["x"], dtype=np.float64)
        coef = self.coef_.to_numpy()
        eta = (x @ coef[1:] + coef[0]) + inputs["offset"][:, 0]
        with np.errstate(over="ignore", under="ignore"):  # overflow: the error of _check_mu
            mu = np.exp(eta)
        return _check_mu(mu, lambda rows: eta[rows], lambda rows: self._largest_terms(x[rows]))

    def _largest_terms(self, x: np.ndarray) -> list[str]:
        """For each row of the design matrix ``x``: the term adding most to ``|eta|``."""
        terms = self.features_.terms
        if not terms:
            return [""] * len(x)
        column_of = {t: f.column for f in self.features_.features for t in f.terms}
        contributions = x * self.coef_.to_numpy()[1:]
        notes = []
        for row, j in enumerate(np.argmax(np.abs(contributions), axis=1)):
            notes.append(
                f"largest term {terms[j]!r} (column {column_of[terms[j]]!r}) = "
                f"{x[row, j]:.6g}, adding {contributions[row, j]:.6g} to eta"
            )
        return notes

    def predict_frequency(self, data: pd.DataFrame, *, unseen: str = "error") -> np.ndarray:
        """Expected claims per unit of exposure, ``exp(eta)`` without offset.

        ``unseen``: see :meth:`predict`.
        """
        ones = np.ones(len(data)) if self.uses_exposure_ else None
        return self.predict(data, exposure=ones, unseen=unseen)

    def linear_predictor(
        self,
        data: pd.DataFrame,
        *,
        exposure: str | np.ndarray | None = None,
        unseen: str = "error",
    ) -> np.ndarray:
        """``eta = log(mu)``, including the offset, computed from the coefficients.

        ``unseen``: see :meth:`predict`.
        """
        self._check_fitted()
        coef = self.coef_.to_numpy()
        x = self.design_matrix(data, unseen=unseen)
        return coef[0] + x @ coef[1:] + self._offset(data, exposure)

    # ------------------------------------------------------------------ tables
    def coef_table(self) -> pd.DataFrame:
        """Coefficients with standard errors, z-values and two-sided normal p-values.

        Columns: ``term``, ``feature``, ``estimate``, ``std_error``, ``z_value``, ``p_value``.
        For the Gamma family the z-values use the estimated dispersion (R calls them t values).
        """
        self._check_fitted()
        z = self.coef_ / self.bse_
        p = np.array([math.erfc(abs(v) / math.sqrt(2.0)) for v in z])
        feature_of = self.features_.term_feature
        return pd.DataFrame(
            {
                "term": self.coef_.index,
                "feature": [feature_of.get(t, _INTERCEPT) for t in self.coef_.index],
                "estimate": self.coef_.to_numpy(),
                "std_error": self.bse_.to_numpy(),
                "z_value": z.to_numpy(),
                "p_value": p,
            }
        )

    def relativities(self) -> pd.DataFrame:
        """The tariff: a multiplicative relativity per level of each feature.

        Columns: ``feature``, ``level``, ``term``, ``coefficient``, ``relativity`` (=
        ``exp(coefficient)``), ``std_error``, ``is_reference``. Reference levels have coefficient
        0 and relativity 1; a continuous feature has one row per term, the relativity per unit.
        The base level (intercept) is the first row.
        """
        self._check_fitted()
        rows = [(_INTERCEPT, "", _INTERCEPT)]
        for f in self.features_.features:
            rows += [(f.label, level, term) for level, term in f.levels_table()]
        coef = [0.0 if t is None else self.coef_[t] for _, _, t in rows]
        se = [0.0 if t is None else self.bse_[t] for _, _, t in rows]
        return pd.DataFrame(
            {
                "feature": [r[0] for r in rows],
                "level": [str(r[1]) for r in rows],
                "term": [r[2] for r in rows],
                "coefficient": coef,
                "relativity": np.exp(coef),
                "std_error": se,
                "is_reference": [r[2] is None for r in rows],
            }
        )

    def save(self, path: str | Path, *, overwrite: bool = False) -> Path:
        """Save the fitted GLM to the directory ``path``, read back by :func:`actnn.load_model`.

        See :func:`actnn.persistence.save_model` for the layout and ``overwrite``.
        """
        from .persistence import save_model  # persistence imports this module

        return save_model(self, path, overwrite=overwrite)

    def __repr__(self) -> str:
        state = f"fitted, {self.n_params_} parameters" if hasattr(self, "coef_") else "not fitted"
        return f"GLM({self.features.name or 'features'}, family={self.family!r}; {state})"
