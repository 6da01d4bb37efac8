"""Tests of actnn.features (feature kinds, FeatureSpec) and actnn.presets (the published GLMs)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actnn.datasets.presets import PRESETS, get_preset
from actnn.datasets.schema import (
    AREA_LEVELS,
    REGION_LEVELS,
    VEHBRAND_LEVELS,
    VEHGAS_LEVELS,
    categorical_dtype,
)
from actnn.features import Binned, Categorical, Continuous, FeatureSpec, Polynomial

INF = float("inf")


def _fitted_encode(feature, df: pd.DataFrame, data: pd.DataFrame | None = None) -> np.ndarray:
    """Fit ``feature`` on ``df`` and encode ``data`` (default ``df``)."""
    return feature.fit(df).encode(df if data is None else data)


# ---------------------------------------------------------------------------------------------
# Continuous


def test_continuous_plain_values_and_terms():
    df = pd.DataFrame({"x": [1, 2.5, -3]})
    np.testing.assert_array_equal(Continuous("x").encode(df), [[1.0], [2.5], [-3.0]])
    assert Continuous("x").terms == ["x"]
    assert Continuous("x", name="xGLM").terms == ["xGLM"]


def test_continuous_mapping_on_categorical_column():
    area = pd.Series(list("FACB"), dtype=categorical_dtype("Area"))
    feature = Continuous("Area", mapping={a: i + 1 for i, a in enumerate(AREA_LEVELS)})
    np.testing.assert_array_equal(feature.values(pd.DataFrame({"Area": area})), [6, 1, 3, 2])


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"upper": 150}, [50, 100, 150, 150]),
        ({"lower": 60}, [60, 100, 150, 230]),
        ({"lower": 60, "upper": 150}, [60, 100, 150, 150]),
        # caps come before the log
        ({"upper": 100, "log": True}, np.log([50, 100, 100, 100])),
    ],
)
def test_continuous_caps_and_log(kwargs, expected):
    df = pd.DataFrame({"BonusMalus": [50, 100, 150, 230]})
    np.testing.assert_allclose(Continuous("BonusMalus", **kwargs).values(df), expected)


def test_continuous_order_is_map_cap_log():
    # mapping first (a -> 1, b -> 5), then the cap at 3, then the log: [log 1, log 3]
    feature = Continuous("x", mapping={"a": 1, "b": 5}, upper=3, log=True)
    np.testing.assert_allclose(feature.values(pd.DataFrame({"x": ["a", "b"]})), [0.0, math.log(3)])
    # a lower cap lifts zeros before the log
    lifted = Continuous("x", lower=1, log=True).values(pd.DataFrame({"x": [0, 5]}))
    np.testing.assert_allclose(lifted, [0.0, math.log(5)])


@pytest.mark.parametrize(
    ("values", "match"),
    [
        (
            ["1", "a", "3", None],
            r"column 'x': 1 row has no value \(NaN\) \(first: row 3 = .*\); "
            r"column 'x': 1 row has text that is not a number \(first: row 1 = 'a'\)",
        ),
        (
            [1.0, np.nan, 2.0, np.inf],
            r"column 'x': 1 row has no value \(NaN\) \(first: row 1 = nan\); "
            r"column 'x': 1 row has an infinite value \(first: row 3 = inf\)",
        ),
    ],
    ids=["non-numeric", "nan-inf"],
)
def test_continuous_bad_values_named(values, match):
    with pytest.raises(ValueError, match=match):
        Continuous("x").values(pd.DataFrame({"x": values}))


def test_continuous_log_of_nonpositive_named():
    df = pd.DataFrame({"Density": [3, 0, 5, -2]})
    with pytest.raises(
        ValueError,
        match=r"column 'Density': 2 rows have a value <= 0, where the log needs values > 0 "
        r"\(first: row 1 = .*0.*, row 3 = .*-2",
    ):
        Continuous("Density", log=True).values(df)


def test_continuous_unmapped_labels_named():
    df = pd.DataFrame({"Area": ["A", "Z", "B", "Y"]})
    with pytest.raises(
        ValueError,
        match=r"column 'Area': 2 rows have a value that is not in the mapping \['A', 'B'\] "
        r"\(first: row 1 = 'Z', row 3 = 'Y'\)",
    ):
        Continuous("Area", mapping={"A": 1, "B": 2}).values(df)


# ---------------------------------------------------------------------------------------------
# Polynomial


def test_polynomial_terms_order_and_values():
    feature = Polynomial("DrivAge", degree=4, log_term=True)
    assert feature.terms == ["DrivAge", "log(DrivAge)", "DrivAge^2", "DrivAge^3", "DrivAge^4"]
    got = feature.encode(pd.DataFrame({"DrivAge": [2, 10]}))
    expected = [[2, math.log(2), 4, 8, 16], [10, math.log(10), 100, 1000, 10000]]
    np.testing.assert_allclose(got, expected, rtol=1e-15)


def test_polynomial_without_log_term():
    feature = Polynomial("x", degree=3, name="age")
    assert feature.terms == ["age", "age^2", "age^3"]
    np.testing.assert_array_equal(
        feature.encode(pd.DataFrame({"x": [-2, 3]})), [[-2, 4, -8], [3, 9, 27]]
    )
    assert Polynomial("x", degree=1).terms == ["x"]


def test_polynomial_errors():
    with pytest.raises(ValueError, match="degree must be >= 1, got 0"):
        Polynomial("x", degree=0)
    with pytest.raises(ValueError, match=r"column 'x': 1 row has a value <= 0, where the log term"):
        Polynomial("x", log_term=True).encode(pd.DataFrame({"x": [1, 0]}))


# ---------------------------------------------------------------------------------------------
# Categorical


def test_categorical_levels_follow_dtype_order_restricted_to_observed():
    dtype = pd.CategoricalDtype(["c", "a", "d", "b"])
    df = pd.DataFrame({"X": pd.Series(["a", "c", "a", "b"], dtype=dtype)})
    fitted = Categorical("X").fit(df)
    assert fitted.levels == ["c", "a", "b"]  # "d" is never observed
    assert fitted.terms == ["Xa", "Xb"]  # reference: the first level, "c"
    np.testing.assert_array_equal(fitted.encode(df), [[1, 0], [0, 0], [1, 0], [0, 1]])


@pytest.mark.parametrize(
    ("values", "levels"),
    [
        (["b", "a", "c", "a"], ["a", "b", "c"]),
        ([10, 2, 5, 2], [2, 5, 10]),  # numeric order, not "10" < "2"
        (["B10", "B2", "B1"], ["B1", "B10", "B2"]),  # strings sort as strings
    ],
)
def test_categorical_levels_sorted_for_plain_columns(values, levels):
    fitted = Categorical("X").fit(pd.DataFrame({"X": values}))
    assert fitted.levels == levels
    assert all(type(lvl) is type(levels[0]) for lvl in fitted.levels)  # Python, not NumPy, scalars


def test_categorical_reference_and_design():
    df = pd.DataFrame({"X": ["a", "b", "c", "b"]})
    fitted = Categorical("X", reference="b").fit(df)
    assert fitted.terms == ["Xa", "Xc"]
    assert fitted.levels_table() == [("a", "Xa"), ("b", None), ("c", "Xc")]
    np.testing.assert_array_equal(fitted.encode(df), [[1, 0], [0, 0], [0, 1], [0, 0]])


def test_categorical_upper_cap_like_pmin():
    # R: VehPowerGLM <- as.factor(pmin(VehPower, 9)), reference 4
    df = pd.DataFrame({"VehPower": [4, 9, 12, 15, 6]})
    fitted = Categorical("VehPower", upper=9, reference=4).fit(df)
    assert fitted.levels == [4, 6, 9]
    assert fitted.terms == ["VehPower6", "VehPower9"]
    np.testing.assert_array_equal(fitted.encode(df), [[0, 0], [0, 1], [0, 1], [0, 1], [1, 0]])
    # a new frame with a power above the cap falls in the 9 class, not in an unseen level
    np.testing.assert_array_equal(fitted.encode(pd.DataFrame({"VehPower": [14]})), [[0, 1]])


def test_categorical_unseen_level_at_design_time():
    fitted = Categorical("X").fit(pd.DataFrame({"X": ["a", "b"]}))
    with pytest.raises(
        ValueError,
        match=r"column 'X': 2 rows have a level not seen when the features were fitted "
        r"\(first: row 1 = 'z', row 2 = 'y'\); levels not seen: 'y', 'z'; fitted levels: 'a', 'b'",
    ):
        fitted.encode(pd.DataFrame({"X": ["a", "z", "y"]}))


def test_categorical_bad_reference():
    df = pd.DataFrame({"X": ["a", "b"]})
    # the levels as in the other messages of levels (at most ten listed, see _validation._listed)
    with pytest.raises(
        ValueError, match=r"feature 'X': reference 'q' is not a level; levels: 'a', 'b'$"
    ):
        Categorical("X", reference="q").fit(df)
    # a category of the dtype that the data never shows is not a level either
    cat = pd.DataFrame({"X": pd.Series(["a", "b"], dtype=pd.CategoricalDtype(["a", "b", "c"]))})
    with pytest.raises(ValueError, match="reference 'c' is not a level"):
        Categorical("X", reference="c").fit(cat)


def test_categorical_missing_values_and_unfitted():
    with pytest.raises(ValueError, match=r"column 'X': 1 row has no value \(NaN\) \(first: row 1"):
        Categorical("X").fit(pd.DataFrame({"X": ["a", None, "b"]}))
    with pytest.raises(RuntimeError, match="feature 'X' is not fitted"):
        _ = Categorical("X").levels
    assert not Categorical("X").is_fitted


@settings(max_examples=50, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=1, max_size=30))
def test_categorical_dummies_one_hot_with_reference_zero(values):
    df = pd.DataFrame({"X": values})
    fitted = Categorical("X").fit(df)
    x = fitted.encode(df)
    assert x.shape == (len(values), len(set(values)) - 1)
    assert set(np.unique(x)) <= {0.0, 1.0}
    ref = np.array(values) == fitted.reference_level
    np.testing.assert_array_equal(x.sum(axis=1), np.where(ref, 0.0, 1.0))
    # the term of each non-reference row names its level
    terms = [fitted.terms[j] for j in x.argmax(axis=1)[~ref]] if x.shape[1] else []
    assert terms == ["X" + v for v, is_ref in zip(values, ref, strict=True) if not is_ref]


# ---------------------------------------------------------------------------------------------
# Binned


def test_binned_default_labels():
    assert Binned("x", edges=(18, 21, 26, INF)).levels == ["[18,21)", "[21,26)", "26+"]
    assert Binned("x", edges=(0, 2.5, 10)).levels == ["[0,2.5)", "[2.5,10)"]
    assert Binned("x", edges=(-INF, 0, INF)).levels == ["<0", "0+"]


def test_binned_classes_are_closed_left_open_right():
    feature = Binned("x", edges=(18, 21, 26, INF))
    df = pd.DataFrame({"x": [18, 20.99, 21, 25, 26, 1000]})
    np.testing.assert_array_equal(feature.codes(df), [0, 0, 1, 1, 2, 2])
    # reference: the first class by default
    np.testing.assert_array_equal(
        feature.encode(df), [[0, 0], [0, 0], [1, 0], [1, 0], [0, 1], [0, 1]]
    )
    assert feature.terms == ["x[21,26)", "x26+"]


def test_binned_labels_and_reference():
    feature = Binned("x", edges=(0, 1, 11, INF), labels=("0", "1-10", "11+"), reference="1-10")
    assert feature.terms == ["x0", "x11+"]
    df = pd.DataFrame({"x": [0, 1, 10, 11]})
    np.testing.assert_array_equal(feature.encode(df), [[1, 0], [0, 0], [0, 0], [0, 1]])


def test_binned_out_of_range_named():
    feature = Binned("x", edges=(18, 21, 26))
    with pytest.raises(
        ValueError,
        match=r"column 'x': 2 rows have a value outside the classes \[18.0, 26.0\) \(first: "
        r"row 0 = .*17.*, row 2 = .*26",
    ):
        feature.codes(pd.DataFrame({"x": [17, 20, 26]}))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"edges": (1,)}, "edges must be increasing with at least 2 values"),
        ({"edges": (1, 1, 2)}, "edges must be increasing"),
        ({"edges": (3, 2)}, "edges must be increasing"),
        ({"edges": (0, 1, 2), "labels": ("a",)}, "2 classes need 2 labels, got 1"),
        ({"edges": (0, 1, 2), "reference": "[1,3)"}, r"reference '\[1,3\)' is not a level"),
        ({"edges": (0, 1, 2), "labels": ("a", "b"), "reference": "c"}, "reference 'c'"),
    ],
)
def test_binned_construction_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Binned("x", **kwargs)


@settings(max_examples=100, deadline=None)
@given(x=st.floats(18, 200, exclude_max=True))
def test_binned_code_brackets_value(x):
    edges = (18, 21, 26, 31, 41, 51, 71, INF)
    code = Binned("x", edges=edges).codes(pd.DataFrame({"x": [x]}))[0]
    assert edges[code] <= x < edges[code + 1]


# ---------------------------------------------------------------------------------------------
# FeatureSpec


def _spec() -> FeatureSpec:
    return FeatureSpec(
        [
            Continuous("Area", mapping={"A": 1, "B": 2, "C": 3}, name="AreaGLM"),
            Continuous("Density", log=True, upper=1000),
            Polynomial("DrivAge", degree=2, log_term=True),
            Binned("DrivAge", edges=(18, 30, INF), reference="30+", name="AgeClass"),
            Categorical("VehPower", upper=9, reference=5),
            Categorical("Region"),
        ],
        name="demo",
    )


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Area": ["A", "C", "B", "C"],
            "Density": [10, 5000, 1, 300],
            "DrivAge": [18, 45, 30, 62],
            "VehPower": [5, 12, 4, 9],
            "Region": pd.Series(
                ["R2", "R1", "R2", "R3"], dtype=pd.CategoricalDtype(["R2", "R1", "R3"])
            ),
            "Unused": [0, 0, 0, 0],
        }
    )


def test_spec_terms_and_term_feature():
    fitted = _spec().fit(_frame())
    assert fitted.terms == [
        "AreaGLM", "Density", "DrivAge", "log(DrivAge)", "DrivAge^2", "AgeClass[18,30)",
        "VehPower4", "VehPower9", "RegionR1", "RegionR3",
    ]  # fmt: skip
    assert fitted.term_feature["log(DrivAge)"] == "DrivAge"
    assert fitted.term_feature["AgeClass[18,30)"] == "AgeClass"
    assert fitted.term_feature["RegionR3"] == "Region"
    assert list(fitted.term_feature) == fitted.terms
    assert fitted.columns == ["Area", "Density", "DrivAge", "VehPower", "Region"]


def test_spec_design_matrix_by_hand():
    x = _spec().fit(_frame()).design_matrix(_frame())
    l18, l45, l30, l62 = (math.log(a) for a in (18, 45, 30, 62))
    expected = [
        # Area Density     DrivAge, log, ^2  [18,30) VP4 VP9 R1 R3
        [1, math.log(10), 18, l18, 324, 1, 0, 0, 0, 0],
        [3, math.log(1000), 45, l45, 2025, 0, 0, 1, 1, 0],
        [2, 0.0, 30, l30, 900, 0, 1, 0, 0, 0],
        [3, math.log(300), 62, l62, 3844, 0, 0, 1, 0, 1],
    ]
    np.testing.assert_allclose(x, expected, rtol=1e-15)


def test_spec_design_matrix_intercept_adds_only_ones():
    fitted = _spec().fit(_frame())
    x0 = fitted.design_matrix(_frame())
    x1 = fitted.design_matrix(_frame(), intercept=True)
    assert x1.shape == (4, x0.shape[1] + 1)
    np.testing.assert_array_equal(x1[:, 0], 1.0)
    np.testing.assert_array_equal(x1[:, 1:], x0)


def test_spec_missing_column_and_wrong_type():
    fitted = _spec().fit(_frame())
    with pytest.raises(ValueError, match=r"data lacks the feature columns \['Region'\]"):
        fitted.design_matrix(_frame().drop(columns="Region"))
    with pytest.raises(ValueError, match=r"data lacks the feature columns \['VehPower'\]"):
        _spec().fit(_frame().drop(columns="VehPower"))
    for not_a_frame in (_frame().to_dict(), _frame().to_numpy()):
        with pytest.raises(TypeError, match="data must be a pandas DataFrame, got"):
            fitted.design_matrix(not_a_frame)
        with pytest.raises(TypeError, match="data must be a pandas DataFrame"):
            _spec().fit(not_a_frame)


def test_spec_names_unique_and_features_typed():
    with pytest.raises(ValueError, match=r"feature names must be unique; repeated: \['DrivAge'\]"):
        FeatureSpec([Continuous("DrivAge"), Binned("DrivAge", edges=(18, INF))])
    FeatureSpec([Continuous("DrivAge"), Binned("DrivAge", edges=(18, INF), name="AgeClass")])
    with pytest.raises(TypeError, match="features must be Feature objects, got str"):
        FeatureSpec(["DrivAge"])


def test_spec_unfitted_error():
    spec = _spec()
    assert not spec.is_fitted
    with pytest.raises(RuntimeError, match="not fitted: call .fit"):
        spec.design_matrix(_frame())
    assert spec.fit(_frame()).is_fitted
    # a spec without categorical features needs no fit
    assert FeatureSpec([Continuous("Density")]).design_matrix(_frame()).shape == (4, 1)


def _json_round_trip(spec: FeatureSpec) -> FeatureSpec:
    return FeatureSpec.from_dict(json.loads(json.dumps(spec.to_dict(), allow_nan=False)))


def test_spec_json_round_trip_gives_same_design_matrix():
    fitted = _spec().fit(_frame())
    restored = _json_round_trip(fitted)
    assert restored == fitted
    assert restored.to_dict() == fitted.to_dict()
    np.testing.assert_array_equal(restored.design_matrix(_frame()), fitted.design_matrix(_frame()))
    # an unfitted spec survives too and fits to the same thing
    assert _json_round_trip(_spec()).fit(_frame()) == fitted


def test_mapping_with_integer_keys_survives_json():
    spec = FeatureSpec([Continuous("code", mapping={1: 10.0, 2: 20.0})]).fit(
        pd.DataFrame({"code": [1, 2]})
    )
    restored = _json_round_trip(spec)
    frame = pd.DataFrame({"code": [2, 1, 2]})
    np.testing.assert_array_equal(restored.design_matrix(frame)[:, 0], [20.0, 10.0, 20.0])


def test_spec_from_dict_unknown_kind():
    with pytest.raises(ValueError, match=r"unknown feature kind 'spline'; valid: \["):
        FeatureSpec.from_dict({"features": [{"kind": "spline", "column": "x"}]})


# ---------------------------------------------------------------------------------------------
# Presets (NSW2018: Noll, Salzmann, Wüthrich; SW2019: Schelldorfer, Wüthrich)


def _every_level_frame() -> pd.DataFrame:
    """A freMTPL2-typed frame showing every level of every rating factor, in varied combinations.

    Each column repeats its values over 220 rows (so every level occurs) in its own shuffled
    order (so that the design matrices have full column rank).
    """
    n = 220
    rng = np.random.default_rng(2018)

    def column(values, name=None):
        shuffled = rng.permutation(np.resize(np.array(values), n))
        return pd.Series(shuffled, dtype=categorical_dtype(name) if name else None)

    return pd.DataFrame(
        {
            "Area": column(AREA_LEVELS, "Area"),
            "VehPower": column(np.arange(4, 16)),
            "VehAge": column([0, 1, 5, 10, 11, 30]),
            "DrivAge": column([18, 20, 21, 25, 26, 30, 31, 40, 41, 50, 51, 70, 71, 100]),
            "BonusMalus": column([50, 68, 100, 150, 230]),
            "VehBrand": column(VEHBRAND_LEVELS, "VehBrand"),
            "VehGas": column(VEHGAS_LEVELS, "VehGas"),
            "Density": column([1, 27, 500, 27000, 3]),
            "Region": column(REGION_LEVELS, "Region"),
        }
    )


@pytest.mark.parametrize(
    ("name", "n_parameters"),
    [("nsw2018_glm1", 49), ("nsw2018_glm2", 48), ("nsw2018_glm3", 38), ("sw2019_glm2", 48),
     ("homogeneous", 1)],
)  # fmt: skip
def test_preset_number_of_parameters(name, n_parameters):
    df = _every_level_frame()
    fitted = get_preset(name).fit(df)
    assert len(fitted.terms) + 1 == n_parameters
    x = fitted.design_matrix(df, intercept=True)
    assert x.shape == (len(df), n_parameters)
    assert np.linalg.matrix_rank(x) == n_parameters  # every term is identified


def _feature(spec: FeatureSpec, label: str):
    return next(f for f in spec.features if f.label == label)


def test_glm1_drivage_and_vehage_classes():
    glm1 = get_preset("nsw2018_glm1").fit(_every_level_frame())
    drivage = _feature(glm1, "DrivAgeGLM")
    ages = [18, 20, 21, 25, 26, 30, 31, 40, 41, 50, 51, 70, 71, 100]
    classes = np.array(drivage.levels)[drivage.codes(pd.DataFrame({"DrivAge": ages}))]
    assert classes.tolist() == [
        "18-20", "18-20", "21-25", "21-25", "26-30", "26-30", "31-40", "31-40",
        "41-50", "41-50", "51-70", "51-70", "71+", "71+",
    ]  # fmt: skip
    assert drivage.reference_level == "41-50"
    vehage = _feature(glm1, "VehAgeGLM")
    classes = np.array(vehage.levels)[vehage.codes(pd.DataFrame({"VehAge": [0, 1, 10, 11]}))]
    assert classes.tolist() == ["0", "1-10", "1-10", "11+"]
    assert vehage.reference_level == "1-10"


def test_glm1_references_and_levels():
    glm1 = get_preset("nsw2018_glm1").fit(_every_level_frame())
    vehpower = _feature(glm1, "VehPowerGLM")
    assert vehpower.levels == [4, 5, 6, 7, 8, 9]
    assert vehpower.reference_level == 4
    assert _feature(glm1, "Region").reference_level == "R24"
    assert _feature(glm1, "VehBrand").reference_level == "B1"
    assert _feature(glm1, "VehGas").reference_level == "Diesel"
    assert _feature(glm1, "VehGas").terms == ["VehGasRegular"]
    assert _feature(glm1, "VehBrand").levels == list(VEHBRAND_LEVELS)
    assert "RegionR24" not in glm1.terms and "VehBrandB1" not in glm1.terms


def test_glm1_design_row_by_hand():
    glm1 = get_preset("nsw2018_glm1").fit(_every_level_frame())
    row = _every_level_frame().iloc[:1].copy()
    row.loc[:, ["VehPower", "VehAge", "DrivAge", "BonusMalus", "Density"]] = [12, 0, 45, 200, 100]
    row["Area"] = pd.Series(["C"], dtype=categorical_dtype("Area"))
    row["VehBrand"] = pd.Series(["B12"], dtype=categorical_dtype("VehBrand"))
    row["VehGas"] = pd.Series(["Regular"], dtype=categorical_dtype("VehGas"))
    row["Region"] = pd.Series(["R24"], dtype=categorical_dtype("Region"))
    x = dict(zip(glm1.terms, glm1.design_matrix(row)[0], strict=True))
    # Area C -> 3; VehPower 12 -> pmin 9; VehAge 0 -> class "0"; DrivAge 45 -> reference 41-50;
    # BonusMalus 200 -> cap 150; Density 100 -> log 100; Region R24 -> reference
    nonzero = {k: v for k, v in x.items() if v != 0}
    assert nonzero == pytest.approx(
        {
            "AreaGLM": 3.0,
            "VehPowerGLM9": 1.0,
            "VehAgeGLM0": 1.0,
            "BonusMalusGLM": 150.0,
            "VehBrandB12": 1.0,
            "VehGasRegular": 1.0,
            "DensityGLM": math.log(100),
        }
    )


def test_sw2019_glm2_drivage_polynomial():
    fitted = get_preset("sw2019_glm2").fit(_every_level_frame())
    assert [t for t in fitted.terms if "DrivAge" in t] == [
        "DrivAge", "log(DrivAge)", "DrivAge^2", "DrivAge^3", "DrivAge^4",
    ]  # fmt: skip


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_presets_json_round_trip(name):
    df = _every_level_frame()
    fitted = get_preset(name).fit(df)
    restored = _json_round_trip(fitted)
    np.testing.assert_array_equal(restored.design_matrix(df), fitted.design_matrix(df))
    assert restored.terms == fitted.terms


def test_get_preset_unknown_name_lists_valid_names():
    with pytest.raises(
        ValueError, match=r"unknown preset 'glm9'; valid: homogeneous, nsw2018_glm1"
    ):
        get_preset("glm9")
