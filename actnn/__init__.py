"""actnn: actuarial GLMs that are Keras networks.

Poisson frequency and Gamma severity models with log link, fitted exactly as GLMs and held in
Keras networks, so that they can grow into embedding networks and CANNs.

The main objects are importable from the package; they are loaded on first use, so that
``import actnn`` stays light. TensorFlow is imported only with the first network (FNN, CANN,
LocalGLMnet, a GLM's ``keras_model_``, ``DevianceLoss``): fitting, pricing, saving and loading a GLM
do without it::

    from actnn import GLM, FeatureSpec, Continuous, Categorical, Binned, get_preset
"""

import importlib
import os

# actnn's networks are TensorFlow-backed Keras 3 models; quiet TensorFlow's start-up chatter unless
# the user asked for it.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"

_EXPORTS = {
    "GLM": "glm",
    "FeatureSpec": "features",
    "Continuous": "features",
    "Polynomial": "features",
    "Categorical": "features",
    "Binned": "features",
    "get_preset": "presets",
    "get_family": "families",
    "Poisson": "families",
    "Gamma": "families",
    "Tweedie": "families",
    "DevianceLoss": "families",
    "simulate_mtpl": "simulate",
    "load_freq": "data",
    "load_sev": "data",
    "prepare_nsw2018": "data",
    "prepare_wm2023": "data",
    "severity_data": "data",
    "r_sample": "rsplit",
    "r_split": "rsplit",
    "poisson_deviance": "scores",
    "gamma_deviance": "scores",
    "NetworkInputs": "inputs",
    "FNN": "networks",
    "CANN": "networks",
    "LocalGLMnet": "networks",
    "Nagging": "ensemble",
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
    "ModelFormatError": "persistence",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'actnn' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))
