"""Real-data checks: NSW2018 Table 5 to the last printed digit, and the severity reproduction."""

from __future__ import annotations

import json

import numpy as np
import pytest

from actnn import datasets as data_module
from actnn.datasets.presets import get_preset
from actnn.glm import GLM
from actnn.metrics import poisson_deviance
from actnn.studies import (
    PUBLISHED_NSW2018,
    nsw2018_split,
    reproduce_nsw2018,
    reproduce_severity,
    wm2023_split,
)

pytestmark = pytest.mark.real_data

MODEL_KEYS = {
    "name", "n_params", "in_sample", "out_of_sample", "avg_frequency_learn",
    "avg_frequency_test", "aic", "fit_seconds", "epochs",
}  # fmt: skip


@pytest.fixture(scope="module")
def nsw2018(real_data_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("nsw2018")
    return reproduce_nsw2018(real_data_dir, out, progress=None), out


def test_nsw2018_table5_every_printed_digit(nsw2018):
    results, _ = nsw2018
    ours = {m["name"]: m for m in results["models"]}
    for name, _, n_params, aic, in_sample, out_of_sample in PUBLISHED_NSW2018:
        m = ours[name]
        assert f"{m['in_sample']:.5f}" == in_sample, name
        assert f"{m['out_of_sample']:.5f}" == out_of_sample, name
        assert round(m["aic"]) == aic, name
        assert m["n_params"] == n_params, name


def test_nsw2018_results_files(nsw2018, real_data_dir):
    results, out = nsw2018
    written = json.loads((out / "results.json").read_text())
    assert written["case_study"] == "nsw2018"
    assert written["data"] == {
        "n_learn": 610_212,
        "n_test": 67_801,
        "sha256": data_module.FREQ_FINGERPRINT,
    }
    assert "10^-2" in written["units"]
    for m in written["models"]:
        assert MODEL_KEYS <= set(m)
        assert m["epochs"] is None
    # a Poisson GLM with intercept is balanced on the learning data (10.02 % as published)
    dat = data_module.prepare_nsw2018(data_module.load_freq(real_data_dir))
    learn = dat.iloc[nsw2018_split(len(dat))[0]]
    observed = learn["ClaimNb"].sum() / learn["Exposure"].sum()
    for m in written["models"]:
        assert m["avg_frequency_learn"] == pytest.approx(observed, rel=1e-8)
    assert f"{100 * observed:.2f}" == "10.02"
    table = (out / "results.md").read_text()
    assert table.count("| yes |") == 4 and "| NO |" not in table


def test_published_split_frequencies(real_data_dir):
    dat = data_module.prepare_nsw2018(data_module.load_freq(real_data_dir))
    learn, test = nsw2018_split(len(dat))
    assert (len(learn), len(test)) == (610_212, 67_801)
    freq = [dat["ClaimNb"].iloc[r].sum() / dat["Exposure"].iloc[r].sum() for r in (learn, test)]
    assert [f"{100 * f:.2f}" for f in freq] == ["10.02", "10.41"]  # NSW2018 / SW2019 text


def test_wm2023_split_homogeneous_row(real_data_dir):
    # published_tables.md, WM2023: 610,206 / 67,801 rows, 23,738 / 2,645 claims, homogeneous
    # model 25.21319 in and 25.44541 out (average Poisson deviance per policy, 10^-2).
    with pytest.warns(data_module.DataWarning):
        dat = data_module.prepare_wm2023(
            data_module.load_freq(real_data_dir), data_module.load_sev(real_data_dir)
        )
    learn, test = (dat.iloc[rows] for rows in wm2023_split(len(dat)))
    assert (len(learn), len(test)) == (610_206, 67_801)
    assert (learn["ClaimNb"].sum(), test["ClaimNb"].sum()) == (23_738, 2_645)
    assert f"{test['Exposure'].sum():.4f}" == "35966.5826"
    rate = learn["ClaimNb"].sum() / learn["Exposure"].sum()
    assert f"{rate:.7f}" == "0.0736308"
    losses = [poisson_deviance(d["ClaimNb"], rate * d["Exposure"]) for d in (learn, test)]
    assert [f"{loss:.5f}" for loss in losses] == ["25.21319", "25.44541"]


def test_severity_reproduction_and_statsmodels(real_data_dir, tmp_path):
    sm = pytest.importorskip("statsmodels.api")
    results = reproduce_severity(real_data_dir, tmp_path, progress=None)
    assert results["units"].startswith("weighted mean Gamma unit deviance")
    names = [m["name"] for m in results["models"]]
    assert names == ["homogeneous", "GLM1", "CANN on GLM1"]
    for m in results["models"][:2]:
        assert MODEL_KEYS <= set(m) and m["dispersion"] > 0
    cann = results["models"][2]
    assert MODEL_KEYS <= set(cann) and cann["kind"] == "cann" and cann["balance_corrected"]
    assert cann["epochs"] > 0 and cann["seed"] == 1
    # Gamma balance (intercept shift): the claim-weighted mean prediction is the observed one
    assert cann["avg_severity_learn"] == pytest.approx(
        results["observed_avg_severity_learn"], rel=1e-9
    )
    report = results["data_report"]
    assert report["n_records_unmatched"] == 195
    assert report["n_policies_claims_without_records"] == 9_116
    assert results["data"]["n_learn"] + results["data"]["n_test"] == 24_944

    # the GLM1 severity coefficients against statsmodels, on the same rows
    freq = data_module.prepare_nsw2018(data_module.load_freq(real_data_dir))
    learn_rows, _ = nsw2018_split(len(freq))
    sev, _ = data_module.severity_data(
        freq.iloc[np.sort(learn_rows)], data_module.load_sev(real_data_dir)
    )
    glm = GLM(get_preset("nsw2018_glm1"), "gamma").fit(sev, "ClaimAmount", weights="n_claims")
    x = glm.features_.design_matrix(sev, intercept=True)
    ref = sm.GLM(
        sev["ClaimAmount"].to_numpy(),
        x,
        family=sm.families.Gamma(sm.families.links.Log()),
        var_weights=sev["n_claims"].to_numpy(float),
    ).fit(tol=1e-14, maxiter=500)
    rel = np.abs(glm.coef_.to_numpy() - ref.params) / np.abs(ref.params)
    assert rel.max() < 1e-6
    assert glm.dispersion_ == pytest.approx(ref.scale, rel=1e-8)
    assert results["models"][1]["dispersion"] == pytest.approx(glm.dispersion_, rel=1e-10)
    assert (tmp_path / "results.md").read_text().count("GLM1") >= 1
