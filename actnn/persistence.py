"""Saving fitted models to a directory and loading them back: GLMs, networks, nagging ensembles.

A saved model is a directory::

    actnn_model.json   the manifest (below)
    model.keras        the Keras network (FNN, CANN, LocalGLMnet)
    glm/               a CANN's GLM, itself a saved model
    members/<seed>/    the members of a Nagging ensemble, each a saved model

A GLM is its manifest alone: its coefficients are there, and its Keras network is rebuilt from
them when asked for, so that saving and loading a GLM need no TensorFlow. Format version 1 also
saved a GLM's network as ``model.keras``; such a directory still loads (the file is not read: the
network holds the coefficients of the manifest).

The manifest is a JSON object:

- ``format_version`` (int): the layout of the directory; this actnn reads up to
  :data:`FORMAT_VERSION` (2: a GLM without ``model.keras``; 1: with it);
- ``kind``: ``"glm"``, ``"fnn"``, ``"cann"``, ``"localglmnet"`` or ``"nagging"``;
  ``class``: the Python class, for the reader;
- ``versions``: Python, actnn, NumPy, pandas, TensorFlow and Keras at saving;
- ``params``: the constructor arguments under their own names (feature specifications and
  network inputs as their ``to_dict``, families by name); not saved: a CANN's ``glm`` (it is in
  ``glm/``) and the Python callables of a Nagging ensemble (``make_member``, ``progress``);
- ``fitted``: the fitted attributes that prediction and the tables need, under their attribute
  names: the fitted feature specification or network inputs (levels, scalers), the family, the
  response, exposure, offset and weights columns (a manifest without the offset's, written
  before offsets existed, loads as a model without offset), for a GLM the coefficients,
  standard errors, covariance and fit statistics, for a network the training history and the
  balance-correction flag.

:func:`save_model` writes the directory next to its target and renames it into place, so a failed
save leaves no half-written model. :func:`load_model` rebuilds the model; its predictions equal
the saved model's.
"""

from __future__ import annotations

import importlib
import inspect
import json
import math
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from . import __version__
from ._utils import versions
from ._validation import _warn
from .families import Family, Tweedie, get_family
from .features import FeatureSpec
from .inputs import NetworkInputs

if TYPE_CHECKING:
    import keras

    from .training import History

__all__ = [
    "FORMAT_VERSION",
    "MANIFEST",
    "ModelFormatError",
    "load_model",
    "read_manifest",
    "save_model",
]


#: The directory layout this actnn writes, and the newest it reads (2: a GLM has no model.keras).
FORMAT_VERSION = 2


#: Name of the manifest in a model directory.
MANIFEST = "actnn_model.json"


KERAS_FILE = "model.keras"


GLM_DIR = "glm"


MEMBERS_DIR = "members"


#: A GLM, FNN, CANN, LocalGLMnet or Nagging ensemble.
Model = Any

#: The kinds of model saved, by the module and name of their class. The classes are imported
#: only when a model of their kind is loaded: this module imports no model module (the models
#: import it to save themselves), and saving or loading a GLM imports no network (and no
#: TensorFlow).
_KINDS: dict[str, tuple[str, str]] = {
    "glm": ("actnn.glm", "GLM"),
    "fnn": ("actnn.networks", "FNN"),
    "cann": ("actnn.networks", "CANN"),
    "localglmnet": ("actnn.networks", "LocalGLMnet"),
    "nagging": ("actnn.ensemble", "Nagging"),
}


def _model_class(kind: str) -> type:
    module, name = _KINDS[kind]
    return getattr(importlib.import_module(module), name)


_NETWORK_FITTED = (
    "inputs_",
    "family_",
    "response_",
    "exposure_",
    "uses_exposure_",
    "offset_",
    "uses_offset_",
    "weights_",
    "history_",
    "balance_corrected_",
    "fit_seconds_",
)


