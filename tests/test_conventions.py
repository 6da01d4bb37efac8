"""Conventions of issue 16: the global random state, warnings at the user's line, other
table libraries, data paths that do not exist, plot arguments and values outside the fitted
range."""

from __future__ import annotations

import random
import re

import keras
import numpy as np
import pytest

from actnn import simulate_mtpl
from actnn.datasets.presets import sw2019_network_inputs
from actnn.features import Continuous, FeatureSpec
from actnn.networks import FNN

FAST = {"epochs": 2, "batch_size": 1024, "verbose": 0}


@pytest.fixture(scope="module")
def small():
    """3,000 simulated policies."""
    return simulate_mtpl(3_000, seed=5)


def _draws() -> tuple[list[float], list[float]]:
    return [random.random() for _ in range(3)], np.random.random(3).tolist()  # noqa: NPY002 (the global state)


@pytest.mark.parametrize("dropout", [0.0, 0.2])
def test_fit_leaves_the_global_random_state_and_stays_reproducible(small, dropout):
    def fit():
        model = FNN(sw2019_network_inputs(), seed=4, dropout=dropout, **FAST)
        return model.fit(small, "ClaimNb", exposure="Exposure").predict(small)

    random.seed(11)
    np.random.seed(11)  # noqa: NPY002
    expected = _draws()
    random.seed(11)
    np.random.seed(11)  # noqa: NPY002
    first = fit()
    assert _draws() == expected
    # other global seeds (TensorFlow's and Keras' too) do not change the fit
    keras.utils.set_random_seed(99)
    np.testing.assert_array_equal(fit(), first)


def _with_long_exposure(data):
    frame = data.copy()
    frame.loc[frame.index[:3], "Exposure"] = 1.5
    return frame


@pytest.mark.parametrize("kind", ["glm", "fnn"])
def test_data_warnings_point_at_the_users_line(small, kind):
    from actnn import GLM, DataWarning

    spec = FeatureSpec([Continuous("BonusMalus", upper=150), Continuous("Density", log=True)])
    model = GLM(spec) if kind == "glm" else FNN(sw2019_network_inputs(), **FAST)
    data = _with_long_exposure(small)
    data["ClaimNb"] = data["ClaimNb"].astype(float)
    data.loc[data.index[5], "ClaimNb"] = 0.5
    with pytest.warns(DataWarning) as record:
        model.fit(data, "ClaimNb", exposure="Exposure")
    assert len(record) == 2
    assert {r.filename for r in record} == {__file__}
    with pytest.warns(DataWarning, match="Exposure") as record:
        model.predict(data, exposure="Exposure")
    assert [r.filename for r in record] == [__file__]


@pytest.mark.parametrize("library", ["polars", "pyarrow"])
def test_polars_and_pyarrow_tables_are_refused_with_the_conversion(small, library):
    from actnn import GLM
    from actnn.report import evaluate

    module = pytest.importorskip(library)
    table = module.from_pandas(small.head(200)) if library == "polars" else module.table(
        small.head(200)
    )  # fmt: skip
    kind = type(table).__name__
    spec = FeatureSpec([Continuous("BonusMalus")])
    glm = GLM(spec).fit(small, "ClaimNb", exposure="Exposure")
    fnn = FNN(sw2019_network_inputs(), epochs=0, verbose=0).fit(small, "ClaimNb")
    calls = [
        lambda: GLM(spec).fit(table, "ClaimNb", exposure="Exposure"),
        lambda: glm.predict(table),
        lambda: fnn.fit(table, "ClaimNb"),
        lambda: fnn.predict(table),
        lambda: spec.fit(table),
        lambda: evaluate({"glm": glm}, table),
    ]
    for call in calls:
        with pytest.raises(TypeError, match=rf"got a {library} {kind}: .*\.to_pandas\(\)"):
            call()


def test_an_explicit_data_path_that_does_not_exist_is_an_error(tmp_path, monkeypatch):
    from actnn.datasets import fremtpl2

    folder = tmp_path / "data"
    folder.mkdir()
    small_freq = simulate_mtpl(50, seed=1, severity=False)
    small_freq.to_csv(folder / "freMTPL2freq.csv", index=False)
    monkeypatch.setenv(fremtpl2.DATA_DIR_ENV, str(folder))
    assert len(fremtpl2.load_freq(verify=False)) == 50  # the environment's folder still works
    with pytest.raises(FileNotFoundError, match=r"data_dir '.*typo' does not exist"):
        fremtpl2.load_freq(tmp_path / "typo")
    with pytest.raises(FileNotFoundError, match="is a file: pass it as path="):
        fremtpl2.load_sev(folder / "freMTPL2freq.csv")
    with pytest.raises(FileNotFoundError, match="typo.csv"):
        fremtpl2.load_freq(path=tmp_path / "typo.csv")


@pytest.mark.parametrize("kind", ["glm", "fnn", "cann", "localglmnet"])
def test_a_value_outside_the_fitted_range_gets_one_rule_in_every_model_kind(small, kind):
    from actnn import GLM, DataWarning
    from actnn.features import Binned, Categorical
    from actnn.inputs import NetworkInputs
    from actnn.networks import CANN, LocalGLMnet

    spec = FeatureSpec([Binned("DrivAge", edges=(0, 26, 50, float("inf"))),
                        Continuous("BonusMalus", upper=150), Categorical("VehGas")])  # fmt: skip
    inputs = NetworkInputs((Continuous("DrivAge"), Continuous("BonusMalus", upper=150)),
                           (Categorical("VehGas"),))  # fmt: skip
    glm = GLM(spec).fit(small, "ClaimNb", exposure="Exposure")
    model = {
        "glm": lambda: glm,
        "fnn": lambda: FNN(inputs, **FAST),
        "cann": lambda: CANN(glm, inputs, **FAST),
        "localglmnet": lambda: LocalGLMnet(inputs, **FAST),
    }[kind]()
    if kind != "glm":
        model.fit(small, "ClaimNb", exposure="Exposure")
    young, lowest = small.head(3).copy(), small.head(3).copy()
    low = small["DrivAge"].min()
    young.loc[young.index[1], "DrivAge"] = low - 8
    lowest.loc[lowest.index[1], "DrivAge"] = low
    expected = (rf"column 'DrivAge': 1 row has a value outside the range seen in fitting "
                rf"\[{low:g}, \d+\] \(first: row 1 = {low - 8:g}")  # fmt: skip
    for unseen in ("error", "reference"):  # the same rule whatever unseen says of levels
        with pytest.warns(DataWarning, match="priced at the nearest end of the range") as record:
            clipped = model.predict(young, unseen=unseen)
        assert re.match(expected, str(record[0].message))
        assert record[0].filename == __file__
        np.testing.assert_allclose(clipped, model.predict(lowest), rtol=1e-12)
