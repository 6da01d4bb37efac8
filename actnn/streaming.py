"""Portfolios larger than memory: networks trained and applied on Parquet or CSV shards.

The portfolio lives in shards (files of rows: ``.parquet``, ``.csv`` or ``.csv.gz``) and is read
chunk by chunk, only the columns a step needs; no step holds more than a chunk, a shuffle window
and a batch in memory.

1. :func:`fit_inputs_streaming` reads every shard once and fits the network inputs on the whole
   portfolio (the levels of each categorical feature, the range of each numeric one): the result
   equals ``inputs.fit(portfolio)``. It also sums the response, exposure and weights, which start
   the network at the homogeneous model.
2. A CANN's GLM is fitted in memory on a uniform sample of the rows (:func:`sample_shards`), by
   IRLS as usual. The network part is trained on all the rows and starts at zero, so the CANN
   starts at that GLM and learns whatever the sampled GLM misses.
3. :func:`streaming_dataset` is a ``tf.data`` pipeline: shards in a seeded random order, rows
   shuffled within a window, each chunk turned into the network's inputs by the model itself
   (:meth:`~actnn.networks.FNN.network_inputs`: scaled numeric features, level codes, offset
   ``log(exposure)``, plus the GLM's linear predictor for a CANN), cut into batches, prefetched.
4. :func:`train_streaming` trains an :class:`~actnn.networks.FNN` or :class:`~actnn.networks.CANN`
   on that pipeline with a compiled step, optionally under a ``tf.distribute`` strategy (several
   GPUs or machines; see ``docs/distributed.md``).
5. :func:`iter_predictions` and :func:`write_predictions` apply a fitted model chunk by chunk;
   the predictions are those of :meth:`~actnn.networks.FNN.predict` on the same rows.

Examples
--------
>>> summary = fit_inputs_streaming(
...     sw2019_network_inputs(), "portfolio/", response="ClaimNb", exposure="Exposure"
... )  # doctest: +SKIP
>>> sample = sample_shards(summary.shards, 1_000_000, seed=1)  # doctest: +SKIP
>>> glm = GLM(get_preset("nsw2018_glm1"))  # doctest: +SKIP
>>> glm = glm.fit(sample, "ClaimNb", exposure="Exposure")  # doctest: +SKIP
>>> cann = CANN(glm, sw2019_network_inputs(), epochs=5)  # doctest: +SKIP
>>> history = train_streaming(cann, summary)  # doctest: +SKIP
>>> write_predictions(cann, "test_portfolio/", "predictions/", keep=["IDpol"])  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import dataclasses
import glob
import itertools
import math
import os
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from .glm import GLM, _column, _positive
from .inputs import NetworkInputs
from .networks import CANN, FNN, LocalGLMnet, eta_model
from .reproduce import Progress, _say
from .training import History, TrainingStopped, _record_interrupt

__all__ = [
    "SHARD_SUFFIXES",
    "CHUNK_ROWS",
    "list_shards",
    "read_shard",
    "StreamSummary",
    "fit_inputs_streaming",
    "sample_shards",
    "streaming_dataset",
    "train_streaming",
    "iter_predictions",
    "write_predictions",
]

#: File endings of shards: Parquet (read with pyarrow) and CSV, optionally gzipped (pandas).
SHARD_SUFFIXES: tuple[str, ...] = (".parquet", ".csv", ".csv.gz")

#: Rows per chunk read from a shard.
CHUNK_ROWS = 65_536

# factor of a learning-rate reduction after lr_patience epochs (actnn.training.train's default,
# which the models' fit uses)
_LR_FACTOR = 0.5

PathArg = str | os.PathLike[str]
Shards = PathArg | Sequence[PathArg]
# one block of rows on its way to the network: (input arrays by name, response, weights)
Block = tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]


def _is_shard(path: Path) -> bool:
    return path.name.lower().endswith(SHARD_SUFFIXES)


def list_shards(source: Shards) -> list[Path]:
    """The shard files of ``source``, in a fixed order.

    Parameters
    ----------
    source : path, glob pattern or sequence of them
        A folder (its files ending in one of :data:`SHARD_SUFFIXES`, sorted by name), a glob
        pattern such as ``"data/part-*.parquet"`` (sorted), a file, or a list of these (in the
        list's order).

    Returns
    -------
    list of Path

    Raises
    ------
    ValueError
        If nothing is found, a file is not a shard, or a shard is listed twice.
    """
    if isinstance(source, str | os.PathLike):
        sources: Sequence[PathArg] = [source]
    else:
        sources = source
    paths: list[Path] = []
    for item in sources:
        path = Path(item)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.is_file() and _is_shard(p))
            if not found:
                raise ValueError(f"the folder {path} holds no shards ({', '.join(SHARD_SUFFIXES)})")
        elif path.is_file():
            found = [path]
        elif glob.has_magic(str(item)):
            found = sorted(Path(p) for p in glob.glob(str(item)) if Path(p).is_file())
            if not found:
                raise ValueError(f"no file matches {str(item)!r}")
        else:
            raise ValueError(f"no such file or folder: {path}")
        not_shards = [str(p) for p in found if not _is_shard(p)]
        if not_shards:
            raise ValueError(f"not shards (endings {', '.join(SHARD_SUFFIXES)}): {not_shards}")
        paths += found
    repeated = sorted({str(p) for p in paths if paths.count(p) > 1})
    if repeated:
        raise ValueError(f"shards listed more than once: {repeated}")
    if not paths:
        raise ValueError("no shards given")
    return paths


def _shard_columns(path: Path) -> list[str]:
    if path.name.lower().endswith(".parquet"):
        import pyarrow.parquet as pq

        return list(pq.ParquetFile(path).schema_arrow.names)
    return list(pd.read_csv(path, nrows=0).columns)


def read_shard(
    path: PathArg,
    columns: Sequence[str],
    *,
    chunk_rows: int = CHUNK_ROWS,
    csv_dtype: Mapping[str, Any] | None = None,
) -> Iterator[pd.DataFrame]:
    """The rows of one shard, ``columns`` only, as frames of at most ``chunk_rows`` rows.

    Parquet is read by pyarrow record batch by record batch (a column stored as a dictionary
    becomes a pandas categorical, as with :func:`pandas.read_parquet`); CSV by pandas in chunks,
    with ``csv_dtype`` (e.g. :func:`actnn.schema.categorical_dtype` levels, to read the
    categorical columns as written) for the columns it names.

    Raises
    ------
    ValueError
        If the shard lacks one of ``columns``, naming the file and the columns.
    """
    path = Path(path)
    columns = list(dict.fromkeys(columns))
    present = _shard_columns(path)
    missing = [c for c in columns if c not in present]
    if missing:
        raise ValueError(f"shard {path} lacks the columns {missing}; it has {present}")
    if path.name.lower().endswith(".parquet"):
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(path).iter_batches(batch_size=chunk_rows, columns=columns):
            yield batch.to_pandas()
        return
    dtype = {c: t for c, t in (csv_dtype or {}).items() if c in columns}
    with pd.read_csv(path, usecols=columns, dtype=dtype, chunksize=chunk_rows) as reader:
        yield from (chunk[columns] for chunk in reader)


class _Shard:
    """A shard being read: a ValueError raised inside ``with`` names it and the chunk's rows."""

    def __init__(self, path: Path):
        self.path = path
        self.first_row = 0

    def chunks(self, columns: Sequence[str], **options: Any) -> Iterator[pd.DataFrame]:
        """The chunks of :func:`read_shard`, remembering where each starts."""
        self.first_row = 0
        for chunk in read_shard(self.path, columns, **options):
            yield chunk
            self.first_row += len(chunk)

    def __enter__(self) -> _Shard:
        return self

    def __exit__(self, kind, error, traceback) -> None:
        if kind is None or not issubclass(kind, ValueError) or str(self.path) in str(error):
            return
        where = f"shard {self.path}"
        if self.first_row:
            where += f", rows from {self.first_row:,} on (the row numbers count from there)"
        raise ValueError(f"{where}: {error}") from error


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
        network; the response is needed by :func:`train_streaming`.
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
                        sums[what] += float(np.sum(w * values))
                sums["weights"] += float(np.sum(w))
                n += len(chunk)
        rows.append(n)
        _say(progress, f"{path}: {n:,} rows")
    if not sum(rows):
        raise ValueError(f"the shards hold no rows: {[str(p) for p in paths]}")
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
    )


