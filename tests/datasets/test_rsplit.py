"""Tests of actnn.rsplit: R's ``set.seed(seed); sample(1:n, size)`` reproduced in NumPy.

The reference vectors were drawn by R itself (``r_sample.json``); everything else is checked
against values R is known to print or against invariants of sampling without replacement.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actnn.datasets.rsplit import SAMPLE_KINDS, r_sample, r_split, r_uniforms
from actnn.studies import nsw2018_split, wm2023_split

REPO = Path(__file__).resolve().parents[2]
REFERENCE_DIR = Path(os.environ.get("ACTNN_REFERENCE_DIR", REPO.parent / "shared" / "reference"))
REFERENCE_FILE = REFERENCE_DIR / "r_sample.json"


def _reference_cases(keep=lambda case: True) -> list:
    """One pytest param per case of the R reference file, or one skipped param if it is absent."""
    if not REFERENCE_FILE.is_file():
        reason = (
            f"R reference file {REFERENCE_FILE} not found; set ACTNN_REFERENCE_DIR to the folder "
            "holding r_sample.json"
        )
        return [pytest.param(None, id="no-reference", marks=pytest.mark.skip(reason=reason))]
    cases = json.loads(REFERENCE_FILE.read_text())["cases"]
    return [pytest.param(c, id=c["name"]) for c in cases if keep(c)]


@functools.cache
def _drawn(n: int, size: int, seed: int, sample_kind: str) -> np.ndarray:
    """``r_sample`` once per case: the large cases take a second each."""
    return r_sample(n, size, seed, sample_kind)


def _drawn_for(case: dict) -> np.ndarray:
    return _drawn(case["n"], case["size"], case["seed"], case["sample_kind"])


def _md5_of_lines(values: np.ndarray) -> str:
    """MD5 of the vector written one decimal integer per line, each ending in a newline."""
    text = "".join(f"{v}\n" for v in values.tolist())
    return hashlib.md5(text.encode("ascii")).hexdigest()


# ---------------------------------------------------------------------------------------------
# Against R's own output


@pytest.mark.parametrize("case", _reference_cases())
def test_r_sample_first20_match_r(case):
    drawn = _drawn_for(case)
    assert drawn.shape == (case["size"],)
    assert drawn[:20].tolist() == case["first20"]


@pytest.mark.parametrize("case", _reference_cases())
def test_r_sample_last5_match_r(case):
    assert _drawn_for(case)[-5:].tolist() == case["last5"]


@pytest.mark.parametrize("case", _reference_cases())
def test_r_sample_md5_of_whole_vector_matches_r(case):
    assert _md5_of_lines(_drawn_for(case)) == case["md5_of_lines"]


@pytest.mark.parametrize("case", _reference_cases(lambda c: "values" in c))
def test_r_sample_values_match_r(case):
    assert _drawn_for(case).tolist() == case["values"]


def test_md5_of_lines_format():
    # R: writeLines(as.character(c(3, 10)), f); tools::md5sum(f) hashes the bytes "3\n10\n".
    assert _md5_of_lines(np.array([3, 10])) == hashlib.md5(b"3\n10\n").hexdigest()


def _is_90_percent_split(case: dict) -> bool:
    return case["size"] == round(0.9 * case["n"])


@pytest.mark.parametrize("case", _reference_cases(_is_90_percent_split))
def test_r_split_learn_rows_are_rs_sample_for_the_published_splits(case):
    # The cases drawn with size = round(0.9 n) are the published learn/test splits.
    learn, test = r_split(case["n"], 0.9, case["seed"], case["sample_kind"])
    assert (learn[:20] + 1).tolist() == case["first20"]
    assert (learn[-5:] + 1).tolist() == case["last5"]
    assert _md5_of_lines(learn + 1) == case["md5_of_lines"]
    assert len(learn) + len(test) == case["n"]


PUBLISHED_SPLITS = {"fremtpl2_cs_split": nsw2018_split, "fremtpl2_book_split": wm2023_split}


@pytest.mark.parametrize("case", _reference_cases(lambda c: c["name"] in PUBLISHED_SPLITS))
def test_published_split_functions_draw_the_r_reference(case):
    # NSW2018 (seed 100) and WM2023 (seed 500, Listing 5.2) are both drawn under
    # RNGversion("3.5.0"): R's "Rounding" sample kind.
    learn, test = PUBLISHED_SPLITS[case["name"]](case["n"])
    assert (learn[:20] + 1).tolist() == case["first20"]
    assert _md5_of_lines(learn + 1) == case["md5_of_lines"]
    assert len(learn) + len(test) == case["n"]


# R 4.x, default RNG kind: set.seed(s); print(runif(3), digits = 15)
R_RUNIF = [
    (42, [0.914806043496355, 0.937075413297862, 0.286139534786344], 1e-15),
    (1, [0.2655087, 0.3721239, 0.5728534], 5e-8),
    (123, [0.2875775, 0.7883051, 0.4089769], 5e-8),
]


@pytest.mark.parametrize(("seed", "expected", "tol"), R_RUNIF, ids=[str(s) for s, *_ in R_RUNIF])
def test_r_uniforms_first_values_match_runif(seed, expected, tol):
    # R prints 15 (or 7) significant digits, so the printed value is within half a unit of the
    # last digit of the exact double.
    first = next(r_uniforms(seed))[:3]
    np.testing.assert_allclose(first, expected, rtol=0, atol=tol)


def test_r_uniforms_chunks_are_float64_inside_unit_interval_and_continue():
    stream = r_uniforms(7)
    first, second = next(stream), next(stream)
    assert first.dtype == np.float64
    assert 0.0 < min(first.min(), second.min()) and max(first.max(), second.max()) < 1.0
    # The second chunk continues the stream instead of repeating it.
    assert not np.array_equal(first[:100], second[:100])
    # A fresh stream with the same seed starts over.
    np.testing.assert_array_equal(next(r_uniforms(7)), first)


# ---------------------------------------------------------------------------------------------
# r_split


@pytest.mark.parametrize("sample_kind", SAMPLE_KINDS)
def test_r_split_is_a_partition_with_increasing_test_rows(sample_kind):
    n = 1000
    learn, test = r_split(n, 0.9, seed=100, sample_kind=sample_kind)
    assert len(learn) == 900
    assert len(np.unique(learn)) == len(learn)
    assert np.intersect1d(learn, test).size == 0
    np.testing.assert_array_equal(np.sort(np.concatenate([learn, test])), np.arange(n))
    assert np.all(np.diff(test) > 0)
    # learn keeps R's sampled order (0-based), not sorted
    np.testing.assert_array_equal(learn, r_sample(n, 900, 100, sample_kind) - 1)
    assert not np.all(np.diff(learn) > 0)


# n, round(0.9 n) in R: round() takes halves to the even neighbour (4.5 -> 4, 13.5 -> 14). The
# published sizes (678013 -> 610212) are checked against the reference file above.
R_ROUND_SIZES = [(10, 9), (5, 4), (15, 14), (25, 22), (999, 899), (1000, 900)]


@pytest.mark.parametrize(("n", "learn_size"), R_ROUND_SIZES)
def test_r_split_learn_size_is_r_round(n, learn_size):
    learn, test = r_split(n, 0.9, seed=1)
    assert (len(learn), len(test)) == (learn_size, n - learn_size)


@settings(max_examples=50, deadline=None)
@given(
    n=st.integers(1, 300),
    frac=st.floats(0.001, 0.999),
    seed=st.integers(-(2**31) + 1, 2**31 - 1),
    sample_kind=st.sampled_from(SAMPLE_KINDS),
)
def test_r_split_partition_property(n, frac, seed, sample_kind):
    learn, test = r_split(n, frac, seed, sample_kind)
    assert len(learn) == round(frac * n)
    assert len(np.unique(learn)) == len(learn)  # no row drawn twice
    assert np.intersect1d(learn, test).size == 0  # disjoint
    np.testing.assert_array_equal(np.sort(np.concatenate([learn, test])), np.arange(n))
    assert np.all(np.diff(test) > 0)


# ---------------------------------------------------------------------------------------------
# r_sample invariants


@st.composite
def _sample_args(draw):
    n = draw(st.integers(1, 60))
    size = draw(st.integers(0, n))
    seed = draw(st.integers(-(2**31) + 1, 2**31 - 1))
    return n, size, seed, draw(st.sampled_from(SAMPLE_KINDS))


@settings(max_examples=100, deadline=None)
@given(_sample_args())
def test_r_sample_is_a_subset_without_repeats(args):
    n, size, seed, sample_kind = args
    drawn = r_sample(n, size, seed, sample_kind)
    assert drawn.dtype == np.int64
    assert drawn.shape == (size,)
    assert len(set(drawn.tolist())) == size
    assert set(drawn.tolist()) <= set(range(1, n + 1))


@settings(max_examples=50, deadline=None)
@given(_sample_args())
def test_r_sample_shorter_draw_is_a_prefix(args):
    # R draws sequentially, so sample(1:n, k) is the start of sample(1:n, n) with the same seed.
    n, size, seed, sample_kind = args
    full = r_sample(n, n, seed, sample_kind)
    np.testing.assert_array_equal(r_sample(n, size, seed, sample_kind), full[:size])


def test_r_sample_full_permutation_and_seed_matters():
    a = r_sample(50, 50, 1)
    np.testing.assert_array_equal(np.sort(a), np.arange(1, 51))
    assert not np.array_equal(a, r_sample(50, 50, 2))
    assert not np.array_equal(a, r_sample(50, 50, 1, "Rejection"))


# ---------------------------------------------------------------------------------------------
# Argument errors


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((10.0, 3, 1), "n must be an integer, got float"),
        (("10", 3, 1), "n must be an integer, got str"),
        ((True, 1, 1), "n must be an integer, got bool"),
        ((10, 3.0, 1), "size must be an integer, got float"),
        ((10, 3, 1.5), "seed must be an integer, got float"),
        ((10, 3, "1"), "seed must be an integer, got str"),
    ],
)
def test_r_sample_type_errors(args, match):
    with pytest.raises(TypeError, match=match):
        r_sample(*args)


def test_seed_type_errors_are_raised_at_the_call():
    with pytest.raises(TypeError, match="seed must be an integer, got float"):
        r_uniforms(1.5)  # not only at the first draw
    with pytest.raises(TypeError, match="seed must be an integer, got float"):
        r_sample(10, 0, seed=1.5)  # even when nothing is drawn


def test_r_split_type_errors():
    with pytest.raises(TypeError, match="n must be an integer"):
        r_split(10.0)
    with pytest.raises(TypeError, match="seed must be an integer"):
        r_split(10, seed=1.5)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((10, 3, 1, "rounding"), r"sample_kind must be one of \('Rounding', 'Rejection'\)"),
        ((10, 3, 1, "Rejection sampling"), "sample_kind must be one of"),
        ((5, 6, 1), r"size must be in 0..n = 0..5, got 6"),
        ((5, -1, 1), r"size must be in 0..n = 0..5, got -1"),
        ((0, 0, 1), r"n must be in 1..1e7"),
        ((10**7 + 1, 1, 1), r"n must be in 1..1e7"),
    ],
)
def test_r_sample_value_errors(args, match):
    with pytest.raises(ValueError, match=match):
        r_sample(*args)


@pytest.mark.parametrize("frac", [0.0, 1.0, -0.1, 1.5, float("nan")])
def test_r_split_frac_outside_open_unit_interval(frac):
    with pytest.raises(ValueError, match=r"frac must be in \(0, 1\)"):
        r_split(100, frac)
