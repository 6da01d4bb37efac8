"""Reading and writing tables (CSV, gzipped CSV, Parquet, OpenML ARFF) and their fingerprints."""

from __future__ import annotations

import csv
import gzip
import hashlib
import importlib.util
import os
import re
import zlib
from pathlib import Path

import pandas as pd

from ._validation import _check_frame

#: File suffixes :func:`read_table` reads (and :func:`actnn.datasets.find_data_file` looks for).
SUFFIXES: tuple[str, ...] = (".csv", ".csv.gz", ".parquet", ".arff", ".arff.gz")
#: File suffixes :func:`write_table` writes.
WRITE_SUFFIXES: tuple[str, ...] = (".csv", ".csv.gz", ".parquet")


_ARFF_ATTRIBUTE = re.compile(r"@attribute\s+('[^']*'|\"[^\"]*\"|\S+)\s+(.+)", re.IGNORECASE)


_ARFF_NUMERIC_TYPES = ("numeric", "real", "integer")


_QUOTES_AND_SPACE = " \t'\""


PathArg = str | os.PathLike[str]


def read_table(path: PathArg, *, sep: str = ",") -> pd.DataFrame:
    """Read a user's table (csv, csv.gz, parquet or arff, by suffix) as stored.

    ``sep`` is the column separator of a csv file (e.g. ``";"``). The values are not checked (the
    models do that). Raises FileNotFoundError naming the path if it does not exist, and
    ValueError naming the file if it cannot be read (a truncated gzip file, a csv that does not
    parse), if it is empty, if its header repeats a column name (pandas would silently rename the
    second ``x`` to ``x.1``), or if a csv has one column whose name holds another separator
    (``a;b;c``: the file is most likely separated by it).
    """
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"no data file {file}")
    is_csv = file.name.lower().endswith((".csv", ".csv.gz"))
    try:
        frame = _read_table(file, sep)
    except pd.errors.EmptyDataError:
        raise ValueError(f"{file} is empty: no header and no rows") from None
    except (pd.errors.ParserError, UnicodeDecodeError, EOFError, OSError, zlib.error) as err:
        hint = f" (is it separated by {sep!r}? give the separator with sep=...)" if is_csv else ""
        detail = " ".join(str(err).split())
        raise ValueError(f"cannot read {file}{hint}: {type(err).__name__}: {detail}") from err
    header = _csv_header(file, sep) if is_csv else frame.columns
    repeated = sorted({str(c) for c in header if list(header).count(c) > 1})
    if repeated:
        raise ValueError(
            f"{file}: the column names {repeated} occur more than once in the header; rename "
            "them, actnn cannot tell which one to use"
        )
    if is_csv and frame.shape[1] == 1:
        other = [c for c in ";\t|," if c != sep and c in str(frame.columns[0])]
        if other:
            raise ValueError(
                f"{file} has one column, named {str(frame.columns[0])[:60]!r}: its columns seem "
                f"separated by {other[0]!r}, not {sep!r}; give the separator with sep={other[0]!r}"
            )
    return frame