def _case_weights(chunk: pd.DataFrame, weights: str | None) -> np.ndarray:
    if weights is None:
        return np.ones(len(chunk))
    return _positive(_column(chunk, weights, "weights")[0], "weights")


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


def _check_model(model: Any) -> None:
    if isinstance(model, LocalGLMnet) or not isinstance(model, FNN | CANN):
        raise TypeError(
            f"streaming works with an actnn FNN or CANN, got {type(model).__name__} (a "
            "LocalGLMnet starts at a GLM fitted on all the data: use its fit)"
        )


def _feature_columns(model: FNN | CANN) -> list[str]:
    """The columns that the model's network inputs are computed from."""
    columns = model.inputs_.spec.columns
    if isinstance(model, CANN):
        columns += model.glm.features_.columns
    if model.uses_exposure_:
        columns.append(model.exposure_)
    return list(dict.fromkeys(columns))


def _encode(model: FNN | CANN, chunk: pd.DataFrame, dtypes: dict[str, np.dtype]) -> Block:
    """The network's inputs, response and case weights of the rows of ``chunk``."""
    arrays = model.network_inputs(chunk)
    y, _ = _column(chunk, model.response_, "response")
    y = model.family_.check_response(y, f"response column {model.response_!r}")
    arrays = {k: np.asarray(arrays[k], dtype=dtype) for k, dtype in dtypes.items()}
    return arrays, y[:, None], _case_weights(chunk, model.weights_)[:, None]


