"""Models described in a TOML file: what ``actnn fit`` reads.

A configuration names the user's own columns and says which model to fit on them, so that a
portfolio is priced without Python glue code. :func:`load_config` reads and checks the file (every
key, type and combination, before any data is read), :func:`build_model` makes the unfitted model
and :func:`fit_from_config` fits it on a frame.

Sections: ``[model]`` (kind, family, response, exposure, weights, seed), ``[[features]]`` (the
GLM's design, one table per feature; glm and cann), ``[network]`` (fnn, cann, localglmnet) and
``[network.inputs]`` (the network's features). Every key with its type, default and meaning, and
complete examples: ``docs/config.md``.

A ``cann`` is fitted in two steps: the GLM of ``[[features]]``, then the network on it. Unknown
sections and keys are errors naming the key, the section and the keys that are valid there; so
are values of the wrong type and options that the chosen kind does not use. Errors are
:class:`ConfigError` (a ``ValueError``) and start with the file's name.
"""

from __future__ import annotations

import dataclasses
import difflib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ._config_schema import (
    _FEATURE_FIELD_TYPES,
    _INPUTS_KEYS,
    _MODEL_KEYS,
    _NETWORK_KEYS,
    _ONLY_FOR,
    _POSITIVE,
    _SECTIONS,
    _TOP,
    _TOP_LEVEL,
    _TYPES,
)
from ._utils import Progress
from ._validation import _check_frame
from .families import FAMILIES, Family, Tweedie
from .features import _KINDS as FEATURE_KINDS
from .features import Categorical, Continuous, Feature, FeatureSpec
from .glm import GLM
from .inputs import NetworkInputs

if TYPE_CHECKING:
    from .networks import CANN, FNN, LocalGLMnet

__all__ = [
    "MODEL_KINDS",
    "ConfigError",
    "ModelConfig",
    "build_glm",
    "build_model",
    "fit_from_config",
    "load_config",
    "parse_config",
]


#: The kinds of model a configuration can describe.
MODEL_KINDS = ("glm", "fnn", "cann", "localglmnet")


#: The networks' classes in actnn.networks, imported (with TensorFlow) only to build a network.
_NETWORK_CLASSES = {"fnn": "FNN", "cann": "CANN", "localglmnet": "LocalGLMnet"}


#: Feature fields that fitting sets: not part of a configuration.
_FITTED_FIELDS = frozenset({"fitted_levels", "fitted_range"})


class ConfigError(ValueError):
    """A model configuration that cannot be read or does not describe a valid model."""


# ---------------------------------------------------------------------- the configuration
@dataclass(frozen=True)
class ModelConfig:
    """A checked model configuration (see the module docstring for the TOML schema).

    Attributes
    ----------
    kind : {"glm", "fnn", "cann", "localglmnet"}
        The model.
    family : str or Family
        ``"poisson"``, ``"gamma"`` or a :class:`~actnn.families.Tweedie` object.
    response, exposure, weights : str
        Columns of the data (``exposure`` and ``weights`` optional).
    seed : int
        Seed of the networks (initial weights, validation rows, shuffling).
    features : FeatureSpec, optional
        The GLM's features (``glm`` and ``cann``).
    inputs : NetworkInputs, optional
        The network's features (``fnn``, ``cann``, ``localglmnet``).
    network : dict
        Keyword arguments of the network class (``hidden``, ``epochs``, ...).
    balance_correct : bool
        Balance-correct a network on the learning data after training.
    source : str
        Where the configuration comes from (the file), for messages.
    """

    kind: str
    family: str | Family
    response: str
    exposure: str | None = None
    weights: str | None = None
    seed: int = 0
    features: FeatureSpec | None = None
    inputs: NetworkInputs | None = None
    network: Mapping[str, Any] = field(default_factory=dict)
    balance_correct: bool = True
    source: str = "config"

    @property
    def family_name(self) -> str:
        """The family's name: ``"poisson"``, ``"gamma"`` or ``"tweedie"``."""
        return self.family if isinstance(self.family, str) else self.family.name

    @property
    def columns(self) -> list[str]:
        """Every data column the configuration names."""
        names = [self.response, self.exposure, self.weights]
        if self.features is not None:
            names += self.features.columns
        if self.inputs is not None:
            names += self.inputs.spec.columns
        return list(dict.fromkeys(n for n in names if n is not None))

    def check_columns(self, data: pd.DataFrame, data_name: str = "the data") -> None:
        """Raise ``ValueError`` naming every column of the configuration that ``data`` lacks
        (``TypeError`` if ``data`` is not a DataFrame)."""
        _check_frame(data, "data")
        missing = [c for c in self.columns if c not in data.columns]
        if missing:
            raise ValueError(
                f"{data_name} lacks the column{'s' if len(missing) > 1 else ''} "
                f"{', '.join(map(repr, missing))} named in {self.source}; "
                f"it has {list(data.columns)}"
            )

    def describe(self) -> str:
        """One line: the model, family, response, exposure or weights and the features."""
        text = f"{self.kind} ({self.family_name}) of {self.response!r}"
        if self.exposure:
            text += f", exposure {self.exposure!r}"
        if self.weights:
            text += f", weights {self.weights!r}"
        if self.features is not None:
            text += f"; GLM: {len(self.features.features)} features"
        if self.inputs is not None:
            text += (
                f"; network: {len(self.inputs.numeric)} numeric and "
                f"{len(self.inputs.categorical)} categorical inputs"
            )
        return text


