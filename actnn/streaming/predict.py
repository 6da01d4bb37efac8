"""Predictions shard by shard, written as files beside the input."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ..glm import GLM
from ..networks import CANN, FNN, LocalGLMnet
from .shards import CHUNK_ROWS, SHARD_SUFFIXES, PathArg, Shards, _Shard, list_shards

__all__ = ["iter_predictions", "write_predictions"]


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
