"""How an evaluation shows itself: a short text, an HTML summary with figures, the full report."""

from __future__ import annotations

import base64
import html
import re

import numpy as np
import pytest

from actnn import GLM, get_preset
from actnn.datasets.presets import sw2019_network_inputs
from actnn.networks import FNN
from actnn.report import evaluate
from actnn.report._summary import MAX_ROWS, N_FIGURES, discrimination_and_calibration

#: The text repr of an evaluation: at most this many lines.
MAX_LINES = 30


@pytest.fixture(scope="module")
def glm(portfolio):
    return GLM(get_preset("nsw2018_glm1")).fit(portfolio, "ClaimNb", exposure="Exposure")


@pytest.fixture(scope="module")
def evaluation(glm, portfolio):
    fnn = FNN(sw2019_network_inputs(), epochs=2, batch_size=4096, verbose=0)
    fnn.fit(portfolio, "ClaimNb", exposure="Exposure")
    return evaluate({"GLM1": glm, "FNN": fnn}, portfolio, features=["VehGas"], pd_sample=2_000)


def test_repr_is_a_short_summary_not_the_frames(evaluation, portfolio):
    text = repr(evaluation)
    lines = text.splitlines()
    assert len(lines) <= MAX_LINES
    assert lines[0] == "Evaluation of 2 models: GLM1, FNN"
    assert f"{len(portfolio):,} rows" in text
    assert "exposure_share" not in text  # no Lorenz frame
    for name in ("GLM1", "FNN"):
        gini = evaluation.ginis[name]
        assert any(line.startswith(name) and f"{gini:.5f}" in line for line in lines), name
    assert ".show()" in text and ".scores" in text


def test_repr_stays_short_with_many_models(glm, portfolio):
    many = evaluate({f"GLM{k}": glm for k in range(12)}, portfolio, features=[])
    text = repr(many)
    assert len(text.splitlines()) <= MAX_LINES
    assert f"... and {12 - MAX_ROWS} more models" in text


def test_calibration_summary_counts_the_bins_off(evaluation):
    table = discrimination_and_calibration(evaluation)
    assert list(table.index) == ["GLM1", "FNN"]
    for name, row in table.iterrows():
        bins = evaluation.calibration[name]
        off = 0
        for observed, predicted, se in zip(bins["mean_observed"], bins["mean_predicted"],
                                           bins["std_error"], strict=True):  # fmt: skip
            off += not (predicted - 1.96 * se <= observed <= predicted + 1.96 * se)
        assert row["bins_off"] == off
        assert row["gini"] == evaluation.ginis[name]
        assert row["balance"] == evaluation.scores.loc[name, "balance"]
    assert np.isnan(table.loc["GLM1", "ordered_gini_vs_GLM1"])


def test_html_summary_has_the_tables_and_a_few_figures(evaluation):
    page = evaluation._repr_html_()
    assert page.count("<table") == 3  # the header box, the scores, discrimination and calibration
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(images) == N_FIGURES
    assert all(base64.b64decode(png)[:8] == b"\x89PNG\r\n\x1a\n" for png in images)
    assert len(page) < 400_000  # a summary, not the full report


def test_show_puts_the_full_report_in_an_iframe(evaluation, tmp_path):
    shown = evaluation.show(title="GLM1 against FNN", height=600)
    assert "<iframe srcdoc=" in shown.data and "height:600px" in shown.data
    inner = html.unescape(re.search(r'srcdoc="([^"]*)"', shown.data).group(1))
    written = evaluation.to_html(tmp_path / "report.html", title="GLM1 against FNN")
    assert inner == written.read_text(encoding="utf-8")
    assert inner.count("<img") == len(evaluation.figures())