def _csv_header(path: Path, sep: str = ",") -> list[str]:
    """The column names of a csv or csv.gz file as written (pandas renames repeated ones)."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rt", newline="", encoding="utf-8", errors="replace") as file:
        return next(csv.reader(file, delimiter=sep), [])


def writable_table(path: PathArg) -> Path:
    """``path`` as a Path if :func:`write_table` writes its suffix; else a ValueError saying so."""
    file = Path(path)
    if not file.name.lower().endswith(WRITE_SUFFIXES):
        raise ValueError(
            f"cannot write {file}: the file name must end in one of {', '.join(WRITE_SUFFIXES)}"
        )
    return file


def write_table(frame: pd.DataFrame, path: PathArg) -> Path:
    """Write ``frame`` without its index as csv, csv.gz or parquet, by the suffix of ``path``."""
    file = writable_table(path)
    if file.name.lower().endswith(".parquet"):
        if importlib.util.find_spec("pyarrow") is None:
            raise ImportError(f"writing {file} needs pyarrow: pip install actnn[parquet]")
        frame.to_parquet(file, index=False, engine="pyarrow")
    else:
        _write_csv(frame, file)
    return file


def _write_csv(frame: pd.DataFrame, file: Path) -> None:
    """csv or csv.gz: through pyarrow's writer where pyarrow is installed, else pandas'.

    Both write the same values (pandas reads either file back to the same frame; pyarrow quotes
    every text field); pyarrow's is several times faster (``benchmarks/cli_glm.py``). A frame
    pyarrow cannot convert (e.g. a column mixing numbers and text) goes to pandas.
    """
    if importlib.util.find_spec("pyarrow") is not None:
        import pyarrow as pa
        import pyarrow.csv as pa_csv

        try:
            table = pa.Table.from_pandas(frame, preserve_index=False)
            if file.name.lower().endswith(".gz"):
                with pa.CompressedOutputStream(str(file), "gzip") as stream:
                    pa_csv.write_csv(table, stream)
            else:
                pa_csv.write_csv(table, str(file))
            return
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            pass  # pandas writes what pyarrow cannot (over anything pyarrow began to write)
    frame.to_csv(file, index=False)  # pandas compresses .csv.gz by the suffix


def _read_table(path: Path, sep: str = ",") -> pd.DataFrame:
    """Read a table as stored, without typing; the reader is chosen by the file suffix."""
    name = path.name.lower()
    if name.endswith((".csv", ".csv.gz")):
        return pd.read_csv(path, sep=sep)
    if name.endswith(".parquet"):
        if importlib.util.find_spec("pyarrow") is None:
            raise ImportError(f"reading {path} needs pyarrow: pip install actnn[parquet]")
        return pd.read_parquet(path, engine="pyarrow")
    if name.endswith((".arff", ".arff.gz")):
        return _read_arff(path)
    raise ValueError(f"cannot read {path}: the file name must end in one of {', '.join(SUFFIXES)}")


def _read_arff(path: Path) -> pd.DataFrame:
    """Read a dense ARFF file (optionally gzipped), as written by OpenML.

    Nominal, string and date attributes are read as text, numeric ones as numbers; values may be
    quoted with single quotes, ``?`` is a missing value.
    """
    names, text_columns = [], {}
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as file:
        for line in iter(file.readline, ""):
            line = line.strip()
            if line.lower().startswith("@attribute"):
                match = _ARFF_ATTRIBUTE.fullmatch(line)
                if match is None:
                    raise ValueError(f"{path}: cannot parse the ARFF header line {line!r}")
                names.append(match[1].strip(_QUOTES_AND_SPACE))
                if match[2].strip().lower() not in _ARFF_NUMERIC_TYPES:
                    text_columns[names[-1]] = str
            elif line.lower() == "@data":
                break
        else:
            raise ValueError(f"{path}: no @data line, this is not an ARFF file")
        return pd.read_csv(
            file,
            header=None,
            names=names,
            dtype=text_columns,
            quotechar="'",
            escapechar="\\",
            skipinitialspace=True,
            comment="%",
            na_values=["?"],
            keep_default_na=False,
        )


def content_fingerprint(df: pd.DataFrame) -> str:
    """Return the sha256 of a canonical text form of a typed frame, independent of file format.

    Parameters
    ----------
    df : pandas.DataFrame
        Typed as by :func:`validate_freq` or :func:`validate_sev` (or any frame: the text form
        depends on the dtypes, an integer 1 and a float 1.0 differ).

    Returns
    -------
    str
        64 hex digits.

    Notes
    -----
    It is the one fingerprint of actnn: the reports' stamp and the case studies' ``results.json``
    record it. Columns are taken in frame order (the freMTPL2 loaders return their columns in the
    order of :data:`actnn.datasets.schema.FREQ_COLUMNS`, whatever the file's order, so the
    fingerprint of loaded data does not depend on it). Each column contributes its name, then
    its values, one per line, written with :func:`str` of the Python scalar: integers in
    decimal, floats as the shortest text that reads back to the same float (``repr``),
    categories as their labels. The index and the dtypes themselves do not enter.
    """
    _check_frame(df, "df")
    digest = hashlib.sha256()
    for column in df.columns:
        digest.update(f"{column}\0".encode())
        digest.update("\n".join(map(str, df[column].tolist())).encode())
        digest.update(b"\0")
    return digest.hexdigest()


def file_sha256(path: PathArg) -> str:
    """Return the sha256 (64 hex digits) of a file's bytes."""
    file = _as_path(path, "path")
    if file is None:
        raise TypeError("path must be a str or path-like, got None")
    digest = hashlib.sha256()
    with file.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _as_path(value: PathArg | None, argument: str) -> Path | None:
    if value is None:
        return None
    if not isinstance(value, str | os.PathLike):
        raise TypeError(f"{argument} must be a str or path-like, got {type(value).__name__}")
    return Path(value)