# ---------------------------------------------------------------------- parsing
def load_config(path: str | Path) -> ModelConfig:
    """Read and check a TOML model configuration.

    Parameters
    ----------
    path : str or Path
        The TOML file (schema in the module docstring).

    Returns
    -------
    ModelConfig

    Raises
    ------
    FileNotFoundError
        If there is no such file.
    ConfigError
        If the file is not valid TOML, has unknown sections or keys, values of the wrong type,
        or options the chosen kind of model does not use. The message names the file, the
        section and the key.
    """
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"no config file {file}")
    try:
        with file.open("rb") as handle:
            raw = tomllib.load(handle)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{file}: not valid TOML: {err}") from err
    return parse_config(raw, source=str(file))


def parse_config(raw: Mapping[str, Any], *, source: str = "config") -> ModelConfig:
    """Check a configuration read from TOML (a dict of sections); see :func:`load_config`."""
    _check_keys(raw, _TOP_LEVEL, _TOP, source)
    model = _table(raw, "model", "[model]", source, required=True)
    _check_keys(model, _MODEL_KEYS, "[model]", source)
    kind = _required(model, "kind", "[model]", source)
    if kind not in MODEL_KINDS:
        raise ConfigError(
            f"{source}: [model]: unknown model kind {kind!r}; valid: {_or(MODEL_KINDS)}"
        )
    common = {
        "kind": kind,
        "family": _family(model, source),
        "response": _required(model, "response", "[model]", source),
        "exposure": model.get("exposure"),
        "weights": model.get("weights"),
        "seed": model.get("seed", 0),
        "source": source,
    }

    raw_features = raw.get("features")
    features = None
    if kind in ("glm", "cann"):
        if not raw_features:
            raise ConfigError(
                f"{source}: kind = {kind!r} needs the GLM's features: one [[features]] table each"
            )
        features = _feature_spec(raw_features, source)
    elif raw_features is not None:
        raise ConfigError(
            f"{source}: kind = {kind!r} does not use [[features]] (a GLM's design); its features "
            "are [network.inputs]"
        )

    network = _table(raw, "network", "[network]", source, required=kind != "glm")
    if kind == "glm":
        if network is not None:
            raise ConfigError(
                f"{source}: kind = 'glm' does not use [network]; the networks are "
                f"{_or(_NETWORK_CLASSES)}"
            )
        return ModelConfig(**common, features=features)

    _check_keys(network, _NETWORK_KEYS, "[network]", source)
    for key, kinds in _ONLY_FOR.items():
        if key in network and kind not in kinds:
            raise ConfigError(
                f"{source}: [network]: {key} is for kind = {_or(kinds)}, not {kind!r}"
            )
    inputs_table = _table(network, "inputs", "[network.inputs]", source, required=True)
    inputs = _network_inputs(inputs_table, source)
    options = {k: v for k, v in network.items() if k not in ("inputs", "balance_correct")}
    _check_network_options(options, inputs, source)
    if "hidden" in options:
        options["hidden"] = tuple(options["hidden"])
    return ModelConfig(
        **common,
        features=features,
        inputs=inputs,
        network=options,
        balance_correct=network.get("balance_correct", True),
    )


def _or(names: Any) -> str:
    return " | ".join(repr(n) for n in names)


def _check_keys(
    table: Mapping[str, Any], schema: Mapping[str, str], where: str, source: str
) -> None:
    """Every key of ``table`` is in ``schema`` and its value of the schema's type."""
    for key, value in table.items():
        if key not in schema:
            elsewhere = [s for s, keys in _SECTIONS.items() if key in keys and s != where]
            close = difflib.get_close_matches(key, list(schema), n=1)
            if elsewhere:
                hint = f" (it belongs in {elsewhere[0]})"
            else:
                hint = f" (did you mean {close[0]!r}?)" if close else ""
            if where == _TOP:
                raise ConfigError(
                    f"{source}: unknown section or key {key!r} at the top level{hint}; valid "
                    "sections: [model], [[features]], [network]"
                )
            raise ConfigError(
                f"{source}: {where}: unknown key {key!r}{hint}; valid keys: {', '.join(schema)}"
            )
        type_name = schema[key]
        if type_name == "tables":
            if not (isinstance(value, list) and all(isinstance(v, dict) for v in value)):
                raise ConfigError(
                    f"{source}: {key} must be an array of tables: write [[{key}]] (double "
                    "brackets) before each one"
                )
            continue
        check, description = _TYPES[type_name]
        if not check(value):
            raise ConfigError(f"{source}: {where}: {key} must be {description}, got {value!r}")


