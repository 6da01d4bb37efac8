"""Find, load and validate the French MTPL data (freMTPL2freq and freMTPL2sev).

The data is never part of the repository. :func:`find_data_file` looks for it in a folder given by
the caller, in ``$ACTNN_DATA_DIR`` and in the user cache, :func:`download_openml` puts it into
the cache. :func:`load_freq` and :func:`load_sev` read CSV, gzipped CSV, Parquet or OpenML ARFF,
type the columns by :mod:`actnn.datasets.schema`, reject invalid values with an error that names
every problem, and warn when the content differs from the published data. The versions of the data
used in the literature are built by :mod:`actnn.datasets.prepare`.

Their checks use :mod:`actnn._validation`, as every entry point of actnn does.

References
----------
.. [1] Dutang, C. and Charpentier, A. (2020). CASdatasets: Insurance datasets. R package,
   data sets freMTPL2freq and freMTPL2sev.
.. [2] OpenML data sets 41214 (freMTPL2freq) and 41215 (freMTPL2sev),
   https://www.openml.org/d/41214 and https://www.openml.org/d/41215.
"""

from __future__ import annotations

import dataclasses
import hashlib
import http.client
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from urllib.request import urlopen

import numpy as np
import pandas as pd

from .._validation import _check_frame, _numeric_problems, _rows_message, _warn
from ..tables import (
    _QUOTES_AND_SPACE,
    SUFFIXES,
    PathArg,
    _as_path,
    _read_table,
    content_fingerprint,
)
from .schema import (
    CATEGORICAL_LEVELS,
    FREQ_COLUMNS,
    INTEGER_COLUMNS,
    SEV_COLUMNS,
    categorical_dtype,
)

DATA_DIR_ENV = "ACTNN_DATA_DIR"


CACHE_DIR_ENV = "ACTNN_CACHE_DIR"


#: OpenML data set ids of the freMTPL2 tables.
OPENML_IDS: dict[str, int] = {"freMTPL2freq": 41214, "freMTPL2sev": 41215}


OPENML_DESCRIPTION_URL = "https://www.openml.org/api/v1/json/data/{id}"


#: :func:`content_fingerprint` of the published freMTPL2freq and freMTPL2sev (CASdatasets 2017).
FREQ_FINGERPRINT = "7cd9023a59a6cf3f4491e57d4c6ecea1af7d27bf2a2ba2d2dca141f55f310ba9"


SEV_FINGERPRINT = "a206eb9a25b19c5e5e8229dbaa5cbcb5b7c73ac815b164886c87bfab73019ec1"


#: Valid-value rules beyond "a finite number": column -> (test for bad values, what the rows have).
_BOUNDS: dict[str, tuple[Callable[[np.ndarray], np.ndarray], str]] = {
    "ClaimNb": (lambda x: x < 0, "ClaimNb < 0"),
    "Exposure": (lambda x: x <= 0, "Exposure <= 0"),
    "ClaimAmount": (lambda x: x <= 0, "ClaimAmount <= 0"),
}


class DataNotFoundError(FileNotFoundError):
    """A freMTPL2 file was not found in any of the places actnn looks in."""


def default_cache_dir() -> Path:
    """Return the user cache folder of actnn.

    ``$ACTNN_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/actnn``, else ``~/.cache/actnn``.
    """
    if os.environ.get(CACHE_DIR_ENV):
        return Path(os.environ[CACHE_DIR_ENV])
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]) / "actnn"
    return Path.home() / ".cache" / "actnn"


