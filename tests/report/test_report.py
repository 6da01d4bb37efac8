"""Tariff-comparison reports: the tables, the HTML and Markdown files, the CLI, a real browser."""

from __future__ import annotations

import ast
import base64
import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from actnn import GLM, get_preset, load_model, metrics
from actnn.cli import main
from actnn.datasets import content_fingerprint
from actnn.datasets.presets import sw2019_network_inputs
from actnn.metrics._binning import _level_label
from actnn.networks import CANN
from actnn.report import data_fingerprint, evaluate, markdown_table, write_report

REPO = Path(__file__).resolve().parents[2]
FEATURES = ["VehGas", "BonusMalus"]


@pytest.fixture(scope="module")
def models(portfolio):
    glm = GLM(get_preset("nsw2018_glm1")).fit(portfolio, "ClaimNb", exposure="Exposure")
    cann = CANN(glm, sw2019_network_inputs(), epochs=4, batch_size=4096, verbose=0, seed=2)
    cann.fit(portfolio, "ClaimNb", exposure="Exposure")
    return {"GLM1": glm, "CANN": cann}


@pytest.fixture(scope="module")
def evaluation(models, portfolio):
    return evaluate(models, portfolio, features=FEATURES, pd_sample=3_000)


def test_scores_are_those_of_the_metrics_module(evaluation, models, portfolio):
    y, v = portfolio["ClaimNb"], portfolio["Exposure"]
    expected = metrics.score_table({n: m.predict(portfolio) for n, m in models.items()}, y,
                                   exposure=v)  # fmt: skip
    pd.testing.assert_frame_equal(evaluation.scores, expected)
    # the GLM is balanced on its learning data; Wüthrich's units
    assert evaluation.scores.loc["GLM1", "balance"] == pytest.approx(1.0, abs=1e-8)
    glm = models["GLM1"]
    assert evaluation.scores.loc["GLM1", "deviance"] == pytest.approx(
        100 * glm.deviance_ / len(portfolio), rel=1e-10
    )


def test_discrimination_and_calibration_tables(evaluation, models, portfolio):
    rate = models["CANN"].predict_frequency(portfolio)
    expected = metrics.gini(portfolio["ClaimNb"], rate, portfolio["Exposure"])
    assert evaluation.ginis["CANN"] == pytest.approx(expected, rel=1e-12)
    assert list(evaluation.ordered_lorenz) == ["CANN"]  # relative to the first model
    assert evaluation.double_lift["exposure"].sum() == pytest.approx(portfolio["Exposure"].sum())
    murphy = evaluation.murphy
    np.testing.assert_allclose(
        murphy["score"],
        murphy["miscalibration"] - murphy["discrimination"] + murphy["uncertainty"],
        rtol=1e-10,
    )
    # one unit for the losses: the Murphy score is the exposure-weighted deviance of the scores
    np.testing.assert_allclose(murphy["score"], evaluation.scores["deviance_per_exposure"],
                               rtol=1e-10)  # fmt: skip
    y, v = portfolio["ClaimNb"], portfolio["Exposure"]
    plain = metrics.murphy_decomposition(y / v, rate, v)  # per unit of exposure, plain units
    np.testing.assert_allclose(murphy.loc["CANN"], 100 * plain.iloc[0], rtol=1e-10)
    assert set(murphy.attrs["units"].values()) == {metrics.POISSON_EXPOSURE_UNITS}


def test_bias_partial_dependence_and_relativities_per_feature(evaluation):
    assert list(evaluation.bias) == FEATURES and list(evaluation.partial_dependence) == FEATURES
    gas = evaluation.bias["VehGas"]["GLM1"]
    np.testing.assert_allclose(gas["bias"], 0.0, atol=1e-9)  # a GLM factor is balanced per level
    rel = evaluation.relativities["VehGas"]
    assert rel.attrs["names"] == ("GLM1", "CANN")
    assert (rel["glm"] == 1.0).sum() >= 1