def _concat(blocks: Sequence[Block]) -> Block:
    return tf.nest.map_structure(lambda *a: np.concatenate(a), *blocks)


def _rows(block: Block, rows: np.ndarray | slice) -> Block:
    return tf.nest.map_structure(lambda a: a[rows], block)


def _filled(block: Block, rows: int) -> Block:
    """The block with rows of zeros (weight 0) appended up to ``rows`` rows."""
    missing = rows - len(block[1])
    if not missing:
        return block
    return tf.nest.map_structure(
        lambda a: np.concatenate([a, np.zeros((missing, *a.shape[1:]), a.dtype)]), block
    )


def _batches(
    blocks: Iterator[Block],
    batch_size: int,
    group: int,
    window: int,
    rng: np.random.Generator | None,
) -> Iterator[Block]:
    """Re-cut blocks of rows into elements of ``group`` batches of ``batch_size`` rows.

    With ``rng``, the rows are shuffled within windows: once at least ``window`` rows (rounded
    down to whole elements, at least one) are read, they are permuted and as many whole windows
    as they fill are given out; the rest joins the next window. The last element holds what is
    left, filled up with rows of weight 0, so that all elements have the same shape. The
    batches do not depend on ``group`` as long as ``window`` covers the element.
    """
    step = group * batch_size
    fill = max(window // step, 1) * step if rng is not None else step
    pending: list[Block] = []
    count = 0

    def elements(rows: int) -> Iterator[Block]:
        merged = _concat(pending)
        if rng is not None:
            merged = _rows(merged, rng.permutation(count))
        for start in range(0, rows, step):
            yield _filled(_rows(merged, slice(start, min(start + step, rows))), step)
        pending[:] = [_rows(merged, slice(rows, count))]

    for block in blocks:
        pending.append(block)
        count += len(block[1])
        if count >= fill:
            full = count // fill * fill
            yield from elements(full)
            count -= full
    if count:
        yield from elements(count)


def streaming_dataset(
    model: FNN | CANN,
    shards: Shards,
    *,
    batch_size: int | None = None,
    batches_per_element: int = 1,
    shuffle: bool = False,
    shuffle_buffer: int = 200_000,
    seed: int = 0,
    cache: PathArg | None = None,
    chunk_rows: int = CHUNK_ROWS,
    csv_dtype: Mapping[str, Any] | None = None,
    prefetch: int = 4,
) -> tf.data.Dataset:
    """A ``tf.data.Dataset`` of the shards' rows as the model's batches ``(inputs, y, weights)``.

    Parameters
    ----------
    model : FNN or CANN
        Fitted or built (:meth:`~actnn.networks.FNN.build_from_statistics`): its
        :meth:`~actnn.networks.FNN.network_inputs` turn each chunk into the network's input
        dict (``offset`` is ``log(exposure)``, plus the GLM's linear predictor in a CANN).
    shards : path, glob pattern or sequence
        See :func:`list_shards`; the shards need the model's feature, exposure, response and
        weights columns.
    batch_size : int, optional
        Rows per batch (default the model's).
    batches_per_element : int
        Consecutive batches given as one element (for a training function that loops over
        them); the batches do not depend on it.
    shuffle : bool
        Read the shards in a random order and shuffle the rows within windows of
        ``shuffle_buffer`` rows (rounded down to whole elements); each pass over the dataset
        (epoch) draws a new order from ``seed`` and the pass number.
    seed : int
        Seed of the shuffling.
    cache : path, optional
        A new or empty folder: the first pass writes each shard's encoded rows there (raw
        arrays, about 60 bytes a row for the SW2019 inputs), later passes read them instead of
        the shards, which skips the decoding and the feature transforms. The caller removes it.
    chunk_rows, csv_dtype
        See :func:`read_shard`.
    prefetch : int
        Elements prepared ahead, in a background thread, while the model trains.

    Returns
    -------
    tf.data.Dataset
        Elements ``(inputs, y, weights)``: a dict of the network's inputs, by name, with their
        dtypes, the response and the case weights as float64 of shape ``(rows, 1)``, always
        ``rows = batches_per_element * batch_size``: the last element of a pass is filled up
        with rows of zeros of weight 0.

    Notes
    -----
    A shard is read from start to end, so rows are mixed only within a shuffle window (and by
    the shards' order): a portfolio sorted by a feature needs a window of many shards' rows.
    """
    _check_model(model)
    model._check_fitted()
    if model.response_ is None:
        raise ValueError("the model's response is not a column name; streaming needs one")
    paths = list_shards(shards)
    batch_size = batch_size or model.batch_size
    dtypes = {t.name: np.dtype(t.dtype) for t in model.keras_model_.inputs}
    columns = [*_feature_columns(model), model.response_]
    if model.weights_ is not None:
        columns.append(model.weights_)
    spec = (
        {
            t.name: tf.TensorSpec((None, *t.shape[1:]), t.dtype, name=t.name)
            for t in model.keras_model_.inputs
        },
        tf.TensorSpec((None, 1), tf.float64),
        tf.TensorSpec((None, 1), tf.float64),
    )
    encoded = None if cache is None else _EncodedCache(Path(cache), spec)
    passes = itertools.count()

    def shard_blocks(i: int) -> Iterator[Block]:
        with _Shard(paths[i]) as reader:
            for chunk in reader.chunks(columns, chunk_rows=chunk_rows, csv_dtype=csv_dtype):
                yield _encode(model, chunk, dtypes)

    def blocks(order: Sequence[int]) -> Iterator[Block]:
        for i in order:
            if encoded is None:
                yield from shard_blocks(i)
            elif encoded.has(i):
                yield from encoded.read(i, chunk_rows)
            else:
                yield from encoded.write(i, shard_blocks(i))

    def generate() -> Iterator[Block]:
        rng = np.random.default_rng([seed, next(passes)]) if shuffle else None
        order = rng.permutation(len(paths)) if rng is not None else range(len(paths))
        yield from _batches(blocks(order), batch_size, batches_per_element, shuffle_buffer, rng)

    dataset = tf.data.Dataset.from_generator(generate, output_signature=spec)
    options = tf.data.Options()
    # tf.data's autotuning makes each element wait about 60 ms behind a training step (measured:
    # twice the epoch time on two cores); the pipeline has nothing for it to tune
    options.autotune.enabled = False
    return dataset.prefetch(prefetch).with_options(options)


class _EncodedCache:
    """The encoded rows of each shard in raw files, written on one pass and read on later ones.

    Shard ``i`` has one file per array of a block (``i-<k>.bin``) and, once all its rows are
    written, ``i.rows`` with their number: a pass abandoned in the middle of a shard leaves it
    to be encoded again.
    """

    def __init__(self, folder: Path, spec: Any):
        self.folder = folder
        self.spec = spec
        self.leaves = tf.nest.flatten(spec)
        folder.mkdir(parents=True, exist_ok=True)

    def _files(self, shard: int) -> list[Path]:
        return [self.folder / f"{shard}-{k}.bin" for k in range(len(self.leaves))]

    def _rows_file(self, shard: int) -> Path:
        return self.folder / f"{shard}.rows"

    def has(self, shard: int) -> bool:
        return self._rows_file(shard).exists()

    def write(self, shard: int, blocks: Iterator[Block]) -> Iterator[Block]:
        """Pass the blocks on, writing them to the shard's files."""
        rows = 0
        with contextlib.ExitStack() as stack:
            handles = [stack.enter_context(open(f, "wb")) for f in self._files(shard)]
            for block in blocks:
                for handle, array in zip(handles, tf.nest.flatten(block), strict=True):
                    handle.write(np.ascontiguousarray(array).data)
                rows += len(block[1])
                yield block
        self._rows_file(shard).write_text(str(rows))

    def read(self, shard: int, chunk_rows: int) -> Iterator[Block]:
        rows = int(self._rows_file(shard).read_text())
        if not rows:
            return
        arrays = [
            np.memmap(f, dtype=leaf.dtype.as_numpy_dtype, mode="r", shape=(rows, *leaf.shape[1:]))
            for f, leaf in zip(self._files(shard), self.leaves, strict=True)
        ]
        for start in range(0, rows, chunk_rows):
            # views of the files, copied once when the rows of a shuffle window are joined
            chunk = [a[start : start + chunk_rows] for a in arrays]
            yield tf.nest.pack_sequence_as(self.spec, chunk)


class _NadamByDtype:
    """Nadam on variables of several dtypes, one Keras optimizer per dtype.

    The networks' hidden layers are float32 and their output unit float64. Under a
    ``tf.distribute`` strategy a Keras optimizer all-reduces its gradients in one collective
    operation, which packs them into one tensor and fails on mixed dtypes; one optimizer per
    dtype steps exactly as one optimizer over all variables (Nadam updates each variable on its
    own, with the same step count).
    """

    def __init__(self, variables: Sequence[Any], learning_rate: float):
        self.groups: dict[str, list[int]] = {}
        for i, variable in enumerate(variables):
            self.groups.setdefault(str(variable.dtype), []).append(i)
        self.variables = list(variables)
        self.optimizers = {dtype: keras.optimizers.Nadam(learning_rate) for dtype in self.groups}
        for dtype, rows in self.groups.items():
            self.optimizers[dtype].build([self.variables[i] for i in rows])

    def apply(self, gradients: Sequence[Any]) -> None:
        for dtype, rows in self.groups.items():
            self.optimizers[dtype].apply(
                [gradients[i] for i in rows], [self.variables[i] for i in rows]
            )

    @property
    def learning_rate(self) -> float:
        return float(next(iter(self.optimizers.values())).learning_rate.numpy())

    def set_learning_rate(self, value: float) -> None:
        for optimizer in self.optimizers.values():
            optimizer.learning_rate.assign(value)


def _same_declaration(a: NetworkInputs, b: NetworkInputs) -> bool:
    """Whether two NetworkInputs declare the same features, fitted or not."""

    def declared(inputs: NetworkInputs):
        categorical = [dataclasses.replace(f, fitted_levels=None) for f in inputs.categorical]
        return inputs.numeric, categorical, inputs.scaling

    return declared(a) == declared(b)


def train_streaming(
    model: FNN | CANN,
    summary: StreamSummary,
    *,
    validation: Shards | None = None,
    epochs: int | None = None,
    shuffle_buffer: int = 200_000,
    cache: bool | PathArg = True,
    strategy: tf.distribute.Strategy | None = None,
    chunk_rows: int = CHUNK_ROWS,
    csv_dtype: Mapping[str, Any] | None = None,
    progress: Progress | None = print,
) -> History:
    """Train an FNN or CANN on the shards of ``summary``, streamed batch by batch.

    The network is built from ``summary`` (:meth:`~actnn.networks.FNN.build_from_statistics`,
    with the model's seed: the start of :meth:`~actnn.networks.FNN.fit`) and trained on the mean
    deviance of the model's family with Nadam, the model's ``batch_size``, ``learning_rate``,
    ``lr_schedule`` and ``lr_patience``, one compiled step per batch (XLA as the model's
    ``jit_compile`` says). The weights of the best epoch are kept: by the validation loss if
    there is ``validation``, else by the training loss. Afterwards the model predicts and saves
    as a fitted one; ``model.history_`` is the returned history.

    Parameters
    ----------
    model : FNN or CANN
        Unfitted or fitted (it is rebuilt). A CANN's GLM must be fitted, e.g. on
        :func:`sample_shards`.
    summary : StreamSummary
        From :func:`fit_inputs_streaming` of the model's ``inputs`` on the learning shards, with
        the response (and exposure and weights) columns.
    validation : shards, optional
        Learning rows held out (other shards) for early stopping after the model's ``patience``
        epochs without a better validation loss. The model's ``validation_fraction`` is not used.
    epochs : int, optional
        Passes over the shards (default the model's ``epochs``).
    shuffle_buffer : int
        Rows shuffled together (see :func:`streaming_dataset`).
    cache : bool or path
        Keep the encoded rows of the first epoch on disk for the later ones (see
        :func:`streaming_dataset`), in a temporary folder of the system's temporary directory
        (True) or of the given folder, removed at the end; False encodes the shards in every
        epoch.
    strategy : tf.distribute.Strategy, optional
        Train on several devices or machines: the network and the optimizer are created in
        ``strategy.scope()``, each global batch is split between the replicas
        (``strategy.experimental_distribute_dataset``) and each replica's loss is its part of
        the global batch's mean deviance, so the summed gradients are those of one device.
    chunk_rows, csv_dtype
        See :func:`read_shard`.
    progress : callable, optional
        Called with a line per epoch (loss, seconds, rows per second).

    Returns
    -------
    History
        Loss per epoch (mean unit deviance over all rows, during the epoch), validation loss,
        seconds, learning rate, best epoch.

    Raises
    ------
    TrainingStopped
        If the loss turns NaN or infinite; the model then holds the best weights seen before.
    """
    _check_model(model)
    if not isinstance(summary, StreamSummary):
        raise TypeError(f"summary must be a StreamSummary, got {type(summary).__name__}")
    if summary.response is None:
        raise ValueError("summary has no response: pass response=... to fit_inputs_streaming")
    if not _same_declaration(summary.inputs, model.inputs):
        raise ValueError("summary.inputs were fitted from other features than the model's inputs")
    if model.lr_schedule not in (None, "cosine"):
        raise ValueError(f"lr_schedule must be None or 'cosine', got {model.lr_schedule!r}")
    started = time.perf_counter()
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        model.build_from_statistics(
            summary.inputs,
            summary.response,
            exposure=summary.exposure,
            weights=summary.weights,
            mean_response=summary.mean_response,
        )
        network = eta_model(model.keras_model_)
        optimizer = _NadamByDtype(network.trainable_variables, model.learning_rate)
    with contextlib.ExitStack() as stack:
        folder = None
        if cache is not False:
            parent = None if cache is True else cache
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(dir=parent)))
        steps = _Steps(model, network, optimizer, strategy, shuffle_buffer)
        options: dict[str, Any] = {
            "batch_size": model.batch_size, "batches_per_element": steps.batches_per_element,
            "chunk_rows": chunk_rows, "csv_dtype": csv_dtype,
        }  # fmt: skip
        learning = streaming_dataset(
            model, summary.shards, shuffle=True, shuffle_buffer=shuffle_buffer, seed=model.seed,
            cache=folder and folder / "learning", **options,
        )  # fmt: skip
        held_out = None
        if validation is not None:
            held_out = streaming_dataset(
                model, validation, cache=folder and folder / "validation", **options
            )
        history = steps.run(
            learning, held_out, epochs=model.epochs if epochs is None else epochs,
            n_rows=summary.n_rows, progress=progress,
        )  # fmt: skip
    model.history_ = history
    model.balance_corrected_ = False
    model.fit_seconds_ = time.perf_counter() - started
    return history


