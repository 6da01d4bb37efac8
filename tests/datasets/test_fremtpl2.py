"""Tests of actnn.data: locating, reading, validating and preparing freMTPL2.

The unit tests use small frames built here. The tests marked ``real_data`` check the published
facts of freMTPL2 and run only when ``ACTNN_DATA_DIR`` points to the files.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import io
import json
import os
import re
import tempfile
import urllib.error
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actnn import datasets as data
from actnn.datasets import fremtpl2, schema

# --- helpers ---------------------------------------------------------------------------------


def cycle(values: list, n: int) -> list:
    return [values[i % len(values)] for i in range(n)]


def make_freq(n: int = 6) -> pd.DataFrame:
    """``n`` policies as read from a CSV file: integers, floats and plain strings."""
    return pd.DataFrame(
        {
            "IDpol": list(range(1, n + 1)),
            "ClaimNb": cycle([1, 0, 2, 0, 1, 0], n),
            "Exposure": cycle([0.1, 0.77, 1.5, 0.09, 0.84, 1.0], n),
            "Area": cycle(["D", "D", "B", "B", "E", "A"], n),
            "VehPower": cycle([5, 5, 6, 7, 6, 4], n),
            "VehAge": cycle([0, 0, 2, 0, 2, 17], n),
            "DrivAge": cycle([55, 55, 52, 46, 46, 19], n),
            "BonusMalus": cycle([50, 50, 50, 50, 50, 100], n),
            "VehBrand": cycle(["B12", "B12", "B12", "B12", "B1", "B10"], n),
            "VehGas": cycle(["Regular", "Regular", "Diesel", "Diesel", "Diesel", "Regular"], n),
            "Density": cycle([1217, 1217, 54, 76, 76, 3003], n),
            "Region": cycle(["R82", "R82", "R22", "R72", "R72", "R11"], n),
        }
    )


def make_sev() -> pd.DataFrame:
    return pd.DataFrame({"IDpol": [1, 3, 3, 5], "ClaimAmount": [995.2, 1128.12, 1851.11, 1204.0]})


def with_values(df: pd.DataFrame, column: str, values: dict[int, object]) -> pd.DataFrame:
    """A copy of ``df`` with some values of ``column`` replaced, the column dtype re-inferred."""
    out = df.copy()
    new = out[column].astype(object)
    for row, value in values.items():
        new.iloc[row] = value
    out[column] = new.infer_objects()
    return out


def arff_text(df: pd.DataFrame, relation: str) -> str:
    """``df`` as OpenML writes ARFF: numbers as floats (``1.0``), nominal values in quotes."""
    header = [f"% {relation} written by the actnn tests", f"@relation {relation}", ""]
    columns = []
    for column in df.columns:
        values = df[column]
        if isinstance(values.dtype, pd.CategoricalDtype):
            levels = ",".join(f"'{level}'" for level in values.cat.categories)
            header.append(f"@attribute {column} {{{levels}}}")
            columns.append([f"'{value}'" for value in values])
        else:
            header.append(f"@attribute {column} numeric")
            columns.append([repr(float(value)) for value in values])
    rows = [",".join(cells) for cells in zip(*columns, strict=True)]
    return "\n".join([*header, "", "@data", *rows, ""])


def write_table(df: pd.DataFrame, path: Path) -> Path:
    """Write ``df`` in the format given by the suffix of ``path``."""
    relation = path.name.split(".")[0]
    if path.name.endswith(".parquet"):
        df.to_parquet(path)
    elif path.name.endswith(".arff"):
        path.write_text(arff_text(df, relation), encoding="utf-8")
    elif path.name.endswith(".arff.gz"):
        with gzip.open(path, "wt", encoding="utf-8") as file:
            file.write(arff_text(df, relation))
    else:
        df.to_csv(path, index=False)
    return path


def error_lines(excinfo: pytest.ExceptionInfo) -> list[str]:
    return [line.strip() for line in str(excinfo.value).splitlines()]


# --- validation ------------------------------------------------------------------------------


def test_validate_freq_types_the_columns_and_keeps_rows_index_and_extras():
    raw = make_freq().set_index(pd.Index([10, 11, 12, 13, 14, 15]))
    raw.insert(0, "note", list("abcdef"))
    before = raw.copy()
    freq = data.validate_freq(raw)
    assert list(freq.columns) == [*schema.FREQ_COLUMNS, "note"]
    for column in schema.INTEGER_COLUMNS:
        assert freq[column].dtype == np.int64
    assert freq["Exposure"].dtype == np.float64
    for column in schema.CATEGORICAL_LEVELS:
        assert freq[column].dtype == schema.categorical_dtype(column)
        assert freq[column].cat.categories.tolist() == list(schema.CATEGORICAL_LEVELS[column])
    assert freq.index.tolist() == [10, 11, 12, 13, 14, 15]
    assert freq["IDpol"].tolist() == raw["IDpol"].tolist()
    assert freq["note"].tolist() == list("abcdef")
    freq.loc[10, "Exposure"] = 99.0
    pd.testing.assert_frame_equal(raw, before)


def test_validate_is_idempotent_and_accepts_arff_style_values():
    raw = make_freq()
    arff_like = raw.astype({column: np.float64 for column in schema.INTEGER_COLUMNS})
    arff_like["VehBrand"] = ["'B12'", " 'B12' ", '"B12"', "B12 ", "B1", "'B10'"]
    expected = data.validate_freq(raw)
    pd.testing.assert_frame_equal(data.validate_freq(arff_like), expected)
    pd.testing.assert_frame_equal(data.validate_freq(expected), expected)


def test_validate_sev_types_the_columns_and_allows_repeated_IDpol():
    sev = data.validate_sev(make_sev().astype({"IDpol": np.float64}))
    assert sev["IDpol"].dtype == np.int64
    assert sev["ClaimAmount"].dtype == np.float64
    assert sev["IDpol"].tolist() == [1, 3, 3, 5]


@pytest.mark.parametrize(
    ("column", "values", "message"),
    [
        (
            "Exposure",
            {1: 0.0, 3: -1.0},
            "column 'Exposure': 2 rows have Exposure <= 0 (first: row 1 = 0.0, row 3 = -1.0)",
        ),
        (
            "Exposure",
            {2: np.nan},
            "column 'Exposure': 1 row has no value (NaN) (first: row 2 = nan)",
        ),
        (
            "Exposure",
            {4: np.inf},
            "column 'Exposure': 1 row has an infinite value (first: row 4 = inf)",
        ),
        (
            "DrivAge",
            {0: "abc", 5: "4O"},
            "column 'DrivAge': 2 rows have text that is not a number "
            "(first: row 0 = 'abc', row 5 = '4O')",
        ),
        ("ClaimNb", {3: -1}, "column 'ClaimNb': 1 row has ClaimNb < 0 (first: row 3 = -1)"),
        (
            "ClaimNb",
            {2: 1.5},
            "column 'ClaimNb': 1 row has a value that is not a whole number (first: row 2 = 1.5)",
        ),
        (
            "Area",
            {1: "G"},
            "column 'Area': 1 row has a level that is not one of A, B, C, D, E, F "
            "(first: row 1 = 'G')",
        ),
        ("Region", {0: np.nan}, "column 'Region': 1 row has no value (NaN) (first: row 0 = nan)"),
        (
            "IDpol",
            {4: 1},
            "column 'IDpol': 2 rows have an IDpol that occurs more than once "
            "(first: row 0 = 1, row 4 = 1)",
        ),
    ],
)
def test_validate_freq_names_column_count_and_first_rows(column, values, message):
    with pytest.raises(ValueError) as excinfo:
        data.validate_freq(with_values(make_freq(), column, values))
    assert error_lines(excinfo) == ["invalid freMTPL2freq data:", message]


def test_validate_freq_reports_a_missing_column():
    with pytest.raises(ValueError, match="missing columns: 'Area', 'Region'"):
        data.validate_freq(make_freq().drop(columns=["Region", "Area"]))


def test_validate_sev_rejects_claim_amounts_that_are_not_positive():
    with pytest.raises(ValueError) as excinfo:
        data.validate_sev(with_values(make_sev(), "ClaimAmount", {0: 0.0, 2: -5.0}))
    assert error_lines(excinfo) == [
        "invalid freMTPL2sev data:",
        "column 'ClaimAmount': 2 rows have ClaimAmount <= 0 (first: row 0 = 0.0, row 2 = -5.0)",
    ]


def test_validate_reports_every_problem_in_one_error():
    raw = with_values(make_freq(), "Exposure", {0: 0.0})
    raw = with_values(raw, "VehGas", {2: "LPG", 3: "Electric"})
    with pytest.raises(ValueError) as excinfo:
        data.validate_freq(raw.drop(columns="Density"))
    assert error_lines(excinfo) == [
        "invalid freMTPL2freq data:",
        "missing columns: 'Density'",
        "column 'Exposure': 1 row has Exposure <= 0 (first: row 0 = 0.0)",
        "column 'VehGas': 2 rows have a level that is not one of Diesel, Regular "
        "(first: row 2 = 'LPG', row 3 = 'Electric')",
    ]


def test_validate_shows_the_first_five_bad_rows():
    raw = with_values(make_freq(8), "Exposure", dict.fromkeys(range(7), 0.0))
    with pytest.raises(
        ValueError, match=re.escape("7 rows have Exposure <= 0 (first: row 0 = 0.0,")
    ):
        data.validate_freq(raw)
    with pytest.raises(ValueError, match=re.escape("row 4 = 0.0, ...)")):
        data.validate_freq(raw)


# --- reading ---------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", data.SUFFIXES)
def test_every_format_reads_back_the_same_frame_and_fingerprint(tmp_path, suffix):
    freq = data.validate_freq(make_freq())
    path = write_table(freq, tmp_path / f"freMTPL2freq{suffix}")
    loaded = data.load_freq(path=path, verify=False)
    pd.testing.assert_frame_equal(loaded, freq)
    assert data.content_fingerprint(loaded) == data.content_fingerprint(freq)


def test_arff_reader_handles_quotes_comments_and_case(tmp_path):
    sev = data.validate_sev(make_sev())
    text = (
        "% freMTPL2sev\n@RELATION freMTPL2sev\n@ATTRIBUTE 'IDpol' NUMERIC\n"
        "@attribute ClaimAmount real\n@DATA\n% a comment\n1.0, 995.2\n3.0,1128.12\n"
        "3,1851.11\n5.0,1204.0\n"
    )
    path = tmp_path / "freMTPL2sev.arff"
    path.write_text(text, encoding="utf-8")
    pd.testing.assert_frame_equal(data.load_sev(path=path, verify=False), sev)


def test_arff_missing_values_are_reported(tmp_path):
    path = tmp_path / "freMTPL2sev.arff"
    path.write_text("@relation s\n@attribute IDpol numeric\n@attribute ClaimAmount numeric\n"
                    "@data\n1,?\n2,3.5\n", encoding="utf-8")  # fmt: skip
    with pytest.raises(ValueError, match=re.escape("'ClaimAmount': 1 row has no value (NaN)")):
        data.load_sev(path=path, verify=False)


@settings(max_examples=25, deadline=None)
@given(
    exposure=st.lists(
        st.floats(min_value=1e-9, max_value=5.0, allow_subnormal=False), min_size=6, max_size=6
    )
)
def test_fingerprint_survives_csv_and_arff_for_any_float(exposure):
    freq = data.validate_freq(make_freq().assign(Exposure=exposure))
    with tempfile.TemporaryDirectory() as folder:
        for suffix in (".csv", ".arff"):
            path = write_table(freq, Path(folder) / f"freMTPL2freq{suffix}")
            loaded = data.load_freq(path=path, verify=False)
            assert data.content_fingerprint(loaded) == data.content_fingerprint(freq)


def test_load_warns_when_the_content_is_not_the_published_data(tmp_path):
    path = write_table(make_freq(), tmp_path / "freMTPL2freq.csv")
    with pytest.warns(UserWarning, match="differs from the published freMTPL2freq data"):
        data.load_freq(path=path)


def test_parquet_without_pyarrow_says_what_to_install(tmp_path, monkeypatch):
    path = write_table(make_freq(), tmp_path / "freMTPL2freq.parquet")
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *args: None if name == "pyarrow" else find_spec(name, *args),
    )
    with pytest.raises(ImportError, match=re.escape("pip install actnn[parquet]")):
        data.load_freq(path=path, verify=False)


def test_unknown_file_suffix_is_rejected(tmp_path):
    path = tmp_path / "freMTPL2freq.xlsx"
    path.write_bytes(b"")
    with pytest.raises(ValueError, match="must end in one of .csv"):
        data.load_freq(path=path, verify=False)


def test_load_takes_data_dir_or_path_not_both(tmp_path):
    with pytest.raises(ValueError, match="not both"):
        data.load_freq(tmp_path, path=tmp_path / "freMTPL2freq.csv")


# --- locating --------------------------------------------------------------------------------


@pytest.fixture
def clean_env(monkeypatch, tmp_path) -> Path:
    """No data folder set, the cache in ``tmp_path / "cache"``."""
    monkeypatch.delenv(data.DATA_DIR_ENV, raising=False)
    monkeypatch.setenv(data.CACHE_DIR_ENV, str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_default_cache_dir_order(monkeypatch, tmp_path):
    monkeypatch.setenv(data.CACHE_DIR_ENV, str(tmp_path / "a"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert data.default_cache_dir() == tmp_path / "a"
    monkeypatch.delenv(data.CACHE_DIR_ENV)
    assert data.default_cache_dir() == tmp_path / "xdg" / "actnn"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert data.default_cache_dir() == tmp_path / "home" / ".cache" / "actnn"


def test_find_data_file_looks_in_data_dir_then_env_then_cache(monkeypatch, tmp_path, clean_env):
    folders = {name: tmp_path / name for name in ("arg", "env")} | {"cache": clean_env}
    for folder in folders.values():
        folder.mkdir()
        (folder / "freMTPL2sev.csv").write_text("IDpol,ClaimAmount\n")
    monkeypatch.setenv(data.DATA_DIR_ENV, str(folders["env"]))
    assert data.find_data_file("freMTPL2sev", folders["arg"]) == folders["arg"] / "freMTPL2sev.csv"
    assert data.find_data_file("freMTPL2sev") == folders["env"] / "freMTPL2sev.csv"
    monkeypatch.delenv(data.DATA_DIR_ENV)
    assert data.find_data_file("freMTPL2sev") == folders["cache"] / "freMTPL2sev.csv"


def test_find_data_file_takes_the_first_suffix(tmp_path, clean_env):
    for suffix in (".arff", ".csv.gz"):
        (tmp_path / f"freMTPL2freq{suffix}").write_text("")
    assert data.find_data_file("freMTPL2freq", tmp_path) == tmp_path / "freMTPL2freq.csv.gz"


def test_data_not_found_lists_every_place_and_how_to_get_the_data(monkeypatch, tmp_path, clean_env):
    monkeypatch.setenv(data.DATA_DIR_ENV, str(tmp_path / "env"))
    (tmp_path / "arg").mkdir()
    with pytest.raises(data.DataNotFoundError) as excinfo:
        data.find_data_file("freMTPL2freq", tmp_path / "arg")
    assert isinstance(excinfo.value, FileNotFoundError)
    lines = error_lines(excinfo)
    for folder in (tmp_path / "arg", tmp_path / "env", clean_env):
        for suffix in data.SUFFIXES:
            assert str(folder / f"freMTPL2freq{suffix}") in lines
    message = str(excinfo.value)
    for hint in (
        "ACTNN_DATA_DIR",
        "data_dir=",
        "download_openml()",
        "41214",
        "41215",
        "CASdatasets",
    ):
        assert hint in message


def test_data_not_found_says_when_the_env_var_is_unset(clean_env):
    with pytest.raises(data.DataNotFoundError, match=r"\$ACTNN_DATA_DIR is not set"):
        data.load_sev()


def test_find_data_file_rejects_unknown_names():
    with pytest.raises(ValueError, match="freMTPL2freq, freMTPL2sev"):
        data.find_data_file("freMTPL3freq")


# --- download --------------------------------------------------------------------------------


def openml_server(tables: dict[str, pd.DataFrame], *, wrong_md5: bool = False) -> dict[str, bytes]:
    """URL -> bytes served: the OpenML JSON description and the ARFF file of each table."""
    served = {}
    for name, df in tables.items():
        data_id = data.OPENML_IDS[name]
        url = f"https://api.openml.org/data/v1/download/{data_id}/{name}.arff"
        served[url] = arff_text(df, name).encode()
        md5 = hashlib.md5(b"other" if wrong_md5 else served[url]).hexdigest()
        description = {
            "data_set_description": {"id": str(data_id), "url": url, "md5_checksum": md5}
        }
        served[data.OPENML_DESCRIPTION_URL.format(id=data_id)] = json.dumps(description).encode()
    return served


class FakeUrlopen:
    """Stands in for urlopen: serves ``served`` (URL -> bytes), records the URLs in ``calls``."""

    def __init__(self) -> None:
        self.served: dict[str, bytes] = {}
        self.calls: list[str] = []

    def __call__(self, url: str, timeout: float) -> io.BytesIO:
        self.calls.append(url)
        if url not in self.served:
            raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")
        return io.BytesIO(self.served[url])


@pytest.fixture
def fake_urlopen(monkeypatch) -> FakeUrlopen:
    fake = FakeUrlopen()
    monkeypatch.setattr(fremtpl2, "urlopen", fake)
    return fake


def small_tables() -> dict[str, pd.DataFrame]:
    return {
        "freMTPL2freq": data.validate_freq(make_freq()),
        "freMTPL2sev": data.validate_sev(make_sev()),
    }


def test_download_openml_writes_checked_arff_files(tmp_path, fake_urlopen):
    expected = small_tables()
    fake_urlopen.served = openml_server(expected)
    with pytest.warns(UserWarning, match="differs from the published") as record:
        paths = data.download_openml(tmp_path)
    assert len(record) == 2
    assert paths == {name: tmp_path / f"{name}.arff" for name in data.OPENML_IDS}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["freMTPL2freq.arff", "freMTPL2sev.arff"]
    for name, path in paths.items():
        url = f"https://api.openml.org/data/v1/download/{data.OPENML_IDS[name]}/{name}.arff"
        assert path.read_bytes() == fake_urlopen.served[url]
    pd.testing.assert_frame_equal(data.load_freq(tmp_path, verify=False), expected["freMTPL2freq"])
    pd.testing.assert_frame_equal(data.load_sev(tmp_path, verify=False), expected["freMTPL2sev"])

    fake_urlopen.calls.clear()
    with pytest.warns(UserWarning):
        data.download_openml(tmp_path)
    assert fake_urlopen.calls == []


def test_download_openml_goes_to_the_cache_by_default(clean_env, fake_urlopen):
    fake_urlopen.served = openml_server(small_tables())
    with pytest.warns(UserWarning):
        data.download_openml()
    assert data.find_data_file("freMTPL2freq") == clean_env / "freMTPL2freq.arff"


def test_download_openml_rejects_a_wrong_md5_and_writes_nothing(tmp_path, fake_urlopen):
    fake_urlopen.served = openml_server(small_tables(), wrong_md5=True)
    with pytest.raises(ValueError, match="md5 of the download is .* OpenML publishes .* 41214"):
        data.download_openml(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_download_openml_network_failure_names_the_url(tmp_path, fake_urlopen):
    url = data.OPENML_DESCRIPTION_URL.format(id=41214)
    with pytest.raises(ConnectionError, match=f"could not download {re.escape(url)}.*manually"):
        data.download_openml(tmp_path)
    assert list(tmp_path.iterdir()) == []


# --- fingerprints ----------------------------------------------------------------------------


def test_content_fingerprint_depends_on_values_and_row_order_only():
    freq = data.validate_freq(make_freq())
    fingerprint = data.content_fingerprint(freq)
    assert re.fullmatch("[0-9a-f]{64}", fingerprint)
    assert data.content_fingerprint(freq.set_axis(range(10, 16))) == fingerprint
    # the loaders put the columns in the schema's order, whatever the file's order
    reordered = data.validate_freq(make_freq()[make_freq().columns[::-1]])
    assert data.content_fingerprint(reordered) == fingerprint
    assert data.content_fingerprint(freq.iloc[::-1]) != fingerprint
    assert data.content_fingerprint(freq.assign(Exposure=freq["Exposure"] + 1e-12)) != fingerprint


def test_file_sha256(tmp_path):
    path = tmp_path / "bytes"
    path.write_bytes(b"freMTPL2" * 100_000)
    assert data.file_sha256(path) == hashlib.sha256(b"freMTPL2" * 100_000).hexdigest()


# --- preparations ----------------------------------------------------------------------------


def test_prepare_nsw2018_caps_claims_and_exposure():
    raw = make_freq(4).assign(ClaimNb=[0, 5, 4, 16], Exposure=[0.5, 1.2, 1.0, 2.01])
    before = raw.copy()
    out = data.prepare_nsw2018(raw)
    assert out["ClaimNb"].tolist() == [0, 4, 4, 4]
    assert out["Exposure"].tolist() == [0.5, 1.0, 1.0, 1.0]
    assert out["IDpol"].tolist() == [1, 2, 3, 4]
    assert out["ClaimNb"].dtype == np.int64
    pd.testing.assert_frame_equal(raw, before)


def test_prepare_wm2023_recounts_claims_and_removes_policies_with_more_than_5():
    freq = make_freq(5).assign(ClaimNb=[1, 0, 3, 0, 6], Exposure=[0.5, 1.5, 1.0, 0.2, 1.0])
    sev = pd.DataFrame(
        {
            "IDpol": [2, 3, 1, 3, 99, *[5] * 5, *[3] * 4],
            "ClaimAmount": [10.0, 20.0, 30.0, 40.0, 7.0, *[1.0] * 9],
        }
    )
    before = (freq.copy(), sev.copy())
    with pytest.warns(data.DataWarning, match=r"1 row has an IDpol .* \(first: row 4 = 99\)"):
        out = data.prepare_wm2023(freq, sev)
    # policy 3 has 6 records: removed; policy 5 has 5: kept; the record of IDpol 99 is ignored
    assert out["IDpol"].tolist() == [1, 2, 4, 5]
    assert out.index.tolist() == [0, 1, 2, 3]
    assert out["ClaimNb"].tolist() == [1, 1, 0, 5]
    assert out["ClaimTotal"].tolist() == [30.0, 10.0, 0.0, 5.0]
    assert out["Exposure"].tolist() == [0.5, 1.0, 0.2, 1.0]
    assert out.attrs["removed_IDpol"] == [3]
    assert out.attrs["unmatched_IDpol"] == [99]
    assert out["VehBrand"].cat.categories.tolist() == list(schema.VEHBRAND_LEVELS)
    assert list(out.columns) == [*schema.FREQ_COLUMNS, "ClaimTotal"]
    pd.testing.assert_frame_equal(freq, before[0])
    pd.testing.assert_frame_equal(sev, before[1])


def test_prepare_wm2023_orders_rows_by_idpol_as_rs_merge():
    # R's merge(freq, claims, by = "IDpol") sorts by IDpol whatever the order of freq.
    freq = make_freq(4).assign(ClaimNb=0).iloc[[2, 0, 3, 1]]
    sev = pd.DataFrame({"IDpol": [3, 1, 3], "ClaimAmount": [5.0, 7.0, 11.0]})
    out = data.prepare_wm2023(freq, sev)
    assert out["IDpol"].tolist() == [1, 2, 3, 4]
    assert out.index.tolist() == [0, 1, 2, 3]
    assert out["ClaimNb"].tolist() == [1, 0, 2, 0]
    assert out["ClaimTotal"].tolist() == [7.0, 0.0, 16.0, 0.0]
    by_id = freq.set_index("IDpol")
    assert out["DrivAge"].tolist() == by_id.loc[[1, 2, 3, 4], "DrivAge"].tolist()


def test_severity_data_one_row_per_policy_with_records_and_a_report():
    freq = make_freq(6).assign(ClaimNb=[1, 0, 2, 0, 1, 3])
    sev = pd.DataFrame(
        {
            "IDpol": [3, 1, 3, 2, 42, 42, 7, 6],
            "ClaimAmount": [100.0, 50.0, 300.0, 8.0, 1.0, 2.0, 3.0, 9.0],
        }
    )
    out, report = data.severity_data(freq, sev)
    assert out["IDpol"].tolist() == [1, 2, 3, 6]
    assert out["ClaimAmount"].tolist() == [50.0, 8.0, 200.0, 9.0]
    assert out["ClaimTotal"].tolist() == [50.0, 8.0, 400.0, 9.0]
    assert out["n_claims"].tolist() == [1, 1, 2, 1]
    assert out["n_claims"].dtype == np.int64
    assert out["ClaimNb"].tolist() == [1, 0, 2, 3]
    assert list(out.columns) == [*schema.FREQ_COLUMNS, "ClaimAmount", "ClaimTotal", "n_claims"]
    assert report == data.SeverityReport(
        n_records=8,
        n_distinct_IDpol=6,
        n_policies_with_records=4,
        n_records_unmatched=3,
        unmatched_IDpol=(7, 42),
        n_policies_claims_without_records=1,  # policy 5
        n_policies_count_mismatch=2,  # policy 2 (ClaimNb 0, 1 record), policy 6 (3 vs 1)
        n_policies_records_but_no_claims=1,  # policy 2
    )
    table = report.to_frame()
    assert table.loc["n_records_unmatched", "count"] == 3
    assert table.loc["unmatched_IDpol", "count"] == 2
    assert "unmatched IDpol: 7, 42" in str(report)
    with pytest.raises(AttributeError):
        report.n_records = 0


# --- argument types --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda: data.validate_freq(make_freq().to_dict()),
        lambda: data.validate_sev(np.zeros((2, 2))),
        lambda: data.content_fingerprint([1, 2]),
        lambda: data.prepare_nsw2018("freq.csv"),
        lambda: data.prepare_wm2023(make_freq(), None),
        lambda: data.severity_data(None, make_sev()),
        lambda: data.find_data_file(1),
        lambda: data.find_data_file("freMTPL2freq", data_dir=3),
        lambda: data.load_freq(path=3),
        lambda: data.load_sev(verify="yes"),
        lambda: data.file_sha256(None),
        lambda: data.download_openml(cache_dir=1.5),
        lambda: data.download_openml(force=1),
        lambda: data.download_openml(timeout="60"),
    ],
)
def test_wrong_argument_types_raise_type_error(call):
    with pytest.raises(TypeError):
        call()


# --- the real data ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_files() -> dict[str, Path]:
    folder = os.environ.get(data.DATA_DIR_ENV)
    files = {
        name: path
        for name in data.OPENML_IDS
        for path in [Path(folder or ".") / f"{name}{suffix}" for suffix in data.SUFFIXES]
        if folder and path.is_file()
    }
    if set(files) != set(data.OPENML_IDS):
        pytest.skip(
            "freMTPL2 data not found: set ACTNN_DATA_DIR to the folder holding "
            "freMTPL2freq.csv.gz and freMTPL2sev.csv.gz (see data/README.md)"
        )
    return files


@pytest.fixture(scope="module")
def real_freq(real_files) -> pd.DataFrame:
    return data.load_freq(path=real_files["freMTPL2freq"], verify=False)


@pytest.fixture(scope="module")
def real_sev(real_files) -> pd.DataFrame:
    return data.load_sev(path=real_files["freMTPL2sev"], verify=False)


@pytest.mark.real_data
def test_real_freq_facts(real_freq):
    assert len(real_freq) == 678_013
    assert real_freq["ClaimNb"].sum() == 36_102
    assert round(real_freq["Exposure"].sum(), 3) == 358_499.445
    assert real_freq["ClaimNb"].max() == 16
    assert real_freq["Exposure"].max() == 2.01


@pytest.mark.real_data
def test_real_fingerprints_match_the_published_data(real_files, real_freq, real_sev):
    assert data.content_fingerprint(real_freq) == data.FREQ_FINGERPRINT
    assert data.content_fingerprint(real_sev) == data.SEV_FINGERPRINT
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        data.load_sev(path=real_files["freMTPL2sev"])


@pytest.mark.real_data
def test_real_prepare_nsw2018(real_freq):
    out = data.prepare_nsw2018(real_freq)
    assert len(out) == 678_013
    assert out["ClaimNb"].sum() == 36_056
    assert out["IDpol"].equals(real_freq["IDpol"])


@pytest.mark.real_data
def test_real_prepare_wm2023(real_freq, real_sev):
    with pytest.warns(data.DataWarning, match="195 rows have an IDpol that is not a policy"):
        out = data.prepare_wm2023(real_freq, real_sev)
    assert len(out.attrs["unmatched_IDpol"]) == 6
    assert len(out) == 678_007
    assert out.attrs["removed_IDpol"] == [2216294, 2239279, 2241683, 2248174, 3253234, 3254353]
    assert out["ClaimNb"].max() == 5
    kept = real_freq[~real_freq["IDpol"].isin(out.attrs["removed_IDpol"])]
    assert out["IDpol"].tolist() == sorted(kept["IDpol"].tolist())
    # published_tables.md, WM2023: 26,383 claims, ClaimTotal 59,777,580.9, Exposure 358,358.8055
    assert out["ClaimNb"].sum() == 26_383
    assert round(out["ClaimTotal"].sum(), 1) == 59_777_580.9
    assert round(out["Exposure"].sum(), 4) == 358_358.8055


@pytest.mark.real_data
def test_real_severity_report(real_freq, real_sev):
    out, report = data.severity_data(real_freq, real_sev)
    assert report.n_records == 26_639
    assert report.n_distinct_IDpol == 24_950
    assert report.n_records_unmatched == 195
    assert len(report.unmatched_IDpol) == 6
    assert report.n_policies_claims_without_records == 9_116
    assert report.n_policies_with_records == len(out) == 24_944
    assert out["n_claims"].sum() == 26_639 - 195