def test_default_features_are_the_models_columns(models, portfolio):
    ev = evaluate({"GLM1": models["GLM1"]}, portfolio.iloc[:3000], pd_sample=500)
    expected = ["Area", "VehPower", "VehAge", "DrivAge", "BonusMalus", "VehBrand", "VehGas",
                "Density", "Region"]  # fmt: skip
    assert list(ev.bias) == expected
    assert ev.double_lift is None and ev.ordered_lorenz == {} and ev.relativities == {}


def test_stamp_names_data_models_and_versions(evaluation, portfolio):
    stamp = evaluation.stamp
    assert stamp["data_sha256"] == data_fingerprint(portfolio)
    assert stamp["data_sha256"] != data_fingerprint(portfolio.iloc[::-1])
    # one fingerprint: the report's is the one results.json records for the same frame
    assert stamp["data_sha256"] == content_fingerprint(portfolio)
    assert stamp["models"] == {"GLM1": {"kind": "GLM", "seed": None},
                               "CANN": {"kind": "CANN", "seed": 2}}  # fmt: skip
    assert {"numpy", "tensorflow", "keras"} <= set(stamp["versions"])


def test_html_report_is_self_contained(evaluation, tmp_path):
    path = evaluation.to_html(tmp_path / "report.html", title="GLM1 against CANN")
    text = path.read_text()
    images = re.findall(r'<img alt="[^"]*" src="([^"]+)"', text)
    assert len(images) == len(evaluation.figures())
    assert all(src.startswith("data:image/png;base64,") for src in images)
    png = base64.b64decode(images[0].split(",", 1)[1])
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<title>GLM1 against CANN</title>" in text
    assert not re.search(r'(src|href)="(https?:|file:|/)', text)  # nothing loaded from outside
    assert "average Poisson deviance per policy" in text


def test_markdown_report_writes_its_figures(evaluation, tmp_path):
    path = evaluation.to_markdown(tmp_path / "report.md")
    text = path.read_text()
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert len(links) == len(evaluation.figures())
    assert all((tmp_path / link).is_file() for link in links)
    assert "| GLM1 |" in text and "| CANN |" in text


def test_report_states_units_counts_without_decimals_and_readable_labels(evaluation, tmp_path):
    text = evaluation.to_markdown(tmp_path / "report.md").read_text()
    sections = text.split("\n## ")[1:-1]  # the tables, without the figures
    assert [s.splitlines()[0] for s in sections] == [
        "Scores",
        "Discrimination",
        "Murphy decomposition",
        "Double lift: GLM1 / CANN",
    ]
    for section in sections:
        assert section.splitlines()[2].startswith("Units: "), section
    assert "Units: " + metrics.POISSON_EXPOSURE_UNITS in text  # the Murphy table's
    observed = int(evaluation.scores["observed"].iloc[0])
    assert f"| {observed:,} |" in text  # a claim count, without decimals
    assert "seed None" not in text and "- GLM1: GLM\n" in text and "- CANN, seed 2\n" in text
    # a binned numeric feature: levels in the data's units
    levels = [_level_label(v) for v in evaluation.bias["BonusMalus"]["CANN"]["level"]]
    assert all(re.fullmatch(r"\d+-\d+", level) for level in levels), levels
    last = evaluation.bias["BonusMalus"]["CANN"]["level"].iloc[-1]
    assert levels[-1] == f"{last.left:.0f}-{last.right:.0f}"
    assert markdown_table(pd.DataFrame({"level": [pd.Interval(18.0, 27.0, closed="both")],
                                        "n": [3.0]})).endswith("| 18-27 | 3 |")  # fmt: skip


def test_cli_report_from_saved_models(models, portfolio, tmp_path, capsys):
    for name, model in models.items():
        model.save(tmp_path / name)
    data = tmp_path / "test.csv"
    portfolio.iloc[:4000].to_csv(data, index=False)
    out = tmp_path / "report.html"
    code = main(["report", str(tmp_path / "GLM1"), str(tmp_path / "CANN"), "--data", str(data),
                 "--out", str(out), "--markdown", "--features", "VehGas"])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    assert out.is_file() and out.with_suffix(".md").is_file()
    assert "report written to" in capsys.readouterr().out
    # the report was computed on the file, read back: the same figures as in memory
    frame = pd.read_csv(data)
    ev = evaluate(models, frame, features=["VehGas"])
    assert f"sha256 {ev.stamp['data_sha256']}" in out.read_text()


