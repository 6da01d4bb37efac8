"""actnn: actuarial GLMs that are Keras networks.

Poisson frequency and Gamma severity models with log link, fitted exactly as GLMs and held in
Keras networks, so that they can grow into embedding networks and CANNs.

The main objects are importable from the package; they are loaded on first use, so that
``import actnn`` stays light. TensorFlow is imported only with the first network (FNN, CANN,
LocalGLMnet, a GLM's ``keras_model_``, ``DevianceLoss``): fitting, pricing, saving and loading a GLM
do without it::

    from actnn import GLM, FeatureSpec, Continuous, Categorical, Binned, get_preset

The package: the core (``glm``, ``networks``, ``training``, ``metrics``, ``report``, ...),
:mod:`actnn.datasets` (the French MTPL data, R's splits, simulation, presets) and
:mod:`actnn.studies` (reproductions of published tables, the demo). The core imports neither.
"""

import importlib
import os

from . import _moved, _quiet

# actnn's networks are TensorFlow-backed Keras 3 models; quiet TensorFlow's start-up chatter unless
# the user set TF_CPP_MIN_LOG_LEVEL.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
_quiet.install()

_moved.install()

_EXPORTS = {
    "GLM": "glm",
    "FeatureSpec": "features",
    "Continuous": "features",
    "Polynomial": "features",
    "Categorical": "features",
    "Binned": "features",
    "get_family": "families",
    "Poisson": "families",
    "Gamma": "families",
    "Tweedie": "families",
    "DevianceLoss": "losses",
    "DataWarning": "_validation",
    "read_table": "tables",
    "write_table": "tables",
    "NetworkInputs": "inputs",
    "FNN": "networks",
    "CANN": "networks",
    "LocalGLMnet": "networks",
    "Nagging": "ensemble",
    "poisson_deviance": "metrics",
    "gamma_deviance": "metrics",
    "deviance": "metrics",
    "d2_score": "metrics",
    "score_table": "metrics",
    "lorenz_curve": "metrics",
    "gini": "metrics",
    "ordered_lorenz": "metrics",
    "ordered_gini": "metrics",
    "double_lift": "metrics",
    "lift_by_ratio": "metrics",
    "isotonic_regression": "metrics",
    "calibration_bins": "metrics",
    "calibration_isotonic": "metrics",
    "bias_by_feature": "metrics",
    "murphy_decomposition": "metrics",
    "save_model": "persistence",
    "load_model": "persistence",
    "export_keras": "export",
    "ModelFormatError": "persistence",
    "get_preset": "datasets.presets",
    "simulate_mtpl": "datasets.simulate",
    "load_freq": "datasets.fremtpl2",
    "load_sev": "datasets.fremtpl2",
    "prepare_nsw2018": "datasets.prepare",
    "prepare_wm2023": "datasets.prepare",
    "severity_data": "datasets.fremtpl2",
    "r_sample": "datasets.rsplit",
    "r_split": "datasets.rsplit",
}

__all__ = sorted(_EXPORTS)


def _version() -> str:
    """One version source: the package metadata (pyproject.toml)."""
    from importlib import metadata

    try:
        return metadata.version("actnn")
    except metadata.PackageNotFoundError:  # a source tree that was never installed
        return "0+unknown"


def __getattr__(name: str):
    if name == "__version__":  # read when asked for: importlib.metadata costs 0.1 s at start-up
        return _version()
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'actnn' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS) | {"__version__"})
