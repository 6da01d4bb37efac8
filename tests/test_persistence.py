"""Saving and loading fitted models: identical predictions for every kind, clear format errors."""

from __future__ import annotations

import json
import shutil

import keras
import numpy as np
import pandas as pd
import pytest
from conftest import REPO, fresh_python

import actnn
from actnn import GLM, get_preset
from actnn.datasets.presets import sw2019_network_inputs
from actnn.ensemble import Nagging
from actnn.glm import predict_network
from actnn.networks import CANN, FNN, LocalGLMnet
from actnn.persistence import FORMAT_VERSION, MANIFEST, ModelFormatError, load_model, save_model

FAST = {"epochs": 3, "batch_size": 4096, "verbose": 0}
KINDS = ["glm_poisson", "glm_gamma", "fnn", "cann_offset", "cann_nested", "localglmnet", "nagging"]
#: A GLM saved in format 1 (with its network in model.keras) by actnn at 8e9764a, with 200 rows
#: and that actnn's predictions of them (see its make.py).
FORMAT_1_GLM = REPO / "tests" / "fixtures" / "glm_format1"


def _fit(kind, portfolio, claims, glm):
    """The fitted model of ``kind`` and the data it predicts."""
    inputs = sw2019_network_inputs()
    freq = {"exposure": "Exposure"}
    if kind == "glm_poisson":
        return glm, portfolio
    if kind == "glm_gamma":
        model = GLM(get_preset("nsw2018_glm3"), "gamma", name="severity")
        return model.fit(claims, "ClaimAmount", weights="ClaimNb"), claims
    if kind == "fnn":
        model = FNN(inputs, seed=5, hidden=(8, 4), embedding_dim={"VehBrand": 3, "Region": 2},
                    **FAST)  # fmt: skip
        return model.fit(portfolio, "ClaimNb", **freq).balance_correct(portfolio), portfolio
    if kind in ("cann_offset", "cann_nested"):
        model = CANN(glm, inputs, nested=kind == "cann_nested", seed=7, **FAST)
        return model.fit(portfolio, "ClaimNb", **freq), portfolio
    if kind == "localglmnet":
        model = LocalGLMnet(inputs, seed=2, hidden=(6,), **FAST)
        return model.fit(portfolio, "ClaimNb", **freq).balance_correct(portfolio), portfolio
    model = Nagging(lambda s: FNN(inputs, seed=s, hidden=(6,), **FAST), [11, 12], progress=None)
    return model.fit(portfolio, "ClaimNb", **freq), portfolio


@pytest.fixture(scope="module")
def saved_glm(glm, tmp_path_factory):
    return glm.save(tmp_path_factory.mktemp("models") / "glm")


@pytest.fixture(scope="module")
def saved_fnn(portfolio, tmp_path_factory):
    """A saved network (a directory with model.keras)."""
    model = FNN(sw2019_network_inputs(), seed=5, hidden=(4,), **FAST)
    return model.fit(portfolio, "ClaimNb", exposure="Exposure").save(
        tmp_path_factory.mktemp("models") / "fnn"
    )


def _damaged_copy(saved, tmp_path):
    """A copy of the saved model directory, to damage."""
    return shutil.copytree(saved, tmp_path / "copy")


def _edit_manifest(directory, **changes):
    manifest = json.loads((directory / MANIFEST).read_text())
    (directory / MANIFEST).write_text(json.dumps({**manifest, **changes}))


# ---------------------------------------------------------------------- round trips
def _assert_same_network(loaded, model, data):
    assert type(loaded) is type(model)
    assert loaded.seed == model.seed
    assert loaded.inputs == model.inputs and loaded.inputs_ == model.inputs_
    assert loaded.balance_corrected_ == model.balance_corrected_
    assert loaded.history_ == model.history_
    assert repr(loaded.family_) == repr(model.family_) and loaded.exposure_ == model.exposure_
    assert loaded.n_params_ == model.n_params_
    np.testing.assert_array_equal(loaded.predict_frequency(data), model.predict_frequency(data))


