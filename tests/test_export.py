"""Exported Keras models: loaded by Keras alone, they predict what actnn predicts.

The GLM never diverges silently from its Keras network (``update_from_network``,
``reset_network``).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pandas as pd
import pytest
from conftest import REPO

from actnn import (
    GLM,
    Binned,
    Categorical,
    Continuous,
    FeatureSpec,
    NetworkInputs,
    Polynomial,
    Tweedie,
    get_preset,
    load_model,
    simulate_mtpl,
)
from actnn.cli import main
from actnn.datasets.presets import sw2019_network_inputs
from actnn.ensemble import Nagging
from actnn.export import export_keras, keras_export_model
from actnn.glm import predict_network
from actnn.networks import CANN, FNN, LocalGLMnet

NETWORK = {"epochs": 2, "hidden": (5, 4), "verbose": 0, "jit_compile": False}


def _every_transform() -> FeatureSpec:
    """A design with every kind of feature and transform actnn has."""
    return FeatureSpec(
        (
            Continuous("Area", mapping={a: i + 1 for i, a in enumerate("ABCDEF")}),
            Continuous("BonusMalus", lower=55, upper=150, log=True, decimals=2),
            Continuous("Density", log=True, decimals=-1, name="DensityTens"),
            Polynomial("DrivAge", degree=3, log_term=True),
            Categorical("VehPower", upper=9, reference=6),
            Categorical("VehBrand", reference="B12"),
            Binned("VehAge", edges=(0, 1.5, 11, 50.25), reference="[1.5,11)"),
        ),
        name="every_transform",
    )


def _standard_inputs() -> NetworkInputs:
    numeric = (
        Continuous("VehAge", upper=20),
        Continuous("Density", log=True, decimals=2),
        Continuous("VehGas", mapping={"Diesel": 0, "Regular": 1}),
    )
    return NetworkInputs(numeric, (Categorical("Region"),), scaling="standard")


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return simulate_mtpl(20_000, seed=3)


@pytest.fixture(scope="module")
def models(data) -> dict:
    """Every model kind, fitted briefly; each with the data it predicts."""
    glm = GLM(get_preset("nsw2018_glm1")).fit(data, "ClaimNb", exposure="Exposure")
    claims = data[data["ClaimNb"] > 0].assign(mean_claim=lambda d: d["ClaimTotal"] / d["ClaimNb"])
    pure = data.assign(pure_premium=data["ClaimTotal"] / data["Exposure"])
    severity_spec = FeatureSpec((Continuous("DrivAge"), Categorical("VehGas")))
    fitted = {
        "glm_poisson": (glm, data),
        "glm_every_transform": (
            GLM(_every_transform()).fit(data, "ClaimNb", exposure="Exposure"),
            data,
        ),
        "glm_polynomial": (
            GLM(get_preset("sw2019_glm2")).fit(data, "ClaimNb", exposure="Exposure"),
            data,
        ),
        "glm_gamma": (
            GLM(severity_spec, "gamma").fit(claims, "mean_claim", weights="ClaimNb"),
            claims,
        ),
        "glm_tweedie": (
            GLM(severity_spec, Tweedie(1.5)).fit(pure, "pure_premium", weights="Exposure"),
            pure,
        ),
        "fnn": (FNN(sw2019_network_inputs(), **NETWORK), data),
        "fnn_standard": (FNN(_standard_inputs(), **NETWORK), data),
        "cann": (CANN(glm, sw2019_network_inputs(), **NETWORK), data),
        "cann_nested": (
            CANN(glm, sw2019_network_inputs(), nested=True, glm_trainable=True, **NETWORK),
            data,
        ),
        "localglmnet": (LocalGLMnet(sw2019_network_inputs(), **NETWORK), data),
        "nagging": (
            Nagging(
                lambda s: CANN(glm, sw2019_network_inputs(), seed=s, **NETWORK),
                seeds=[1, 2],
                progress=None,
            ),  # fmt: skip
            data,
        ),
    }
    for model, frame in fitted.values():
        if not hasattr(model, "coef_"):
            model.fit(frame, "ClaimNb", exposure="Exposure")
    return fitted


_LOAD_WITHOUT_ACTNN = textwrap.dedent(
    """
    import json, sys
    import keras, numpy as np, pandas as pd
    out = {}
    for name, (file, frame) in json.loads(sys.argv[1]).items():
        exported = keras.saving.load_model(file)  # safe mode, no custom objects
        data = pd.read_pickle(frame)
        mu = exported({column: data[column].to_numpy() for column in exported.input})
        out[name] = keras.ops.convert_to_numpy(mu)[:, 0].tolist()
        out[name + ":dtype"] = str(keras.ops.convert_to_numpy(mu).dtype)
    assert "actnn" not in sys.modules, "the exported models needed actnn"
    print(json.dumps(out))
    """
)


def test_exported_models_load_without_actnn_and_predict_as_actnn(models, tmp_path):
    jobs = {}
    for name, (model, frame) in models.items():
        frame.to_pickle(tmp_path / f"{name}.pkl")
        file = export_keras(model, tmp_path / f"{name}.keras")
        jobs[name] = (str(file), str(tmp_path / f"{name}.pkl"))
    run = subprocess.run(
        [sys.executable, "-c", _LOAD_WITHOUT_ACTNN, json.dumps(jobs)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    predicted = json.loads(run.stdout.strip().splitlines()[-1])
    for name, (model, frame) in models.items():
        expected = model.predict(frame)
        assert predicted[name + ":dtype"] == "float64"
        np.testing.assert_allclose(predicted[name], expected, rtol=1e-10, err_msg=name)


def test_exported_model_takes_raw_columns_and_exposure(models):
    exported = keras_export_model(models["cann"][0])
    inputs = {t.name: t.dtype for t in exported.inputs}
    assert inputs["VehBrand"] == "string" and inputs["Region"] == "string"
    assert inputs["Area"] == "string"  # mapped to numbers inside
    assert inputs["VehPower"] == "float64" and inputs["Exposure"] == "float64"
    assert {"ClaimNb", "IDpol"}.isdisjoint(inputs)
    classes = {type(layer).__module__.split(".")[0] for layer in exported._flatten_layers()}
    assert classes == {"keras"}  # built-in layers only, no actnn.networks.LocalLinear


def test_exposure_multiplies_the_prediction(models, data):
    exported = keras_export_model(models["fnn"][0])
    feed = {c: data[c].to_numpy() for c in exported.input}
    once = keras.ops.convert_to_numpy(exported(feed))[:, 0]
    feed["Exposure"] = 2 * feed["Exposure"]
    twice = keras.ops.convert_to_numpy(exported(feed))[:, 0]
    np.testing.assert_allclose(twice, 2 * once, rtol=1e-14)


@pytest.mark.parametrize("name", ["glm_poisson", "fnn", "localglmnet"])
def test_unseen_levels_are_nan_or_the_reference(models, name):
    model, data = models[name]
    rows = data.iloc[:6].copy()
    rows["VehBrand"] = rows["VehBrand"].astype(object)
    rows["Region"] = rows["Region"].astype(object)
    rows.loc[rows.index[1], "VehBrand"] = "B99"  # a level not seen in fitting
    rows.loc[rows.index[3], "Region"] = "R00"
    rows.loc[rows.index[4], "DrivAge"] = 17  # below the range seen: priced at its lower end
    for unseen in ("nan", "reference"):
        exported = keras_export_model(model, unseen=unseen)
        feed = {c: rows[c].to_numpy() for c in exported.input}
        mu = keras.ops.convert_to_numpy(exported(feed))[:, 0]
        with pytest.warns(Warning, match="not seen|outside"):
            expected = model.predict(rows, unseen="reference")
        seen = [0, 2, 4, 5]
        np.testing.assert_allclose(mu[seen], expected[seen], rtol=1e-10)
        if unseen == "nan":
            assert np.isnan(np.delete(mu, seen)).all()
        else:
            np.testing.assert_allclose(mu, expected, rtol=1e-10)


def test_values_actnn_refuses_are_nan(models, data):
    model, _ = models["glm_every_transform"]
    rows = data.iloc[:4].copy()
    rows["Area"] = rows["Area"].astype(object)
    rows.loc[rows.index[0], "Area"] = "Z"  # not in the mapping
    rows.loc[rows.index[1], "Density"] = 0  # log of 0
    rows.loc[rows.index[2], "Exposure"] = -1.0
    exported = keras_export_model(model, unseen="reference")
    mu = keras.ops.convert_to_numpy(exported({c: rows[c].to_numpy() for c in exported.input}))
    assert np.isnan(mu[:3]).all() and np.isfinite(mu[3]).all()
    np.testing.assert_allclose(mu[3, 0], model.predict(rows.iloc[3:])[0], rtol=1e-10)


def test_export_keras_checks_its_arguments(models, tmp_path):
    glm = models["glm_poisson"][0]
    with pytest.raises(ValueError, match=r"\.keras"):
        export_keras(glm, tmp_path / "glm.h5")
    export_keras(glm, tmp_path / "glm.keras")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        export_keras(glm, tmp_path / "glm.keras")
    export_keras(glm, tmp_path / "glm.keras", overwrite=True)
    with pytest.raises(ValueError, match="unseen must be one of"):
        keras_export_model(glm, unseen="error")
    with pytest.raises(TypeError, match="fitted actnn GLM"):
        keras_export_model(object())


def test_cli_export(models, data, tmp_path, capsys):
    model = models["localglmnet"][0]
    model.save(tmp_path / "model")
    out = tmp_path / "model.keras"
    assert main(["export", str(tmp_path / "model"), "--out", str(out)]) == 0
    assert "LocalGLMnet" in capsys.readouterr().out
    exported = keras.saving.load_model(out)
    mu = keras.ops.convert_to_numpy(exported({c: data[c].to_numpy() for c in exported.input}))
    np.testing.assert_allclose(mu[:, 0], load_model(tmp_path / "model").predict(data), rtol=1e-10)
    assert main(["export", str(tmp_path / "model"), "--out", str(out)]) == 1
    assert "--overwrite" in capsys.readouterr().err


# ---------------------------------------------------------------------- GLM and its network
def _train_network_further(glm: GLM, data: pd.DataFrame) -> None:
    """Plain Keras training of the GLM's network, as a user would do it."""
    network = glm.keras_model_
    network.compile(optimizer=keras.optimizers.SGD(1e-3), loss="poisson")
    inputs = glm.network_inputs(data)
    network.fit(inputs, data["ClaimNb"].to_numpy(float), epochs=1, batch_size=1000, verbose=0)


