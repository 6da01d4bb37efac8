"""The GLM as a Keras network, fitted exactly by iteratively reweighted least squares.

A GLM with log link is a neural network without hidden layer: the design matrix enters one dense
unit (the linear predictor), the offset is added, and the exponential is the output activation.
:class:`GLM` builds that network, finds the maximum-likelihood coefficients by Fisher scoring
(IRLS, in float64) and writes them into the network's weights, so the same Keras model predicts,
saves, and later becomes the skip connection of a CANN.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pandas as pd

from .families import Family, get_family
from .features import FeatureSpec

__all__ = ["GLM", "build_glm_network", "irls", "predict_network"]

_INTERCEPT = "(Intercept)"
_CHUNK_ROWS = 1 << 16
# rows per block of X' W X: small enough for the block to stay in cache (measured: 8,192 rows of
# 49 columns run 2.5 times faster than 65,536)
_GRAM_ROWS = 1 << 13


def build_glm_network(n_terms: int, *, name: str = "glm", dtype: str = "float64") -> keras.Model:
    """The Keras network of a log-link GLM with ``n_terms`` design-matrix columns.

    Inputs are a dict: ``"x"`` the design matrix without intercept ``(n, n_terms)`` and
    ``"offset"`` ``(n, 1)`` (``log(exposure)`` for frequency, 0 otherwise). The output is
    ``mu = exp(x @ beta + beta_0 + offset)``. Layers: ``linear_predictor`` (Dense with bias),
    ``eta`` (adds the offset), ``mu`` (exponential activation).
    """
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
    """Maximum-likelihood coefficients of a log-link GLM by Fisher scoring (IRLS).

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
        below ``tol`` (R's criterion, with a tighter default than R's 1e-8) ...
    coef_tol : float
        ... and the coefficients within ``coef_tol`` of the solution, in the scale
        ``|b_new - b_old| / (|b_new| + 1)``: either the last step is below it, or the distance
        still to go, estimated from the ratio ``r`` of the last two steps, is. Fisher scoring
        converges only linearly for non-canonical links (Gamma, Tweedie with log link), where a
        small deviance change can hide coefficients still moving: the estimate is the geometric
        tail ``step r / (1 - r)``. For Poisson, whose log link is canonical, it is Newton's
        method and converges quadratically: the estimate ``step r^2`` saves the last,
        confirming iteration.

    Returns
    -------
    dict
        ``coef``, ``cov_unscaled`` (``(X' W X)^-1`` at the solution), ``deviance``, ``n_iter``,
        ``mu`` (the fitted means).

    Notes
    -----
    With log link ``d mu / d eta = mu``, so each step solves the weighted least-squares problem
    with working weights ``W = w mu^2 / V(mu)`` and working response
    ``z = eta - offset + (y - mu) / mu``. The start is the homogeneous model (intercept at the
    weighted mean); a step that increases the deviance is halved, as in R's ``glm.fit``.
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
        working_w = w * mu**2 / family.unit_variance(mu)
        z = eta - off + (y - mu) / mu
        gram, rhs = _weighted_gram(x, working_w, z)
        new = _solve_spd(gram, rhs, terms)
        for _ in range(30):
            eta_new = x @ new + off
            dev_new = family.deviance(y, np.exp(eta_new), w)
            # a rise within rounding noise of the sum is not a failed step
            if np.isfinite(dev_new) and dev_new <= dev * (1 + 1e-10) + 1e-300:
                break
            new = (new + coef) / 2
        else:
            raise FloatingPointError("IRLS step halving failed: the deviance does not decrease")
        step = float(np.max(np.abs(new - coef) / (np.abs(new) + 1.0)))
        # distance still to go, estimated from the contraction r of the steps: step r^2 where
        # Fisher scoring is Newton's method (canonical link: quadratic convergence), else the
        # geometric tail step r / (1 - r)
        rate = step / prev_step
        if rate >= 1.0:
            remaining = np.inf
        elif family.canonical_log_link:
            remaining = step * rate**2
        else:
            remaining = step * rate / (1.0 - rate)
        converged = abs(dev_new - dev) / (abs(dev_new) + 0.1) < tol and (
            min(step, remaining) < coef_tol
        )
        coef, eta, dev, prev_step = new, eta_new, dev_new, step
        if converged:
            break
    if not converged:
        raise RuntimeError(f"IRLS did not converge in {max_iter} iterations (deviance {dev})")
    # (X' W X)^-1 from the last step's weights, as R's glm.fit: at convergence the weights of
    # the solution differ from them by less than the last coefficient step
    return {
        "coef": coef,
        "cov_unscaled": np.linalg.inv(gram),
        "deviance": dev,
        "n_iter": n_iter,
        "mu": np.exp(eta),
    }


def _column(data: pd.DataFrame, value: Any, what: str) -> tuple[np.ndarray, str | None]:
    """A column given by name, or an array of the data's length."""
    if isinstance(value, str):
        if value not in data.columns:
            raise ValueError(f"{what} column {value!r} is not in the data; it has {list(data)}")
        arr = pd.to_numeric(data[value], errors="coerce").to_numpy(np.float64, na_value=np.nan)
        name = value
    else:
        arr = np.asarray(value, dtype=np.float64).reshape(-1)
        name = None
        if len(arr) != len(data):
            raise ValueError(f"{what} has {len(arr)} values but the data has {len(data)} rows")
    bad = ~np.isfinite(arr)
    if bad.any():
        rows = np.flatnonzero(bad)[:5]
        raise ValueError(
            f"{what}{f' ({name})' if name else ''}: {bad.sum()} values are missing or not finite "
            f"(first rows: {rows.tolist()})"
        )
    return arr, name


def _positive(arr: np.ndarray, what: str) -> np.ndarray:
    bad = arr <= 0
    if bad.any():
        first = ", ".join(f"row {i} = {arr[i].item()!r}" for i in np.flatnonzero(bad)[:5])
        raise ValueError(f"{what} must be > 0; {bad.sum()} rows are <= 0 (first: {first})")
    return arr


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
        dispersion of the Gamma family, whose log-likelihood uses ``phi = D / sum(w)``).
    keras_model_ : keras.Model
        The network (see :func:`build_glm_network`) holding the coefficients.
    n_iter_ : int
        IRLS iterations.
    fit_seconds_ : float
        Wall time of the fit (design matrix, IRLS, network).

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
        """Fit by IRLS and write the coefficients into the Keras network.

        Parameters
        ----------
        data : pandas.DataFrame
            Learning data with the feature columns.
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
        """
        started = time.perf_counter()
        self.family_ = get_family(self.family)
        self.features_ = self.features.fit(data)
        y, self.response_ = _column(data, response, "response")
        y = self.family_.check_response(y, self.response_ or "response")
        self.exposure_ = None
        self.uses_exposure_ = exposure is not None
        offset = None
        if exposure is not None:
            v, self.exposure_ = _column(data, exposure, "exposure")
            offset = np.log(_positive(v, "exposure"))
        self.weights_ = None
        w = None
        if weights is not None:
            w, self.weights_ = _column(data, weights, "weights")
            w = _positive(w, "weights")

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
        self.keras_model_ = build_glm_network(x.shape[1] - 1, name=self._keras_name())
        self.keras_model_.get_layer("linear_predictor").set_weights(
            [sol["coef"][1:, None], sol["coef"][:1]]
        )
        self.fit_seconds_ = time.perf_counter() - started
        return self

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

    def design_matrix(self, data: pd.DataFrame) -> np.ndarray:
        """The design matrix of ``data`` (without intercept), as the network's ``"x"`` input."""
        self._check_fitted()
        return self.features_.design_matrix(data)

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
        v, _ = _column(data, exposure, "exposure")
        return np.log(_positive(v, "exposure"))

    def network_inputs(
        self, data: pd.DataFrame, *, exposure: str | np.ndarray | None = None
    ) -> dict[str, np.ndarray]:
        """The dict of inputs the Keras network takes for ``data``."""
        x = self.design_matrix(data)
        return {"x": x, "offset": self._offset(data, exposure)[:, None]}

    def predict(
        self, data: pd.DataFrame, *, exposure: str | np.ndarray | None = None
    ) -> np.ndarray:
        """Expected response ``mu`` from the Keras network.

        For a model fitted with exposure these are expected claim counts,
        ``mu = exposure * frequency``; the exposure is the column named at fit unless given.
        """
        self._check_fitted()
        return predict_network(self.keras_model_, self.network_inputs(data, exposure=exposure))

    def predict_frequency(self, data: pd.DataFrame) -> np.ndarray:
        """Expected claims per unit of exposure, ``exp(eta)`` without offset."""
        return (
            self.predict(data, exposure=np.ones(len(data)))
            if self.uses_exposure_
            else (self.predict(data))
        )

    def linear_predictor(
        self, data: pd.DataFrame, *, exposure: str | np.ndarray | None = None
    ) -> np.ndarray:
        """``eta = log(mu)``, including the offset, computed from the coefficients."""
        self._check_fitted()
        coef = self.coef_.to_numpy()
        return coef[0] + self.design_matrix(data) @ coef[1:] + self._offset(data, exposure)

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