@pytest.mark.parametrize("kind", KINDS)
def test_saved_model_loads_with_its_state_and_predicts_the_same(
    kind, portfolio, claims, glm, tmp_path
):
    model, data = _fit(kind, portfolio, claims, glm)
    directory = model.save(tmp_path / kind)
    loaded = actnn.load_model(directory)

    np.testing.assert_array_equal(loaded.predict(data), model.predict(data))
    assert loaded.saved_versions_["actnn"] == actnn.__version__
    manifest = json.loads((directory / MANIFEST).read_text())
    assert manifest["format_version"] == FORMAT_VERSION
    assert manifest["kind"] == kind.split("_")[0]
    glm_dir = {"glm": directory, "cann": directory / "glm"}.get(manifest["kind"])
    if glm_dir is not None:  # a GLM is its manifest: no Keras file
        assert sorted(p.name for p in glm_dir.iterdir()) == [MANIFEST]
    if isinstance(model, GLM):
        assert loaded.features == model.features and loaded.features_ == model.features_
        assert (repr(loaded.family_), loaded.weights_) == (repr(model.family_), model.weights_)
        pd.testing.assert_frame_equal(loaded.coef_table(), model.coef_table())
        pd.testing.assert_frame_equal(loaded.relativities(), model.relativities())
        pd.testing.assert_frame_equal(loaded.cov_params_, model.cov_params_)
        assert (loaded.aic_, loaded.deviance_, loaded.dispersion_, loaded.n_iter_) == (
            model.aic_, model.deviance_, model.dispersion_, model.n_iter_
        )  # fmt: skip
        np.testing.assert_array_equal(loaded.predict_frequency(data), model.predict_frequency(data))
    elif isinstance(model, Nagging):
        assert loaded.seeds == model.seeds == [m.seed for m in loaded.members_]
        assert loaded.balance_correct == model.balance_correct
        for loaded_member, member in zip(loaded.members_, model.members_, strict=True):
            assert loaded_member.balance_corrected_
            _assert_same_network(loaded_member, member, data)
        with pytest.raises(RuntimeError, match="does not keep make_member"):
            loaded.make_member(13)
    else:
        _assert_same_network(loaded, model, data)
    if isinstance(model, CANN):
        assert loaded.nested == model.nested
        pd.testing.assert_series_equal(loaded.glm.coef_, glm.coef_)
    if isinstance(model, LocalGLMnet):
        pd.testing.assert_frame_equal(loaded.beta(data.head(50)), model.beta(data.head(50)))


def test_tweedie_family_and_nan_aic_survive(portfolio, tmp_path):
    model = GLM(get_preset("homogeneous"), actnn.Tweedie(1.5)).fit(
        portfolio, "ClaimTotal", weights="Exposure"
    )
    loaded = load_model(save_model(model, tmp_path / "tweedie"))
    assert loaded.family_ == actnn.Tweedie(1.5) and np.isnan(loaded.aic_)
    np.testing.assert_array_equal(loaded.predict(portfolio), model.predict(portfolio))


def test_other_versions_are_warned_about(saved_glm, tmp_path):
    directory = _damaged_copy(saved_glm, tmp_path)
    manifest = json.loads((directory / MANIFEST).read_text())
    _edit_manifest(directory, versions={**manifest["versions"], "keras": "0.0.1"})
    with pytest.warns(UserWarning, match=r"saved with keras 0\.0\.1 \(now "):
        load_model(directory)


# ---------------------------------------------------------------------- writing
def test_existing_model_is_replaced_only_with_overwrite(glm, saved_glm, tmp_path):
    directory = _damaged_copy(saved_glm, tmp_path)
    with pytest.raises(FileExistsError, match="not empty; pass overwrite=True"):
        glm.save(directory)
    (directory / "stale.txt").write_text("from an older save")
    glm.save(directory, overwrite=True)
    assert not (directory / "stale.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy"]  # no staging directory left
    np.testing.assert_array_equal(load_model(directory).coef_, glm.coef_)


def test_overwrite_never_replaces_a_directory_that_is_not_a_model(glm, tmp_path):
    (tmp_path / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="not an actnn model directory"):
        glm.save(tmp_path, overwrite=True)
    assert (tmp_path / "notes.txt").read_text() == "keep me"
    empty = tmp_path / "empty"
    empty.mkdir()
    assert (glm.save(empty) / MANIFEST).is_file()


def test_a_failed_save_leaves_the_old_model_and_no_staging_directory(
    glm, saved_glm, tmp_path, monkeypatch
):
    directory = _damaged_copy(saved_glm, tmp_path)
    before = (directory / MANIFEST).read_text()

    def fail():  # after model.keras is written, before the manifest
        raise OSError("disk full")

    monkeypatch.setattr("actnn.persistence.versions", fail)
    with pytest.raises(OSError, match="disk full"):
        glm.save(directory, overwrite=True)
    assert (directory / MANIFEST).read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy"]


@pytest.mark.parametrize(
    "model", [GLM(get_preset("homogeneous")), FNN(sw2019_network_inputs(), verbose=0)]
)
def test_unfitted_model_is_not_saved(model, tmp_path):
    with pytest.raises(RuntimeError, match=r"it is not fitted \(missing \[.*\]\); call fit first"):
        model.save(tmp_path / "model")
    assert not (tmp_path / "model").exists()


def test_only_actnn_models_are_saved(tmp_path):
    with pytest.raises(TypeError, match="cannot save a dict: actnn saves GLM, FNN"):
        save_model({}, tmp_path / "model")


# ---------------------------------------------------------------------- reading errors
def test_missing_path(tmp_path):
    with pytest.raises(ModelFormatError, match="no actnn model at .*: the path does not exist"):
        load_model(tmp_path / "nowhere")


def test_directory_without_manifest(tmp_path):
    (tmp_path / "model.keras").write_text("")
    with pytest.raises(ModelFormatError, match=r"not an actnn model directory: .* \(no actnn_"):
        load_model(tmp_path)