def find_data_file(name: str, data_dir: PathArg | None = None) -> Path:
    """Find a freMTPL2 file.

    Looks, in this order, in `data_dir`, in ``$ACTNN_DATA_DIR`` and in :func:`default_cache_dir`
    for ``name`` followed by one of :data:`SUFFIXES`, and returns the first file that exists.

    Parameters
    ----------
    name : {"freMTPL2freq", "freMTPL2sev"}
        The table.
    data_dir : str or path-like, optional
        Folder to look in first; it must exist (a typo is an error, not a silent fall-back to
        ``$ACTNN_DATA_DIR``).

    Returns
    -------
    pathlib.Path

    Raises
    ------
    DataNotFoundError
        If ``data_dir`` is given and is not a folder, or if no file exists; the message lists
        every path looked in and how to get the data.
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")
    if name not in OPENML_IDS:
        raise ValueError(f"unknown data set {name!r}; valid names: {', '.join(OPENML_IDS)}")
    folders = [_as_path(data_dir, "data_dir")]
    if folders[0] is not None and not folders[0].is_dir():
        what = "is a file: pass it as path=..." if folders[0].is_file() else "does not exist"
        raise DataNotFoundError(f"data_dir {str(folders[0])!r} {what}")
    folders.append(Path(os.environ[DATA_DIR_ENV]) if os.environ.get(DATA_DIR_ENV) else None)
    folders.append(default_cache_dir())
    candidates = [folder / (name + suffix) for folder in folders if folder for suffix in SUFFIXES]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    unset = "" if os.environ.get(DATA_DIR_ENV) else f"(${DATA_DIR_ENV} is not set)\n"
    raise DataNotFoundError(
        f"{name} not found. Looked in:\n"
        + "".join(f"  {candidate}\n" for candidate in candidates)
        + unset
        + "Get the French MTPL data in one of these ways:\n"
        f"  - put the files in a folder and set {DATA_DIR_ENV} to it, or pass data_dir=...;\n"
        "  - download them from OpenML (data sets 41214 and 41215) into the cache with "
        "actnn.data.download_openml();\n"
        "  - in R, from the package CASdatasets: data(freMTPL2freq); "
        'write.csv(freMTPL2freq, "freMTPL2freq.csv", row.names = FALSE) (same for freMTPL2sev).'
    )


def load_freq(
    data_dir: PathArg | None = None, *, path: PathArg | None = None, verify: bool = True
) -> pd.DataFrame:
    """Load freMTPL2freq, one row per policy, typed and validated by :func:`validate_freq`.

    Parameters
    ----------
    data_dir : str or path-like, optional
        Folder to look in first, see :func:`find_data_file`.
    path : str or path-like, optional
        The file itself (``.csv``, ``.csv.gz``, ``.parquet``, ``.arff`` or ``.arff.gz``); then
        nothing is searched. Give `data_dir` or `path`, not both.
    verify : bool, default True
        Warn (``UserWarning``) if the content differs from the published data, see
        :func:`content_fingerprint` and :data:`FREQ_FINGERPRINT`.

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`~.schema.FREQ_COLUMNS` (and any further columns of the file),
        in the row order of the file, with a fresh RangeIndex.
    """
    return _load("freMTPL2freq", validate_freq, FREQ_FINGERPRINT, data_dir, path, verify)


def load_sev(
    data_dir: PathArg | None = None, *, path: PathArg | None = None, verify: bool = True
) -> pd.DataFrame:
    """Load freMTPL2sev, one row per claim, typed and validated by :func:`validate_sev`.

    Parameters and return value as in :func:`load_freq`, with :data:`SEV_FINGERPRINT` and the
    columns of :data:`~.schema.SEV_COLUMNS`.
    """
    return _load("freMTPL2sev", validate_sev, SEV_FINGERPRINT, data_dir, path, verify)


def _load(
    name: str,
    validate: Callable[[pd.DataFrame], pd.DataFrame],
    fingerprint: str,
    data_dir: PathArg | None,
    path: PathArg | None,
    verify: bool,
) -> pd.DataFrame:
    if not isinstance(verify, bool):
        raise TypeError(f"verify must be a bool, got {type(verify).__name__}")
    file = _as_path(path, "path")
    if file is None:
        file = find_data_file(name, data_dir)
    elif data_dir is not None:
        raise ValueError("give data_dir or path, not both")
    df = validate(_read_table(file))
    received = content_fingerprint(df) if verify else fingerprint
    if received != fingerprint:
        _warn(
            f"{file} differs from the published {name} data (content fingerprint {received}, "
            f"expected {fingerprint}); results will not match published tables",
            UserWarning,
        )
    return df


def validate_freq(df: pd.DataFrame) -> pd.DataFrame:
    """Type and check a freMTPL2freq frame.

    Parameters
    ----------
    df : pandas.DataFrame
        Must hold the columns of :data:`~.schema.FREQ_COLUMNS`; further columns are kept
        unchanged and not checked.

    Returns
    -------
    pandas.DataFrame
        A new frame, same rows, order and index: the schema columns first, in schema order, typed
        (int64 for :data:`~.schema.INTEGER_COLUMNS`, float64 Exposure,
        :func:`~.schema.categorical_dtype` for the categorical columns), then the others.

    Raises
    ------
    ValueError
        Listing every problem found: no rows, a missing column, a missing value, text in a
        numeric column, an infinite value, a non-whole number in an integer column, ClaimNb < 0,
        Exposure <= 0, a category level not in :data:`~.schema.CATEGORICAL_LEVELS` (quotes
        and spaces around a level are removed first) or an IDpol that occurs more than once.
        Each problem names the column, the number of rows and the first rows with their values.

    Notes
    -----
    An Exposure above 1 is valid here, without a warning: the published freMTPL2freq has 1,224
    policies with Exposure > 1 (up to 2.01), which :func:`prepare_nsw2018` and
    :func:`prepare_wm2023` cap at 1. The models warn about them (:class:`DataWarning`).
    """
    return _validate(df, FREQ_COLUMNS, "freMTPL2freq", unique_ids=True)


def validate_sev(df: pd.DataFrame) -> pd.DataFrame:
    """Type and check a freMTPL2sev frame (int64 IDpol, float64 ClaimAmount > 0).

    As :func:`validate_freq`, for the columns of :data:`~.schema.SEV_COLUMNS`; an IDpol may
    occur on several rows (one row per claim).
    """
    return _validate(df, SEV_COLUMNS, "freMTPL2sev", unique_ids=False)


def _validate(
    df: pd.DataFrame, columns: tuple[str, ...], table: str, *, unique_ids: bool
) -> pd.DataFrame:
    _check_frame(df, "df")
    if not df.columns.is_unique:
        duplicated = df.columns[df.columns.duplicated()].unique().tolist()
        raise ValueError(f"{table}: column names occur more than once: {duplicated}")
    missing = [column for column in columns if column not in df]
    problems = [f"missing columns: {', '.join(map(repr, missing))}"] if missing else []
    if len(df) == 0:
        problems.append("no rows")
    typed = {}
    for column in (column for column in columns if column in df):
        if column in CATEGORICAL_LEVELS:
            typed[column] = _categorical(df[column], column, problems)
        else:
            typed[column] = _numeric(df[column], column, problems)
    if unique_ids and typed.get("IDpol") is not None:
        ids = pd.Series(typed["IDpol"])
        _report(problems, "IDpol", ids.duplicated(keep=False).to_numpy(), ids,
                "an IDpol that occurs more than once")  # fmt: skip
    if problems:
        raise ValueError(f"invalid {table} data:\n  " + "\n  ".join(problems))
    typed.update((column, df[column].array) for column in df.columns if column not in columns)
    return pd.DataFrame(typed, index=df.index, copy=True)


def _numeric(series: pd.Series, column: str, problems: list[str]) -> np.ndarray | None:
    """Int64 or float64 values of a numeric column, or None after adding its problems."""
    x, found = _numeric_problems(series, f"column {column!r}")
    problems += found
    finite = np.isfinite(x)
    checks = []
    integer = column in INTEGER_COLUMNS
    if integer:
        checks.append((finite & (x != np.trunc(x)), "a value that is not a whole number"))
    if column in _BOUNDS:
        is_bad, what = _BOUNDS[column]
        checks.append((finite & is_bad(x), what))
    n_problems = len(problems)
    for bad, what in checks:
        _report(problems, column, bad, series, what)
    if found or len(problems) > n_problems:
        return None
    return x.astype(np.int64) if integer else x


def _categorical(series: pd.Series, column: str, problems: list[str]) -> pd.Categorical | None:
    """Values of a categorical column as schema categories, or None after adding its problems."""
    dtype = categorical_dtype(column)
    raw = series.to_numpy(dtype=object)
    missing = pd.isna(raw)
    if series.dtype == dtype and series.cat.categories.tolist() == list(dtype.categories):
        codes = series.cat.codes.to_numpy()
    else:
        cleaned = {v: str(v).strip(_QUOTES_AND_SPACE) for v in pd.unique(raw[~missing])}
        codes = dtype.categories.get_indexer(pd.Series(raw, dtype=object).map(cleaned))
    n_problems = len(problems)
    _report(problems, column, missing, series, "no value (NaN)")
    _report(problems, column, (codes == -1) & ~missing, series,
            f"a level that is not one of {', '.join(dtype.categories)}")  # fmt: skip
    return None if len(problems) > n_problems else pd.Categorical.from_codes(codes, dtype=dtype)


def _report(problems: list[str], column: str, bad: np.ndarray, values: pd.Series, what: str):
    """Add "column 'c': n rows have <what> (first: row i = v, ...)" if any row is bad."""
    if bad.any():
        problems.append(_rows_message(f"column {column!r}", bad, values, what))


def download_openml(
    cache_dir: PathArg | None = None, *, force: bool = False, timeout: float = 60
) -> dict[str, Path]:
    """Download freMTPL2freq and freMTPL2sev from OpenML as ARFF files.

    For each table, the OpenML description ``https://www.openml.org/api/v1/json/data/{id}``
    gives the file URL and its md5; the file is checked against that md5, written atomically as
    ``<cache_dir>/<name>.arff`` and finally loaded with ``verify=True``, so that content that
    differs from the published data is reported by a warning.

    Parameters
    ----------
    cache_dir : str or path-like, optional
        Target folder, by default :func:`default_cache_dir` (where :func:`find_data_file` looks).
    force : bool, default False
        Download even if the file is already there.
    timeout : float, default 60
        Seconds to wait for each connection.

    Returns
    -------
    dict of str to pathlib.Path
        ``{"freMTPL2freq": path, "freMTPL2sev": path}``.

    Raises
    ------
    ConnectionError
        If a download fails; the message names the URL and how to download manually.
    ValueError
        If a file does not match the md5 published by OpenML.

    References
    ----------
    .. [1] OpenML data sets 41214 and 41215, https://www.openml.org/d/41214.
    """
    if not isinstance(force, bool):
        raise TypeError(f"force must be a bool, got {type(force).__name__}")
    if isinstance(timeout, bool) or not isinstance(timeout, int | float):
        raise TypeError(f"timeout must be a number of seconds, got {type(timeout).__name__}")
    folder = _as_path(cache_dir, "cache_dir") or default_cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, data_id in OPENML_IDS.items():
        paths[name] = folder / f"{name}.arff"
        if force or not paths[name].is_file():
            _download_arff(data_id, paths[name], timeout)
    load_freq(path=paths["freMTPL2freq"], verify=True)
    load_sev(path=paths["freMTPL2sev"], verify=True)
    return paths


def _download_arff(data_id: int, target: Path, timeout: float) -> None:
    description_url = OPENML_DESCRIPTION_URL.format(id=data_id)
    try:
        description = json.loads(_fetch(description_url, target, timeout))["data_set_description"]
        url, md5 = description["url"], description["md5_checksum"]
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"unexpected answer from {description_url}: {error!r}") from error
    content = _fetch(url, target, timeout)
    received = hashlib.md5(content, usedforsecurity=False).hexdigest()
    if received != md5:
        raise ValueError(
            f"{url}: md5 of the download is {received}, OpenML publishes {md5} for data set "
            f"{data_id}; the file is corrupt or has changed. Try again, or download it manually."
        )
    with tempfile.NamedTemporaryFile(dir=target.parent, suffix=".part", delete=False) as file:
        file.write(content)
    os.replace(file.name, target)


def _fetch(url: str, target: Path, timeout: float) -> bytes:
    try:
        with urlopen(url, timeout=timeout) as response:
            return response.read()
    except (OSError, http.client.HTTPException) as error:
        raise ConnectionError(
            f"could not download {url}: {error}. Download the ARFF file manually from "
            f"https://www.openml.org (data sets 41214, 41215) and save it as {target}, or put "
            f"the CSV files in a folder and set {DATA_DIR_ENV}."
        ) from error


@dataclasses.dataclass(frozen=True)
class SeverityReport:
    """How the claim records of freMTPL2sev match the policies of freMTPL2freq.

    Returned by :func:`severity_data`; ``str(report)`` and :meth:`to_frame` show it as a table.
    """

    n_records: int = dataclasses.field(metadata={"doc": "claim records"})
    n_distinct_IDpol: int = dataclasses.field(metadata={"doc": "distinct IDpol of the records"})
    n_policies_with_records: int = dataclasses.field(
        metadata={"doc": "policies with at least one record (rows of the severity data)"}
    )
    n_records_unmatched: int = dataclasses.field(
        metadata={"doc": "records whose IDpol is not a policy (excluded)"}
    )
    unmatched_IDpol: tuple[int, ...] = dataclasses.field(
        metadata={"doc": "distinct IDpol of the unmatched records"}
    )
    n_policies_claims_without_records: int = dataclasses.field(
        metadata={"doc": "policies with ClaimNb > 0 but no record"}
    )
    n_policies_count_mismatch: int = dataclasses.field(
        metadata={"doc": "policies with records whose number of records != ClaimNb"}
    )
    n_policies_records_but_no_claims: int = dataclasses.field(
        metadata={"doc": "policies with records but ClaimNb == 0"}
    )

    def to_frame(self) -> pd.DataFrame:
        """Return the counts as a frame indexed by field name, columns ``count`` and ``meaning``.

        ``unmatched_IDpol`` is given by its length.
        """
        rows = {
            field.name: (len(value) if isinstance(value, tuple) else value, field.metadata["doc"])
            for field in dataclasses.fields(self)
            for value in [getattr(self, field.name)]
        }
        return pd.DataFrame.from_dict(rows, orient="index", columns=["count", "meaning"])

    def __str__(self) -> str:
        ids = ", ".join(map(str, self.unmatched_IDpol)) or "none"
        return (
            "freMTPL2sev records matched to freMTPL2freq policies\n"
            f"{self.to_frame().to_string()}\nunmatched IDpol: {ids}"
        )


def severity_data(freq: pd.DataFrame, sev: pd.DataFrame) -> tuple[pd.DataFrame, SeverityReport]:
    """Return one row per policy with claim records, and how the records matched the policies.

    Parameters
    ----------
    freq : pandas.DataFrame
        freMTPL2freq (or a preparation of it), checked by :func:`validate_freq`.
    sev : pandas.DataFrame
        freMTPL2sev, checked by :func:`validate_sev`.

    Returns
    -------
    data : pandas.DataFrame
        The rows of `freq` that have at least one record in `sev`, in the order of `freq`, with
        a fresh RangeIndex, all columns of `freq` and three more: ``ClaimAmount``, the mean
        amount of the policy's records (the response of a severity model), ``ClaimTotal``, their
        sum, and ``n_claims``, their number (the case weight).
    report : SeverityReport
        The counts of records and policies, including the records whose IDpol is not in
        `freq`: they are excluded from `data` and reported here.

    Notes
    -----
    On the published data: 26,639 records on 24,950 distinct IDpol; 195 records on 6 IDpol are
    not in freMTPL2freq; 24,944 policies have records, 9,116 policies have ClaimNb > 0 but no
    record.
    """
    policies = validate_freq(freq)
    records = validate_sev(sev)
    matched = records["IDpol"].isin(policies["IDpol"])
    per_policy = records[matched].groupby("IDpol")["ClaimAmount"].agg(["size", "sum"])
    has_records = policies["IDpol"].isin(per_policy.index)
    data = policies[has_records].reset_index(drop=True)
    n_claims = data["IDpol"].map(per_policy["size"]).astype(np.int64)
    total = data["IDpol"].map(per_policy["sum"]).astype(np.float64)
    data["ClaimAmount"] = total / n_claims
    data["ClaimTotal"] = total
    data["n_claims"] = n_claims
    report = SeverityReport(
        n_records=len(records),
        n_distinct_IDpol=records["IDpol"].nunique(),
        n_policies_with_records=len(data),
        n_records_unmatched=int((~matched).sum()),
        unmatched_IDpol=tuple(sorted(records.loc[~matched, "IDpol"].unique().tolist())),
        n_policies_claims_without_records=int(((policies["ClaimNb"] > 0) & ~has_records).sum()),
        n_policies_count_mismatch=int((data["ClaimNb"] != n_claims).sum()),
        n_policies_records_but_no_claims=int((data["ClaimNb"] == 0).sum()),
    )
    return data, report