#: The fitted attributes saved in the manifest, by kind (the Keras network is saved apart).
_FITTED: dict[str, tuple[str, ...]] = {
    "glm": (
        "features_",
        "family_",
        "response_",
        "exposure_",
        "uses_exposure_",
        "offset_",
        "uses_offset_",
        "weights_",
        "coef_",
        "bse_",
        "cov_params_",
        "n_obs_",
        "n_params_",
        "df_resid_",
        "n_iter_",
        "deviance_",
        "null_deviance_",
        "dispersion_",
        "aic_",
        "fit_seconds_",
        "dispersion_method_",
        "exposure_total_",
    ),
    "fnn": _NETWORK_FITTED,
    "cann": _NETWORK_FITTED,
    "localglmnet": (*_NETWORK_FITTED, "glm_coef_"),
    "nagging": ("resumed_",),
}


#: Fitted attributes newer than the format, by kind (``"*"``: every kind): their value for a model
#: saved before them. (A GLM saved before ``dispersion`` existed had the family's dispersion; its
#: total exposure was not kept. A model saved before offsets existed had none.)
_ADDED_FITTED: dict[str, dict[str, Callable[[Any], Any]]] = {
    "*": {"offset_": lambda model: None, "uses_offset_": lambda model: False},
    "glm": {
        "dispersion_method_": lambda glm: "fixed" if glm.family_.fixed_dispersion else "pearson",
        "exposure_total_": lambda glm: None,
    },
}


#: Constructor arguments not in ``params``: a CANN's GLM is saved in ``glm/``, callables not at all.
_UNSAVED_PARAMS = frozenset({"glm", "make_member", "progress"})


#: Packages whose version can change predictions: a difference is warned about on loading.
_CHECKED_VERSIONS = ("actnn", "numpy", "tensorflow", "keras")


class ModelFormatError(ValueError):
    """A directory that is not a readable actnn model, or one this actnn cannot read."""


# ---------------------------------------------------------------------- JSON codecs
def _spec_to_json(spec: FeatureSpec | NetworkInputs) -> dict[str, Any]:
    """``spec.to_dict()``, checked to read back as the same specification."""
    data = json.loads(json.dumps(spec.to_dict()))
    if type(spec).from_dict(data) != spec:
        raise ValueError(
            f"the {type(spec).__name__} does not read back the same from JSON (levels, "
            f"references or mappings of a type JSON does not keep?): {spec}"
        )
    return data


def _family_to_json(family: str | Family | None) -> str | dict[str, Any] | None:
    # None: a CANN's default, its GLM's family
    if isinstance(family, Tweedie):
        return {"name": family.name, "power": family.power}
    return family if family is None or isinstance(family, str) else family.name


def _family_from_json(data: str | dict[str, Any] | None) -> str | Family | None:
    return Tweedie(data["power"]) if isinstance(data, dict) else data


def _series_to_json(series: pd.Series) -> dict[str, Any]:
    values = [_float_to_json(v) for v in series.tolist()]
    return {"name": series.name, "index": list(series.index), "values": values}


def _series_from_json(data: dict[str, Any]) -> pd.Series:
    values = [float(v) for v in data["values"]]  # "nan" too
    return pd.Series(values, index=data["index"], name=data["name"], dtype="float64")


def _frame_to_json(frame: pd.DataFrame) -> dict[str, Any]:
    return {
        "index": list(frame.index),
        "columns": list(frame.columns),
        "values": [[_float_to_json(v) for v in row] for row in frame.to_numpy().tolist()],
    }


def _frame_from_json(data: dict[str, Any]) -> pd.DataFrame:
    values = [[float(v) for v in row] for row in data["values"]]
    return pd.DataFrame(values, index=data["index"], columns=data["columns"], dtype="float64")


def _float_to_json(value: float) -> float | str:
    # JSON has no nan or inf (the Tweedie AIC is nan; a GLM's statistics after
    # update_from_network): strings, as Binned's edges
    return value if math.isfinite(value) else str(value)


def _learning_rate_to_json(value: Any) -> Any:
    """A number as it is; a Keras ``LearningRateSchedule`` as Keras serializes it (a dict)."""
    if isinstance(value, int | float):
        return value
    import keras  # a schedule is a Keras object: Keras is imported already

    return keras.saving.serialize_keras_object(value)


def _learning_rate_from_json(data: Any) -> Any:
    if not isinstance(data, dict):
        return data
    import keras

    return keras.saving.deserialize_keras_object(data)


