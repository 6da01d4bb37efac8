"""What predicting does with data not seen in fitting, the same for every model kind.

A level of a categorical feature that the learning data did not have is handled by the
``unseen`` option of ``predict``: ``"error"`` (default), a ``ValueError`` naming the column, the
rows, the levels and the fitted levels; ``"reference"``, the feature's reference level with a
:class:`~actnn.DataWarning` naming the same.

A value of a numeric feature outside the range ``[min, max]`` seen in fitting (of its values
after the feature's mapping, caps and log) is priced at the nearest end of the range (a
``Binned`` feature: the nearest class seen) with a :class:`~actnn.DataWarning` naming the column,
the rows and the range, whatever ``unseen`` says: such values are ordinary in a test set or a
cross-validation fold, and a model has no evidence beyond the range. To refuse them, make the
warning an error: ``warnings.filterwarnings("error", category=actnn.DataWarning)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ._validation import _check_no_missing, _check_unseen, _rows_message, _warn

__all__ = []


def _level_codes(
    values: pd.Series, levels: Sequence[Any], column: str, *, unseen: str, reference: Any
) -> np.ndarray:
    """Integer codes of ``values`` in ``levels``; missing values are an error naming the rows,
    levels not in ``levels`` too, or with ``unseen="reference"`` the code of ``reference``."""
    _check_no_missing(values, column)
    index = pd.Index(list(levels), dtype=object)
    if isinstance(values.dtype, pd.CategoricalDtype):
        # map the few categories, then index by the integer codes
        codes = index.get_indexer(values.cat.categories.astype(object))[values.cat.codes.to_numpy()]
    else:
        row_codes, distinct = pd.factorize(values)  # each distinct value looked up once
        codes = index.get_indexer(pd.Index(distinct).astype(object))[row_codes]
    bad = codes < 0
    if not bad.any():
        return codes
    new = sorted({repr(v) for v in values[bad].tolist()})
    detail = (
        f"; levels not seen: {', '.join(new[:10])}{', ...' if len(new) > 10 else ''}; "
        f"fitted levels: {', '.join(map(repr, levels[:20]))}{', ...' if len(levels) > 20 else ''}"
    )
    what = "a level not seen when the features were fitted"
    return _without_level(codes, bad, values, column, what, detail, unseen, levels, reference)


def _without_level(
    codes: np.ndarray,
    bad: np.ndarray,
    values: pd.Series | np.ndarray,
    column: str,
    what: str,
    detail: str,
    unseen: str,
    levels: Sequence[Any],
    reference: Any,
) -> np.ndarray:
    """Rows that have no level of a feature: a ValueError, or (``unseen="reference"``) the
    reference level's code with a DataWarning; both name the column and the rows."""
    _check_unseen(unseen)
    message = _rows_message(f"column {column!r}", bad, values, what) + detail
    if unseen == "error":
        raise ValueError(
            f"{message}. With unseen='reference', predict encodes such rows as the reference "
            f"level {reference!r}"
        )
    _warn(f"{message}; encoded as the reference level {reference!r} (unseen='reference')")
    return np.where(bad, list(levels).index(reference), codes)


def _fitted_range(x: np.ndarray) -> tuple[float, float]:
    """The range ``(min, max)`` of a numeric feature's values on the learning data."""
    return float(np.min(x)), float(np.max(x))


def _within_range(
    x: np.ndarray,
    fitted_range: tuple[float, float] | None,
    column: str,
    unseen: str,
    where: str = "",
) -> np.ndarray:
    """``x`` if it lies in ``fitted_range`` (or no range was recorded); rows outside it are
    clipped to the range with a DataWarning naming them (``unseen`` is only checked)."""
    if fitted_range is None:
        return x
    low, high = fitted_range
    outside = (x < low) | (x > high)
    if not outside.any():
        return x
    _check_unseen(unseen)
    what = f"a value{where} outside the range seen in fitting [{low:g}, {high:g}]"
    message = _rows_message(f"column {column!r}", outside, x, what)
    _warn(f"{message}; priced at the nearest end of the range")
    return np.clip(x, low, high)
