"""The command line: the demo writes its outputs; errors are one line with a non-zero exit."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from actnn.cli import main


def test_demo_goes_from_glm_to_cann_to_report_and_tariff_tables(tmp_path, capsys):
    args = ["demo", "--out", str(tmp_path), "--n", "20000", "--seed", "2", "--epochs", "3"]
    assert main(args) == 0
    printed = capsys.readouterr().out.strip().splitlines()
    # the last line says where the report is, and it is there
    assert printed[-1] == f"report: {(tmp_path / 'report.html').resolve()}"
    html = (tmp_path / "report.html").read_text()
    assert "actnn demo" in html and "GLM1" in html and "CANN" in html
    results = json.loads((tmp_path / "results.json").read_text())
    names = [m["name"] for m in results["models"]]
    assert names == ["GLM1", "CANN", "true model"]
    glm1, cann, truth = results["models"]
    assert truth["to_truth"] == 0.0 and glm1["to_truth"] > 0.0
    assert results["cann"]["start_gap"] < 1e-10  # before training the CANN is the GLM
    balance = results["cann"]["claims_learn"]
    assert balance["after_balance"] == pytest.approx(balance["observed"], rel=1e-8)
    # the GLM is balanced too: its predicted frequency on the learning data is the observed one
    assert glm1["avg_frequency_learn"] == pytest.approx(cann["avg_frequency_learn"], rel=1e-8)
    tariff = pd.read_csv(tmp_path / "tariff_glm1.csv")
    assert {"feature", "level", "relativity"} <= set(tariff.columns)
    coef = pd.read_csv(tmp_path / "tariff_glm1_coefficients.csv")
    assert len(coef) == 49 and np.isfinite(coef["estimate"]).all()
    comparison = pd.read_csv(tmp_path / "tariff_cann_vs_glm1.csv")
    assert {"feature", "glm", "model", "weight_share"} <= set(comparison.columns)
    assert set(comparison["feature"]) >= {"DrivAge", "BonusMalus"}


def test_error_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("ACTNN_DATA_DIR", raising=False)
    monkeypatch.setenv("ACTNN_CACHE_DIR", str(tmp_path / "cache"))
    code = main(["reproduce", "nsw2018", "--data-dir", str(tmp_path / "nowhere"), "--out", "x"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("actnn: error: ") and "Traceback" not in err
    assert str(tmp_path / "nowhere") in err


def test_debug_shows_the_exception(tmp_path, monkeypatch):
    monkeypatch.delenv("ACTNN_DATA_DIR", raising=False)
    monkeypatch.setenv("ACTNN_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.raises(FileNotFoundError):
        main(["--debug", "reproduce", "nsw2018", "--data-dir", str(tmp_path), "--out", "x"])
