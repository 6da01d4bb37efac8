"""The quick SW2019 reproduction on the real data: schema, and a CANN beating GLM1."""

from __future__ import annotations

import json

import pytest

from actnn.studies.sw2019 import reproduce_sw2019

pytestmark = pytest.mark.real_data


@pytest.fixture(scope="module")
def quick(real_data_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("sw2019")
    return reproduce_sw2019(real_data_dir, out, quick=True, progress=None), out


def test_quick_run_shows_a_cann_beating_glm1(quick):
    results, _ = quick
    by_name = {}
    for m in results["models"]:
        by_name.setdefault(m["name"], []).append(m)
    glm1 = by_name["GLM1"][0]["out_of_sample"]
    assert f"{glm1:.5f}" == "32.17123"
    assert f"{by_name['GLM2'][0]['out_of_sample']:.5f}" == "32.14902"  # SW2019's GLM2
    cann = by_name["CANN2, balance-corrected"][0]
    assert cann["out_of_sample"] < glm1
    assert cann["kind"] == "cann" and cann["balance_corrected"] and cann["seed"] == 1
    # balance-corrected: the predicted learning frequency is the observed one
    assert cann["avg_frequency_learn"] == pytest.approx(
        by_name["GLM1"][0]["avg_frequency_learn"], rel=1e-9
    )


def test_quick_run_files_follow_the_schema(quick):
    results, out = quick
    written = json.loads((out / "results.json").read_text())
    keys = {
        "name", "n_params", "in_sample", "out_of_sample", "avg_frequency_learn",
        "avg_frequency_test", "aic", "fit_seconds", "epochs", "kind", "balance_corrected",
        "seed", "members",
    }  # fmt: skip
    for m in written["models"]:
        assert keys <= set(m)
        assert (m["epochs"] is None) == (m["kind"] in {"homogeneous", "glm", "nagging"})
    nagging = [m for m in written["models"] if m["kind"] == "nagging"]
    assert len(nagging) == 1 and nagging[0]["members"] == written["nagging"]["seeds"]
    assert nagging[0]["seed"] is None
    assert len(written["nagging"]["out_of_sample_by_members"]) == len(nagging[0]["members"])
    table = (out / "results.md").read_text()
    assert (
        "| CANN2 | 1 |" in table and "| nagging | M = 2 |" in table and "31.56555" in table
    )  # ours beside the published figure
