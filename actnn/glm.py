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
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._base import _exposure_column, _response_column, _weights_column
from ._irls import _CHUNK_ROWS, _ETA_MAX, _ETA_MIN, irls
from ._validation import _listed, _rows_message
from .families import Family, Poisson, Tweedie, get_family
from .features import FeatureSpec, _Levelled

if TYPE_CHECKING:
    import keras

__all__ = ["GLM", "build_glm_network", "irls", "predict_network"]


_INTERCEPT = "(Intercept)"


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
            _listed(problems, "levels whose response is 0 on all their rows", separator="; ")
            + ". The maximum-likelihood coefficient of such a level is -inf and the fit cannot "
            "converge: merge the level with another one"
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
    >>> from actnn import get_preset
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
        actnn.DataWarning
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
        level not seen at fit) or a numeric value outside the range seen at fit: ``"error"``
        (default) raises a ``ValueError`` naming the column, the rows and the fitted levels or
        range; ``"reference"`` predicts the row at the feature's reference level (relativity
        1), or at the nearest end of the range, and warns (:class:`~actnn.DataWarning`) naming
        the same. Every model kind follows this rule (docs/models.md).

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
