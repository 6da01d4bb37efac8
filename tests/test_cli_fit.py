"""``actnn fit`` and ``actnn predict`` on a portfolio with the user's own column names.

A model fitted from a TOML file predicts as the model fitted in Python with the same options; the
CANN example of docs/config.md is fitted here; errors are one line naming the problem.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from conftest import REPO, fresh_python

from actnn import (
    CANN,
    FNN,
    GLM,
    Binned,
    Categorical,
    Continuous,
    FeatureSpec,
    LocalGLMnet,
    NetworkInputs,
    Polynomial,
    load_model,
)
from actnn.cli import main
from actnn.config import build_model, load_config, parse_config
from actnn.datasets import read_table, write_table

GLM_TOML = """
[model]
kind = "glm"
family = "poisson"
response = "n_claims"
exposure = "years"

[[features]]
kind = "continuous"
column = "bonus_malus"
upper = 150

[[features]]
kind = "continuous"
column = "density"
log = true

[[features]]
kind = "polynomial"
column = "driver_age"
degree = 2

[[features]]
kind = "categorical"
column = "region"
reference = "Paris"

[[features]]
kind = "categorical"
column = "vehicle_power"
upper = 9
"""

GLM_SPEC = FeatureSpec(
    [
        Continuous("bonus_malus", upper=150),
        Continuous("density", log=True),
        Polynomial("driver_age", degree=2),
        Categorical("region", reference="Paris"),
        Categorical("vehicle_power", upper=9),
    ]
)

GAMMA_TOML = """
[model]
kind = "glm"
family = "gamma"
response = "mean_claim"
weights = "n_claims"

[[features]]
kind = "continuous"
column = "bonus_malus"
upper = 150

[[features]]
kind = "categorical"
column = "region"
reference = "Paris"
"""

FNN_TOML = """
[model]
kind = "fnn"
response = "n_claims"
exposure = "years"
seed = 3

[network]
hidden = [8, 4]
epochs = 2
batch_size = 1000

