"""The GLM as a Keras network, fitted exactly by iteratively reweighted least squares.

A GLM with log link is a neural network without hidden layer: the design matrix enters one dense
unit (the linear predictor), the offset is added, and the exponential is the output activation.
:class:`GLM` finds the maximum-likelihood coefficients by Newton's method (IRLS, in float64) and
predicts ``exp(x @ beta + offset)`` with NumPy; its Keras network (``keras_model_``, the
coefficients in the network's weights) is built when first asked for, e.g. to grow it into a
network. Fitting, pricing, saving and loading a GLM thus never import TensorFlow.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import _glm_tables
from ._base import (
    _case_weights,
    _exposure_column,
    _link_offset,
    _offset_column,
    _predict_exposure,
    _predict_offset,
    _response_column,
)
from ._glm_summary import GLMSummary, glm_html
from ._irls import _CHUNK_ROWS, _check_levels_have_response, _check_mu, irls
from ._sklearn import NotFittedError, _Estimator
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


class GLM(_Estimator):
    """A log-link GLM (Poisson frequency, Gamma severity, Tweedie) held in a Keras network.

    A scikit-learn estimator (section "scikit-learn" of docs/api.md): ``get_params``,
    ``clone``, ``GridSearchCV``, metadata routing of ``exposure``, ``offset`` and
    ``sample_weight``, and ``score`` as D².

    Parameters
    ----------
    features : FeatureSpec
        The design; fitted on the learning data by :meth:`fit`.
    family : str or Family
        ``"poisson"``, ``"gamma"`` or a :class:`~actnn.families.Tweedie` object.
    tol, max_iter : float, int
        IRLS convergence settings (see :func:`irls`).
    dispersion : None, "pearson" or float
        The dispersion ``phi`` that scales the standard errors: None (default) the family's,
        1 for Poisson and the Pearson estimate for Gamma and Tweedie; ``"pearson"`` the Pearson
        estimate for every family (for Poisson: quasi-Poisson standard errors, the coefficients
        are the same); a number > 0 fixes it. Where it is estimated, p-values and confidence
        intervals use Student's t with ``df_resid_`` degrees of freedom, where it is fixed the
        normal distribution, as R's ``summary.glm``.
    name : str, optional
        Name of the model in tables (default: the feature specification's name).

    Attributes
    ----------
    features_ : FeatureSpec
        The fitted feature specification.
    n_obs_ : int
        Rows of the learning data with a case weight > 0 (a row of weight 0 takes no part).
    coef_ : pandas.Series
        Coefficients, indexed by ``"(Intercept)"`` and the design terms.
    bse_ : pandas.Series
        Standard errors, ``sqrt(diag(phi (X' W X)^-1))``.
    deviance_, null_deviance_ : float
        Total (weighted) deviance of the fit and of the homogeneous model on the learning data.
    dispersion_ : float
        By default 1 for Poisson; otherwise the Pearson estimate
        ``sum w (y - mu)^2 / V(mu) / (n - p)``, as R's ``summary.glm`` (see ``dispersion``).
    dispersion_method_ : str
        ``"fixed"`` (``dispersion_`` is 1 or the number given) or ``"pearson"`` (estimated).
    exposure_total_ : float or None
        The sum of the exposure of the learning data (None without exposure).
    aic_ : float
        Akaike information criterion with R's conventions (``-2 loglik + 2 p``, plus 2 for the
        dispersion of the Gamma family, whose log-likelihood uses ``phi = D / sum(w)``; ``-inf``
        for a Gamma fit with deviance 0, see :meth:`~actnn.families.Gamma.loglik`).
    keras_model_ : keras.Model
        The network (see :func:`build_glm_network`) holding the coefficients, built (and
        TensorFlow imported) when first asked for. Trained further with Keras, it no longer
        holds ``coef_``: the NumPy outputs (predict, tables, save) then raise a RuntimeError
        until :meth:`update_from_network` or :meth:`reset_network` is called.
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
        dispersion: float | str | None = None,
        name: str | None = None,
    ):
        self.features = features
        self.family = family
        self.tol = tol
        self.max_iter = max_iter
        self.dispersion = dispersion
        self.name = name

    # ------------------------------------------------------------------ fitting
    def fit(
        self,
        X: pd.DataFrame,
        y: str | np.ndarray,
        *,
        exposure: str | np.ndarray | None = None,
        offset: str | np.ndarray | None = None,
        sample_weight: str | np.ndarray | None = None,
        weights: str | np.ndarray | None = None,
    ) -> GLM:
        """Fit by IRLS: the coefficients, their standard errors and the fit statistics.

        Parameters
        ----------
        X : pandas.DataFrame
            Learning data with the feature columns (further columns are ignored).
        y : str or array
            Response column or values (claim counts for frequency, average claim size for
            severity).
        exposure : str or array, optional
            Exposure (years at risk); enters as offset ``log(exposure)``. Predictions then are
            expected claim counts ``mu = exposure * frequency``.
        offset : str or array, optional
            A further offset on the log scale (e.g. the log of a base tariff):
            ``eta = offset + log(exposure) + x @ beta``. :meth:`predict` then needs it too.
        sample_weight, weights : str or array, optional
            Case weights (one of the two names; ``sample_weight`` is scikit-learn's), e.g. the
            number of claims behind an average claim size; >= 0, a row of weight 0 takes no
            part.

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
            exposure <= 0, weights < 0 or all 0; an array of another length than the data; a
            level of a Poisson or Tweedie model whose rows all have response 0 (its coefficient
            would be -inf); a ``dispersion`` other than None, ``"pearson"`` or a number > 0 (a
            ``TypeError`` for one that is no number).

        TypeError
            If the features are not a FeatureSpec, or both ``sample_weight`` and ``weights``
            are given.

        Warns
        -----
        actnn.DataWarning
            Exposure > 1 (years are expected) and, for Poisson, a response that is not a whole
            number.
        """
        if not isinstance(self.features, FeatureSpec):
            raise TypeError(f"features must be a FeatureSpec, got {type(self.features).__name__}")
        data = X
        started = time.perf_counter()
        self.family_ = get_family(self.family)
        # checked before the fit
        dispersion_method = _glm_tables.dispersion_method(self.dispersion, self.family_)
        self.features_ = self.features.fit(data)
        y, self.response_ = _response_column(data, y, self.family_)
        v, self.exposure_ = _exposure_column(data, exposure)
        self.uses_exposure_ = exposure is not None
        extra, self.offset_ = _offset_column(data, offset)
        self.uses_offset_ = offset is not None
        offset = None if v is None and extra is None else _link_offset(v, extra, len(y))
        w, self.weights_ = _case_weights(data, sample_weight, weights)
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
        self.n_obs_ = int(np.count_nonzero(w_all))
        self.n_params_ = x.shape[1]
        self.df_resid_ = self.n_obs_ - self.n_params_
        self.n_iter_ = sol["n_iter"]
        self.deviance_ = sol["deviance"]
        self.null_deviance_ = irls(
            x[:, :1], y, self.family_, offset=offset, weights=w, tol=self.tol
        )["deviance"]
        self.dispersion_method_ = dispersion_method
        if dispersion_method == "pearson":
            pearson = np.sum(w_all * (y - mu) ** 2 / self.family_.unit_variance(mu))
            self.dispersion_ = float(pearson / self.df_resid_)
        else:
            self.dispersion_ = 1.0 if self.dispersion is None else float(self.dispersion)
        self.exposure_total_ = None if v is None else float(np.sum(v[w_all > 0]))
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
        self._check_network_agrees()
        return {k: v for k, v in self.__dict__.items() if k != "_keras_model"}

    # ------------------------------------------------------------------ the network's weights
    def _network_coef(self) -> np.ndarray | None:
        """The coefficients held by the built network (intercept first), None if not built."""
        model = getattr(self, "_keras_model", None)
        if model is None:
            return None
        kernel, bias = model.get_layer("linear_predictor").get_weights()
        return np.concatenate([bias, kernel[:, 0]]).astype(np.float64)

    def _check_network_agrees(self) -> None:
        """A RuntimeError if ``keras_model_`` was trained away from ``coef_``."""
        coef = self._network_coef()
        if coef is None or np.array_equal(coef, self.coef_.to_numpy()):
            return
        change = np.max(np.abs(coef - self.coef_.to_numpy()))
        raise RuntimeError(
            "the Keras network of this GLM (keras_model_) was trained further: its weights "
            f"differ from coef_ (by up to {change:.3g}), so predict, linear_predictor, "
            "coef_table, relativities and save would not describe it. Call "
            "glm.update_from_network() to take its weights as the coefficients (their standard "
            "errors and fit statistics become NaN), or glm.reset_network() to set the network "
            "back to coef_"
        )

    def update_from_network(self) -> GLM:
        """Take the coefficients from ``keras_model_``, e.g. after training it further with Keras.

        ``coef_`` becomes the network's weights (kernel and bias of ``linear_predictor``). The
        statistics of the maximum-likelihood fit no longer apply to them: ``bse_``,
        ``cov_params_``, ``deviance_``, ``dispersion_`` and ``aic_`` become NaN (so do the
        standard errors, z- and p-values of :meth:`coef_table` and :meth:`relativities`).
        Nothing changes if the weights are the coefficients. Returns self.
        """
        self._check_fitted()
        coef = self._network_coef()
        if coef is None or np.array_equal(coef, self.coef_.to_numpy()):
            return self
        terms = self.coef_.index
        self.coef_ = pd.Series(coef, index=terms, name="coef")
        self.bse_ = pd.Series(np.nan, index=terms, name="std_error")
        self.cov_params_ = pd.DataFrame(np.nan, index=terms, columns=terms)
        self.deviance_ = self.dispersion_ = self.aic_ = float("nan")
        return self

    def reset_network(self) -> GLM:
        """Set the weights of ``keras_model_`` back to ``coef_`` (undo training it further).

        Returns self.
        """
        self._check_fitted()
        if getattr(self, "_keras_model", None) is not None:
            coef = self.coef_.to_numpy()
            layer = self._keras_model.get_layer("linear_predictor")
            layer.set_weights([coef[1:, None], coef[:1]])
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
            raise NotFittedError("this GLM is not fitted yet: call fit(X, y, ...) first")

    def design_matrix(self, data: pd.DataFrame, *, unseen: str = "error") -> np.ndarray:
        """The design matrix of ``data`` (without intercept), as the network's ``"x"`` input.

        ``unseen``: see :meth:`predict`.
        """
        self._check_fitted()
        return self.features_.design_matrix(data, unseen=unseen)

    def _offset(self, data: pd.DataFrame, exposure: Any, offset: Any) -> np.ndarray:
        """``log(exposure) + offset`` of ``data`` (defaults: the columns named at fit)."""
        v = _predict_exposure(self, data, exposure)
        return _link_offset(v, _predict_offset(self, data, offset), len(data))

    def network_inputs(
        self,
        data: pd.DataFrame,
        *,
        exposure: str | np.ndarray | None = None,
        offset: str | np.ndarray | None = None,
        unseen: str = "error",
    ) -> dict[str, np.ndarray]:
        """The dict of inputs the Keras network takes for ``data``."""
        x = self.design_matrix(data, unseen=unseen)
        return {"x": x, "offset": self._offset(data, exposure, offset)[:, None]}

    def predict(
        self,
        data: pd.DataFrame,
        *,
        exposure: str | np.ndarray | None = None,
        offset: str | np.ndarray | None = None,
        unseen: str = "error",
    ) -> np.ndarray:
        """Expected response ``mu = exp(x @ beta + offset)``.

        For a model fitted with exposure these are expected claim counts,
        ``mu = exposure * frequency``; the exposure is the column named at fit unless given,
        and so is the further ``offset`` (log scale) of a model fitted with one. Further columns
        of ``data`` are ignored.

        ``unseen`` says what to do with a row that has no level of a categorical feature (a
        level not seen at fit): ``"error"`` (default) raises a ``ValueError`` naming the
        column, the rows and the fitted levels; ``"reference"`` predicts the row at the
        feature's reference level (relativity 1) and warns (:class:`~actnn.DataWarning`)
        naming the same. A numeric value outside the range seen at fit is priced at the
        nearest end of the range, with a DataWarning naming the column, the rows and the
        range. Every model kind follows these rules (docs/models.md).

        A prediction that is not a finite number > 0 (``exp(eta)`` overflows above
        ``eta = 709.78``, e.g. for a numeric feature far outside the learning data's range) is a
        ``ValueError`` naming the rows, their ``eta`` and the largest term of each.

        The computation is the network's (``keras_model_``), in float64 with NumPy: the
        linear predictor ``x @ beta[1:] + beta[0]``, plus the offset, then ``exp``.
        """
        self._check_fitted()
        self._check_network_agrees()
        inputs = self.network_inputs(data, exposure=exposure, offset=offset, unseen=unseen)
        x = np.asarray(inputs["x"], dtype=np.float64)
        coef = self.coef_.to_numpy()
        eta = (x @ coef[1:] + coef[0]) + inputs["offset"][:, 0]
        with np.errstate(over="ignore", under="ignore"):  # overflow: the error of _check_mu
            mu = np.exp(eta)
        return _check_mu(mu, lambda rows: eta[rows], lambda rows: self._largest_terms(x[rows]))

    def _term_columns(self) -> dict[str, str]:
        """The data column of each term (``"(Intercept)"`` for the intercept)."""
        columns = {t: f.column for f in self.features_.features for t in f.terms}
        return {_INTERCEPT: _INTERCEPT, **columns}

    def _largest_terms(self, x: np.ndarray) -> list[str]:
        """For each row of the design matrix ``x``: the term adding most to ``|eta|``."""
        terms = self.features_.terms
        if not terms:
            return [""] * len(x)
        column_of = self._term_columns()
        contributions = x * self.coef_.to_numpy()[1:]
        notes = []
        for row, j in enumerate(np.argmax(np.abs(contributions), axis=1)):
            notes.append(
                f"largest term {terms[j]!r} (column {column_of[terms[j]]!r}) = "
                f"{x[row, j]:.6g}, adding {contributions[row, j]:.6g} to eta"
            )
        return notes

    def predict_frequency(self, data: pd.DataFrame, *, unseen: str = "error") -> np.ndarray:
        """Expected claims per unit of exposure, ``exp(eta)`` without ``log(exposure)``.

        A further offset of the fit is included (its column is read from ``data``).
        ``unseen``: see :meth:`predict`.
        """
        ones = np.ones(len(data)) if self.uses_exposure_ else None
        return self.predict(data, exposure=ones, unseen=unseen)

    def linear_predictor(
        self,
        data: pd.DataFrame,
        *,
        exposure: str | np.ndarray | None = None,
        offset: str | np.ndarray | None = None,
        unseen: str = "error",
    ) -> np.ndarray:
        """``eta = log(mu)``, including ``log(exposure)`` and the offset, from the coefficients.

        ``exposure``, ``offset``, ``unseen``: see :meth:`predict`.
        """
        self._check_fitted()
        self._check_network_agrees()
        coef = self.coef_.to_numpy()
        x = self.design_matrix(data, unseen=unseen)
        return coef[0] + x @ coef[1:] + self._offset(data, exposure, offset)

    # ------------------------------------------------------------------ tables
    def coef_table(self, *, alpha: float = 0.05) -> pd.DataFrame:
        """Coefficients with standard errors, Wald statistics, p-values and confidence intervals.

        Columns: ``term``, ``feature`` (the data column, ``"(Intercept)"`` for the
        intercept), ``estimate``, ``std_error``, ``z_value`` (``t_value`` where the dispersion
        is estimated), ``p_value`` (two-sided), ``ci_lower``, ``ci_upper`` (the ``1 - alpha``
        confidence interval ``estimate -/+ q std_error``).

        Where the dispersion is estimated (Gamma and Tweedie, or ``dispersion="pearson"``) the
        statistic ``estimate / std_error`` is compared with Student's t with ``df_resid_``
        degrees of freedom, where it is fixed (Poisson) with the normal distribution, as R's
        ``summary.glm`` and ``confint.default``; ``q`` is the matching ``1 - alpha/2``
        quantile.
        """
        self._check_fitted()
        self._check_network_agrees()
        return _glm_tables.coef_table(self, alpha)

    def relativities(self, *, alpha: float = 0.05) -> pd.DataFrame:
        """The tariff: a multiplicative relativity per level of each feature.

        Columns: ``feature`` (the data column, e.g. ``"DrivAge"`` for the classes of a
        ``Binned("DrivAge", ..., name="DrivAgeGLM")``), ``level``, ``term`` (the
        coefficient's name), ``coefficient``, ``relativity`` (= ``exp(coefficient)``),
        ``std_error`` (of the coefficient: on the log scale), ``relativity_lower``,
        ``relativity_upper`` (the ``1 - alpha`` confidence interval of the relativity, ``exp``
        of the coefficient's, see :meth:`coef_table`), ``is_reference``. Reference levels have
        coefficient 0, relativity 1 and standard error 0; a continuous feature has one row per
        term, the relativity per unit. The base level (intercept) is the first row.
        """
        self._check_fitted()
        self._check_network_agrees()
        return _glm_tables.relativities(self, alpha)

    def summary(self, *, alpha: float = 0.05) -> GLMSummary:
        """The fit at a glance, as statsmodels' ``results.summary()``: text and HTML.

        A header (model, family, link, observations, total exposure, the response, exposure
        and weights columns, deviance and null deviance, the dispersion and how it was
        obtained, residual degrees of freedom, AIC, IRLS iterations) over the coefficient
        table of :meth:`coef_table` with its ``1 - alpha`` confidence intervals. ``print`` it
        for text; a notebook shows its HTML.
        """
        self._check_fitted()
        return GLMSummary(self, alpha=alpha)

    def _repr_html_(self) -> str:
        return glm_html(self)

    def save(self, path: str | Path, *, overwrite: bool = False) -> Path:
        """Save the fitted GLM to the directory ``path``, read back by :func:`actnn.load_model`.

        See :func:`actnn.persistence.save_model` for the layout and ``overwrite``.
        """
        from .persistence import save_model  # persistence imports this module

        self._check_network_agrees()
        return save_model(self, path, overwrite=overwrite)

    def __repr__(self) -> str:
        state = f"fitted, {self.n_params_} parameters" if hasattr(self, "coef_") else "not fitted"
        return f"GLM({self.features.name or 'features'}, family={self.family!r}; {state})"
