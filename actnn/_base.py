"""The fit preamble shared by all models: the response, exposure, offset and case weights,
checked for the family; and how prediction finds the exposure and offset of the fit.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ._validation import (
    _column,
    _label,
    _positive,
    _rows_message,
    _warn,
    _warn_exposure_over_one,
)
from .families import Family, Poisson

__all__ = []


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
            _warn_not_whole(_rows_message(label, fraction, y, NOT_WHOLE))
    return y, name


#: What the Poisson family's warning says the rows have.
NOT_WHOLE = "a value that is not a whole number"


def _warn_not_whole(rows_message: str) -> None:
    """The DataWarning of a Poisson response that is not a whole number on some rows."""
    _warn(
        f"{rows_message}; the Poisson family is for claim counts. The fit goes on as a "
        "quasi-Poisson fit (the coefficients and predictions are valid, the AIC is not)"
    )


def _exposure_column(data: pd.DataFrame, exposure: Any) -> tuple[np.ndarray | None, str | None]:
    """The exposure (a column name, an array or None): values > 0 and name; > 1 is warned of."""
    if exposure is None:
        return None, None
    v, name = _column(data, exposure, "exposure")
    label = _label("exposure", name)
    _positive(v, label)
    _warn_exposure_over_one(v, label)
    return v, name


def _offset_column(data: pd.DataFrame, offset: Any) -> tuple[np.ndarray | None, str | None]:
    """The offset on the log scale (a column name, an array or None): finite values and name."""
    if offset is None:
        return None, None
    return _column(data, offset, "offset")


def _weights_column(data: pd.DataFrame, weights: Any) -> tuple[np.ndarray | None, str | None]:
    """The case weights (a column name, an array or None): values >= 0, one > 0, and name.

    A row of weight 0 takes no part in a fit (as in R's ``glm``).
    """
    if weights is None:
        return None, None
    w, name = _column(data, weights, "weights")
    label = _label("weights", name)
    negative = w < 0
    if negative.any():
        raise ValueError(f"{_rows_message(label, negative, w, 'a value < 0')}; it must be >= 0")
    if not (w > 0).any():
        raise ValueError(f"{label}: every row has weight 0; at least one must be > 0")
    return w, name


def _case_weights(
    data: pd.DataFrame, sample_weight: Any, weights: Any
) -> tuple[np.ndarray | None, str | None]:
    """The case weights given as ``sample_weight`` (scikit-learn's name) or ``weights``."""
    if sample_weight is not None and weights is not None:
        raise TypeError(
            "pass the case weights once: sample_weight (scikit-learn's name) or weights, not both"
        )
    return _weights_column(data, weights if sample_weight is None else sample_weight)


def _predict_exposure(model: Any, data: pd.DataFrame, exposure: Any) -> np.ndarray | None:
    """The exposure to predict ``data`` with: as given, else the column named at fit."""
    return _exposure_column(data, _of_fit(model, data, exposure, "exposure"))[0]


def _predict_offset(model: Any, data: pd.DataFrame, offset: Any) -> np.ndarray | None:
    """The offset to predict ``data`` with: as given, else the column named at fit."""
    return _offset_column(data, _of_fit(model, data, offset, "offset"))[0]


def _of_fit(model: Any, data: pd.DataFrame, given: Any, role: str) -> Any:
    """``given``, else the column the model's fit named for ``role`` (``"exposure"`` or
    ``"offset"``): a ValueError if the model was fitted with one that ``data`` lacks."""
    if given is not None or not getattr(model, f"uses_{role}_", False):
        return given
    name = getattr(model, f"{role}_")
    if name is None or name not in data.columns:
        hint = ", or use predict_frequency for claims per unit of exposure"
        raise ValueError(
            f"this model was fitted with an {role}: pass {role}=... (a column or an array)"
            + (hint if role == "exposure" else "")
        )
    return name


def _link_offset(exposure: np.ndarray | None, offset: np.ndarray | None, n: int) -> np.ndarray:
    """``log(exposure) + offset`` on the link scale (a missing part counts 0)."""
    total = np.zeros(n) if exposure is None else np.log(exposure)
    return total if offset is None else total + offset
