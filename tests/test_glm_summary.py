"""The GLM's dispersion choices, Wald tests and intervals (against statsmodels and SciPy), its
relativities by data column, its summary and HTML repr."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from actnn import Binned, Categorical, Continuous, FeatureSpec, load_model, simulate_mtpl
from actnn.datasets.presets import get_preset
from actnn.glm import GLM
from actnn.persistence import MANIFEST

sm = pytest.importorskip("statsmodels.api")
stats = pytest.importorskip("scipy.stats")


# ---------------------------------------------------------------------- dispersion
def _statsmodels(glm: GLM, data: pd.DataFrame, family, *, scale=None, use_t=False, **kwargs):
    x = glm.features_.design_matrix(data, intercept=True)
    model = sm.GLM(data[glm.response_].to_numpy(float), x, family=family, **kwargs)
    return model.fit(scale=scale, use_t=use_t, tol=1e-14, maxiter=200)


def _assert_tests_match(glm: GLM, ref, *, alpha: float = 0.05, rtol: float = 1e-6):
    table = glm.coef_table(alpha=alpha)
    statistic = "t_value" if ref.use_t else "z_value"
    np.testing.assert_allclose(table["std_error"], ref.bse, rtol=rtol)
    np.testing.assert_allclose(table[statistic], ref.tvalues, rtol=rtol)
    np.testing.assert_allclose(table["p_value"], ref.pvalues, rtol=rtol)
    ci = np.asarray(ref.conf_int(alpha=alpha))
    np.testing.assert_allclose(table[["ci_lower", "ci_upper"]], ci, rtol=rtol)


#: A small design with the kinds of features of NSW2018's GLM1, named as there (13 parameters).
SPEC = FeatureSpec(
    [
        Continuous("BonusMalus", upper=150, name="BonusMalusGLM"),
        Binned(
            "DrivAge", edges=(18, 26, 41, 51, 71, float("inf")),
            labels=("18-25", "26-40", "41-50", "51-70", "71+"), reference="41-50",
            name="DrivAgeGLM",
        ),
        Categorical("VehGas", reference="Diesel"),
        Continuous("Density", log=True, name="DensityGLM"),
        Categorical("Area", reference="C"),
    ],
    name="small",
)  # fmt: skip


@pytest.fixture(scope="module")
def data():
    return simulate_mtpl(20_000, seed=5)


@pytest.fixture(scope="module")
def glm1(data):
    return GLM(SPEC).fit(data, "ClaimNb", exposure="Exposure")


@pytest.fixture(scope="module")
def quasi(data):
    return GLM(SPEC, dispersion="pearson").fit(data, "ClaimNb", exposure="Exposure")


def test_quasi_poisson_equals_statsmodels_with_pearson_scale_and_t(data, glm1, quasi):
    exposure = data["Exposure"].to_numpy()
    ref = _statsmodels(quasi, data, sm.families.Poisson(), scale="X2", use_t=True,
                       exposure=exposure)  # fmt: skip
    assert quasi.dispersion_method_ == "pearson"
    assert quasi.dispersion_ == pytest.approx(ref.scale, rel=1e-8)
    assert quasi.dispersion_ != pytest.approx(1.0, abs=0.01)  # the test would see the scale
    _assert_tests_match(quasi, ref)
    _assert_tests_match(quasi, ref, alpha=0.1)
    assert list(quasi.coef_table().columns)[4] == "t_value"
    # the coefficients, deviance and AIC are the Poisson fit's; the errors scale with sqrt(phi)
    np.testing.assert_array_equal(quasi.coef_, glm1.coef_)
    assert (quasi.deviance_, quasi.aic_) == (glm1.deviance_, glm1.aic_)
    np.testing.assert_allclose(quasi.bse_, glm1.bse_ * np.sqrt(quasi.dispersion_), rtol=1e-12)


def test_poisson_default_is_fixed_at_one_with_normal_tests(data, glm1):
    ref = _statsmodels(glm1, data, sm.families.Poisson(),
                       exposure=data["Exposure"].to_numpy())  # fmt: skip
    assert (glm1.dispersion_method_, glm1.dispersion_) == ("fixed", 1.0)
    _assert_tests_match(glm1, ref)
    assert list(glm1.coef_table().columns) == [
        "term", "feature", "estimate", "std_error", "z_value", "p_value", "ci_lower", "ci_upper",
    ]  # fmt: skip


def test_a_fixed_dispersion_scales_the_errors_with_normal_tests(data):
    glm = GLM(SPEC, dispersion=2.5).fit(data, "ClaimNb", exposure="Exposure")
    ref = _statsmodels(glm, data, sm.families.Poisson(), scale=2.5,
                       exposure=data["Exposure"].to_numpy())  # fmt: skip
    assert (glm.dispersion_method_, glm.dispersion_) == ("fixed", 2.5)
    _assert_tests_match(glm, ref)


def test_gamma_p_values_use_t_as_statsmodels_with_use_t(data):
    claims = data[data["ClaimNb"] > 0].reset_index(drop=True)
    glm = GLM(SPEC, "gamma").fit(claims, "ClaimAmount", weights="ClaimNb")
    ref = _statsmodels(glm, claims, sm.families.Gamma(sm.families.links.Log()), use_t=True,
                       var_weights=claims["ClaimNb"].to_numpy(float))  # fmt: skip
    assert glm.dispersion_method_ == "pearson"
    _assert_tests_match(glm, ref)


@pytest.mark.parametrize(
    ("dispersion", "error", "message"),
    [
        ("deviance", ValueError, "got 'deviance'"),
        (0.0, ValueError, "got 0.0"),
        (float("nan"), ValueError, "got nan"),
        (True, TypeError, "got bool"),
        ([1.0], TypeError, "got list"),
    ],
)
def test_invalid_dispersion_is_refused_before_the_fit(data, dispersion, error, message):
    glm = GLM(get_preset("homogeneous"), dispersion=dispersion)
    with pytest.raises(
        error, match=rf"dispersion must be None .*'pearson' or a number > 0, {message}"
    ):
        glm.fit(data, "ClaimNb", exposure="Exposure")
    assert not hasattr(glm, "features_")


# ---------------------------------------------------------------------- relativities
def test_relativities_name_the_data_columns_and_give_intervals(glm1, quasi):
    table = glm1.relativities()
    drivage = table.query("feature == 'DrivAge'")
    assert list(drivage["level"]) == ["18-25", "26-40", "41-50", "51-70", "71+"]
    assert drivage["term"].iloc[0] == "DrivAgeGLM18-25"  # the coefficient's name
    assert set(table["feature"]) == {
        "(Intercept)", "BonusMalus", "DrivAge", "VehGas", "Density", "Area",
    }  # fmt: skip
    for model in (glm1, quasi):
        rel = model.relativities(alpha=0.1)
        coef = model.coef_table(alpha=0.1).set_index("term")
        fitted = rel[~rel["is_reference"]].set_index("term")
        np.testing.assert_allclose(fitted["std_error"], coef.loc[fitted.index, "std_error"])
        for bound, ci in (("relativity_lower", "ci_lower"), ("relativity_upper", "ci_upper")):
            np.testing.assert_allclose(
                fitted[bound], np.exp(coef.loc[fitted.index, ci]), rtol=1e-12
            )
        reference = rel[rel["is_reference"]]
        assert (
            (reference[["relativity_lower", "relativity", "relativity_upper"]] == 1.0).all().all()
        )

    # the intervals' widths on the log scale: sqrt(phi) t_(df) / z as wide as the Poisson ones
    def log_width(model):
        rel = model.relativities()
        return np.log(rel["relativity_upper"] / rel["relativity_lower"])[~rel["is_reference"]]

    ratio = np.sqrt(quasi.dispersion_) * stats.t.ppf(0.975, quasi.df_resid_) / stats.norm.ppf(0.975)
    np.testing.assert_allclose(log_width(quasi) / log_width(glm1), ratio, rtol=1e-9)


def test_coef_table_feature_is_the_data_column(glm1):
    table = glm1.coef_table().set_index("term")
    assert table.loc["DrivAgeGLM26-40", "feature"] == "DrivAge"
    assert table.loc["(Intercept)", "feature"] == "(Intercept)"


# ---------------------------------------------------------------------- summary and repr
def test_summary_text_and_html(data, glm1, quasi):
    text = str(quasi.summary())
    lines = text.splitlines()
    assert lines[0].strip() == "GLM summary: small"
    header = "\n".join(lines[:10])
    for label, value in [
        ("Family:", "poisson"),
        ("Link:", "log"),
        ("Observations:", f"{len(data):,}"),
        ("Total exposure:", f"{data['Exposure'].sum():,.8g}"),
        ("Response:", "ClaimNb"),
        ("Exposure:", "Exposure"),
        ("Deviance:", f"{quasi.deviance_:,.8g}"),
        ("Null deviance:", f"{quasi.null_deviance_:,.8g}"),
        ("Dispersion:", f"{quasi.dispersion_:,.6g}"),
        ("Dispersion from:", "Pearson chi-square / df"),
        ("Df residuals:", f"{len(data) - 13:,}"),
        ("AIC:", f"{quasi.aic_:,.8g}"),
        ("IRLS iterations:", str(quasi.n_iter_)),
    ]:
        assert f"{label} " in header and f" {value}" in header, (label, value)
    assert "P>|t|" in text and "[0.025" in text and "0.975]" in text
    assert "Student's t with" in lines[-1]
    assert len(lines) == 10 + 1 + 1 + 13 + 2  # title and header, rule, headings, terms, note
    fixed = str(glm1.summary(alpha=0.1))
    assert "P>|z|" in fixed and "[0.05" in fixed and "Dispersion from:" in fixed
    assert "fixed at 1" in fixed and "normal" in fixed.splitlines()[-1]

    summary = quasi.summary(alpha=0.1)
    pd.testing.assert_frame_equal(
        summary.coefficients.reset_index(),
        quasi.coef_table(alpha=0.1).drop(columns="feature"),
    )
    assert summary.header["Dispersion from"] == "Pearson chi-square / df"
    assert repr(summary) == str(summary)
    html = summary._repr_html_()
    assert html.count("<table") == 2 and "Pearson chi-square / df" in html
    assert "DrivAgeGLM26-40" in html and "P&gt;|t|" in html


def test_glm_html_repr_and_repr(glm1):
    unfitted = GLM(SPEC)
    assert repr(unfitted) == "GLM(small, family='poisson'; not fitted)"
    assert "not fitted" in unfitted._repr_html_() and "<table>" in unfitted._repr_html_()
    html = glm1._repr_html_()
    assert repr(glm1) == "GLM(small, family='poisson'; fitted, 13 parameters)"
    assert "fitted, 13 parameters" in html and "Observations" in html and "<td" in html
    assert "DrivAgeGLM26-40" not in html  # compact: no coefficients


def test_alpha_outside_zero_one_is_refused(glm1):
    for method in (glm1.coef_table, glm1.relativities, glm1.summary):
        with pytest.raises(ValueError, match=r"alpha must be in \(0, 1\), got 1.5"):
            method(alpha=1.5)


def test_an_unfitted_glm_has_no_summary():
    with pytest.raises(RuntimeError, match="not fitted yet"):
        GLM(get_preset("homogeneous")).summary()


# ---------------------------------------------------------------------- persistence
def test_dispersion_is_saved_and_loaded(quasi, tmp_path):
    loaded = load_model(quasi.save(tmp_path / "quasi"))
    assert loaded.dispersion == "pearson" and loaded.dispersion_method_ == "pearson"
    assert loaded.exposure_total_ == quasi.exposure_total_
    assert str(loaded.summary()) == str(quasi.summary())
    pd.testing.assert_frame_equal(loaded.relativities(), quasi.relativities())


def test_a_glm_saved_before_dispersion_loads_with_the_family_default(glm1, tmp_path):
    directory = glm1.save(tmp_path / "old")
    manifest = json.loads((directory / MANIFEST).read_text())
    del manifest["params"]["dispersion"]
    for name in ("dispersion_method_", "exposure_total_"):
        del manifest["fitted"][name]
    (directory / MANIFEST).write_text(json.dumps(manifest))
    loaded = load_model(directory)
    assert loaded.dispersion is None and loaded.dispersion_method_ == "fixed"
    assert loaded.exposure_total_ is None
    pd.testing.assert_frame_equal(loaded.coef_table(), glm1.coef_table())
    assert "Total exposure" not in str(loaded.summary())


def test_the_format_1_glm_loads_with_the_family_default():
    loaded = load_model(Path(__file__).parent / "fixtures" / "glm_format1" / "model")
    assert loaded.dispersion is None and loaded.dispersion_method_ == "fixed"
    assert "fixed at 1" in str(loaded.summary())
    assert set(loaded.relativities()["feature"]) == {
        "(Intercept)", "Area", "DrivAge", "BonusMalus", "VehGas",
    }  # fmt: skip
