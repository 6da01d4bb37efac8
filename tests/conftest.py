"""Shared fixtures: the real freMTPL2 data (skipped with a reason when absent) and small frames."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """Folder of freMTPL2freq / freMTPL2sev from ACTNN_DATA_DIR, or skip with the reason."""
    folder = os.environ.get("ACTNN_DATA_DIR")
    if not folder:
        pytest.skip(
            "freMTPL2 data not configured: set ACTNN_DATA_DIR to the folder holding "
            "freMTPL2freq.csv.gz and freMTPL2sev.csv.gz (CI uses ../shared/data)"
        )
    path = Path(folder)
    if not any(path.glob("freMTPL2freq.*")) or not any(path.glob("freMTPL2sev.*")):
        pytest.skip(f"freMTPL2 data not found in ACTNN_DATA_DIR={folder}")
    return path


@pytest.fixture(scope="session")
def portfolio():
    """A synthetic portfolio of 30,000 policies (seed 3) with its true means."""
    from actnn.datasets.simulate import simulate_mtpl

    return simulate_mtpl(30_000, seed=3)


@pytest.fixture(scope="session")
def own_portfolio():
    """5,000 policies with a user's own column names and a known frequency (not freMTPL2's)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    n = 5_000
    frame = pd.DataFrame(
        {
            "bonus_malus": rng.integers(50, 200, n),
            "density": rng.integers(1, 20_000, n),
            "driver_age": rng.integers(18, 90, n),
            "region": rng.choice(["Paris", "Lyon", "Lille"], n),
            "vehicle_power": rng.integers(4, 15, n),
            "years": rng.uniform(0.1, 1.0, n),
        }
    )
    rate = 0.1 * np.exp(0.01 * (np.minimum(frame["bonus_malus"], 150) - 100))
    frame["n_claims"] = rng.poisson(rate * frame["years"])
    return frame


@pytest.fixture(scope="session")
def glm(portfolio):
    """SW2019's GLM2 fitted on the portfolio (the GLM under the CANNs of the network tests)."""
    from actnn import GLM, get_preset

    return GLM(get_preset("sw2019_glm2")).fit(portfolio, "ClaimNb", exposure="Exposure")


@pytest.fixture(scope="session")
def claims(portfolio):
    """The portfolio's policies with claims, for severity models."""
    return portfolio[portfolio["ClaimNb"] > 0].reset_index(drop=True)


def fresh_python(script: str, *args: str) -> tuple[list[str], str]:
    """Run ``script`` in a fresh interpreter (the actnn under test first on its path).

    Returns the modules of ``tensorflow`` and ``keras`` imported by the end of the run (an
    empty list if neither was) and what the script printed. A script that fails fails the test.
    """
    import json
    import subprocess
    import sys

    import actnn

    trailer = (
        "\nimport json as _json, sys as _sys\n"
        "print(_json.dumps([m for m in ('tensorflow', 'keras') if m in _sys.modules]))\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(Path(actnn.__file__).resolve().parents[1]), os.environ.get("PYTHONPATH", "")]
    )}  # fmt: skip
    run = subprocess.run(
        [sys.executable, "-c", script + trailer, *args],
        capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    assert run.returncode == 0, f"the script failed:\n{run.stderr[-3000:]}"
    *printed, loaded = run.stdout.strip().splitlines()
    return json.loads(loaded), "\n".join(printed)


def bias_model(b0: float):
    """A Keras model ``eta = 0 * x + b0`` on one float64 input ``x``: training moves ``b0`` only."""
    import keras
    import numpy as np

    x = keras.Input((1,), name="x", dtype="float64")
    eta = keras.layers.Dense(1, name="eta", dtype="float64")(x)
    model = keras.Model({"x": x}, eta)
    model.get_layer("eta").set_weights([np.zeros((1, 1)), np.array([b0])])
    return model
