"""Bad input everywhere data enters: an error or a warning that names the column, the number of
offending rows and the first of them; nothing dropped silently.

One test per row of the table in docs/bad_input.md (the test names are in its last column). The
frames are small and the networks train for one epoch, so the file runs in well under a minute.
"""

from __future__ import annotations

import copy
import dataclasses
import re
import warnings

import numpy as np
import pandas as pd
import pytest

from actnn import (
    CANN,
    FNN,
    GLM,
    Binned,
    Categorical,
    Continuous,
    FeatureSpec,
    NetworkInputs,
    metrics,
    scores,
)
from actnn import datasets as actnn_data
from actnn.cli import main
from actnn.datasets import DataWarning, read_table, write_table
from actnn.datasets.schema import FREQ_COLUMNS
from actnn.datasets.simulate import simulate_mtpl
from actnn.ensemble import Nagging
from actnn.networks import LocalGLMnet

SPEC = FeatureSpec([Continuous("x"), Categorical("g")])
INPUTS = NetworkInputs([Continuous("x")], [Categorical("g")])
NETWORK = dict(hidden=(4,), epochs=1, batch_size=256, validation_fraction=0.0, verbose=0, seed=1)
GLM_TOML = """
[model]
kind = "glm"
response = "n"
exposure = "years"

[[features]]
kind = "continuous"
column = "x"

[[features]]
kind = "categorical"
column = "g"
"""