def test_invalid_json(saved_glm, tmp_path):
    directory = _damaged_copy(saved_glm, tmp_path)
    (directory / MANIFEST).write_text('{"format_version": 1, "kind": ')
    with pytest.raises(ModelFormatError, match="is not valid JSON"):
        load_model(directory)


def test_newer_format_version(saved_glm, tmp_path):
    directory = _damaged_copy(saved_glm, tmp_path)
    _edit_manifest(directory, format_version=FORMAT_VERSION + 1)
    with pytest.raises(
        ModelFormatError,
        match=rf"saved by a newer actnn .* format version {FORMAT_VERSION + 1}, this actnn "
        rf"\({actnn.__version__}\) reads up to {FORMAT_VERSION}",
    ):
        load_model(directory)


@pytest.mark.parametrize("version", [None, "1", True, 0, 1.0])
def test_missing_or_invalid_format_version(saved_glm, tmp_path, version):
    directory = _damaged_copy(saved_glm, tmp_path)
    manifest = json.loads((directory / MANIFEST).read_text())
    if version is None:
        del manifest["format_version"]
    else:
        manifest["format_version"] = version
    (directory / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(ModelFormatError, match=rf"has no valid format_version \(got {version!r}\)"):
        load_model(directory)


def test_unknown_kind(saved_glm, tmp_path):
    directory = _damaged_copy(saved_glm, tmp_path)
    _edit_manifest(directory, kind="xgboost")
    with pytest.raises(ModelFormatError, match="unknown model kind 'xgboost'; this actnn reads"):
        load_model(directory)


def test_missing_keras_file(saved_fnn, tmp_path):
    directory = _damaged_copy(saved_fnn, tmp_path)
    (directory / "model.keras").unlink()
    with pytest.raises(ModelFormatError, match=r"model\.keras is missing"):
        load_model(directory)


def test_unreadable_keras_file(saved_fnn, tmp_path):
    directory = _damaged_copy(saved_fnn, tmp_path)
    (directory / "model.keras").write_bytes(b"not a zip archive")
    with pytest.raises(ModelFormatError, match="Keras cannot read the network"):
        load_model(directory)


def test_manifest_missing_fitted_state(saved_glm, tmp_path):
    directory = _damaged_copy(saved_glm, tmp_path)
    manifest = json.loads((directory / MANIFEST).read_text())
    del manifest["fitted"]["coef_"]
    (directory / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(ModelFormatError, match="does not describe a GLM .*KeyError: 'coef_'"):
        load_model(directory)


# ---------------------------------------------------------------------- format 1
def _format_1_expected() -> tuple[pd.DataFrame, dict[str, list[float]]]:
    data = pd.read_csv(FORMAT_1_GLM / "data.csv")
    return data, json.loads((FORMAT_1_GLM / "expected.json").read_text())


def _config(network) -> dict:
    """The network's configuration as JSON holds it (a saved tuple reads back as a list)."""
    return json.loads(json.dumps(network.get_config()))


def test_format_1_glm_loads_and_predicts_as_it_did():
    assert json.loads((FORMAT_1_GLM / "model" / MANIFEST).read_text())["format_version"] == 1
    model = load_model(FORMAT_1_GLM / "model")
    data, expected = _format_1_expected()
    np.testing.assert_allclose(model.predict(data), expected["predict"], rtol=1e-13)
    np.testing.assert_allclose(
        model.predict_frequency(data), expected["predict_frequency"], rtol=1e-13
    )
    # the network it builds is the one saved in model.keras: same layers, names and weights
    saved = keras.saving.load_model(FORMAT_1_GLM / "model" / "model.keras", compile=False)
    assert _config(model.keras_model_) == _config(saved)
    for built, stored in zip(model.keras_model_.weights, saved.weights, strict=True):
        assert built.path == stored.path
        np.testing.assert_array_equal(built.numpy(), stored.numpy())
    inputs = model.network_inputs(data)
    np.testing.assert_array_equal(predict_network(saved, inputs), expected["predict"])
    np.testing.assert_array_equal(
        predict_network(model.keras_model_, inputs), predict_network(saved, inputs)
    )


def test_format_1_glm_loads_without_tensorflow(tmp_path):
    script = f"""
import json
import numpy as np
import pandas as pd
import actnn

folder = {str(FORMAT_1_GLM)!r}
model = actnn.load_model(folder + "/model")
expected = json.load(open(folder + "/expected.json"))
mu = model.predict(pd.read_csv(folder + "/data.csv"))
print(float(np.max(np.abs(mu / expected["predict"] - 1))))
model.save({str(tmp_path / "resaved")!r})
"""
    loaded, printed = fresh_python(script)
    assert float(printed) < 1e-13
    assert loaded == []
    resaved = tmp_path / "resaved"
    assert sorted(p.name for p in resaved.iterdir()) == [MANIFEST]  # now in format 2
    assert json.loads((resaved / MANIFEST).read_text())["format_version"] == FORMAT_VERSION == 2