#: How a parameter or fitted attribute, by name, goes to JSON and back (default: as it is).
_CODECS: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]] = {
    "features": (_spec_to_json, FeatureSpec.from_dict),
    "features_": (_spec_to_json, FeatureSpec.from_dict),
    "inputs": (_spec_to_json, NetworkInputs.from_dict),
    "inputs_": (_spec_to_json, NetworkInputs.from_dict),
    "family": (_family_to_json, _family_from_json),
    "family_": (_family_to_json, lambda data: get_family(_family_from_json(data))),
    "coef_": (_series_to_json, _series_from_json),
    "bse_": (_series_to_json, _series_from_json),
    "glm_coef_": (_series_to_json, _series_from_json),
    "cov_params_": (_frame_to_json, _frame_from_json),
    "history_": (lambda history: history.to_dict(), lambda data: _history(data)),
    "aic_": (_float_to_json, float),
    "deviance_": (_float_to_json, float),
    "dispersion_": (_float_to_json, float),
    "learning_rate": (_learning_rate_to_json, _learning_rate_from_json),
    "checkpoint_dir": (lambda path: None if path is None else str(path), lambda path: path),
}


def _history(data: dict[str, Any]) -> History:
    from .training import History  # a network's: TensorFlow is imported to load it anyway

    return History(**data)


def _encode(name: str, value: Any) -> Any:
    return _CODECS[name][0](value) if name in _CODECS else value


def _decode(name: str, value: Any) -> Any:
    return _CODECS[name][1](value) if name in _CODECS else value


def _constructor_names(cls: type) -> list[str]:
    """Parameters of ``cls``'s constructor and of the base constructors its ``**kwargs`` reach."""
    names: dict[str, None] = {}
    for klass in cls.__mro__:
        if "__init__" not in klass.__dict__:
            continue
        params = list(inspect.signature(klass.__init__).parameters.values())
        names.update(
            (p.name, None) for p in params[1:] if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        )
        if not any(p.kind is p.VAR_KEYWORD for p in params):
            break
    return list(names)


# ---------------------------------------------------------------------- saving
def _kind_of(model: Any) -> str:
    """The kind of the model's class or of the nearest actnn class it derives from (by name:
    no model module is imported)."""
    by_class = {where: kind for kind, where in _KINDS.items()}
    for cls in type(model).__mro__:
        kind = by_class.get((cls.__module__, cls.__qualname__))
        if kind is not None:
            return kind
    valid = ", ".join(name for _, name in _KINDS.values())
    raise TypeError(f"cannot save a {type(model).__name__}: actnn saves {valid}")


def _write(model: Model, directory: Path) -> None:
    """Write the fitted ``model`` into the existing empty ``directory``; the manifest comes last."""
    kind = _kind_of(model)
    if kind == "glm" and hasattr(model, "coef_"):
        model._check_network_agrees()  # a network trained further is not what coef_ saves
    # a GLM's network is rebuilt from its coefficients (asking for it would build it)
    saved_apart = {"nagging": ("members_",), "glm": ()}.get(kind, ("keras_model_",))
    missing = [name for name in (*_FITTED[kind], *saved_apart) if not hasattr(model, name)]
    if missing:
        raise RuntimeError(
            f"cannot save this {type(model).__name__}: it is not fitted (missing {missing}); "
            "call fit first"
        )
    if kind == "nagging":
        for member in model.members_:
            member_dir = directory / MEMBERS_DIR / str(member.seed)
            member_dir.mkdir(parents=True)
            _write(member, member_dir)
    elif kind != "glm":
        model.keras_model_.save(directory / KERAS_FILE)
    if kind == "cann":
        (directory / GLM_DIR).mkdir()
        _write(model.glm, directory / GLM_DIR)
    manifest = {
        "format_version": FORMAT_VERSION,
        "kind": kind,
        "class": f"{type(model).__module__}.{type(model).__qualname__}",
        "versions": {**versions(), "actnn": __version__},
        "params": {
            name: _encode(name, getattr(model, name))
            for name in _constructor_names(type(model))
            if name not in _UNSAVED_PARAMS
        },
        "fitted": {name: _encode(name, getattr(model, name)) for name in _FITTED[kind]},
    }
    text = json.dumps(manifest, indent=2, allow_nan=False)
    (directory / MANIFEST).write_text(text + "\n", encoding="utf-8")