def _table(
    parent: Mapping[str, Any], key: str, where: str, source: str, required: bool
) -> dict[str, Any] | None:
    value = parent.get(key)
    if value is None and required:
        raise ConfigError(f"{source}: the section {where} is missing")
    return value


def _required(table: Mapping[str, Any], key: str, where: str, source: str) -> Any:
    if key not in table:
        raise ConfigError(f"{source}: {where}: {key} = ... is missing")
    return table[key]


def _family(model: Mapping[str, Any], source: str) -> str | Family:
    name = model.get("family", "poisson").lower()
    if name not in FAMILIES:
        raise ConfigError(f"{source}: [model]: unknown family {name!r}; valid: {_or(FAMILIES)}")
    if name == "tweedie":
        try:
            return Tweedie(float(model.get("power", 1.5)))
        except ValueError as err:
            raise ConfigError(f"{source}: [model]: power: {err}") from err
    if "power" in model:
        raise ConfigError(f"{source}: [model]: power is for family = 'tweedie', not {name!r}")
    return name


def _feature(item: Mapping[str, Any], where: str, source: str, kind: str | None = None) -> Feature:
    """One feature from its table; ``kind`` given when the list implies it (network inputs)."""
    item = dict(item)
    if kind is None:
        kind = _required(item, "kind", where, source)
        if not isinstance(kind, str) or kind not in FEATURE_KINDS:
            raise ConfigError(
                f"{source}: {where}: unknown feature kind {kind!r}; valid: {_or(FEATURE_KINDS)}"
            )
        del item["kind"]
    elif "kind" in item:
        raise ConfigError(f"{source}: {where}: kind is implied by the list ({kind}): remove it")
    column = item.get("column")
    where = f"{where} ({kind}{f', column {column!r}' if isinstance(column, str) else ''})"
    fields = [f.name for f in dataclasses.fields(FEATURE_KINDS[kind])]
    schema = {name: _FEATURE_FIELD_TYPES.get(name, "level") for name in fields}
    _check_keys(item, {k: v for k, v in schema.items() if k not in _FITTED_FIELDS}, where, source)
    _required(item, "column", where, source)
    try:
        return FeatureSpec.from_dict({"features": [{"kind": kind, **item}]}).features[0]
    except (TypeError, ValueError) as err:
        raise ConfigError(f"{source}: {where}: {err}") from err


def _feature_spec(items: Any, source: str) -> FeatureSpec:
    features = [_feature(item, f"[[features]] #{i}", source) for i, item in enumerate(items, 1)]
    try:
        return FeatureSpec(tuple(features))
    except ValueError as err:
        raise ConfigError(f"{source}: [[features]]: {err}") from err


def _network_inputs(table: Mapping[str, Any], source: str) -> NetworkInputs:
    _check_keys(table, _INPUTS_KEYS, "[network.inputs]", source)
    lists: dict[str, list[Feature]] = {}
    for key, cls in (("numeric", Continuous), ("categorical", Categorical)):
        lists[key] = [
            _feature(
                {"column": entry} if isinstance(entry, str) else entry,
                f"[network.inputs] {key} #{i}",
                source,
                kind=cls.kind,
            )
            for i, entry in enumerate(table.get(key, []), 1)
        ]
    if not lists["numeric"] and not lists["categorical"]:
        raise ConfigError(
            f"{source}: [network.inputs]: needs numeric = [...] or categorical = [...]"
        )
    try:
        return NetworkInputs(
            lists["numeric"], lists["categorical"], scaling=table.get("scaling", "minmax")
        )
    except (TypeError, ValueError) as err:
        raise ConfigError(f"{source}: [network.inputs]: {err}") from err