def make_frame(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """Policies with a numeric x (frequency rising with it), a level g, years, counts, amounts."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "x": rng.uniform(0.0, 10.0, n),
            "g": rng.choice(["a", "b", "c"], n),
            "years": rng.uniform(0.2, 1.0, n),
        }
    )
    frame["n"] = rng.poisson(0.2 * np.exp(0.2 * frame["x"]) * frame["years"])
    frame["amount"] = rng.gamma(2.0, 500.0, n)
    frame["w"] = rng.integers(1, 4, n).astype(float)
    return frame


def changed(frame: pd.DataFrame, column: str, rows: list[int], value: object) -> pd.DataFrame:
    """A copy of ``frame`` with ``value`` in ``rows`` of ``column`` (the dtype widened for it)."""
    out = frame.copy()
    if isinstance(value, str) or not pd.api.types.is_numeric_dtype(out[column]):
        out[column] = out[column].astype(object)
    elif out[column].dtype.kind in "iu":
        out[column] = out[column].astype(float)
    out.loc[rows, column] = value
    return out


def assert_names(message: str, label: str, rows: list[int], what: str = "") -> None:
    """The message names the column (label), the number of rows and each of the first rows."""
    have = "1 row has" if len(rows) == 1 else f"{len(rows)} rows have"
    assert f"{label}: {have} {what}" in message, message
    for row in rows[:5]:
        assert re.search(rf"\brow {row} = ", message), (row, message)


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return make_frame()


@pytest.fixture(scope="module")
def models(frame) -> dict[str, object]:
    """A Poisson GLM and three Poisson networks fitted with exposure (one epoch each)."""
    glm = GLM(SPEC).fit(frame, "n", exposure="years")
    return {
        "GLM": glm,
        "FNN": FNN(INPUTS, **NETWORK).fit(frame, "n", exposure="years"),
        "CANN": CANN(glm, INPUTS, **NETWORK).fit(frame, "n", exposure="years"),
        "LocalGLMnet": LocalGLMnet(INPUTS, **NETWORK).fit(frame, "n", exposure="years"),
    }


FITS = {
    "GLM": lambda data, **kw: GLM(SPEC).fit(data, "n", **{"exposure": "years", **kw}),
    "FNN": lambda data, **kw: FNN(INPUTS, **NETWORK).fit(data, "n", **{"exposure": "years", **kw}),
}
GAMMA_FITS = {
    "GLM": lambda data, **kw: GLM(SPEC, "gamma").fit(data, "amount", **{"weights": "w", **kw}),
    "FNN": lambda data, **kw: FNN(INPUTS, "gamma", **NETWORK).fit(
        data, "amount", **{"weights": "w", **kw}
    ),
}


# ------------------------------------------------------------------------------- columns
@pytest.mark.parametrize("kind", ["GLM", "FNN"])
@pytest.mark.parametrize("column", ["x", "g", "n", "years"])
def test_missing_column(frame, models, kind, column):
    with pytest.raises(ValueError, match=rf"(lacks the .*|column )'{column}'.*; it has \["):
        FITS[kind](frame.drop(columns=column))
    if column in ("x", "g"):  # predicting needs only the features (and the exposure)
        with pytest.raises(ValueError, match=rf"lacks the feature columns \['{column}'\]"):
            models[kind].predict(frame.drop(columns=column))


@pytest.mark.parametrize("kind", ["GLM", "FNN"])
@pytest.mark.parametrize("column", ["x", "years"])
def test_repeated_column(frame, models, kind, column):
    doubled = pd.concat([frame, frame[[column]]], axis=1)
    with pytest.raises(ValueError, match=rf"the data has the .*'{column}'.* more than once"):
        FITS[kind](doubled)
    with pytest.raises(ValueError, match=rf"the data has the .*'{column}'.* more than once"):
        models[kind].predict(doubled)


@pytest.mark.parametrize("kind", ["GLM", "FNN", "CANN", "LocalGLMnet"])
def test_extra_columns_are_ignored(frame, models, kind):
    extra = frame.assign(notes="text", x_copy=frame["x"] * 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(models[kind].predict(extra), models[kind].predict(frame))
    if kind == "GLM":
        refit = GLM(SPEC).fit(extra, "n", exposure="years")
        np.testing.assert_array_equal(refit.coef_, models["GLM"].coef_)


def test_data_that_is_not_a_frame(frame, models):
    for call in (
        lambda: GLM(SPEC).fit(frame.to_dict(), "n"),
        lambda: FNN(INPUTS, **NETWORK).fit(frame.to_numpy(), "n"),
        lambda: models["GLM"].predict(frame.to_dict()),
        lambda: models["FNN"].predict(frame.to_numpy()),
    ):
        with pytest.raises(TypeError, match="must be a pandas DataFrame"):
            call()


# ------------------------------------------------------------------------------- values
@pytest.mark.parametrize("kind", ["GLM", "FNN"])
@pytest.mark.parametrize(
    ("column", "label"),
    [("x", "column 'x'"), ("n", "response column 'n'"), ("years", "exposure column 'years'")],
)
def test_text_in_numeric_column(frame, models, kind, column, label):
    bad = changed(frame, column, [3, 7], "abc")
    with pytest.raises(ValueError) as info:
        FITS[kind](bad)
    assert_names(str(info.value), label, [3, 7], "text that is not a number")
    if column != "n":  # the response is not read by predict
        with pytest.raises(ValueError) as info:
            models[kind].predict(bad)
        assert_names(str(info.value), label, [3, 7], "text that is not a number")


@pytest.mark.parametrize("kind", ["GLM", "FNN"])
@pytest.mark.parametrize(
    ("column", "value", "label", "what"),
    [
        ("x", np.nan, "column 'x'", "no value (NaN)"),
        ("x", np.inf, "column 'x'", "an infinite value"),
        ("g", np.nan, "column 'g'", "no value (NaN)"),
        ("n", np.nan, "response column 'n'", "no value (NaN)"),
        ("n", -np.inf, "response column 'n'", "an infinite value"),
        ("years", np.nan, "exposure column 'years'", "no value (NaN)"),
        ("years", np.inf, "exposure column 'years'", "an infinite value"),
    ],
)
def test_missing_or_infinite_value(frame, models, kind, column, value, label, what):
    bad = changed(frame, column, [5, 11, 12], value)
    with pytest.raises(ValueError) as info:
        FITS[kind](bad)
    assert_names(str(info.value), label, [5, 11, 12], what)
    if column != "n":
        with pytest.raises(ValueError) as info:
            models[kind].predict(bad)
        assert_names(str(info.value), label, [5, 11, 12], what)


@pytest.mark.parametrize("kind", ["GLM", "FNN"])
@pytest.mark.parametrize("value", [np.nan, "abc", -1.0])
def test_weights_negative_or_not_numbers(frame, kind, value):
    bad = changed(frame, "w", [2, 9], value)
    with pytest.raises(ValueError) as info:
        GAMMA_FITS[kind](bad)
    what = {"abc": "text that is not a number", -1.0: "a value < 0"}
    assert_names(str(info.value), "weights column 'w'", [2, 9], what.get(value, "no value"))


@pytest.mark.parametrize("kind", ["GLM", "FNN", "CANN", "LocalGLMnet"])
@pytest.mark.parametrize("value", [0.0, -0.5])
def test_exposure_not_positive(frame, models, kind, value):
    bad = changed(frame, "years", [4, 8], value)
    with pytest.raises(ValueError, match="it must be > 0") as info:
        models[kind].predict(bad)
    assert_names(str(info.value), "exposure column 'years'", [4, 8], "a value <= 0")
    if kind in FITS:
        with pytest.raises(ValueError) as info:
            FITS[kind](bad)
        assert_names(str(info.value), "exposure column 'years'", [4, 8], "a value <= 0")
    with pytest.raises(ValueError) as info:  # an array: named by its role
        models[kind].predict(frame, exposure=bad["years"].to_numpy())
    assert_names(str(info.value), "exposure", [4, 8], "a value <= 0")


@pytest.mark.parametrize("kind", ["GLM", "FNN", "CANN", "LocalGLMnet"])
def test_exposure_over_one_warns(frame, models, kind):
    long = changed(frame, "years", [1, 6], 1.5)
    with pytest.warns(DataWarning, match="check the units") as record:
        mu = models[kind].predict(long)
    assert_names(str(record[0].message), "exposure column 'years'", [1, 6], "a value > 1")
    assert np.isfinite(mu).all()  # a warning: the predictions are made
    if kind in FITS:
        with pytest.warns(DataWarning, match=r"exposure column 'years': 2 rows have a value > 1"):
            FITS[kind](long)
    with pytest.warns(DataWarning, match=r"exposure: 2 rows have a value > 1"):
        metrics.score_table({"m": mu}, long["n"], exposure=long["years"])


@pytest.mark.parametrize("kind", ["GLM", "FNN"])
def test_negative_claim_counts(frame, kind):
    with pytest.raises(ValueError) as info:
        FITS[kind](changed(frame, "n", [0, 13], -1))
    what = "a value outside the support of the poisson family (y >= 0)"
    assert_names(str(info.value), "response column 'n'", [0, 13], what)


@pytest.mark.parametrize("kind", ["GLM", "FNN"])
def test_non_integer_claim_counts_warn(frame, kind):
    with pytest.warns(DataWarning, match="quasi-Poisson") as record:
        FITS[kind](changed(frame, "n", [10, 20], 0.5))
    messages = [str(r.message) for r in record if issubclass(r.category, DataWarning)]
    assert_names(messages[0], "response column 'n'", [10, 20], "a value that is not a whole")


@pytest.mark.parametrize("kind", ["GLM", "FNN"])
@pytest.mark.parametrize("value", [0.0, -10.0])
def test_claim_amounts_not_positive(frame, kind, value):
    with pytest.raises(ValueError) as info:
        GAMMA_FITS[kind](changed(frame, "amount", [3, 30], value))
    what = "a value outside the support of the gamma family (y > 0)"
    assert_names(str(info.value), "response column 'amount'", [3, 30], what)


def test_mixed_types_in_categorical_column(frame):
    bad = changed(frame, "g", [0], 7)
    with pytest.raises(ValueError, match=r"column 'g': the values mix types \(int, str\)"):
        GLM(SPEC).fit(bad, "n", exposure="years")


def test_level_without_claims(frame):
    bad = changed(frame, "g", [2, 5, 9], "new")
    bad.loc[[2, 5, 9], "n"] = 0
    for fit in (
        lambda: GLM(SPEC).fit(bad, "n", exposure="years"),
        lambda: LocalGLMnet(INPUTS, **NETWORK).fit(bad, "n", exposure="years"),
    ):
        with pytest.raises(ValueError, match="coefficient of such a level is -inf") as info:
            fit()
        assert_names(str(info.value), "column 'g'", [2, 5, 9], "the level 'new'")


def test_many_levels_without_claims_are_listed_up_to_ten(frame):
    # 15 new levels, each on rows without claims: the message counts them and lists 10
    bad = frame.copy()
    bad["g"] = bad["g"].astype(object)
    rows = list(range(15))
    bad.loc[rows, "g"] = [f"new{k:02d}" for k in rows]
    bad.loc[rows, "n"] = 0
    with pytest.raises(ValueError, match="coefficient of such a level is -inf") as info:
        GLM(SPEC).fit(bad, "n", exposure="years")
    message = str(info.value)
    assert message.startswith("15 levels whose response is 0 on all their rows, first 10: ")
    assert "'new09'" in message and "'new10'" not in message


# ------------------------------------------------------------------------------- shapes
def test_empty_data(frame, models):
    empty = frame.iloc[:0]
    for call in (
        lambda: FITS["GLM"](empty),
        lambda: FITS["FNN"](empty),
        lambda: models["GLM"].predict(empty),
        lambda: models["CANN"].predict(empty),
    ):
        with pytest.raises(ValueError, match=r"the data has no rows \(columns: \['x', 'g'"):
            call()
    with pytest.raises(ValueError, match="y is empty"):
        metrics.deviance([], [])
    freq = simulate_mtpl(20, seed=1)[list(FREQ_COLUMNS)]
    with pytest.raises(ValueError, match="invalid freMTPL2freq data:\n  no rows"):
        actnn_data.validate_freq(freq.iloc[:0])


@pytest.mark.parametrize("role", ["response", "exposure", "weights"])
def test_mismatched_lengths(frame, models, role):
    short = np.ones(len(frame) - 1)
    message = rf"{role} has {len(frame) - 1} values but the data has {len(frame)} rows"
    poisson = role == "exposure"
    arguments = {"response": "n" if poisson else "amount", "weights": "w", role: short}
    with pytest.raises(ValueError, match=message):
        GLM(SPEC, "poisson" if poisson else "gamma").fit(
            frame, arguments.pop("response"), **arguments
        )
    if role == "exposure":
        for kind in ("GLM", "FNN"):
            with pytest.raises(ValueError, match=message):
                models[kind].predict(frame, exposure=short)


def test_series_with_another_index(frame, models):
    shuffled = frame["years"].sample(frac=1.0, random_state=1)
    with pytest.raises(ValueError, match="exposure is a Series whose index differs"):
        models["GLM"].predict(frame, exposure=shuffled)
    with pytest.raises(ValueError, match="response is a Series whose index differs"):
        GLM(SPEC).fit(frame, frame["n"].iloc[::-1])
    same = models["GLM"].predict(frame, exposure=frame["years"])  # the data's own index: fine
    np.testing.assert_array_equal(same, models["GLM"].predict(frame))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda y, mu, v: metrics.deviance(y, mu[:-1]), r"mu has length 399 but y has length 400"),
        (lambda y, mu, v: metrics.gini(y, mu, v[1:]), r"exposure has length 399 but y has"),
        (lambda y, mu, v: metrics.deviance(np.r_[np.nan, y[1:]], mu), r"y: 1 row has no value"),
        (lambda y, mu, v: metrics.gini(y, np.r_[mu[:2], np.inf, mu[3:]], v),
         r"pred: 1 row has an infinite value \(first: row 2 = inf\)"),
        (lambda y, mu, v: metrics.deviance(["a", *y[1:]], mu),
         r"y: 1 row has text that is not a number \(first: row 0 = 'a'\)"),
        (lambda y, mu, v: metrics.score_table({"m": mu}, y, exposure=np.r_[0.0, v[1:]]),
         r"exposure: 1 row has a value <= 0 \(first: row 0 = 0.0\); it must be > 0"),
        (lambda y, mu, v: metrics.calibration_bins(y, mu, np.r_[v[:4], -1.0, v[5:]]),
         r"weights: 1 row has a value <= 0 \(first: row 4 = -1.0\)"),
        (lambda y, mu, v: metrics.deviance(np.r_[-2.0, y[1:]], mu),
         r"y: 1 row has a value outside the support of the poisson family"),
    ],
    ids=["length-mu", "length-exposure", "nan", "inf", "text", "exposure-0", "weights<0",
         "negative-y"],
)  # fmt: skip
def test_metrics_reject_bad_arrays(frame, models, call, message):
    mu = models["GLM"].predict(frame)
    with pytest.raises(ValueError, match=message):
        call(frame["n"].to_numpy(dtype=float), mu, frame["years"].to_numpy())


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda y, mu, v: scores.poisson_deviance(y, mu[:-1]),
         r"mu has length 399 but claims has length 400"),
        (lambda y, mu, v: scores.poisson_deviance(np.r_[-1.0, y[1:]], mu),
         r"claims: 1 row has a value outside the support of the poisson family \(y >= 0\)"),
        (lambda y, mu, v: scores.poisson_deviance(y, np.r_[mu[:3], 0.0, mu[4:]]),
         r"mu: 1 row has a value <= 0 \(first: row 3 = 0.0\)"),
        (lambda y, mu, v: scores.poisson_deviance(["a", *y[1:]], mu),
         r"claims: 1 row has text that is not a number \(first: row 0 = 'a'\)"),
        (lambda y, mu, v: scores.poisson_deviance_per_exposure(y, mu, np.r_[v[:1], 0.0, v[2:]]),
         r"exposure: 1 row has a value <= 0 \(first: row 1 = 0.0\)"),
        (lambda y, mu, v: scores.gamma_deviance(np.r_[0.0, mu[1:]], mu),
         r"y: 1 row has a value outside the support of the gamma family \(y > 0\)"),
        (lambda y, mu, v: scores.gamma_deviance(mu, mu, np.r_[np.nan, v[1:]]),
         r"weights: 1 row has no value \(NaN\)"),
    ],
    ids=["length", "negative-claims", "mu-0", "text", "exposure-0", "gamma-y-0", "weights-nan"],
)  # fmt: skip
def test_scores_reject_bad_arrays(frame, models, call, message):
    mu = models["GLM"].predict(frame)
    with pytest.raises(ValueError, match=message):
        call(frame["n"].to_numpy(dtype=float), mu, frame["years"].to_numpy())


# ------------------------------------------------------------------------------- levels
@pytest.mark.parametrize("kind", ["GLM", "FNN", "CANN", "LocalGLMnet"])
def test_unseen_level_is_an_error(frame, models, kind):
    bad = changed(frame, "g", [3, 7, 8], "zz")
    with pytest.raises(ValueError, match="With unseen='reference'") as info:
        models[kind].predict(bad)
    message = str(info.value)
    assert_names(message, "column 'g'", [3, 7, 8], "a level not seen when the features")
    assert "levels not seen: 'zz'; fitted levels: 'a', 'b', 'c'" in message


@pytest.mark.parametrize("kind", ["GLM", "FNN", "CANN", "LocalGLMnet"])
def test_unseen_level_at_reference(frame, models, kind):
    bad = changed(frame, "g", [3, 7, 8], "zz")
    with pytest.warns(DataWarning, match="encoded as the reference level 'a'") as record:
        mu = models[kind].predict(bad, unseen="reference")
    assert_names(str(record[0].message), "column 'g'", [3, 7, 8], "a level not seen")
    # exactly the predictions of the same rows at the reference level
    at_reference = models[kind].predict(changed(frame, "g", [3, 7, 8], "a"))
    np.testing.assert_array_equal(mu, at_reference)
    with pytest.raises(ValueError, match=r"unseen must be one of \('error', 'reference'\)"):
        models[kind].predict(frame, unseen="ignore")


def test_binned_value_outside_the_fitted_range(frame):
    spec = FeatureSpec([Binned("x", edges=(0, 3, 6, 10), reference="[3,6)")])
    glm = GLM(spec).fit(frame, "n", exposure="years")
    low, high = glm.features_.features[0].fitted_range
    assert (low, high) == (frame["x"].min(), frame["x"].max())
    bad = changed(frame, "x", [0, 1], 12.5)
    what = f"a value outside the range seen in fitting [{low:g}, {high:g}]"
    for unseen in ("error", "reference"):  # one rule: the nearest class seen, [6,10)
        with pytest.warns(DataWarning, match="nearest end of the range") as record:
            mu = glm.predict(bad, unseen=unseen)
        assert_names(str(record[0].message), "column 'x'", [0, 1], what)
        np.testing.assert_array_equal(mu, glm.predict(changed(frame, "x", [0, 1], 7.0)))
    # a feature without a recorded range (saved before ranges were): its classes decide
    legacy = dataclasses.replace(glm.features_.features[0], fitted_range=None)
    with pytest.raises(ValueError, match="reference level '\\[3,6\\)'") as info:
        legacy.codes(bad)
    assert_names(str(info.value), "column 'x'", [0, 1], "a value outside the classes [0.0, 10.0)")


def _without_ranges(model):
    """A copy of the model as saved before fitted ranges existed: no numeric range recorded."""
    model = copy.copy(model)
    if hasattr(model, "features_"):
        model.features_ = dataclasses.replace(model.features_, features=tuple(
            dataclasses.replace(f, fitted_range=None) if hasattr(f, "fitted_range") else f
            for f in model.features_.features))  # fmt: skip
    if hasattr(model, "inputs_"):
        model.inputs_ = dataclasses.replace(model.inputs_, numeric=tuple(
            dataclasses.replace(f, fitted_range=None) for f in model.inputs_.numeric))  # fmt: skip
    if hasattr(model, "glm"):
        model.glm = _without_ranges(model.glm)
    return model


# ------------------------------------------------------------------------------- overflow
@pytest.mark.parametrize("kind", ["GLM", "CANN", "LocalGLMnet"])
def test_overflowing_prediction(frame, models, kind):
    huge = changed(frame, "x", [6, 21], 1e5)
    with pytest.warns(DataWarning, match="outside the range seen in fitting"):
        assert np.isfinite(models[kind].predict(huge)).all()  # clipped to the fitted range
    glm = _without_ranges(models["GLM"])
    model = glm if kind == "GLM" else _without_ranges(models[kind])
    with pytest.raises(ValueError, match="not a finite number > 0") as info:
        model.predict(huge)
    message = str(info.value)
    assert message.startswith("2 rows have a prediction mu = exp(eta)")
    assert "row 6: eta = " in message and "row 21: eta = " in message
    if kind == "GLM":  # the eta of the message is the GLM's linear predictor
        eta = glm.linear_predictor(huge.iloc[[6]])[0]
        assert f"row 6: eta = {eta:.6g}, largest term 'x' (column 'x') = 100000" in message
    elif kind == "CANN":
        assert "GLM part: largest term 'x' (column 'x')" in message
    else:
        assert "largest numeric input 'x' (column 'x') scaled to" in message
    assert np.isfinite(models[kind].predict(frame)).all()


# ------------------------------------------------------------------------------- loaders
@pytest.mark.parametrize(
    ("column", "value", "what"),
    [
        ("DrivAge", "old", "text that is not a number"),
        ("Density", np.nan, "no value (NaN)"),
        ("Exposure", 0.0, "Exposure <= 0"),
        ("ClaimNb", -1, "ClaimNb < 0"),
        ("ClaimNb", 0.5, "a value that is not a whole number"),
        ("Region", "R99", "a level that is not one of"),
    ],
)
def test_loader_rejects_bad_values(column, value, what):
    freq = simulate_mtpl(30, seed=2)[list(FREQ_COLUMNS)].astype({"Region": str})
    freq = changed(freq, column, [4, 17], value)
    with pytest.raises(ValueError, match="invalid freMTPL2freq data") as info:
        actnn_data.prepare_nsw2018(freq)
    assert_names(str(info.value), f"column {column!r}", [4, 17], what)


def test_duplicate_policy_ids():
    freq = simulate_mtpl(30, seed=2)[list(FREQ_COLUMNS)]
    freq.loc[[5, 9], "IDpol"] = freq.loc[0, "IDpol"]
    sev = pd.DataFrame({"IDpol": [freq.loc[1, "IDpol"]], "ClaimAmount": [100.0]})
    for call in (
        lambda: actnn_data.validate_freq(freq),
        lambda: actnn_data.severity_data(freq, sev),
        lambda: actnn_data.prepare_wm2023(freq, sev),
    ):
        with pytest.raises(ValueError) as info:
            call()
        assert_names(str(info.value), "column 'IDpol'", [0, 5, 9], "an IDpol that occurs more")


def test_claim_records_without_policy():
    freq = simulate_mtpl(30, seed=2)[list(FREQ_COLUMNS)]
    unknown = int(freq["IDpol"].max()) + 1
    sev = pd.DataFrame(
        {"IDpol": [freq.loc[1, "IDpol"], unknown, unknown], "ClaimAmount": [10.0, 20.0, 30.0]}
    )
    with pytest.warns(DataWarning, match="these records of 1 IDpol are ignored") as record:
        out = actnn_data.prepare_wm2023(freq, sev)
    what = "an IDpol that is not a policy of freMTPL2freq"
    assert_names(str(record[0].message), "freMTPL2sev, column 'IDpol'", [1, 2], what)
    assert out.attrs["unmatched_IDpol"] == [unknown]
    _, report = actnn_data.severity_data(freq, sev)
    assert report.unmatched_IDpol == (unknown,) and report.n_records_unmatched == 2


def test_read_table_rejects_ambiguous_files(tmp_path):
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(ValueError, match="empty.csv is empty: no header and no rows"):
        read_table(tmp_path / "empty.csv")
    (tmp_path / "twice.csv").write_text("x,g,x\n1,a,2\n")
    with pytest.raises(ValueError, match=r"the column names \['x'\] occur more than once"):
        read_table(tmp_path / "twice.csv")


# ------------------------------------------------------------------------------- command line
@pytest.fixture(scope="module")
def cli_model(tmp_path_factory, frame) -> dict[str, str]:
    """``actnn fit`` of a Poisson GLM on ``frame``: the paths of the config, data and model."""
    folder = tmp_path_factory.mktemp("cli")
    paths = {"config": folder / "glm.toml", "data": folder / "learn.csv", "model": folder / "glm"}
    paths["config"].write_text(GLM_TOML)
    write_table(frame, paths["data"])
    args = ["fit", str(paths["config"]), "--data", str(paths["data"])]
    assert main([*args, "--out", str(paths["model"])]) == 0
    return {name: str(path) for name, path in paths.items()}


def _cli_error(capsys, args: list[str]) -> str:
    """Run the command; it must fail with one line on stderr and no traceback."""
    capsys.readouterr()
    assert main(args) == 1
    err = capsys.readouterr().err
    assert err.startswith("actnn: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    return err


def _empty(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.iloc[:0]


CLI_CASES = {
    "missing column": (lambda f: f.drop(columns="x"), ["'x'", "it has"]),
    "text in a numeric column": (
        lambda f: changed(f, "x", [2], "abc"),
        ["column 'x': 1 row has text that is not a number (first: row 2 = 'abc')"],
    ),
    "missing value": (
        lambda f: changed(f, "years", [4, 5], np.nan),
        ["exposure column 'years': 2 rows have no value (NaN) (first: row 4 = nan, row 5 = nan)"],
    ),
    "exposure <= 0": (
        lambda f: changed(f, "years", [1], 0.0),
        ["exposure column 'years': 1 row has a value <= 0 (first: row 1 = 0.0)"],
    ),
    "empty file": (_empty, ["has no rows"]),
    "unseen level": (
        lambda f: changed(f, "g", [3], "zz"),
        ["column 'g': 1 row has a level not seen", "first: row 3 = 'zz'"],
    ),
}
#: Fitting learns the levels from the data: no unseen level.
CLI_COMMAND_CASES = [
    (command, case)
    for case in CLI_CASES
    for command in ("fit", "predict", "report")
    if command != "fit" or case != "unseen level"
]


@pytest.mark.parametrize(("command", "case"), CLI_COMMAND_CASES)
def test_cli_errors_are_one_line(tmp_path, capsys, frame, cli_model, command, case):
    change, fragments = CLI_CASES[case]
    data = tmp_path / "data.csv"
    write_table(change(frame), data)
    first = {
        "fit": cli_model["config"],
        "predict": cli_model["model"],
        "report": cli_model["model"],
    }
    out = {"fit": "m", "predict": "p.csv", "report": "r.html"}[command]
    args = [command, first[command], "--data", str(data), "--out", str(tmp_path / out)]
    err = _cli_error(capsys, args)
    for fragment in fragments:
        assert fragment in err, err
    assert not any(tmp_path.glob("[mpr]*")), "nothing is written after an error"


def test_cli_negative_counts_and_repeated_header(tmp_path, capsys, frame, cli_model):
    write_table(changed(frame, "n", [9], -2), tmp_path / "negative.csv")
    for command in (["fit", cli_model["config"]], ["report", cli_model["model"]]):
        args = [*command, "--data", str(tmp_path / "negative.csv")]
        err = _cli_error(capsys, [*args, "--out", str(tmp_path / "out.html")])
        assert "response column 'n': 1 row has a value outside the support" in err
        assert "row 9 = -2.0" in err
    twice = frame.assign(x2=frame["x"]).rename(columns={"x2": "x"})
    twice.to_csv(tmp_path / "twice.csv", index=False)
    args = ["predict", cli_model["model"], "--data", str(tmp_path / "twice.csv")]
    err = _cli_error(capsys, [*args, "--out", str(tmp_path / "p.csv")])
    assert "the column names ['x'] occur more than once in the header" in err


def test_cli_warnings_are_one_line(tmp_path, capsys, frame, cli_model):
    write_table(changed(frame, "years", [0, 2], 2.0), tmp_path / "long.csv")
    capsys.readouterr()
    args = ["predict", cli_model["model"], "--data", str(tmp_path / "long.csv")]
    assert main([*args, "--out", str(tmp_path / "p.csv")]) == 0
    err = capsys.readouterr().err
    expected = "actnn: warning: exposure column 'years': 2 rows have a value > 1 (first: row 0 = "
    expected += "2.0, row 2 = 2.0)"
    assert err.startswith(expected) and err.count("\n") == 1, err  # once, though predicted twice


def test_cli_predict_unseen_reference(tmp_path, capsys, frame, cli_model):
    data = changed(frame, "g", [3, 4], "zz")
    write_table(data, tmp_path / "new.csv")
    capsys.readouterr()
    args = ["predict", cli_model["model"], "--data", str(tmp_path / "new.csv")]
    assert main([*args, "--out", str(tmp_path / "p.csv"), "--unseen", "reference"]) == 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("actnn: warning: column 'g': 2 rows have"), err
    assert "first: row 3 = 'zz', row 4 = 'zz'" in err and "reference level 'a'" in err
    priced = pd.read_csv(tmp_path / "p.csv")
    expected = GLM(SPEC).fit(frame, "n", exposure="years").predict(changed(frame, "g", [3, 4], "a"))
    np.testing.assert_allclose(priced["prediction"], expected, rtol=1e-12)


def test_cli_unseen_reference_for_a_nagging_ensemble_warns_once(tmp_path, capsys, frame):
    # every model kind has predict(..., unseen=...), a Nagging ensemble too; its two members'
    # identical warnings are given once
    make = lambda seed: FNN(INPUTS, **{**NETWORK, "seed": seed})  # noqa: E731
    nagging = Nagging(make, [1, 2], progress=None).fit(frame, "n", exposure="years")
    nagging.save(tmp_path / "nagging")
    write_table(changed(frame, "g", [3, 4], "zz"), tmp_path / "data.csv")
    capsys.readouterr()
    args = ["predict", str(tmp_path / "nagging"), "--data", str(tmp_path / "data.csv")]
    assert main([*args, "--out", str(tmp_path / "p.csv"), "--unseen", "reference"]) == 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("actnn: warning: column 'g': 2 rows have"), err
    priced = pd.read_csv(tmp_path / "p.csv")
    expected = nagging.predict(changed(frame, "g", [3, 4], "a"))
    np.testing.assert_allclose(priced["prediction"], expected, rtol=1e-10)
    with pytest.warns(DataWarning) as caught:
        nagging.predict(changed(frame, "g", [3, 4], "zz"), unseen="reference")
    assert len([w for w in caught if issubclass(w.category, DataWarning)]) == 1


def test_cli_predict_and_report_refuse_to_overwrite(tmp_path, capsys, frame, cli_model):
    for command in ("predict", "report"):
        out = tmp_path / ("p.csv" if command == "predict" else "r.html")
        out.write_text("the user's own file\n")
        args = [command, cli_model["model"], "--data", cli_model["data"], "--out", str(out)]
        err = _cli_error(capsys, args)
        assert f"{out} exists already: pass --overwrite to replace it" in err
        assert out.read_text() == "the user's own file\n"
        assert main([*args, "--overwrite"]) == 0
        assert out.read_text() != "the user's own file\n"


def test_cli_messages_name_options_not_python_keywords(tmp_path, capsys, frame, cli_model):
    write_table(changed(frame, "g", [3], "zz"), tmp_path / "new.csv")
    args = ["predict", cli_model["model"], "--data", str(tmp_path / "new.csv")]
    err = _cli_error(capsys, [*args, "--out", str(tmp_path / "p.csv")])
    assert "With --unseen reference, predict encodes such rows" in err
    assert "unseen=" not in err and "unseen='reference'" not in err


def test_cli_unreadable_files_are_named(tmp_path, capsys, frame, cli_model):
    write_table(frame, tmp_path / "whole.csv.gz")
    truncated = tmp_path / "truncated.csv.gz"
    truncated.write_bytes((tmp_path / "whole.csv.gz").read_bytes()[:-40])
    args = ["predict", cli_model["model"], "--out", str(tmp_path / "p.csv")]
    err = _cli_error(capsys, [*args, "--data", str(truncated)])
    assert f"cannot read {truncated}" in err
    # a csv separated by ';' read with ',' has one column named 'x;g;...': say so, and --sep
    frame.to_csv(tmp_path / "semicolon.csv", sep=";", index=False)
    err = _cli_error(capsys, [*args, "--data", str(tmp_path / "semicolon.csv")])
    assert "seem separated by ';', not ','; give the separator with --sep ';'" in err
    assert main([*args, "--data", str(tmp_path / "semicolon.csv"), "--sep", ";"]) == 0
    priced = pd.read_csv(tmp_path / "p.csv")
    expected = GLM(SPEC).fit(frame, "n", exposure="years").predict(frame)
    np.testing.assert_allclose(priced["prediction"], expected, rtol=1e-12)


def test_cli_extra_columns(tmp_path, capsys, frame, cli_model):
    extra = frame.assign(policy_id=np.arange(len(frame)), notes="x")
    write_table(extra, tmp_path / "extra.csv")
    capsys.readouterr()
    data = ["--data", str(tmp_path / "extra.csv")]
    assert main(["fit", cli_model["config"], *data, "--out", str(tmp_path / "m")]) == 0
    assert "not used by the model: amount, w, policy_id, notes" in capsys.readouterr().out
    assert main(["predict", cli_model["model"], *data, "--out", str(tmp_path / "p.csv")]) == 0
    priced = pd.read_csv(tmp_path / "p.csv")
    assert list(priced.columns) == [*extra.columns, "prediction", "rate"]
    pd.testing.assert_frame_equal(priced[extra.columns], read_table(tmp_path / "extra.csv"))


def test_cli_debug_shows_the_traceback(tmp_path, frame, cli_model):
    write_table(changed(frame, "years", [1], 0.0), tmp_path / "zero.csv")
    args = ["predict", cli_model["model"], "--data", str(tmp_path / "zero.csv")]
    with pytest.raises(ValueError, match=r"exposure column 'years': 1 row has a value <= 0"):
        main(["--debug", *args, "--out", str(tmp_path / "p.csv")])
