"""One pass over the shards: the network inputs' statistics and a sample for the CANN's GLM."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._base import NOT_WHOLE
from .._utils import Progress, _say
from .._validation import (
    OVER_ONE,
    _column,
    _positive,
    _RowTally,
    _warn_tally_of_exposure_over_one,
)
from ..inputs import NetworkInputs
from .shards import CHUNK_ROWS, Shards, _case_weights, _Shard, _shard_columns, list_shards

__all__ = ["StreamSummary", "fit_inputs_streaming", "sample_shards"]


@dataclass(frozen=True)
class StreamSummary:
    """What one pass over the shards found: the fitted inputs and the portfolio's totals.

    Attributes
    ----------
    inputs : NetworkInputs
        Fitted on all the rows; equal to ``inputs.fit(portfolio)``.
    shards : tuple of Path
        The shards read.
    rows : tuple of int
        Rows per shard.
    response, exposure, weights : str or None
        The columns summed.
    sum_response, sum_exposure, sum_weights : float
        ``sum w y``, ``sum w exposure`` and ``sum w`` (``w = 1`` without weights; without
        exposure ``sum_exposure == sum_weights``).
    response_not_whole : str or None
        The rows whose response is not a whole number, as the in-memory fit names them; a
        Poisson model's training warns of them (once), as its in-memory fit does.
    """

    inputs: NetworkInputs
    shards: tuple[Path, ...]
    rows: tuple[int, ...]
    response: str | None
    exposure: str | None
    weights: str | None
    sum_response: float
    sum_exposure: float
    sum_weights: float
    response_not_whole: str | None = None

    @property
    def n_rows(self) -> int:
        """Rows of the portfolio."""
        return sum(self.rows)

    @property
    def mean_response(self) -> float:
        """``sum w y / sum w exposure``: the homogeneous model (the portfolio's frequency)."""
        return self.sum_response / self.sum_exposure


class _LevelsSeen:
    """The levels of one categorical feature seen so far, found as ``Categorical.fit`` would."""

    def __init__(self, feature):
        # the reference is checked once, on all the levels: a shard may lack it
        self.feature = dataclasses.replace(feature, reference=None)
        self.present: set[Any] = set()
        self.categories: list[Any] | None = None
        self.all_categorical = True

    def update(self, chunk: pd.DataFrame) -> None:
        self.present.update(self.feature.fit(chunk).levels)
        values = chunk[self.feature.column]
        if self.feature.upper is None and isinstance(values.dtype, pd.CategoricalDtype):
            categories = list(values.cat.categories)
            if self.categories is None:
                self.categories = categories
            elif categories != self.categories:
                self.all_categorical = False
        else:
            self.all_categorical = False

    def levels(self) -> list[Any]:
        # pandas.concat keeps a categorical column only if the categories agree; otherwise the
        # values are objects and Categorical.fit sorts them
        if self.all_categorical and self.categories is not None:
            return [c for c in self.categories if c in self.present]
        return sorted(self.present)


class _Moments:
    """Minimum, maximum, mean and sum of squared deviations per column, merged chunk by chunk."""

    def __init__(self, k: int):
        self.n = 0
        self.low, self.high = np.full(k, np.inf), np.full(k, -np.inf)
        self.mean, self.m2 = np.zeros(k), np.zeros(k)

    def update(self, x: np.ndarray) -> None:
        if not len(x):
            return
        self.low, self.high = (
            np.minimum(self.low, x.min(axis=0)),
            np.maximum(self.high, x.max(axis=0)),
        )
        n, mean = len(x), x.mean(axis=0)
        m2 = ((x - mean) ** 2).sum(axis=0)
        total = self.n + n
        delta = mean - self.mean
        # Chan, Golub & LeVeque's pairwise update of the mean and the squared deviations
        self.m2 = self.m2 + m2 + delta**2 * self.n * n / total
        self.mean = self.mean + delta * n / total
        self.n = total

    @property
    def sd(self) -> np.ndarray:
        return np.sqrt(self.m2 / self.n)


def fit_inputs_streaming(
    inputs: NetworkInputs,
    shards: Shards,
    *,
    response: str | None = None,
    exposure: str | None = None,
    weights: str | None = None,
    chunk_rows: int = CHUNK_ROWS,
    csv_dtype: Mapping[str, Any] | None = None,
    progress: Progress | None = None,
) -> StreamSummary:
    """Fit the network inputs on all the shards' rows, reading each shard once.

    Parameters
    ----------
    inputs : NetworkInputs
        The inputs to fit (fitted ones are refitted).
    shards : path, glob pattern or sequence
        See :func:`list_shards`.
    response, exposure, weights : str, optional
        Columns to check (finite; exposure and weights > 0) and sum for the start of the
        network; the response is needed by :func:`train_streaming`. An exposure above 1 is
        warned of once for the pass (:class:`~actnn.DataWarning`, the first rows named by
        shard), as an in-memory fit warns of it.
    chunk_rows, csv_dtype
        See :func:`read_shard`.
    progress : callable, optional
        Called with a line per shard.

    Returns
    -------
    StreamSummary
        ``summary.inputs`` equals ``inputs.fit(portfolio)`` of the rows of all shards (for
        ``scaling="standard"`` up to rounding: the moments are merged chunk by chunk).

    Notes
    -----
    The levels of a categorical feature are found as :meth:`actnn.features.Categorical.fit`
    finds them on the concatenated shards: in the categories' order if the column is
    categorical with the same categories in every chunk (Parquet written from a categorical
    column), sorted otherwise (CSV without ``csv_dtype``).
    """
    if not isinstance(inputs, NetworkInputs):
        raise TypeError(f"inputs must be NetworkInputs, got {type(inputs).__name__}")
    paths = list_shards(shards)
    named = {"response": response, "exposure": exposure, "weights": weights}
    columns = inputs.spec.columns + [c for c in named.values() if c is not None]
    levels = {f.label: _LevelsSeen(f) for f in inputs.categorical}
    moments = _Moments(len(inputs.numeric))
    sums = dict.fromkeys(named, 0.0)
    # the warnings of an in-memory fit, given once for the whole pass
    over_one, not_whole = _RowTally(OVER_ONE), _RowTally(NOT_WHOLE)
    rows = []
    for path in paths:
        n = 0
        with _Shard(path) as reader:
            for chunk in reader.chunks(columns, chunk_rows=chunk_rows, csv_dtype=csv_dtype):
                for seen in levels.values():
                    seen.update(chunk)
                moments.update(inputs._raw_numeric(chunk))
                w = _case_weights(chunk, weights)
                for what, column in named.items():
                    if column is not None and what != "weights":
                        values, _ = _column(chunk, column, what)
                        if what == "exposure":
                            _positive(values, what)
                            over_one.add(values > 1.0, values, path.name, n)
                        else:
                            not_whole.add(values != np.floor(values), values, path.name, n)
                        sums[what] += float(np.sum(w * values))
                sums["weights"] += float(np.sum(w))
                n += len(chunk)
        rows.append(n)
        _say(progress, f"{path}: {n:,} rows")
    if not sum(rows):
        raise ValueError(f"the shards hold no rows: {[str(p) for p in paths]}")
    _warn_tally_of_exposure_over_one(over_one, f"exposure column {exposure!r}")
    fitted = inputs.fit_from_statistics(
        {label: seen.levels() for label, seen in levels.items()},
        low=moments.low,
        high=moments.high,
        mean=moments.mean,
        sd=moments.sd,
    )
    return StreamSummary(
        inputs=fitted,
        shards=tuple(paths),
        rows=tuple(rows),
        response=response,
        exposure=exposure,
        weights=weights,
        sum_response=sums["response"],
        sum_exposure=sums["exposure"] if exposure is not None else sums["weights"],
        sum_weights=sums["weights"],
        response_not_whole=not_whole.message(f"response column {response!r}"),
    )


def sample_shards(
    shards: Shards,
    n: int,
    *,
    seed: int,
    columns: Sequence[str] | None = None,
    chunk_rows: int = CHUNK_ROWS,
    csv_dtype: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """A uniform random sample of ``n`` rows of the shards (all rows if there are fewer).

    Every subset of ``n`` rows is equally likely: each row gets a uniform random key and the
    ``n`` smallest keys are kept, in one pass holding at most ``2 n`` rows and a chunk. The rows
    come in shard order. For fitting a CANN's GLM on a portfolio too large for memory.

    Parameters
    ----------
    shards : path, glob pattern or sequence
        See :func:`list_shards`.
    n : int
        Rows to draw.
    seed : int
        Seed of the keys.
    columns : sequence of str, optional
        Columns to keep (default: all the first shard's columns).
    chunk_rows, csv_dtype
        See :func:`read_shard`.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    paths = list_shards(shards)
    columns = list(columns) if columns is not None else _shard_columns(paths[0])
    rng = np.random.default_rng(seed)
    kept: list[pd.DataFrame] = []
    keys: list[np.ndarray] = []
    threshold, count = np.inf, 0  # the n-th smallest key once n rows were kept

    def smallest(frames: list[pd.DataFrame], keys: list[np.ndarray]):
        frame, all_keys = pd.concat(frames, ignore_index=True), np.concatenate(keys)
        best = np.argpartition(all_keys, n - 1)[:n] if len(all_keys) > n else slice(None)
        return frame.iloc[best], all_keys[best]

    for number, path in enumerate(paths):
        with _Shard(path) as reader:
            for chunk in reader.chunks(columns, chunk_rows=chunk_rows, csv_dtype=csv_dtype):
                chunk_keys = rng.random(len(chunk))
                enter = chunk_keys < threshold
                rows = reader.first_row + np.flatnonzero(enter)
                kept.append(chunk[enter].assign(_shard=number, _row=rows))
                keys.append(chunk_keys[enter])
                count += int(enter.sum())
                if count > 2 * n:  # trim now and then, not at every chunk
                    frame, best_keys = smallest(kept, keys)
                    kept, keys, count = [frame], [best_keys], n
                    threshold = best_keys.max()
    frame, _ = smallest(kept, keys)
    frame = frame.sort_values(["_shard", "_row"], ignore_index=True)
    return frame.drop(columns=["_shard", "_row"])
