"""Interpretation: partial dependence, ICE, permutation importance, embeddings, relativities."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from actnn import GLM, FeatureSpec, get_preset
from actnn.datasets.presets import sw2019_network_inputs
from actnn.features import Categorical, Continuous
from actnn.interpret import (
    embedding_table,
    ice,
    partial_dependence,
    permutation_importance,
    predict_rate,
    relativities_comparison,
)
from actnn.networks import FNN


@pytest.fixture(scope="module")
def glm1(portfolio):
    return GLM(get_preset("nsw2018_glm1")).fit(portfolio, "ClaimNb", exposure="Exposure")


@pytest.fixture(scope="module")
def fnn(portfolio):
    return FNN(sw2019_network_inputs(), epochs=3, batch_size=4096, verbose=0, seed=1).fit(
        portfolio, "ClaimNb", exposure="Exposure"
    )


def test_partial_dependence_of_a_log_linear_glm_has_its_relativities(portfolio, glm1):
    pdp = partial_dependence(glm1, portfolio, "VehGas", weights="Exposure", sample=None)
    assert list(pdp["value"]) == ["Diesel", "Regular"]
    coef = glm1.relativities().set_index(["feature", "level"])["coefficient"]
    ratio = pdp["prediction"].iloc[1] / pdp["prediction"].iloc[0]
    assert ratio == pytest.approx(np.exp(coef["VehGas", "Regular"]), rel=1e-10)
    share = portfolio.groupby("VehGas", observed=True)["Exposure"].sum() / portfolio.Exposure.sum()
    np.testing.assert_allclose(pdp["weight_share"], share.to_numpy(), rtol=1e-12)


def test_partial_dependence_is_the_weighted_mean_over_the_portfolio(portfolio, glm1):
    pdp = partial_dependence(glm1, portfolio, "BonusMalus", grid=[50, 100],
                             weights="Exposure", sample=None)  # fmt: skip
    changed = portfolio.assign(BonusMalus=100)
    expected = np.average(glm1.predict_frequency(changed), weights=portfolio.Exposure)
    assert pdp["prediction"].iloc[1] == pytest.approx(expected, rel=1e-12)
    # BonusMalusGLM enters linearly: the ratio of the two points is exp(50 beta)
    beta = glm1.coef_["BonusMalusGLM"]
    ratio = pdp["prediction"].iloc[1] / pdp["prediction"].iloc[0]
    assert ratio == pytest.approx(np.exp(50 * beta), rel=1e-10)


def test_default_grid_uses_quantiles_of_a_numeric_feature(portfolio, glm1):
    pdp = partial_dependence(glm1, portfolio, "DrivAge", n_points=10, sample=2_000)
    assert 2 <= len(pdp) <= 10
    assert pdp["value"].is_monotonic_increasing
    assert pdp["value"].min() >= portfolio.DrivAge.min()
    assert pdp["value"].max() <= portfolio.DrivAge.max()


def test_ice_curves_average_to_the_partial_dependence(portfolio, fnn):
    curves = ice(fnn, portfolio, "VehGas", n_curves=30, seed=2)
    assert len(curves) == 2 * 30 and set(curves["row"]).issubset(range(len(portfolio)))
    rows = np.sort(curves["row"].unique())
    pdp = partial_dependence(fnn, portfolio.iloc[rows], "VehGas", sample=None)
    means = curves.groupby("value", observed=True)["prediction"].mean()
    np.testing.assert_allclose(means.loc[pdp["value"]].to_numpy(), pdp["prediction"], rtol=1e-9)


def test_permutation_importance_finds_the_feature_that_drives_the_claims(portfolio):
    # a GLM on BonusMalus and VehGas: shuffling BonusMalus (a strong effect) costs more
    spec = FeatureSpec([Continuous("BonusMalus", upper=150), Categorical("VehGas")])
    glm = GLM(spec).fit(portfolio, "ClaimNb", exposure="Exposure")
    out = permutation_importance(glm, portfolio, "ClaimNb", exposure="Exposure",
                                 features=["VehGas", "BonusMalus", "Density"])  # fmt: skip
    assert out["feature"].iloc[0] == "BonusMalus"
    assert out["increase"].iloc[0] > 0
    # a column the model does not use changes nothing
    assert out.set_index("feature").loc["Density", "increase"] == 0.0
    baseline = 100 * glm.family_.mean_deviance(portfolio.ClaimNb, glm.predict(portfolio))
    assert out.attrs["baseline"] == pytest.approx(baseline, rel=1e-12)


def test_embedding_table_has_one_row_per_level(fnn):
    table = embedding_table(fnn)
    levels = fnn.inputs_.n_levels()
    assert table.groupby("feature").size().to_dict() == levels
    assert [c for c in table.columns if c.startswith("dim_")] == ["dim_1", "dim_2"]
    weights = fnn.keras_model_.get_layer("Region_embedding").get_weights()[0]
    np.testing.assert_array_equal(table[table.feature == "Region"][["dim_1", "dim_2"]], weights)


def test_embedding_table_refuses_a_glm(glm1):
    with pytest.raises(TypeError, match="no learned embeddings"):
        embedding_table(glm1)


def test_relativities_comparison_normalises_at_the_largest_level(portfolio, glm1, fnn):
    table = relativities_comparison(glm1, fnn, portfolio, "Area", weights="Exposure", sample=3_000)
    base = table["weight_share"].idxmax()
    assert table.loc[base, "glm"] == 1.0 and table.loc[base, "model"] == 1.0
    assert (table["model"] > 0).all()
    assert table["weight_share"].sum() == pytest.approx(1.0)


def test_predict_rate_is_the_frequency(portfolio, glm1):
    np.testing.assert_array_equal(predict_rate(glm1, portfolio), glm1.predict_frequency(portfolio))


def test_unknown_feature_is_a_clear_error(portfolio, glm1):
    with pytest.raises(KeyError, match="no column 'Colour'"):
        partial_dependence(glm1, portfolio, "Colour")
    with pytest.raises(ValueError, match="one value per row"):
        partial_dependence(glm1, portfolio, "Area", weights=np.ones(3))


def test_partial_dependence_keeps_categorical_dtype(portfolio, glm1):
    pdp = partial_dependence(glm1, portfolio, "Region", sample=1_000)
    assert set(pdp["value"]) == set(portfolio.Region.unique())
    assert isinstance(portfolio["Region"].dtype, pd.CategoricalDtype)
