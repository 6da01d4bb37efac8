"""The command line: the demo writes its outputs; errors are one line with a non-zero exit."""

from __future__ import annotations

import json

import keras
import numpy as np
import pandas as pd
import pytest

from actnn.cli import main


def test_demo_writes_its_outputs(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path), "--n", "20000", "--seed", "2"]) == 0
    printed = capsys.readouterr().out
    assert "| GLM1 | 49 |" in printed and "true model" in printed
    results = json.loads((tmp_path / "results.json").read_text())
    names = [m["name"] for m in results["models"]]
    assert names == ["homogeneous", "GLM1", "true model"]
    homogeneous, glm1, truth = results["models"]
    # in sample, more parameters cannot fit worse; nothing beats the truth by much out of sample
    assert glm1["in_sample"] < homogeneous["in_sample"]
    assert truth["out_of_sample"] < homogeneous["out_of_sample"]
    relativities = pd.read_csv(tmp_path / "glm1_relativities.csv")
    assert {"feature", "level", "relativity"} <= set(relativities.columns)
    model = keras.saving.load_model(tmp_path / "glm1.keras")
    kernel, bias = model.get_layer("linear_predictor").get_weights()
    coef = pd.read_csv(tmp_path / "glm1_coefficients.csv")
    np.testing.assert_allclose(coef["estimate"].iloc[1:], kernel[:, 0])
    np.testing.assert_allclose(coef["estimate"].iloc[0], bias[0])


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
