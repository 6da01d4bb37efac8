"""The schema of actnn's TOML model configurations: the sections, their keys and value types.

:mod:`actnn.config` checks a file against these tables; ``docs/config.md`` documents them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _list_of(check: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda value: isinstance(value, list) and all(check(v) for v in value)


#: Type name -> (test, description for errors).
_TYPES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "text": (lambda v: isinstance(v, str), "a string"),
    "integer": (_is_int, "an integer"),
    "number": (_is_number, "a number"),
    "boolean": (lambda v: isinstance(v, bool), "true or false"),
    "integers": (_list_of(_is_int), "a list of integers"),
    "numbers": (_list_of(_is_number), "a list of numbers"),
    "texts": (_list_of(lambda v: isinstance(v, str)), "a list of strings"),
    "level": (lambda v: isinstance(v, str | int | float), "a string or a number"),
    "number_table": (
        lambda v: isinstance(v, dict) and all(_is_number(x) for x in v.values()),
        "a table of numbers, e.g. {A = 1, B = 2}",
    ),
    "embedding_dim": (
        lambda v: _is_int(v) or (isinstance(v, dict) and all(_is_int(x) for x in v.values())),
        "an integer, or a table of integers by feature",
    ),
    "feature_list": (
        _list_of(lambda v: isinstance(v, str | dict)),
        'a list of columns or feature tables, e.g. ["region", { column = "density", log = true }]',
    ),
    "table": (lambda v: isinstance(v, dict), "a table"),
}


_MODEL_KEYS = {
    "kind": "text",
    "family": "text",
    "power": "number",
    "response": "text",
    "exposure": "text",
    "weights": "text",
    "seed": "integer",
}


_NETWORK_KEYS = {
    "hidden": "integers",
    "activation": "text",
    "embedding_dim": "embedding_dim",
    "epochs": "integer",
    "batch_size": "integer",
    "learning_rate": "number",
    "validation_fraction": "number",
    "patience": "integer",
    "lr_patience": "integer",
    "lr_schedule": "text",
    "dropout": "number",
    "balance_correct": "boolean",
    "nested": "boolean",
    "glm_trainable": "boolean",
    "inputs": "table",
}


_INPUTS_KEYS = {"numeric": "feature_list", "categorical": "feature_list", "scaling": "text"}


_FEATURE_FIELD_TYPES = {
    "kind": "text",
    "column": "text",
    "name": "text",
    "mapping": "number_table",
    "lower": "number",
    "upper": "number",
    "log": "boolean",
    "decimals": "integer",
    "degree": "integer",
    "log_term": "boolean",
    "reference": "level",
    "edges": "numbers",
    "labels": "texts",
}


_TOP = "the top level"


_TOP_LEVEL = {"model": "table", "features": "tables", "network": "table"}


#: Every section's keys, for the hint "this key belongs in [...]".
_SECTIONS = {"[model]": _MODEL_KEYS, "[network]": _NETWORK_KEYS, "[network.inputs]": _INPUTS_KEYS}


_POSITIVE = ("epochs", "batch_size", "learning_rate", "patience", "lr_patience")


_ONLY_FOR = {"nested": ("cann",), "glm_trainable": ("cann",), "embedding_dim": ("fnn", "cann")}