def _check_target(target: Path, overwrite: bool) -> None:
    if not target.exists():
        return
    if not target.is_dir():
        raise FileExistsError(f"{target} exists and is not a directory; choose another path")
    if not any(target.iterdir()):
        return
    if not overwrite:
        raise FileExistsError(
            f"{target} exists and is not empty; pass overwrite=True to replace the model there"
        )
    if not (target / MANIFEST).is_file():
        raise FileExistsError(
            f"{target} is not an actnn model directory (no {MANIFEST}); overwrite=True replaces "
            "only saved models, so choose another path"
        )


def save_model(model: Model, path: str | Path, *, overwrite: bool = False) -> Path:
    """Save a fitted GLM, FNN, CANN, LocalGLMnet or Nagging ensemble to the directory ``path``.

    Parameters
    ----------
    model : GLM, FNN, CANN, LocalGLMnet or Nagging
        A fitted model.
    path : str or Path
        The directory to write (created with its parents). It may exist if it is empty.
    overwrite : bool
        Replace a model saved at ``path`` before. Only a directory with an ``actnn_model.json``
        is ever replaced.

    Returns
    -------
    Path
        The directory.

    Raises
    ------
    TypeError
        For an object of another class.
    RuntimeError
        If the model is not fitted.
    FileExistsError
        If ``path`` holds something and ``overwrite`` is False, or holds anything but a saved
        model.

    Notes
    -----
    The directory is written as a hidden sibling of ``path`` and renamed into place when complete
    (a replaced model is removed only then), so a failed save leaves no half-written model. The
    layout and the manifest are described in the module docstring.
    """
    target = Path(path)
    _check_target(target, overwrite)
    target.parent.mkdir(parents=True, exist_ok=True)
    # a hidden sibling (same file system, so the rename is atomic), made with the user's umask
    staging = target.parent / f".{target.name}.{uuid.uuid4().hex[:12]}.saving"
    staging.mkdir()
    replaced = staging.with_name(f"{staging.name}.replaced")
    try:
        _write(model, staging)
        if target.exists():
            target.rename(replaced)
        try:
            staging.rename(target)
        except OSError:
            if replaced.exists():
                replaced.rename(target)
            raise
    finally:
        for leftover in (staging, replaced):
            if leftover.exists():
                shutil.rmtree(leftover)
    return target


# ---------------------------------------------------------------------- loading
def read_manifest(path: str | Path) -> dict[str, Any]:
    """The manifest of the model directory ``path``, checked to be one this actnn reads.

    Raises
    ------
    ModelFormatError
        If ``path`` is not a directory with a valid ``actnn_model.json``, was saved by a newer
        actnn (a newer format version), or holds a kind of model this actnn does not know.
    """
    directory = Path(path)
    if not directory.exists():
        raise ModelFormatError(f"no actnn model at {directory}: the path does not exist")
    manifest_path = directory / MANIFEST
    if not manifest_path.is_file():
        raise ModelFormatError(f"not an actnn model directory: {directory} (no {MANIFEST})")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ModelFormatError(f"{manifest_path} is not valid JSON: {err}") from err
    if not isinstance(manifest, dict):
        raise ModelFormatError(f"{manifest_path} is not a JSON object")
    version = manifest.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ModelFormatError(f"{manifest_path} has no valid format_version (got {version!r})")
    if version > FORMAT_VERSION:
        saved_by = (manifest.get("versions") or {}).get("actnn", "unknown")
        raise ModelFormatError(
            f"{directory} was saved by a newer actnn ({saved_by}) in format version {version}, "
            f"this actnn ({__version__}) reads up to {FORMAT_VERSION}: upgrade actnn to load it"
        )
    kind = manifest.get("kind")
    if kind not in _KINDS:
        raise ModelFormatError(
            f"{manifest_path}: unknown model kind {kind!r}; this actnn reads {sorted(_KINDS)}"
        )
    return manifest


