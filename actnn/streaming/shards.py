"""Shards of a portfolio larger than memory: listing and reading Parquet or CSV files in chunks."""

from __future__ import annotations

import glob
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._validation import _column, _positive

__all__ = ["SHARD_SUFFIXES", "CHUNK_ROWS", "list_shards", "read_shard"]


#: File endings of shards: Parquet (read with pyarrow) and CSV, optionally gzipped (pandas).
SHARD_SUFFIXES: tuple[str, ...] = (".parquet", ".csv", ".csv.gz")


#: Rows per chunk read from a shard.
CHUNK_ROWS = 65_536


PathArg = str | os.PathLike[str]


Shards = PathArg | Sequence[PathArg]


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
    with ``csv_dtype`` (e.g. :func:`actnn.datasets.schema.categorical_dtype` levels, to read the
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


def _case_weights(chunk: pd.DataFrame, weights: str | None) -> np.ndarray:
    if weights is None:
        return np.ones(len(chunk))
    return _positive(_column(chunk, weights, "weights")[0], "weights")
