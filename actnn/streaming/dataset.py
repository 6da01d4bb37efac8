"""Encoded rows of the shards as a ``tf.data`` pipeline (cached on disk after the first epoch)."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import tensorflow as tf

from .._validation import _column, _positive
from ..networks import CANN, FNN, LocalGLMnet
from .shards import CHUNK_ROWS, PathArg, Shards, _case_weights, _Shard, list_shards

__all__ = ["streaming_dataset"]


# one block of rows on its way to the network: (input arrays by name, response, weights)
Block = tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]


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
    """The network's inputs, response and case weights of the rows of ``chunk``.

    The checks of an in-memory fit, but for the warnings: the pass over the shards
    (:func:`~actnn.streaming.fit_inputs_streaming`) gives them once for all the rows, not once
    per chunk and epoch.
    """
    exposure = None
    if model.uses_exposure_:
        label = f"exposure column {model.exposure_!r}"
        exposure = _positive(_column(chunk, model.exposure_, "exposure")[0], label)
    arrays = model._network_inputs(chunk, exposure)
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