def _check_network_options(options: dict[str, Any], inputs: NetworkInputs, source: str) -> None:
    """Values of [network] the network classes would only reject after the data is read."""
    for key in _POSITIVE:
        if key in options and options[key] <= 0:
            raise ConfigError(f"{source}: [network]: {key} must be > 0, got {options[key]}")
    for key in ("validation_fraction", "dropout"):
        if key in options and not 0 <= options[key] < 1:
            raise ConfigError(f"{source}: [network]: {key} must be in [0, 1), got {options[key]}")
    if "hidden" in options:
        if not options["hidden"] or min(options["hidden"]) <= 0:
            raise ConfigError(
                f"{source}: [network]: hidden must list the units (> 0) of at least one layer, "
                f"got {options['hidden']}"
            )
    if "activation" in options:
        import keras  # a network's configuration: TensorFlow is imported to fit it anyway

        try:
            keras.activations.get(options["activation"])
        except (TypeError, ValueError) as err:
            raise ConfigError(
                f"{source}: [network]: activation {options['activation']!r} is not a Keras "
                "activation (e.g. 'tanh', 'relu', 'elu')"
            ) from err
    if options.get("lr_schedule", "cosine") != "cosine":
        raise ConfigError(
            f"{source}: [network]: lr_schedule must be 'cosine' (or left out for a constant "
            f"rate), got {options['lr_schedule']!r}"
        )
    if isinstance(options.get("embedding_dim"), dict):
        labels = set(inputs.categorical_names)
        given = set(options["embedding_dim"])
        if given != labels:
            raise ConfigError(
                f"{source}: [network]: embedding_dim must give one dimension per categorical "
                f"input {sorted(labels)}; missing {sorted(labels - given)}, unknown "
                f"{sorted(given - labels)}"
            )


# ---------------------------------------------------------------------- models
def build_glm(config: ModelConfig) -> GLM:
    """The unfitted GLM of ``config.features`` (kinds ``glm`` and ``cann``)."""
    if config.features is None:
        raise ValueError(f"{config.source}: kind = {config.kind!r} has no GLM features")
    return GLM(config.features, config.family)


def build_model(
    config: ModelConfig, *, glm: GLM | None = None, verbose: int = 0
) -> GLM | FNN | CANN | LocalGLMnet:
    """The unfitted model a configuration describes.

    Parameters
    ----------
    config : ModelConfig
        The configuration.
    glm : GLM, optional
        For ``kind = "cann"`` only: the fitted GLM (of :func:`build_glm`) the CANN sits on.
    verbose : int
        Networks: 1 shows the progress line of the epochs, 0 nothing.
    """
    if config.kind == "glm":
        return build_glm(config)
    from . import networks

    options = {"seed": config.seed, "verbose": verbose, **config.network}
    if config.kind == "cann":
        if glm is None:
            raise ValueError("a CANN sits on a fitted GLM: pass glm=build_glm(config).fit(...)")
        return networks.CANN(glm, config.inputs, family=config.family, **options)
    network = getattr(networks, _NETWORK_CLASSES[config.kind])
    return network(config.inputs, config.family, **options)


def fit_from_config(
    config: ModelConfig,
    data: pd.DataFrame,
    *,
    verbose: int = 0,
    progress: Progress | None = None,
    data_name: str = "the data",
) -> GLM | FNN | CANN | LocalGLMnet:
    """Fit the model of ``config`` on ``data`` (the learning data).

    A ``cann`` fits the GLM of ``[[features]]`` first, then the network on it. A network is
    balance-corrected on ``data`` unless ``balance_correct = false``.

    Parameters
    ----------
    config : ModelConfig
        The configuration (:func:`load_config`).
    data : pandas.DataFrame
        Every column the configuration names; checked first, all missing columns in one error.
    verbose : int
        Networks: 1 shows the progress line of the epochs.
    progress : callable, optional
        Called with a line of text at each step.
    data_name : str
        How the data is named in error messages (e.g. its file).

    Returns
    -------
    GLM, FNN, CANN or LocalGLMnet
        The fitted model.
    """
    say = progress or (lambda _line: None)
    config.check_columns(data, data_name)
    fit_args = {"exposure": config.exposure, "weights": config.weights}
    glm = None
    if config.features is not None:
        say(f"fitting the GLM ({config.family_name}, {len(config.features.features)} features)")
        glm = build_glm(config).fit(data, config.response, **fit_args)
        say(
            f"GLM: {glm.n_params_} parameters, {glm.n_iter_} IRLS iterations, "
            f"{glm.fit_seconds_:.1f} s"
        )
        if config.kind == "glm":
            return glm
    model = build_model(config, glm=glm, verbose=verbose)
    stopping = (
        f"early stopping on {model.validation_fraction:.0%} of the rows"
        if model.validation_fraction
        else "no early stopping"
    )
    say(f"training the {config.kind} (seed {model.seed}): up to {model.epochs} epochs, {stopping}")
    model.fit(data, config.response, **fit_args)
    history = model.history_
    say(f"trained {history.epochs} epochs (best: {history.best_epoch}), {model.fit_seconds_:.1f} s")
    if config.balance_correct:
        model.balance_correct(data)
        say("balance-corrected on the learning data (Wüthrich 2020)")
    return model