def test_glm_refuses_to_describe_a_network_trained_further(data, tmp_path):
    glm = GLM(get_preset("nsw2018_glm1")).fit(data, "ClaimNb", exposure="Exposure")
    before = glm.predict(data)
    _train_network_further(glm, data)
    for output in (
        lambda: glm.predict(data),
        lambda: glm.linear_predictor(data),
        glm.coef_table,
        glm.relativities,
        lambda: glm.save(tmp_path / "glm"),
        lambda: keras_export_model(glm),
    ):
        with pytest.raises(RuntimeError, match=r"update_from_network\(\).*reset_network\(\)"):
            output()
    glm.reset_network()
    np.testing.assert_array_equal(glm.predict(data), before)
    network = predict_network(glm.keras_model_, glm.network_inputs(data))
    np.testing.assert_allclose(network, before, rtol=1e-13)


def test_glm_takes_the_weights_of_its_network_on_request(data, tmp_path):
    glm = GLM(get_preset("nsw2018_glm1")).fit(data, "ClaimNb", exposure="Exposure")
    before = glm.predict(data)
    _train_network_further(glm, data)
    network = predict_network(glm.keras_model_, glm.network_inputs(data))
    assert np.max(np.abs(network / before - 1)) > 1e-4  # the training moved the network
    assert glm.update_from_network() is glm
    np.testing.assert_allclose(glm.predict(data), network, rtol=1e-12)
    kernel, bias = glm.keras_model_.get_layer("linear_predictor").get_weights()
    np.testing.assert_array_equal(glm.coef_.to_numpy(), np.concatenate([bias, kernel[:, 0]]))
    assert glm.bse_.isna().all() and np.isnan(glm.deviance_) and np.isnan(glm.aic_)
    assert glm.coef_table()["p_value"].isna().all()
    assert glm.relativities()["relativity"].notna().all()
    loaded = load_model(glm.save(tmp_path / "glm"))  # NaN statistics are saved as such
    np.testing.assert_array_equal(loaded.predict(data), glm.predict(data))
    assert loaded.bse_.isna().all() and np.isnan(loaded.dispersion_)


def test_readme_keras_export_runs_and_loads_without_actnn(tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", (REPO / "README.md").read_text(), flags=re.S)
    export_block = next(b for b in blocks if "export_keras(" in b)
    load_block = next(b for b in blocks if "keras.saving.load_model" in b)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(export_block, "README Keras export", "exec"), namespace)
    check = "\nimport sys\nassert 'actnn' not in sys.modules\n"
    run = subprocess.run([sys.executable, "-c", load_block + check], capture_output=True,
                         text=True, cwd=tmp_path, check=False)  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    printed = np.array(run.stdout.split("[")[-1].split("]")[0].split(), dtype=float)
    policies = pd.read_csv(tmp_path / "policies.csv")
    np.testing.assert_allclose(printed, namespace["glm"].predict(policies)[:3], rtol=1e-5)