def test_cli_report_errors_are_one_line(models, portfolio, tmp_path, capsys):
    models["GLM1"].save(tmp_path / "GLM1")
    data = tmp_path / "test.csv"
    portfolio.iloc[:100].drop(columns=["ClaimNb"]).to_csv(data, index=False)
    code = main(["report", str(tmp_path / "GLM1"), "--data", str(data), "--out",
                 str(tmp_path / "r.html")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "'ClaimNb'" in err
    code = main(["report", str(tmp_path / "nothing"), "--data", str(data), "--out", "r.html"])
    assert code == 1 and "nothing" in capsys.readouterr().err


def test_write_report_refuses_models_of_different_families(models, portfolio, claims_models):
    with pytest.raises(ValueError, match="not a fitted poisson model"):
        write_report({"freq": models["GLM1"], "sev": claims_models}, portfolio, "x.html",
                     progress=None)  # fmt: skip


@pytest.fixture(scope="module")
def claims_models(portfolio):
    claims = portfolio[portfolio["ClaimNb"] > 0]
    return GLM(get_preset("homogeneous"), family="gamma").fit(claims, "ClaimAmount",
                                                              weights="ClaimNb")  # fmt: skip


def test_only_the_plotting_module_imports_matplotlib():
    importers = []
    for path in sorted((REPO / "actnn").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(n.split(".")[0] == "matplotlib" for n in names):
                importers.append(path.relative_to(REPO).as_posix())
    assert set(importers) == {"actnn/report/plotting.py"}


_MEASURE = """<script>
window.addEventListener("load", () => {
  const imgs = [...document.querySelectorAll("img")];
  document.body.setAttribute("data-measure", JSON.stringify({
    window: window.innerWidth,
    images: imgs.map(i => ({shown: i.getBoundingClientRect().width, natural: i.naturalWidth,
                            loaded: i.complete && i.naturalWidth > 0})),
    tables: document.querySelectorAll("table").length,
    overflow: document.documentElement.scrollWidth > window.innerWidth,
  }));
});
</script></body>"""


NO_CHROMIUM = "Debian's chromium is not installed (apt-get install chromium)"


@pytest.mark.skipif(shutil.which("chromium") is None, reason=NO_CHROMIUM)
def test_report_renders_in_headless_chromium(evaluation, tmp_path):
    page = evaluation.to_html(tmp_path / "report.html")
    page.write_text(page.read_text().replace("</body>", _MEASURE))
    result = subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--window-size=1280,900",
         "--virtual-time-budget=5000", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    found = re.search(r"data-measure=\"([^\"]+)\"", result.stdout)
    assert found, result.stdout[:500]
    measure = json.loads(found.group(1).replace("&quot;", '"'))
    assert measure["window"] == 1280 and not measure["overflow"]
    assert len(measure["images"]) == len(evaluation.figures()) and measure["tables"] >= 4
    for image in measure["images"]:
        assert image["loaded"]
        # legible: a figure is shown at no less than 80 % of its drawn size (fonts >= ~8 pt)
        assert image["shown"] >= 0.8 * image["natural"], image


def test_models_are_recognised_by_class_so_subclasses_work(models, portfolio, tmp_path):
    class HouseGLM(GLM):  # a user's subclass, e.g. with a method of their own
        pass

    glm = HouseGLM(get_preset("nsw2018_glm1")).fit(portfolio, "ClaimNb", exposure="Exposure")
    ev = evaluate({"GLM1": glm, "CANN": models["CANN"]}, portfolio, features=["DrivAge"],
                  pd_sample=2_000)  # fmt: skip
    assert list(ev.relativities) == ["DrivAge"]  # the GLM is seen as the GLM
    assert ev.stamp["models"]["GLM1"]["kind"] == "GLM"
    loaded = load_model(glm.save(tmp_path / "house_glm"))
    assert type(loaded) is GLM
    np.testing.assert_allclose(loaded.predict(portfolio), glm.predict(portfolio), rtol=1e-12)
