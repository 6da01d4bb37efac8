"""The README's command-line path on freMTPL2: split, fit from the shipped configurations,
predict and report, with the published GLM1 figures coming out of the files."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from actnn import load_model, poisson_deviance
from actnn.cli import main
from actnn.datasets import read_table
from actnn.studies import PUBLISHED_NSW2018

REPO = Path(__file__).resolve().parents[1]
CONFIGS = REPO / "case_studies" / "configs"


@pytest.fixture(scope="module")
def split_files(real_data_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("fremtpl2")
    assert main(["split", "nsw2018", "--data-dir", str(real_data_dir), "--out", str(out),
                 "--format", "parquet"]) == 0  # fmt: skip
    return out / "learn.parquet", out / "test.parquet"


@pytest.mark.real_data
def test_split_writes_the_published_split(split_files):
    learn, test = (read_table(path) for path in split_files)
    assert (len(learn), len(test)) == (610_212, 67_801)
    assert set(learn["IDpol"]).isdisjoint(test["IDpol"])


@pytest.mark.real_data
def test_fit_predict_report_from_the_shipped_configurations(split_files, tmp_path, capsys):
    learn_file, test_file = split_files
    models = tmp_path / "models"
    glm_config = CONFIGS / "fremtpl2_glm1.toml"
    assert main(["fit", str(glm_config), "--data", str(learn_file), "--out",
                 str(models / "GLM1")]) == 0  # fmt: skip
    glm = load_model(models / "GLM1")
    learn, test = read_table(learn_file), read_table(test_file)
    published_in, published_out = {row[0]: row[4:] for row in PUBLISHED_NSW2018}["GLM1"]
    assert f"{poisson_deviance(learn['ClaimNb'], glm.predict(learn)):.5f}" == published_in

    # the CANN configuration, shortened to 2 epochs for the test
    cann_toml = re.sub(
        r"(?m)^epochs = \d+", "epochs = 2", (CONFIGS / "fremtpl2_cann.toml").read_text()
    )
    (tmp_path / "cann.toml").write_text(cann_toml)
    assert main(["fit", str(tmp_path / "cann.toml"), "--data", str(learn_file), "--out",
                 str(models / "CANN")]) == 0  # fmt: skip

    priced = tmp_path / "priced.parquet"
    assert main(["predict", str(models / "CANN"), "--data", str(test_file), "--out",
                 str(priced)]) == 0  # fmt: skip
    prediction = pd.read_parquet(priced)
    assert len(prediction) == len(test)
    cann = load_model(models / "CANN")
    pd.testing.assert_series_equal(
        prediction["prediction"], pd.Series(cann.predict(test), name="prediction")
    )

    report = tmp_path / "report.html"
    assert main(["report", str(models / "GLM1"), str(models / "CANN"), "--data", str(test_file),
                 "--out", str(report)]) == 0  # fmt: skip
    text = report.read_text()
    assert published_out in text  # GLM1's test deviance, 32.17123
    capsys.readouterr()
