"""scikit-learn's estimator contract: parameters from the constructor, clone, D² score, case
weights (sample_weight, zeros), offsets, metadata routing of exposure through cross_val_score,
GridSearchCV, Pipeline and scikit-learn's scorers, and check_estimator.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.metrics import d2_tweedie_score, make_scorer, mean_poisson_deviance
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.estimator_checks import check_estimator

from actnn import (
    CANN,
    FNN,
    GLM,
    Categorical,
    Continuous,
    FeatureSpec,
    NetworkInputs,
    load_model,
    simulate_mtpl,
)
from actnn.ensemble import Nagging
from actnn.families import Gamma, Tweedie
from actnn.networks import LocalGLMnet

SPEC = FeatureSpec([Continuous("DrivAge"), Continuous("BonusMalus"), Categorical("Area")])
INPUTS = NetworkInputs([Continuous("DrivAge"), Continuous("BonusMalus")], [Categorical("Area")])
FAST = dict(
    hidden=(3,), epochs=2, batch_size=512, validation_fraction=0.0, verbose=0, jit_compile=False
)


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    return simulate_mtpl(3_000, seed=5)


@pytest.fixture(scope="module")
def claims(df) -> pd.DataFrame:
    return df[df["ClaimNb"] > 0].assign(mean_claim=lambda d: d["ClaimAmount"] / d["ClaimNb"])


def folds(n: int):
    return list(KFold(3, shuffle=True, random_state=0).split(np.arange(n)))


# ---------------------------------------------------------------------- parameters and clone
def test_params_are_the_constructor_arguments(df):
    glm = GLM(SPEC, "gamma", tol=1e-10, name="g")
    assert glm.get_params() == {
        "features": SPEC, "family": "gamma", "tol": 1e-10, "max_iter": 100, "name": "g",
        "dispersion": None,
    }  # fmt: skip
    hidden = [4, 3]  # stored as given (a list stays the list), converted in fit
    fnn = FNN(INPUTS, hidden=hidden, epochs=3)
    assert fnn.get_params()["hidden"] is hidden
    assert fnn.set_params(epochs=5).epochs == 5
    copy = clone(fnn)
    assert copy.get_params()["hidden"] == hidden and not hasattr(copy, "keras_model_")
    seeds = (3, 4)
    nagging = Nagging(lambda s: FNN(INPUTS, seed=s, **FAST), seeds, checkpoint_dir="x")
    assert nagging.get_params()["seeds"] is seeds and nagging.checkpoint_dir == "x"
    assert clone(LocalGLMnet(INPUTS, hidden=(2,))).get_params()["hidden"] == (2,)


def test_cann_lists_every_option_and_its_clone_keeps_the_fitted_glm(df):
    glm = GLM(SPEC).fit(df, "ClaimNb", exposure="Exposure")
    cann = CANN(glm, INPUTS, epochs=2, hidden=(2,), verbose=0)
    params = cann.get_params(deep=False)
    assert params["epochs"] == 2 and params["family"] is None and params["glm"] is glm
    assert set(params) >= set(FNN(INPUTS).get_params(deep=False))
    copy = clone(cann)
    assert copy.glm is glm and copy.epochs == 2  # the clones share the fitted GLM
    assert copy.fit(df, "ClaimNb", exposure="Exposure").family_.name == "poisson"


def test_constructor_arguments_are_checked_by_fit(df):
    with pytest.raises(TypeError, match="features must be a FeatureSpec, got list"):
        GLM(["DrivAge"]).fit(df, "ClaimNb")
    with pytest.raises(ValueError, match=r"validation_fraction must be in \[0, 1\), got 1.5"):
        FNN(INPUTS, validation_fraction=1.5).fit(df, "ClaimNb")
    with pytest.raises(ValueError, match="seeds must be distinct and not empty, got \\[1, 1\\]"):
        Nagging(lambda s: FNN(INPUTS, seed=s), [1, 1]).fit(df, "ClaimNb")


# ---------------------------------------------------------------------- score: D²
def test_score_is_d2_as_scikit_learn_without_exposure(df, claims):
    glm = GLM(SPEC).fit(df, "ClaimNb")
    expected = d2_tweedie_score(df["ClaimNb"], glm.predict(df), power=1.0)
    assert glm.score(df, "ClaimNb") == pytest.approx(expected, rel=1e-12)
    severity = GLM(SPEC, "gamma").fit(claims, "mean_claim", weights="ClaimNb")
    expected = d2_tweedie_score(
        claims["mean_claim"], severity.predict(claims), sample_weight=claims["ClaimNb"], power=2.0
    )
    assert severity.score(claims, "mean_claim", sample_weight="ClaimNb") == pytest.approx(
        expected, rel=1e-12
    )


def test_score_with_exposure_is_one_minus_deviance_over_null_deviance(df):
    glm = GLM(SPEC, Tweedie(1.5)).fit(df, "ClaimNb", exposure="Exposure")
    assert glm.score(df, "ClaimNb") == pytest.approx(1 - glm.deviance_ / glm.null_deviance_)
    assert 0 < glm.score(df, df["ClaimNb"].to_numpy(), exposure=df["Exposure"].to_numpy()) < 1


# ---------------------------------------------------------------------- weights and offset
def test_sample_weight_is_weights(claims):
    a = GLM(SPEC, "gamma").fit(claims, "mean_claim", weights="ClaimNb")
    b = GLM(SPEC, "gamma").fit(claims, "mean_claim", sample_weight=claims["ClaimNb"].to_numpy())
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-12)
    with pytest.raises(TypeError, match="sample_weight .* or weights, not both"):
        GLM(SPEC, "gamma").fit(claims, "mean_claim", weights="ClaimNb", sample_weight="ClaimNb")


def test_zero_weights_are_rows_left_out(claims):
    w = np.where(np.arange(len(claims)) % 4 == 0, 0.0, claims["ClaimNb"].to_numpy())
    zero = GLM(SPEC, Gamma()).fit(claims, "mean_claim", weights=w)
    kept = claims[w > 0]
    dropped = GLM(SPEC, Gamma()).fit(kept, "mean_claim", weights="ClaimNb")
    np.testing.assert_allclose(zero.coef_, dropped.coef_, rtol=1e-9)
    np.testing.assert_allclose(zero.bse_, dropped.bse_, rtol=1e-9)
    for name in ("deviance_", "dispersion_", "aic_", "n_obs_", "df_resid_"):
        assert getattr(zero, name) == pytest.approx(getattr(dropped, name), rel=1e-9), name
    assert zero.n_obs_ == len(kept)
    with pytest.raises(ValueError, match=r"weights: 1 row has a value < 0 .*; it must be >= 0"):
        GLM(SPEC, Gamma()).fit(claims, "mean_claim", weights=np.r_[-1.0, w[1:]])
    with pytest.raises(ValueError, match="weights: every row has weight 0"):
        GLM(SPEC, Gamma()).fit(claims, "mean_claim", weights=np.zeros(len(claims)))


def test_network_ignores_the_response_of_rows_of_weight_zero(df):
    w = np.where(np.arange(len(df)) % 3 == 0, 0.0, 1.0)
    changed = df.assign(ClaimNb=np.where(w == 0, 7, df["ClaimNb"]))
    fits = [
        FNN(INPUTS, seed=2, **FAST).fit(frame, "ClaimNb", exposure="Exposure", sample_weight=w)
        for frame in (df, changed)
    ]
    assert np.isfinite(fits[0].history_.loss).all()
    np.testing.assert_allclose(fits[0].predict(df), fits[1].predict(df), rtol=1e-6)


def test_offset_adds_to_log_exposure_as_statsmodels(df):
    sm = pytest.importorskip("statsmodels.api")
    base = np.log(0.8 + 0.4 * (df["Density"] > 500))
    data = df.assign(base=base)
    glm = GLM(SPEC).fit(data, "ClaimNb", exposure="Exposure", offset="base")
    x = pd.DataFrame(SPEC.fit(data).design_matrix(data, intercept=True))
    reference = sm.GLM(data["ClaimNb"], x, family=sm.families.Poisson(), offset=base,
                       exposure=data["Exposure"]).fit(tol=1e-12)  # fmt: skip
    np.testing.assert_allclose(glm.coef_, reference.params, rtol=1e-8)
    np.testing.assert_allclose(glm.predict(data), reference.fittedvalues, rtol=1e-8)
    np.testing.assert_allclose(
        glm.linear_predictor(data), np.log(data["Exposure"]) + base + glm.linear_predictor(
            data, exposure=np.ones(len(data)), offset=np.zeros(len(data))
        ),
        rtol=1e-12,
    )  # fmt: skip
    as_array = GLM(SPEC).fit(data, "ClaimNb", exposure="Exposure", offset=base.to_numpy())
    with pytest.raises(ValueError, match="fitted with an offset: pass offset="):
        as_array.predict(data)
    np.testing.assert_allclose(as_array.predict(data, offset=base.to_numpy()), glm.predict(data))


def test_network_offset_is_its_log_scale_input(df):
    data = df.assign(base=0.3)
    fnn = FNN(INPUTS, seed=1, **FAST).fit(data, "ClaimNb", exposure="Exposure", offset="base")
    shifted = fnn.predict(data, offset=np.full(len(data), 0.3 + np.log(2.0)))
    np.testing.assert_allclose(shifted, 2.0 * fnn.predict(data), rtol=1e-6)


def test_saved_offset_column_is_used_after_loading_and_old_manifests_load(df, tmp_path):
    data = df.assign(base=np.log(1.0 + 0.1 * (df["VehAge"] > 5)))
    glm = GLM(SPEC).fit(data, "ClaimNb", exposure="Exposure", offset="base")
    loaded = load_model(glm.save(tmp_path / "with_offset"))
    assert loaded.offset_ == "base"
    np.testing.assert_array_equal(loaded.predict(data), glm.predict(data))
    plain = GLM(SPEC).fit(data, "ClaimNb", exposure="Exposure").save(tmp_path / "plain")
    manifest = json.loads((plain / "actnn_model.json").read_text())
    for name in ("offset_", "uses_offset_"):  # as format 2 wrote it before offsets existed
        del manifest["fitted"][name]
    (plain / "actnn_model.json").write_text(json.dumps(manifest))
    old = load_model(plain)
    assert old.uses_offset_ is False and old.offset_ is None
    np.testing.assert_array_equal(old.predict(data), GLM(SPEC).fit(data, "ClaimNb",
                                  exposure="Exposure").predict(data))  # fmt: skip


# ---------------------------------------------------------------------- metadata routing
def test_request_methods_exist_and_route(df):
    with sklearn.config_context(enable_metadata_routing=True):
        glm = (
            GLM(SPEC)
            .set_fit_request(exposure=True, offset=True, sample_weight=True)
            .set_predict_request(exposure=True, offset=True)
            .set_score_request(exposure=True, sample_weight=True)
        )
        routing = glm.get_metadata_routing()
        assert routing.fit.requests["exposure"] is True
        assert set(routing.predict.requests) == {"exposure", "offset"}  # not data, not unseen
        assert routing.score.requests["sample_weight"] is True


def test_cross_val_score_with_exposure_routed(df):
    y, v = df["ClaimNb"].to_numpy(), df["Exposure"].to_numpy()
    cv = folds(len(df))
    with sklearn.config_context(enable_metadata_routing=True):
        glm = GLM(SPEC).set_fit_request(exposure=True).set_score_request(exposure=True)
        scores = cross_val_score(glm, df, y, cv=cv, params={"exposure": v})
    by_hand = [
        GLM(SPEC).fit(df.iloc[a], y[a], exposure=v[a]).score(df.iloc[b], y[b], exposure=v[b])
        for a, b in cv
    ]
    np.testing.assert_allclose(scores, by_hand, rtol=1e-12)


def test_grid_search_over_the_tweedie_power_with_exposure_routed(df):
    y, v = df["ClaimNb"].to_numpy(), df["Exposure"].to_numpy()
    cv = folds(len(df))
    grid = {"family": [Tweedie(1.2), Tweedie(1.6)]}
    with sklearn.config_context(enable_metadata_routing=True):
        glm = GLM(SPEC).set_fit_request(exposure=True).set_score_request(exposure=True)
        search = GridSearchCV(glm, grid, cv=cv).fit(df, y, exposure=v)
    by_hand = [
        np.mean([
            GLM(SPEC, p).fit(df.iloc[a], y[a], exposure=v[a]).score(df.iloc[b], y[b], exposure=v[b])
            for a, b in cv
        ])
        for p in grid["family"]
    ]  # fmt: skip
    np.testing.assert_allclose(search.cv_results_["mean_test_score"], by_hand, rtol=1e-10)
    assert search.best_params_["family"] is grid["family"][int(np.argmax(by_hand))]
    assert search.best_estimator_.coef_.index[0] == "(Intercept)"


def test_pipeline_with_a_pandas_column_transformer_and_exposure_routed(df):
    y, v = df["ClaimNb"].to_numpy(), df["Exposure"].to_numpy()
    prepare = ColumnTransformer(
        [("log", FunctionTransformer(np.log1p), ["Density"]),
         ("keep", "passthrough", ["DrivAge", "Area"])],
        verbose_feature_names_out=False,
    ).set_output(transform="pandas")  # fmt: skip
    spec = FeatureSpec([Continuous("Density"), Continuous("DrivAge"), Categorical("Area")])
    with sklearn.config_context(enable_metadata_routing=True):
        glm = GLM(spec).set_fit_request(exposure=True).set_predict_request(exposure=True)
        pipe = make_pipeline(prepare, glm).fit(df, y, exposure=v)
        mu = pipe.predict(df, exposure=v)
    frame = df.assign(Density=np.log1p(df["Density"]))
    np.testing.assert_allclose(
        mu, GLM(spec).fit(frame, y, exposure=v).predict(frame, exposure=v), rtol=1e-12
    )


def test_scikit_learn_deviance_scorer_with_the_exposure_column(df):
    y = df["ClaimNb"].to_numpy()
    cv = folds(len(df))
    scorer = make_scorer(mean_poisson_deviance, greater_is_better=False)
    with sklearn.config_context(enable_metadata_routing=True):
        glm = GLM(SPEC).set_fit_request(exposure=True)
        scores = cross_val_score(glm, df, y, cv=cv, scoring=scorer, params={"exposure": "Exposure"})
    by_hand = []
    for a, b in cv:
        mu = GLM(SPEC).fit(df.iloc[a], y[a], exposure="Exposure").predict(df.iloc[b])
        by_hand.append(-mean_poisson_deviance(y[b], mu))  # claim counts against claim counts
    np.testing.assert_allclose(scores, by_hand, rtol=1e-12)


def test_network_cross_validate_with_exposure_routed(df):
    y, v = df["ClaimNb"].to_numpy(), df["Exposure"].to_numpy()
    cv = folds(len(df))[:2]
    with sklearn.config_context(enable_metadata_routing=True):
        fnn = FNN(INPUTS, seed=0, **FAST).set_fit_request(exposure=True)
        fnn.set_score_request(exposure=True)
        result = cross_validate(fnn, df, y, cv=cv, params={"exposure": v}, return_estimator=True)
    for (_, b), fitted, score in zip(cv, result["estimator"], result["test_score"], strict=True):
        assert fitted.uses_exposure_  # routed to fit, as an array
        assert score == pytest.approx(fitted.score(df.iloc[b], y[b], exposure=v[b]), rel=1e-12)


# ---------------------------------------------------------------------- check_estimator
#: Why scikit-learn's generic checks cannot apply: they fit numpy arrays without column names,
#: and an actnn model finds its features in a DataFrame by their names.
NUMPY = "fits a numpy array: actnn models take a DataFrame and find their features by name"
EXPECTED_FAILURES = {
    name: NUMPY
    for name in (
        "check_fit_score_takes_y", "check_estimators_overwrite_params",
        "check_dont_overwrite_parameters", "check_estimators_fit_returns_self",
        "check_readonly_memmap_input", "check_n_features_in_after_fitting",
        "check_estimators_dtypes", "check_sample_weights_pandas_series",
        "check_sample_weights_not_an_array", "check_sample_weights_list",
        "check_all_zero_sample_weights_error", "check_sample_weights_shape",
        "check_sample_weights_not_overwritten", "check_sample_weight_equivalence_on_dense_data",
        "check_complex_data", "check_dtype_object", "check_estimators_empty_data_messages",
        "check_pipeline_consistency", "check_estimators_nan_inf", "check_estimators_pickle",
        "check_f_contiguous_array_estimator", "check_regressors_train",
        "check_regressor_data_not_an_array", "check_regressors_no_decision_function",
        "check_supervised_y_2d", "check_supervised_y_no_nan", "check_regressors_int",
        "check_non_transformer_estimators_n_iter", "check_methods_sample_order_invariance",
        "check_methods_subset_invariance", "check_fit2d_1sample", "check_fit2d_1feature",
        "check_dict_unchanged", "check_fit_idempotent", "check_fit_check_is_fitted",
        "check_n_features_in", "check_fit1d", "check_fit2d_predict1d", "check_requires_y_none",
        "check_positive_only_tag_during_fit",
    )
} | {
    name: "sparse input is refused as 'data must be a pandas DataFrame, got csr_matrix'"
    for name in (
        "check_estimator_sparse_tag", "check_estimator_sparse_array",
        "check_estimator_sparse_matrix",
    )
}  # fmt: skip


@pytest.mark.parametrize(
    "estimator",
    [
        GLM(FeatureSpec([Continuous("x0"), Continuous("x1")])),
        FNN(NetworkInputs([Continuous("x0")], []), **FAST),
    ],
    ids=["GLM", "FNN"],
)
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.SkipTestWarning")  # no array API
@pytest.mark.skipif(
    tuple(int(v) for v in sklearn.__version__.split(".")[:2]) < (1, 6),
    reason="check_estimator's expected_failed_checks and on_fail need scikit-learn >= 1.6",
)
def test_scikit_learn_checks(estimator):
    expected = dict(EXPECTED_FAILURES)
    if isinstance(estimator, FNN):  # a network has no n_iter_: the check passes
        del expected["check_non_transformer_estimators_n_iter"]
    results = check_estimator(estimator, expected_failed_checks=expected, on_fail=None)
    by_status: dict[str, set[str]] = {}
    for result in results:
        by_status.setdefault(result["status"], set()).add(result["check_name"])
    assert by_status.get("failed", set()) == set()
    assert by_status["xfail"] == set(expected)  # each expected failure does fail
    assert {"check_get_params_invariance", "check_estimators_unfitted"} <= by_status["passed"]
