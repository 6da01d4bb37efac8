"""Pure premium: frequency x severity against a direct Tweedie GLM."""

from __future__ import annotations

import numpy as np
import pytest

from actnn import GLM, DataWarning, get_preset, metrics
from actnn.families import Tweedie
from actnn.premium import fit_tweedie_pure_premium, pure_premium, pure_premium_table


@pytest.fixture(scope="module")
def tariffs(portfolio):
    freq = GLM(get_preset("nsw2018_glm1")).fit(portfolio, "ClaimNb", exposure="Exposure")
    claims = portfolio[portfolio["ClaimNb"] > 0]
    sev = GLM(get_preset("nsw2018_glm3"), family="gamma").fit(claims, "ClaimAmount",
                                                              weights="ClaimNb")  # fmt: skip
    tweedie = fit_tweedie_pure_premium(get_preset("nsw2018_glm1"), portfolio)
    return freq, sev, tweedie


def test_pure_premium_is_frequency_times_severity(portfolio, tariffs):
    freq, sev, _ = tariffs
    # the severity model saw only the policies with claims: older cars are priced at its range
    with pytest.warns(DataWarning, match="outside the range seen in fitting"):
        premium = pure_premium(freq, sev, portfolio)
        expected = freq.predict(portfolio) / portfolio["Exposure"] * sev.predict(
            portfolio, unseen="reference")  # fmt: skip
    np.testing.assert_allclose(premium, expected, rtol=1e-12)


def test_table_totals_deviance_and_gini(portfolio, tariffs):
    freq, sev, tweedie = tariffs
    homogeneous = np.full(len(portfolio), portfolio.ClaimTotal.sum() / portfolio.Exposure.sum())
    premiums = {"freq x sev": pure_premium(freq, sev, portfolio),
                "Tweedie GLM": tweedie.predict(portfolio), "homogeneous": homogeneous}  # fmt: skip
    table = pure_premium_table(premiums, portfolio)
    assert (table["observed"] == portfolio["ClaimTotal"].sum()).all()
    assert table.loc["homogeneous", "balance"] == pytest.approx(1.0, rel=1e-12)
    assert table.loc["homogeneous", "gini"] == 0.0
    v = portfolio["Exposure"].to_numpy()
    expected = metrics.deviance(portfolio.ClaimTotal / v, premiums["Tweedie GLM"], Tweedie(1.9), v)
    assert table.loc["Tweedie GLM", "tweedie_deviance"] == pytest.approx(expected, rel=1e-12)
    # both tariffs with features beat the flat premium on the learning data
    for name in ("freq x sev", "Tweedie GLM"):
        assert table.loc[name, "tweedie_deviance"] < table.loc["homogeneous", "tweedie_deviance"]
        assert table.loc[name, "gini"] > 0.05
        assert 0.9 < table.loc[name, "balance"] < 1.1


def test_tweedie_glm_solves_its_score_equations(portfolio, tariffs):
    # log link, weights v: sum v (y - mu) mu^(1-p) x = 0 for the intercept column
    _, _, tweedie = tariffs
    v = portfolio["Exposure"].to_numpy()
    y = portfolio["ClaimTotal"].to_numpy() / v
    mu = tweedie.predict(portfolio)
    score = np.sum(v * (y - mu) * mu ** (1 - 1.9))
    assert abs(score) < 1e-6 * np.sum(v * y * mu ** (1 - 1.9))


def test_errors_name_the_problem(portfolio, tariffs):
    freq, sev, _ = tariffs
    with pytest.raises(ValueError, match="'Loss'"):
        fit_tweedie_pure_premium(get_preset("homogeneous"), portfolio, claims_total="Loss")
    with pytest.raises(ValueError, match="shape"):
        pure_premium_table({"short": np.ones(3)}, portfolio)
    with pytest.raises(ValueError, match="without an exposure"):
        pure_premium(sev, sev, portfolio)
