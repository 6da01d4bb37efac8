"""Every check of users' data, shared by the models, the metrics, the loaders, streaming and the
CLI.

An error or :class:`DataWarning` names the column, the number of offending rows and the first of
them, ``column 'x': 2 rows have text that is not a number (first: row 3 = 'abc', row 5 = 'abc')``.
Rows are positions counted from 0 (row 0 is the first data line of a file); a frame whose index is
not ``0, 1, ..., n-1`` also shows each row's index label.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = []


class DataWarning(UserWarning):
    """Data that is valid but suspicious; actnn goes on, and the message names the rows.

    Issued for exposures above one year, non-integer responses of a Poisson model, category
    levels predicted at the reference level (``unseen="reference"``) and claim records that match
    no policy. Silence them with ``warnings.filterwarnings("ignore", category=DataWarning)``.
    """


#: The folder of the actnn package: a warning points at the first frame outside it.
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _warn(message: str, category: type[Warning] = DataWarning) -> None:
    """``warnings.warn`` pointed at the user's line: the first frame outside the actnn package.

    The stack level is found by walking the stack (as ``skip_file_prefixes`` of Python 3.12
    does), so the warning names the user's file and line however deep in actnn it is raised.
    """
    frame, level = sys._getframe(1), 2
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


def _default_index(index: pd.Index) -> bool:
    return isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1


def _first_rows(bad: np.ndarray, values: pd.Series | np.ndarray, k: int = 5) -> str:
    """``"row 3 = 'abc', row 7 = nan, ..."``: the first ``k`` rows where ``bad`` is True.

    Rows are positions counted from 0; for a Series whose index is not ``0, 1, ..., n-1`` each row
    also shows its index label.
    """
    rows = np.flatnonzero(bad)
    if isinstance(values, pd.Series):
        shown = values.iloc[rows[:k]]
        labels = None if _default_index(values.index) else shown.index.tolist()
        shown = shown.tolist()
    else:
        shown, labels = np.asarray(values)[rows[:k]].tolist(), None
    parts = [
        f"row {row}{'' if labels is None else f' (index {labels[i]!r})'} = {value!r}"
        for i, (row, value) in enumerate(zip(rows[:k].tolist(), shown, strict=True))
    ]
    return ", ".join(parts) + (", ..." if rows.size > k else "")


def _rows_message(label: str, bad: np.ndarray, values: pd.Series | np.ndarray, what: str) -> str:
    """``"<label>: n rows have <what> (first: row i = v, ...)"``, for the rows where ``bad``."""
    return _count_message(label, int(np.count_nonzero(bad)), what, _first_rows(bad, values))


def _count_message(label: str, n: int, what: str, first: str) -> str:
    have = "row has" if n == 1 else "rows have"
    return f"{label}: {n:,} {have} {what} (first: {first})"


class _RowTally:
    """Rows with a problem, counted over the chunks of a pass over shards (streaming).

    ``add`` takes each chunk's mask and values with the place of its first row; ``message`` is
    the one :func:`_rows_message` would give for all the rows at once, the rows named by their
    shard and their position in it.
    """

    def __init__(self, what: str, k: int = 5):
        self.what, self.k = what, k
        self.n = 0
        self.first: list[str] = []

    def add(self, bad: np.ndarray, values: np.ndarray, shard: str, first_row: int) -> None:
        rows = np.flatnonzero(bad)
        self.n += rows.size
        for row in rows[: self.k - len(self.first)]:
            self.first.append(f"{shard} row {first_row + int(row)} = {values[row].item()!r}")

    def message(self, label: str) -> str | None:
        """The message for the rows counted, None if there are none."""
        if not self.n:
            return None
        first = ", ".join(self.first) + (", ..." if self.n > len(self.first) else "")
        return _count_message(label, self.n, self.what, first)


def _numeric_problems(values: pd.Series, label: str) -> tuple[np.ndarray, list[str]]:
    """The values as float64, and one message per kind of bad row: missing, text, infinite."""
    if pd.api.types.is_numeric_dtype(values.dtype):
        x = values.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        text = pd.Series(values.to_numpy(dtype=object))
        x = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    missing = values.isna().to_numpy()
    checks = [
        (missing, "no value (NaN)"),
        (np.isnan(x) & ~missing, "text that is not a number"),
        (np.isinf(x), "an infinite value"),
    ]
    return x, [_rows_message(label, bad, values, what) for bad, what in checks if bad.any()]


def _numeric_values(values: pd.Series, label: str) -> np.ndarray:
    """The values as finite float64, or a ValueError naming the missing, text and infinite rows."""
    x, problems = _numeric_problems(values, label)
    if problems:
        raise ValueError("; ".join(problems))
    return x


def _positive(arr: np.ndarray, what: str, values: pd.Series | None = None) -> np.ndarray:
    """``arr`` if every value is > 0, else a ValueError naming the rows (``values`` to show)."""
    bad = arr <= 0
    if bad.any():
        shown = arr if values is None else values
        raise ValueError(f"{_rows_message(what, bad, shown, 'a value <= 0')}; it must be > 0")
    return arr


#: What the exposure warnings say the rows have, and what they add.
OVER_ONE = "a value > 1"
_OVER_ONE_NOTE = (
    "; exposure is usually in years, and a policy period is at most one year: check the units"
)


def _warn_exposure_over_one(v: np.ndarray, what: str, values: pd.Series | None = None) -> None:
    """A DataWarning naming the rows with an exposure above one year."""
    over = v > 1.0
    if over.any():
        message = _rows_message(what, over, v if values is None else values, OVER_ONE)
        _warn(message + _OVER_ONE_NOTE)


def _warn_tally_of_exposure_over_one(tally: _RowTally, label: str) -> None:
    """The warning of :func:`_warn_exposure_over_one`, for the rows counted over a pass."""
    message = tally.message(label)
    if message is not None:
        _warn(message + _OVER_ONE_NOTE)


def _repeated_columns(df: pd.DataFrame, columns: list[str]) -> list[str]:
    """The names among ``columns`` that occur more than once in ``df``."""
    return [c for c in columns if np.count_nonzero(df.columns == c) > 1]


def _check_frame(df: object, argument: str) -> None:
    """A TypeError unless ``df`` is a pandas DataFrame; a polars or pyarrow table is named, with
    the call that converts it (actnn works on pandas frames and does not convert silently)."""
    if isinstance(df, pd.DataFrame):
        return
    kind = type(df).__name__
    library = type(df).__module__.split(".")[0]
    if library in ("polars", "pyarrow"):
        how = ".collect().to_pandas()" if kind == "LazyFrame" else ".to_pandas()"
        raise TypeError(
            f"{argument} must be a pandas DataFrame, got a {library} {kind}: convert it with "
            f"{argument}{how} (pandas with pyarrow keeps the column types)"
        )
    raise TypeError(f"{argument} must be a pandas DataFrame, got {kind}")


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


# ---------------------------------------------------------------------------------- validation
def _arrays(**arrays: npt.ArrayLike | None) -> list[np.ndarray | None]:
    """The arguments as finite 1-D float64 arrays of equal length (``None`` stays ``None``).

    The first argument that is not ``None`` sets the length the others must have.
    """
    out: list[np.ndarray | None] = []
    ref_name, ref_len = None, 0
    for name, value in arrays.items():
        if value is None:
            out.append(None)
            continue
        try:
            arr = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError) as err:
            arr = np.asarray(value, dtype=object)  # text among numbers: named below, by row
            if arr.ndim == 0:
                message = f"{name} must be numeric, got {type(value).__name__} ({err})"
                raise TypeError(message) from None
        if arr.ndim == 2 and arr.shape[1] == 1:  # (n, 1) output of a Keras model
            arr = arr[:, 0]
        if arr.ndim != 1:
            raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
        if arr.size == 0:
            raise ValueError(f"{name} is empty")
        if ref_name is None:
            ref_name, ref_len = name, arr.size
        elif arr.size != ref_len:
            raise ValueError(f"{name} has length {arr.size} but {ref_name} has length {ref_len}")
        arr, problems = _numeric_problems(pd.Series(arr, copy=False), name)
        if problems:
            raise ValueError("; ".join(problems))
        out.append(arr)
    return out


def _volume(arr: np.ndarray | None, name: str, n: int) -> np.ndarray:
    """Weights or exposure: ones when not given, otherwise checked to be > 0."""
    return np.ones(n) if arr is None else _positive(arr, name)


def _column_values(df: pd.DataFrame, column: str) -> np.ndarray:
    """The column as float64, or a ValueError naming the missing, text and infinite rows."""
    return _numeric_values(df[column], f"column {column!r}")


def _check_no_missing(values: pd.Series, column: str) -> None:
    """A ValueError naming the rows of ``values`` that have no value (NaN)."""
    missing = values.isna().to_numpy()
    if missing.any():
        raise ValueError(_rows_message(f"column {column!r}", missing, values, "no value (NaN)"))


#: What predicting does with a row that has no level of a feature (see FeatureSpec.design_matrix).
_UNSEEN = ("error", "reference")


def _check_unseen(unseen: str) -> None:
    """A ValueError unless ``unseen`` is one of :data:`_UNSEEN`."""
    if unseen not in _UNSEEN:
        raise ValueError(f"unseen must be one of {_UNSEEN}, got {unseen!r}")


#: How many items an error or warning lists before it says how many more there are.
MAX_LISTED = 10


def _listed(
    items: Sequence[Any], what: str, *, limit: int = MAX_LISTED, separator: str = ", "
) -> str:
    """The items joined, or ``"132 <what>, first 10: a, ..., j"`` when there are more."""
    shown = [str(item) for item in items[:limit]]
    if len(items) <= limit:
        return separator.join(shown)
    return f"{len(items):,} {what}, first {limit}: " + separator.join(shown)