[network.inputs]
numeric = ["bonus_malus", { column = "density", log = true }, "driver_age"]
categorical = ["region"]
"""


@pytest.fixture(scope="module")
def own_claims(own_portfolio) -> pd.DataFrame:
    """The policies with claims and their mean claim size."""
    claims = own_portfolio[own_portfolio["n_claims"] > 0].reset_index(drop=True)
    rng = np.random.default_rng(1)
    return claims.assign(mean_claim=rng.gamma(2.0, 900.0, len(claims)))


def _docs_cann_toml() -> str:
    blocks = re.findall(r"```toml\n(.*?)```", (REPO / "docs" / "config.md").read_text(), flags=re.S)
    canns = [block for block in blocks if re.search(r'(?m)^kind = "cann"', block)]
    assert len(canns) == 1, "docs/config.md should hold exactly one CANN example"
    return canns[0]


def _fit(tmp_path, capsys, toml: str, data: pd.DataFrame, data_file: str = "learn.csv"):
    """Run ``actnn fit``; returns the saved model, the data as read back and the printed text."""
    config, path, out = tmp_path / "model.toml", tmp_path / data_file, tmp_path / "model"
    config.write_text(toml)
    write_table(data, path)
    assert main(["fit", str(config), "--data", str(path), "--out", str(out)]) == 0
    return load_model(out), read_table(path), capsys.readouterr().out


def _summary_deviance(printed: str) -> float:
    return float(re.search(r"in-sample deviance (\S+)", printed.splitlines()[-1])[1])


def test_glm_poisson_with_exposure(tmp_path, capsys, own_portfolio):
    saved, data, printed = _fit(tmp_path, capsys, GLM_TOML, own_portfolio)
    expected = GLM(GLM_SPEC, "poisson").fit(data, "n_claims", exposure="years")
    np.testing.assert_array_equal(saved.coef_, expected.coef_)
    assert list(saved.coef_.index) == list(expected.coef_.index)
    np.testing.assert_array_equal(saved.predict(data), expected.predict(data))
    assert printed.splitlines()[-1].startswith("done: glm on 5,000 rows, in-sample deviance")
    assert _summary_deviance(printed) == pytest.approx(expected.deviance_ / 5_000, rel=1e-5)
    assert "saved to" in printed


def test_glm_gamma_with_weights(tmp_path, capsys, own_claims):
    saved, data, printed = _fit(tmp_path, capsys, GAMMA_TOML, own_claims)
    spec = FeatureSpec(
        [Continuous("bonus_malus", upper=150), Categorical("region", reference="Paris")]
    )
    expected = GLM(spec, "gamma").fit(data, "mean_claim", weights="n_claims")
    np.testing.assert_array_equal(saved.coef_, expected.coef_)
    assert saved.weights_ == "n_claims" and not saved.uses_exposure_
    weighted_mean = expected.deviance_ / data["n_claims"].sum()
    assert _summary_deviance(printed) == pytest.approx(weighted_mean, rel=1e-5)


def test_fnn_predicts_as_in_python(tmp_path, capsys, own_portfolio):
    saved, data, printed = _fit(tmp_path, capsys, FNN_TOML, own_portfolio)
    inputs = NetworkInputs(
        (Continuous("bonus_malus"), Continuous("density", log=True), Continuous("driver_age")),
        (Categorical("region"),),
    )
    expected = FNN(inputs, "poisson", hidden=(8, 4), epochs=2, batch_size=1000, seed=3,
                   verbose=0)  # fmt: skip
    expected.fit(data, "n_claims", exposure="years").balance_correct(data)
    np.testing.assert_allclose(saved.predict(data), expected.predict(data), rtol=1e-12)
    assert saved.balance_corrected_ and saved.history_.epochs == 2
    assert "trained 2 epochs" in printed


def test_docs_cann_example_predicts_as_in_python(tmp_path, capsys, own_portfolio):
    toml = re.sub(r"(?m)^epochs = \d+", "epochs = 2", _docs_cann_toml())
    saved, data, printed = _fit(tmp_path, capsys, toml, own_portfolio)
    spec = FeatureSpec(
        [
            Continuous("bonus_malus", upper=150),
            Continuous("density", log=True),
            Binned("driver_age", edges=(18, 26, 41, 66, float("inf")), reference="[41,66)"),
            Categorical("region", reference="Paris"),
            Categorical("vehicle_power", upper=9),
        ]
    )
    assert load_config(tmp_path / "model.toml").features == spec
    glm = GLM(spec, "poisson").fit(data, "n_claims", exposure="years")
    inputs = NetworkInputs(
        (Continuous("bonus_malus"), Continuous("driver_age"), Continuous("density", log=True)),
        (Categorical("region"), Categorical("vehicle_power")),
        scaling="minmax",
    )
    expected = CANN(
        glm, inputs, hidden=(20, 15, 10), activation="tanh", embedding_dim=2, epochs=2,
        batch_size=10_000, learning_rate=0.002, validation_fraction=0.1, patience=20, seed=1,
        verbose=0,
    )  # fmt: skip
    expected.fit(data, "n_claims", exposure="years").balance_correct(data)
    np.testing.assert_array_equal(saved.glm.coef_, glm.coef_)
    np.testing.assert_allclose(saved.predict(data), expected.predict(data), rtol=1e-12)
    assert saved.predict(data).sum() == pytest.approx(data["n_claims"].sum(), rel=1e-8)
    assert "fitting the GLM" in printed and "balance-corrected" in printed


def test_predict_writes_prediction_and_rate(tmp_path, capsys, own_portfolio):
    saved, data, _ = _fit(tmp_path, capsys, GLM_TOML, own_portfolio)
    out = tmp_path / "priced.csv"
    args = ["predict", str(tmp_path / "model"), "--data", str(tmp_path / "learn.csv")]
    assert main([*args, "--out", str(out)]) == 0
    priced = pd.read_csv(out)
    assert list(priced.columns) == [*data.columns, "prediction", "rate"]
    pd.testing.assert_frame_equal(priced[data.columns], data)
    np.testing.assert_allclose(priced["prediction"], saved.predict(data), rtol=1e-14)
    np.testing.assert_allclose(priced["rate"], saved.predict_frequency(data), rtol=1e-14)
    assert "wrote 5,000 rows with prediction, rate" in capsys.readouterr().out

    assert main([*args, "--out", str(tmp_path / "named.csv"), "--column", "mu"]) == 0
    assert {"mu", "rate"} <= set(pd.read_csv(tmp_path / "named.csv").columns)


def test_glm_fit_predict_and_report_import_no_tensorflow(tmp_path, own_portfolio):
    config, learn, model = tmp_path / "model.toml", tmp_path / "learn.csv", tmp_path / "model"
    config.write_text(GLM_TOML)
    write_table(own_portfolio, learn)
    priced, report = tmp_path / "priced.csv", tmp_path / "report.html"
    commands = [
        ["fit", str(config), "--data", str(learn), "--out", str(model)],
        ["predict", str(model), "--data", str(learn), "--out", str(priced)],
        ["report", str(model), "--data", str(learn), "--out", str(report)],
    ]
    script = (
        f"from actnn.cli import main\nfor args in {commands!r}:\n    assert main(args) == 0, args\n"
    )
    loaded, printed = fresh_python(script)
    assert "saved to" in printed and "wrote 5,000 rows with prediction, rate" in printed
    assert loaded == []  # neither tensorflow nor keras
    data = read_table(learn)
    mu = load_model(model).predict(data)
    np.testing.assert_allclose(pd.read_csv(priced)["prediction"], mu, rtol=1e-14)
    assert report.stat().st_size > 0


def test_parquet_in_and_out(tmp_path, capsys, own_portfolio):
    saved, data, _ = _fit(tmp_path, capsys, GLM_TOML, own_portfolio, data_file="learn.parquet")
    out = tmp_path / "priced.parquet"
    model_dir, data_file = str(tmp_path / "model"), str(tmp_path / "learn.parquet")
    assert main(["predict", model_dir, "--data", data_file, "--out", str(out)]) == 0
    priced = pd.read_parquet(out)
    np.testing.assert_array_equal(priced["prediction"], load_model(model_dir).predict(data))
    np.testing.assert_array_equal(priced["rate"], saved.predict_frequency(data))


def test_overwrite_is_needed_to_replace_a_model(tmp_path, capsys, own_portfolio):
    _fit(tmp_path, capsys, GLM_TOML, own_portfolio)
    args = ["fit", str(tmp_path / "model.toml"), "--data", str(tmp_path / "learn.csv")]
    args += ["--out", str(tmp_path / "model")]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "exists and is not empty; pass --overwrite to replace the model there" in err
    assert main([*args, "--overwrite"]) == 0


def _without_region(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns="region")


def _text_in_bonus_malus(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.astype({"bonus_malus": object})
    frame.loc[3, "bonus_malus"] = "abc"
    return frame


FIT_ERRORS = {
    "unknown key": (
        GLM_TOML.replace('family = "poisson"', 'familly = "poisson"'),
        None,
        ["unknown key 'familly'", "[model]", "did you mean 'family'?"],
    ),
    "unknown feature field": (
        GLM_TOML.replace("upper = 150", "uper = 150"),
        None,
        ["unknown key 'uper'", "[[features]] #1", "'bonus_malus'"],
    ),
    "key in the wrong section": (
        FNN_TOML + "balance_correct = true\n",
        None,
        ["unknown key 'balance_correct'", "[network.inputs]", "it belongs in [network]"],
    ),
    "unknown model kind": (
        GLM_TOML.replace('kind = "glm"', 'kind = "gbm"'),
        None,
        ["unknown model kind 'gbm'", "'glm' | 'fnn' | 'cann' | 'localglmnet'"],
    ),
    "unknown feature kind": (
        GLM_TOML.replace('kind = "polynomial"', 'kind = "spline"'),
        None,
        ["[[features]] #3", "unknown feature kind 'spline'"],
    ),
    "wrong type": (
        FNN_TOML.replace("epochs = 2", 'epochs = "2"'),
        None,
        ["[network]", "epochs must be an integer, got '2'"],
    ),
    "network for a glm": (
        GLM_TOML + "[network]\nepochs = 2\n",
        None,
        ["kind = 'glm' does not use [network]"],
    ),
    "option of another kind": (
        FNN_TOML.replace("epochs = 2", "epochs = 2\nnested = true"),
        None,
        ["[network]: nested is for kind = 'cann', not 'fnn'"],
    ),
    "not TOML": (GLM_TOML.replace("upper = 150", "upper = "), None, ["not valid TOML", "line"]),
    "missing column": (GLM_TOML, _without_region, ["learn.csv lacks the column 'region'"]),
    "text in a numeric column": (
        GLM_TOML,
        _text_in_bonus_malus,
        ["column 'bonus_malus'", "1 row has text", "row 3 = 'abc'"],
    ),
}


@pytest.mark.parametrize("case", list(FIT_ERRORS))
def test_fit_error_is_one_line(tmp_path, capsys, own_portfolio, case):
    toml, change, fragments = FIT_ERRORS[case]
    (tmp_path / "model.toml").write_text(toml)
    write_table(change(own_portfolio) if change else own_portfolio, tmp_path / "learn.csv")
    args = ["fit", str(tmp_path / "model.toml"), "--data", str(tmp_path / "learn.csv")]
    assert main([*args, "--out", str(tmp_path / "model")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("actnn: error: ") and err.count("\n") == 1, err
    for fragment in fragments:
        assert fragment in err
    assert not (tmp_path / "model").exists()


def test_predict_errors_are_one_line(tmp_path, capsys, own_portfolio):
    write_table(own_portfolio, tmp_path / "learn.csv")
    data = str(tmp_path / "learn.csv")
    nowhere = str(tmp_path / "no_model")
    assert main(["predict", nowhere, "--data", data, "--out", str(tmp_path / "p.csv")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("actnn: error: ") and err.count("\n") == 1
    assert nowhere in err and "does not exist" in err

    before = (tmp_path / "learn.csv").read_bytes()
    assert main(["predict", nowhere, "--data", data, "--out", data]) == 1
    assert "is the input file" in capsys.readouterr().err
    assert (tmp_path / "learn.csv").read_bytes() == before


def test_localglmnet_and_tweedie_configs_build_their_models():
    raw = {
        "model": {"kind": "localglmnet", "family": "tweedie", "power": 1.6, "response": "y"},
        "network": {
            "hidden": [6],
            "epochs": 3,
            "balance_correct": False,
            "inputs": {"numeric": ["x"], "categorical": ["g"], "scaling": "standard"},
        },
    }
    config = parse_config(raw)
    model = build_model(config)
    assert isinstance(model, LocalGLMnet) and model.family.power == 1.6
    assert model.hidden == (6,) and model.epochs == 3 and not config.balance_correct
    assert model.inputs == NetworkInputs((Continuous("x"),), (Categorical("g"),), "standard")
