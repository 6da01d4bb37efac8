"""The case studies run as notebooks, in quick mode, and show what they compute.

Each ``case_studies/NAME.py`` is converted with jupytext and executed with nbclient in a fresh
kernel from the ``case_studies/`` folder, as Jupyter would run it (``tools/render_notebooks.py``,
which also renders the notebooks of ``docs/notebooks/``), with ``ACTNN_QUICK=1`` and the results
in a temporary folder (``ACTNN_OUT``). A case study fails on a cell that raises, on a stray
``Out[..]`` value, without an inline figure and an HTML table, and on more than a handful of
stderr lines; then its ``results.json`` is checked. These are the CI's quick runs of the case
studies (no other test runs them).
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MAX_STDERR_LINES = 5


@functools.cache
def _render_tool():
    """``tools/render_notebooks.py`` as a module (the tools are not a package)."""
    path = REPO / "tools" / "render_notebooks.py"
    spec = importlib.util.spec_from_file_location("render_notebooks", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _check_tariff_comparison(results: dict, out: Path) -> None:
    scores = {r["tariff"]: r for r in results["frequency"]["scores_test"]}
    assert f"{scores['GLM1']['deviance']:.5f}" == "32.17123"  # NSW2018 Table 5
    assert scores["CANN"]["deviance"] < scores["GLM1"]["deviance"]
    files = ("report.html", "report.md", "results.md", "models/GLM1/actnn_model.json")
    for name in files:
        assert (out / name).is_file(), name
    premium = {r["tariff"]: r for r in results["pure_premium"]["learn"]}
    assert premium["homogeneous"]["balance"] == pytest.approx(1.0, rel=1e-12)
    test = {r["tariff"]: r for r in results["pure_premium"]["test"]}
    flat = test["homogeneous"]["tweedie_deviance"]
    assert all(r["tweedie_deviance"] < flat for k, r in test.items() if k != "homogeneous")
    assert results["pure_premium"]["data"] == {"n_learn": 610_206, "n_test": 67_801}


def _check_synthetic_truth(results: dict, out: Path) -> None:
    test = {r["model"]: r for r in results["test"]}
    assert test["truth"]["deviance_to_truth"] == 0.0
    # every model is measured against the truth; a GLM is closer to it than the flat tariff
    assert test["GLM1"]["deviance_to_truth"] < test["homogeneous"]["deviance_to_truth"]
    assert test["GLM1"]["rmse_log_frequency"] < test["homogeneous"]["rmse_log_frequency"]
    assert set(test) >= {"FNN d=2", "CANN on GLM1", "nagging FNN d=2, M = 2"}
    assert (out / "results.md").is_file()


def _check_wm2023(results: dict, out: Path) -> None:
    assert results["data"]["n"] == 678_007 and results["data"]["n_test"] == 67_801
    losses = {m["model"]: m for m in results["models"]}
    assert losses["GLM1"]["out_of_sample"] < losses["homogeneous"]["out_of_sample"]
    # a CANN starts at the GLM: trained, it fits the learning data about as well or better
    cann = losses["CANN on GLM1"]
    assert cann["in_sample"] <= losses["GLM1"]["in_sample"] + 0.05
    assert (out / "results.md").is_file()


def _check_fremtpl2_frequency(results: dict, out: Path) -> None:
    losses = {m["name"]: m["out_of_sample"] for m in results["models"]}
    for name in ("homogeneous", "GLM1", "GLM2"):  # every printed digit of the published table
        assert f"{losses[name]:.5f}" == results["published"][name]["out"]
    assert results["cann_start_max_abs_log_gap"] < 1e-9  # the CANN starts at its GLM
    assert losses["nagging"] < losses["GLM2"]
    assert results["gini_test"]["nagging"] > results["gini_test"]["GLM1"] > 0
    for name in ("results.md", *results["figures"]):
        assert (out / name).is_file(), name


def _check_fremtpl2_severity(results: dict, out: Path) -> None:
    rows = {m["name"]: m for m in results["models"]}
    assert f"{rows['GLM1']['out_of_sample']:.5f}" == "1.65603"  # as `actnn reproduce severity`
    assert results["data"] == results["data"] | {"n_learn": 22_394, "n_test": 2_550}
    assert results["data_report"]["n_records_unmatched"] == 195  # the data README's count
    # the test set's largest claim (4.08 million) lies far above every prediction: without it
    # every model's mean loss falls
    assert max(results["largest_test_claims"]) > 1e6
    for robust in results["robustness"].values():
        assert robust["without the largest"] < robust["all test claims"]
    for name in ("report.html", "report.md", "claim_sizes.png", "results.md"):
        assert (out / name).is_file(), name


CHECKS = {
    "fremtpl2_frequency": _check_fremtpl2_frequency,
    "fremtpl2_severity": _check_fremtpl2_severity,
    "synthetic_truth": _check_synthetic_truth,
    "tariff_comparison": _check_tariff_comparison,
    "wm2023": _check_wm2023,
}
NEEDS_NO_DATA = {"synthetic_truth"}


def test_every_case_study_is_checked():
    assert set(CHECKS) == set(_render_tool().NAMES)


def _problems(notebook) -> list[str]:
    """What a reader of the executed notebook would find wrong with it (empty: nothing)."""
    outputs = [out for cell in notebook.cells if cell.cell_type == "code" for out in cell.outputs]
    shown = [o.data for o in outputs if o.output_type == "display_data"]
    stderr = "".join(o.text for o in outputs if o.output_type == "stream" and o.name == "stderr")
    lines = stderr.splitlines()
    problems = [f"error: {o.ename}: {o.evalue}" for o in outputs if o.output_type == "error"]
    problems += [
        f"a cell ends in a value, Out[{o.execution_count}]: {o.data.get('text/plain', '')[:80]}"
        for o in outputs
        if o.output_type == "execute_result"
    ]
    problems += [] if any("image/png" in data for data in shown) else ["no inline figure"]
    has_table = any("<table" in data.get("text/html", "") for data in shown)
    problems += [] if has_table else ["no HTML table"]
    problems += [] if any("text/markdown" in data for data in shown) else ["no Markdown shown"]
    if len(lines) > MAX_STDERR_LINES:
        problems.append(f"{len(lines)} lines on stderr:\n" + "\n".join(lines))
    return problems


def test_the_problems_a_reader_would_see_are_found():
    nbformat = pytest.importorskip("nbformat")
    v4 = nbformat.v4
    bad = v4.new_notebook(
        cells=[
            v4.new_code_cell(
                "x",
                outputs=[
                    v4.new_output("execute_result", {"text/plain": "22275"}, execution_count=7),
                    v4.new_output("stream", name="stderr", text="warning\n" * 6),
                    v4.new_output("error", ename="ValueError", evalue="bad", traceback=[]),
                ],
            )
        ]
    )
    assert [problem.split(":")[0] for problem in _problems(bad)] == [
        "error",
        "a cell ends in a value, Out[7]",
        "no inline figure",
        "no HTML table",
        "no Markdown shown",
        "6 lines on stderr",
    ]
    shown = [
        v4.new_output("display_data", {"image/png": "iVBO", "text/plain": "<Image>"}),
        v4.new_output("display_data", {"text/html": "<table></table>", "text/plain": "df"}),
        v4.new_output("display_data", {"text/markdown": "# R", "text/plain": "<Markdown>"}),
        v4.new_output("stream", name="stderr", text="warning\n" * 5),
    ]
    assert _problems(v4.new_notebook(cells=[v4.new_code_cell("x", outputs=shown)])) == []


@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=() if n in NEEDS_NO_DATA else pytest.mark.real_data) for n in CHECKS],
)
def test_case_study_as_a_notebook(name, request, tmp_path):
    if name not in NEEDS_NO_DATA:
        request.getfixturevalue("real_data_dir")  # skips with the reason without the data
    # what a user's kernel sees: actnn's own TensorFlow log level, not the test suite's
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    notebook = _render_tool().execute(name, env=env | {"ACTNN_OUT": str(tmp_path)})

    assert _problems(notebook) == []

    out = tmp_path / name
    CHECKS[name](json.loads((out / "results.json").read_text()), out)
