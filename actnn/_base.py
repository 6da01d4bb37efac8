"""The fit preamble shared by all models: the response, exposure and case weights, checked for the
family.
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


def _weights_column(data: pd.DataFrame, weights: Any) -> tuple[np.ndarray | None, str | None]:
    """The case weights (a column name, an array or None): values > 0 and name."""
    if weights is None:
        return None, None
    w, name = _column(data, weights, "weights")
    return _positive(w, _label("weights", name)), name
