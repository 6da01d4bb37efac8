"""scikit-learn's estimator contract, shared by :class:`~actnn.GLM`, the networks and
:class:`~actnn.Nagging`.

:class:`_Estimator` derives from scikit-learn's ``BaseEstimator``: ``get_params`` and
``set_params`` read the constructor's parameters, so ``clone``, ``GridSearchCV`` and ``Pipeline``
work, and with metadata routing enabled ``set_fit_request``, ``set_predict_request`` and
``set_score_request`` route ``exposure``, ``offset`` and ``sample_weight``. ``score`` is D², the
share of the null model's deviance that the model explains, by the model's own deviance.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import NotFittedError as _SklearnNotFittedError
from sklearn.utils.metadata_routing import UNUSED

from ._base import _case_weights, _link_offset, _predict_exposure, _predict_offset, _response_column
from ._irls import irls
from .families import Family

__all__ = []


class NotFittedError(_SklearnNotFittedError, RuntimeError):
    """A model used before :meth:`fit`: scikit-learn's ``NotFittedError`` and a RuntimeError."""


class _Estimator(RegressorMixin, BaseEstimator):
    """A scikit-learn regressor on a DataFrame whose ``score`` is D² by the model's deviance."""

    # the data and the option for unseen levels are not metadata that a router passes
    __metadata_request__predict = {"data": UNUSED, "unseen": UNUSED}  # noqa: RUF012

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, str]:
        """actnn's own displays (``__repr__``, ``_repr_html_``), not scikit-learn's diagram.

        IPython asks for this bundle before ``_repr_html_``; scikit-learn's would show the
        estimator diagram, which says little of a fitted actnn model.
        """
        return {"text/plain": repr(self), "text/html": self._repr_html_()}

    def _fitted_model(self) -> Any:
        """The fitted model holding ``family_`` and the exposure and offset of the fit."""
        return self

    def score(
        self,
        X: pd.DataFrame,
        y: str | np.ndarray,
        *,
        exposure: str | np.ndarray | None = None,
        offset: str | np.ndarray | None = None,
        sample_weight: str | np.ndarray | None = None,
        weights: str | np.ndarray | None = None,
    ) -> float:
        """D², the share of the null model's deviance explained: ``1 - D(y, mu) / D(y, mu_0)``.

        Parameters
        ----------
        X : pandas.DataFrame
            Data with the feature columns.
        y : str or array
            Response column or values (claim counts for a frequency model).
        exposure, offset : str or array, optional
            As in :meth:`predict` (defaults: the columns named at fit).
        sample_weight, weights : str or array, optional
            Case weights (one of the two names), >= 0.

        Returns
        -------
        float
            ``D`` is the family's deviance of the predictions ``mu``, weighted; ``mu_0`` is the
            null model fitted on ``(X, y)``: one intercept with the same exposure and offset
            (for Poisson ``mu_0 = exposure * sum w y / sum w exposure``; without exposure and
            offset the weighted mean, as :func:`sklearn.metrics.d2_tweedie_score`). On the
            learning data of a GLM it is ``1 - deviance_ / null_deviance_``. 1 is a perfect
            fit, 0 no better than the null model; it can be negative.
        """
        model = self._fitted_model()
        family: Family = model.family_
        values, _ = _response_column(X, y, family)
        w, _ = _case_weights(X, sample_weight, weights)
        exposure_values = _predict_exposure(model, X, exposure)
        offset_values = _predict_offset(model, X, offset)
        mu = self.predict(X, exposure=exposure_values, offset=offset_values)
        eta_0 = _link_offset(exposure_values, offset_values, len(values))
        null = irls(np.ones((len(values), 1)), values, family, offset=eta_0, weights=w)
        return 1.0 - family.deviance(values, mu, w) / null["deviance"]