class _Steps:
    """The compiled training and evaluation steps of a network, and the loop over the epochs.

    On one device, each call of the compiled training function takes a shuffle window of rows
    (a multiple of the batch size) and runs its optimiser steps in a loop, as
    :func:`actnn.training.train` runs an epoch: no Python between the batches. Under a
    strategy, each call takes one global batch, which the strategy splits between the replicas.
    """

    def __init__(self, model, network, optimizer, strategy, shuffle_buffer: int):
        self.model, self.network, self.optimizer = model, network, optimizer
        self.strategy = strategy
        family = model.family_
        variables = network.trainable_variables
        batch_size = model.batch_size
        #: batches in an element of the dataset
        self.batches_per_element = 1

        def replica_deviance(inputs, y, w):
            """Sums of the weighted unit deviances of this replica's rows and of their weights."""
            deviance = family.keras_unit_deviance(y, network(inputs, training=False))
            return tf.reduce_sum(w * deviance), tf.reduce_sum(w)

        def replica_step(inputs, y, w):
            """One optimiser step; the loss is this replica's part of the global batch's mean."""
            context = tf.distribute.get_replica_context()
            total_weight = context.all_reduce(tf.distribute.ReduceOp.SUM, tf.reduce_sum(w))
            with tf.GradientTape() as tape:
                deviance = family.keras_unit_deviance(y, network(inputs, training=True))
                deviance = tf.reduce_sum(w * deviance)
                loss = deviance / total_weight
            optimizer.apply(tape.gradient(loss, variables))
            return deviance, tf.reduce_sum(w)

        def window_steps(inputs, y, w):
            """The optimiser steps over an element's batches, up to the filling of weight 0."""
            # the data's rows come first and weigh > 0 (validated); the filling weighs 0
            rows = tf.math.count_nonzero(w, dtype=tf.int32)
            steps = (rows + batch_size - 1) // batch_size

            def batches(tensor):
                shape = tf.concat([[-1, batch_size], tf.shape(tensor)[1:]], axis=0)
                return tf.reshape(tensor, shape)

            inputs, y, w = tf.nest.map_structure(batches, (inputs, y, w))
            deviance = weight = tf.constant(0.0, tf.float64)
            for step in tf.range(steps):
                batch = {name: tensor[step] for name, tensor in inputs.items()}
                batch_deviance, batch_weight = replica_step(batch, y[step], w[step])
                deviance, weight = deviance + batch_deviance, weight + batch_weight
            return deviance, weight

        if strategy is None:
            self.batches_per_element = max(shuffle_buffer // batch_size, 1)
            jit = not model.dropout if model.jit_compile is None else model.jit_compile
            self.train_step = tf.function(window_steps, jit_compile=jit)
            self.deviance_of = tf.function(replica_deviance, jit_compile=jit)
        else:
            self.train_step = _on_replicas(strategy, replica_step)
            self.deviance_of = _on_replicas(strategy, replica_deviance)

    def mean_deviance(self, dataset, step) -> float:
        """The weighted mean unit deviance over the dataset, running ``step`` on each batch."""
        if self.strategy is not None:
            dataset = _distribute(self.strategy, dataset)
        deviance = weight = tf.constant(0.0, tf.float64)
        for batch in dataset:
            batch_deviance, batch_weight = step(*batch)
            deviance, weight = deviance + batch_deviance, weight + batch_weight
        return float(deviance / weight)

    def run(self, learning, held_out, *, epochs: int, n_rows: int, progress) -> History:
        """Train for ``epochs`` epochs; the network keeps the weights of the best one.

        A ``KeyboardInterrupt`` ends the training as in :func:`actnn.training.train`: the epoch
        in progress is dropped, the weights of the best finished epoch are restored,
        ``History.interrupted`` is True and a ``UserWarning`` says so.
        """
        model, network, optimizer = self.model, self.network, self.optimizer
        history = History()
        best = (math.inf, network.get_weights(), None)  # (monitored loss, weights, epoch)
        waited = finished = 0
        try:
            for epoch in range(epochs):
                started = time.perf_counter()
                if model.lr_schedule == "cosine":
                    cosine = (1 + math.cos(math.pi * epoch / epochs)) / 2
                    optimizer.set_learning_rate(model.learning_rate * cosine)
                loss = self.mean_deviance(learning, self.train_step)
                rows_per_second = n_rows / (time.perf_counter() - started)
                if not math.isfinite(loss):
                    network.set_weights(best[1])
                    raise TrainingStopped(
                        f"the training loss became {loss} in epoch {epoch + 1}; the weights of "
                        f"epoch {best[2] or 0} (the best so far) are restored. Lower the "
                        "learning rate or check the inputs for extreme values."
                    )
                monitored = loss
                if held_out is not None:
                    monitored = self.mean_deviance(held_out, self.deviance_of)
                    history.val_loss.append(monitored)
                history.loss.append(loss)
                history.seconds.append(time.perf_counter() - started)
                history.learning_rate.append(optimizer.learning_rate)
                finished = epoch + 1
                if monitored < best[0]:
                    best = (monitored, network.get_weights(), epoch + 1)
                    waited = 0
                else:
                    waited += 1
                    if model.lr_patience is not None and waited % model.lr_patience == 0:
                        optimizer.set_learning_rate(optimizer.learning_rate * _LR_FACTOR)
                val = f", val_loss {monitored:.6f}" if held_out is not None else ""
                speed = f"{history.seconds[-1]:.1f} s, {rows_per_second:,.0f} rows/s"
                _say(progress, f"epoch {epoch + 1}/{epochs}: loss {loss:.6f}{val}, {speed}")
                if held_out is not None and model.patience is not None and waited >= model.patience:
                    history.stopped_early = True
                    break
        except KeyboardInterrupt:
            _record_interrupt(history, finished, epochs, best[2], stacklevel=3)
        network.set_weights(best[1])
        history.best_epoch = best[2]
        return history


def _distribute(strategy: tf.distribute.Strategy, dataset: tf.data.Dataset):
    """The dataset's global batches split between the strategy's replicas.

    Every worker reads all the shards and keeps its part of each batch (``DATA`` sharding): a
    Python generator cannot be split by file, and equal parts keep the workers in step.
    """
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return strategy.experimental_distribute_dataset(dataset.with_options(options))


def _on_replicas(strategy: tf.distribute.Strategy, replica_fn):
    """A compiled function running ``replica_fn`` on every replica and summing the results."""

    @tf.function
    def run(inputs, y, w):
        per_replica = strategy.run(replica_fn, args=(inputs, y, w))
        return tuple(
            strategy.reduce(tf.distribute.ReduceOp.SUM, value, axis=None) for value in per_replica
        )

    return run


def _prediction_columns(model: Any, exposure: str | None) -> list[str]:
    """The columns ``model.predict(data, exposure=exposure)`` reads."""
    if isinstance(model, GLM):
        model._check_fitted()
        columns = model.features_.columns
    elif isinstance(model, FNN | CANN | LocalGLMnet):
        model._check_fitted()
        columns = model.inputs_.spec.columns
        if isinstance(model, CANN):
            columns += model.glm.features_.columns
    else:
        raise TypeError(f"model must be an actnn GLM, FNN, CANN or LocalGLMnet, got {model!r}")
    if exposure is None and model.uses_exposure_:
        if model.exposure_ is None:
            raise ValueError(
                "this model was fitted with an exposure array, not a column: pass exposure=..."
            )
        exposure = model.exposure_
    return list(dict.fromkeys([*columns, *([exposure] if exposure is not None else [])]))


def iter_predictions(
    model: GLM | FNN | CANN | LocalGLMnet,
    shards: Shards,
    *,
    keep: Sequence[str] = (),
    exposure: str | None = None,
    chunk_rows: int = CHUNK_ROWS,
    csv_dtype: Mapping[str, Any] | None = None,
) -> Iterator[tuple[Path, pd.DataFrame]]:
    """Predictions of a fitted model on the shards' rows, a chunk at a time.

    Parameters
    ----------
    model : GLM, FNN, CANN or LocalGLMnet
        Fitted (in memory or by :func:`train_streaming`).
    shards : path, glob pattern or sequence
        See :func:`list_shards`.
    keep : sequence of str
        Columns to pass through, e.g. a policy id.
    exposure : str, optional
        Exposure column (default: the one named at fit).
    chunk_rows, csv_dtype
        See :func:`read_shard`.

    Yields
    ------
    (Path, pandas.DataFrame)
        The shard and, for each chunk of its rows in order, the ``keep`` columns and ``mu``:
        ``model.predict(chunk, exposure=exposure)``, the expected claim counts of a frequency
        model fitted with exposure.
    """
    keep = list(keep)
    columns = [*_prediction_columns(model, exposure), *keep]
    for path in list_shards(shards):
        with _Shard(path) as reader:
            for chunk in reader.chunks(columns, chunk_rows=chunk_rows, csv_dtype=csv_dtype):
                out = chunk[keep].reset_index(drop=True)
                out["mu"] = model.predict(chunk, exposure=exposure)
                yield path, out


def _stem(path: Path) -> str:
    name = path.name
    return name[: -len(next(s for s in SHARD_SUFFIXES if name.lower().endswith(s)))]


def write_predictions(
    model: GLM | FNN | CANN | LocalGLMnet,
    shards: Shards,
    out: PathArg,
    *,
    keep: Sequence[str] = (),
    exposure: str | None = None,
    overwrite: bool = False,
    chunk_rows: int = CHUNK_ROWS,
    csv_dtype: Mapping[str, Any] | None = None,
) -> list[Path]:
    """Write the predictions of a fitted model to one Parquet file per shard, chunk by chunk.

    Parameters as :func:`iter_predictions`; ``out`` is a folder (created if needed) that
    receives ``<shard name>.parquet`` per shard, with the ``keep`` columns and ``mu``, in the
    shard's row order. An existing file is a ``FileExistsError`` unless ``overwrite``.

    Returns
    -------
    list of Path
        The files written, in the order of the shards.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    paths = list_shards(shards)
    out = Path(out)
    targets = {path: out / f"{_stem(path)}.parquet" for path in paths}
    clashes = sorted({t.name for t in targets.values() if list(targets.values()).count(t) > 1})
    if clashes:
        raise ValueError(f"shards from different folders share the names {clashes}")
    existing = [str(t) for t in targets.values() if t.exists()]
    if existing and not overwrite:
        raise FileExistsError(f"predictions exist (pass overwrite=True): {existing}")
    out.mkdir(parents=True, exist_ok=True)
    writer = None
    current = None
    try:
        predictions = iter_predictions(
            model, paths, keep=keep, exposure=exposure, chunk_rows=chunk_rows, csv_dtype=csv_dtype
        )
        for path, frame in predictions:
            table = pa.Table.from_pandas(frame, preserve_index=False)
            if path != current:
                if writer is not None:
                    writer.close()
                writer, current = pq.ParquetWriter(targets[path], table.schema), path
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()
    return list(targets.values())