def _warn_versions(directory: Path, saved: dict[str, str]) -> None:
    now = {**versions(), "actnn": __version__}
    differ = [
        f"{pkg} {saved[pkg]} (now {now[pkg]})"
        for pkg in _CHECKED_VERSIONS
        if pkg in saved and saved[pkg] != now[pkg]
    ]
    if differ:
        _warn(
            f"{directory} was saved with {', '.join(differ)}: predictions may differ in the last "
            "digits",
            UserWarning,
        )


def _load_keras(directory: Path) -> keras.Model:
    import keras

    file = directory / KERAS_FILE
    if not file.is_file():
        raise ModelFormatError(
            f"{directory}: the Keras network {KERAS_FILE} is missing (an incomplete model "
            "directory)"
        )
    try:
        return keras.saving.load_model(file, compile=False)
    except Exception as err:  # Keras raises many types for a file it cannot read
        raise ModelFormatError(
            f"{file}: Keras cannot read the network ({type(err).__name__}: {err})"
        ) from err


def _load_part(directory: Path, kinds: tuple[str, ...]) -> Any:
    """A model saved inside another one (a CANN's GLM, an ensemble member)."""
    manifest = read_manifest(directory)
    if manifest["kind"] not in kinds:
        raise ModelFormatError(f"{directory} holds a {manifest['kind']}, expected one of {kinds}")
    return _load(directory, manifest)


def _load(directory: Path, manifest: dict[str, Any]) -> Model:
    kind = manifest["kind"]
    cls = _model_class(kind)
    try:
        params = {name: _decode(name, value) for name, value in manifest["params"].items()}
        if kind == "cann":
            params["glm"] = _load_part(directory / GLM_DIR, ("glm",))
        if kind == "nagging":
            params["make_member"] = _no_make_member
        model = cls(**params)
        fitted = manifest["fitted"]
        added = {**_ADDED_FITTED["*"], **_ADDED_FITTED.get(kind, {})}
        for name in _FITTED[kind]:
            if name in added and name not in fitted:
                setattr(model, name, added[name](model))
            else:
                setattr(model, name, _decode(name, fitted[name]))
    except ModelFormatError:
        raise
    except (KeyError, TypeError, ValueError) as err:
        raise ModelFormatError(
            f"{directory / MANIFEST} does not describe a {cls.__name__} this actnn can build "
            f"({type(err).__name__}: {err})"
        ) from err
    if kind == "nagging":
        model.members_ = [
            _load_part(directory / MEMBERS_DIR / str(seed), ("fnn", "cann", "localglmnet"))
            for seed in model.seeds
        ]
        seeds = [member.seed for member in model.members_]
        if seeds != model.seeds:
            raise ModelFormatError(
                f"{directory}: the members have seeds {seeds}, expected {model.seeds}"
            )
    elif kind != "glm":  # a GLM builds its network from coef_ (format 1's model.keras is unread)
        model.keras_model_ = _load_keras(directory)
    model.saved_versions_ = manifest.get("versions", {})
    return model


def _no_make_member(seed: int):
    raise RuntimeError(
        "this Nagging ensemble was loaded from a directory, which does not keep make_member (a "
        "Python function): build a new Nagging to train members"
    )


def load_model(path: str | Path) -> Model:
    """Load a model saved by :func:`save_model`.

    Returns
    -------
    GLM, FNN, CANN, LocalGLMnet or Nagging
        The fitted model, predicting as the saved one did. ``saved_versions_`` holds the
        versions of Python and the packages it was saved with.

    Raises
    ------
    ModelFormatError
        If ``path`` does not exist, is not an actnn model directory, its manifest is not valid
        JSON or was written by a newer actnn, the kind of model is unknown, or a file of it
        (e.g. a network's ``model.keras``) is missing or unreadable.

    Warns
    -----
    UserWarning
        If the model was saved with another version of actnn, NumPy, TensorFlow or Keras.
    """
    directory = Path(path)
    manifest = read_manifest(directory)
    _warn_versions(directory, manifest.get("versions") or {})
    return _load(directory, manifest)
