"""Keras models that travel: a fitted actnn model as one Keras model that reads raw columns.

:func:`export_keras` writes a ``.keras`` file that Keras loads alone (``keras.saving.load_model``,
no actnn, no custom objects, safe mode). The exported model takes a dict of the raw data columns
under their names (strings for categorical features as in the data, numbers for numeric ones)
plus the exposure column the model was fitted with, and returns the expected response ``mu``,
shape ``(n, 1)``: expected claim counts, exposure included, for a model fitted with exposure.

Inside, every step of actnn's :class:`~actnn.features.FeatureSpec` and
:class:`~actnn.inputs.NetworkInputs` is rebuilt from Keras built-in layers (see
:mod:`actnn._export_layers` for how the logarithm, comparisons and rounding are made exact):

- mappings of labels and categorical levels by ``StringLookup`` (strings) or exact comparisons
  (numbers), then an ``Embedding`` as lookup table to the level's dummies (GLM), its code
  (embedding networks) or its mapped number;
- caps by ``Minimum``/``Maximum``, ``log``, ``round(x, decimals)``, the powers of a
  :class:`~actnn.features.Polynomial` by ``Multiply``, the classes of a
  :class:`~actnn.features.Binned` feature by exact comparisons with its edges;
- the network scaling ``(x - center) / scale`` by ``Normalization``.

The design matrix and the linear predictors are float64. A network's own layers keep the dtypes
they were trained in (actnn's hidden layers and embeddings are float32) and are the trained
layers themselves, so the exported model computes what :meth:`predict` computes: equal to about
1e-15 relative. The exposure multiplies ``exp(eta)``; a Nagging ensemble averages its members'
``mu``.

Rows that actnn's ``predict`` refuses (a level not seen in fitting, a label outside a mapping,
``log`` of a value <= 0, exposure <= 0) get ``mu = NaN`` with ``unseen="nan"`` (the default);
with ``unseen="reference"`` unseen levels are priced at the feature's reference level, as
``predict(..., unseen="reference")`` (the others stay NaN). A number outside the range seen in
fitting is clipped to it, as ``predict`` prices it. A missing value (NaN) in a numeric column
is NaN, or an error of Keras where the column is looked up as levels.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import numpy as np

from ._export_layers import F64, _Builder
from ._network import GLM_INPUT, NUMERIC, OFFSET
from .ensemble import Nagging
from .features import Binned, Categorical, Continuous, Feature, FeatureSpec, Polynomial, _Levelled
from .glm import GLM
from .networks import CANN, LocalGLMnet, _NetworkModel

__all__ = ["export_keras", "keras_export_model"]

_UNSEEN = ("nan", "reference")

#: The exposure input's name when the model was fitted with exposures given as an array.
EXPOSURE = "exposure"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )


class _Exporter:
    """Builds the exported graph of one model: raw inputs, encodings, the model's parts."""

    def __init__(self, unseen: str) -> None:
        self.build = _Builder()
        self.unseen = unseen
        self.inputs: dict[str, Any] = {}
        self.kinds: dict[str, str] = {}
        self._columns: dict[str, Any] = {}
        #: Columns ``(n, 1)`` of 0, or NaN on rows actnn's predict refuses; added to ``mu``.
        self.flags: list[Any] = []

    # ------------------------------------------------------------------ raw columns
    def raw(self, column: str, kind: str, what: str):
        """The raw input of ``column``, ``(n,)``, of kind ``"string"`` or ``"number"``."""
        if self.kinds.setdefault(column, kind) != kind:
            raise ValueError(
                f"column {column!r} is read as {self.kinds[column]}s by one feature and as "
                f"{kind}s by {what}: an exported model takes each column with one type"
            )
        if column not in self.inputs:
            dtype = "string" if kind == "string" else F64
            self.inputs[column] = keras.Input((), name=column, dtype=dtype)
        return self.inputs[column]

    def number(self, column: str, what: str):
        """The numeric column ``column`` as float64 ``(n, 1)``."""
        raw = self.raw(column, "number", what)
        if column not in self._columns:
            name = self.build.name(f"{column}_column")
            self._columns[column] = keras.layers.Reshape((1,), dtype=F64, name=name)(raw)
        return self._columns[column]

    # ------------------------------------------------------------------ levels
    def lookup(self, column: str, keys: list[Any], what: str, upper: float | None = None):
        """The index of each row's value among ``keys`` and, per index, the key's position
        (None: not a key)."""
        if all(isinstance(k, str) for k in keys) and upper is None:
            raw = self.raw(column, "string", what)
            layer = keras.layers.StringLookup(vocabulary=list(keys), num_oov_indices=1,
                                              name=self.build.name(f"{what}_lookup"))  # fmt: skip
            return layer(raw), [None, *range(len(keys))]
        if not all(_is_number(k) for k in keys):
            raise ValueError(
                f"{what}: levels {keys[:5]} are neither all strings nor all numbers, which an "
                "exported model cannot look up"
            )
        x = self.number(column, what)
        if upper is not None:
            x = self.build.minimum(x, upper, f"{what}_cap")
        order = np.argsort(np.asarray(keys, dtype=np.float64), kind="stable")
        index = self.build.level_index(x, np.asarray(keys, dtype=np.float64)[order], what)
        positions: list[int | None] = [None]
        for k in order:
            positions += [int(k), None]
        return index, positions

    def levels_table(self, f: _Levelled, rows: np.ndarray, name: str):
        """Row ``rows[k]`` for a row at level ``k`` of ``f``; unseen levels per ``unseen``."""
        if isinstance(f, Binned):
            x = self.within_range(self.number(f.column, f.label), f)
            index = self.build.class_index(x, f.edges, name)
            positions = [None, *range(len(f.levels)), None]
        else:
            index, positions = self.lookup(f.column, f.levels, f.label, upper=f.upper)
        ref = f.levels.index(f.reference_level)
        table = np.stack([rows[ref if k is None else k] for k in positions])
        self._flag(index, positions, f.label, always=False)
        return self.build.table(index, table, name)

    def _flag(self, index, positions: list[int | None], what: str, *, always: bool) -> None:
        """NaN on the rows whose index is not a key (always, or with ``unseen="nan"``)."""
        if None in positions and (always or self.unseen == "nan"):
            rows = np.array([[np.nan if k is None else 0.0] for k in positions])
            self.flags.append(self.build.table(index, rows, f"{what}_not_seen"))

    # ------------------------------------------------------------------ features
    def continuous(self, f: Continuous):
        """:meth:`Continuous.values`: mapped, capped, logged, rounded; ``(n, 1)``."""
        if f.mapping is not None:
            keys = list(f.mapping)
            index, positions = self.lookup(f.column, keys, f.label)
            values = np.array([[np.nan if k is None else f.mapping[keys[k]]] for k in positions])
            self._flag(index, positions, f.label, always=True)
            x = self.build.table(index, values, f"{f.label}_mapped")
        else:
            x = self.number(f.column, f.label)
        if f.lower is not None:
            x = self.build.maximum(x, f.lower, f"{f.label}_lower")
        if f.upper is not None:
            x = self.build.minimum(x, f.upper, f"{f.label}_upper")
        if f.log:
            x = self.build.log(x, f"{f.label}_log")
        if f.decimals is not None:
            x = self.build.round(x, f.decimals, f"{f.label}_round")
        return self.within_range(x, f)

    def within_range(self, x, f: Feature):
        """``x`` clipped to the feature's ``fitted_range``, as predict prices values outside."""
        if getattr(f, "fitted_range", None) is None:
            return x
        low, high = f.fitted_range
        x = self.build.maximum(x, low, f"{f.label}_range_low")
        return self.build.minimum(x, high, f"{f.label}_range_high")

    def polynomial(self, f: Polynomial):
        """``x, log(x), x^2, ..., x^degree``: ``(n, len(terms))``."""
        x = self.within_range(self.number(f.column, f.label), f)
        cols = [x]
        if f.log_term:
            cols.append(self.build.log(x, f"{f.label}_log"))
        power = x
        for k in range(2, f.degree + 1):
            name = self.build.name(f"{f.label}_power{k}")
            power = keras.layers.Multiply(dtype=F64, name=name)([power, x])
            cols.append(power)
        return self.build.concat(cols, f"{f.label}_terms")

    def block(self, f: Feature):
        """The feature's block of the design matrix."""
        if isinstance(f, _Levelled):
            levels = f.levels
            ref = levels.index(f.reference_level)
            dummies = np.delete(np.eye(len(levels)), ref, axis=1)
            return self.levels_table(f, dummies, f"{f.label}_dummies")
        if isinstance(f, Continuous):
            return self.continuous(f)
        if isinstance(f, Polynomial):
            return self.polynomial(f)
        raise TypeError(f"feature {f.label!r}: a {type(f).__name__} cannot be exported")

    def design(self, spec: FeatureSpec, name: str):
        """The design matrix (without intercept) of ``spec``, float64."""
        if not spec.features:
            raise ValueError("a GLM without features cannot be exported")
        return self.build.concat([self.block(f) for f in spec.features], name)

    # ------------------------------------------------------------------ models
    def glm_eta(self, glm: GLM, name: str = "glm"):
        """The GLM's linear predictor without offset, ``coef_0 + x @ coef``."""
        glm._check_network_agrees()
        coef = glm.coef_.to_numpy()
        x = self.design(glm.features_, f"{name}_design")
        return self.build.affine(x, coef[1:], coef[:1], f"{name}_linear_predictor")

    def codes(self, f: Categorical):
        """The level code of each row, float64 ``(n,)`` (unseen: per ``unseen``)."""
        codes = self.levels_table(f, np.arange(len(f.levels), dtype=np.float64)[:, None],
                                  f"{f.label}_code")  # fmt: skip
        return keras.layers.Reshape((), dtype=F64, name=self.build.name(f"{f.label}_codes"))(codes)

    def scaled_numeric(self, model: _NetworkModel, name: str):
        """The network's numeric inputs, scaled in float64 as NumPy scales them."""
        inputs = model.inputs_
        if not inputs.numeric:
            raise ValueError(
                f"a {type(model).__name__} without numeric features cannot be exported yet"
            )
        raw = self.build.concat([self.continuous(f) for f in inputs.numeric], f"{name}_numeric")
        return self.build.divide(raw, inputs.centers, inputs.scales, f"{name}_scaled")

    def network_eta(self, model: _NetworkModel, name: str):
        """The linear predictor of a fitted FNN, CANN or LocalGLMnet, without exposure."""
        net = model.keras_model_
        tensors = {t.name: t for t in net.inputs}
        scaled = self.scaled_numeric(model, name)
        # the network's numeric input is float32 in actnn: the same rounding here
        scaled32 = self.build.cast(scaled, "float32", f"{name}_numeric_float32")
        if isinstance(model, LocalGLMnet):
            blocks = [self.build.cast(scaled32, F64, f"{name}_numeric_float64")]
            for f in model.inputs_.categorical:
                dummies = np.eye(len(f.levels))[:, 1:]  # reference: the first level, as actnn
                blocks.append(self.levels_table(f, dummies, f"{f.label}_dummies"))
            design = self.build.concat(blocks, f"{name}_design")
            beta_net = keras.Model(tensors[GLM_INPUT], net.get_layer("beta").output,
                                   name=self.build.name(f"{name}_beta"))  # fmt: skip
            beta = beta_net(design)
            local = keras.layers.Multiply(dtype=F64, name=self.build.name(f"{name}_local"))
            intercept = net.get_layer("output").get_weights()[0]
            return self.build.affine(local([beta, design]), np.ones(design.shape[-1]), intercept,
                                     f"{name}_linear_predictor")  # fmt: skip
        feed = {NUMERIC: scaled32}
        feed.update({f.label: self.codes(f) for f in model.inputs_.categorical})
        outputs = [net.get_layer("output").output]
        summands = []
        if isinstance(model, CANN):
            if model.nested:
                feed[GLM_INPUT] = self.design(model.glm.features_, f"{name}_glm_design")
                outputs.append(net.get_layer("glm_linear_predictor").output)
            else:
                summands.append(self.glm_eta(model.glm, f"{name}_glm"))
        trunk = keras.Model({k: t for k, t in tensors.items() if k != OFFSET}, outputs,
                            name=self.build.name(f"{name}_network"))  # fmt: skip
        out = trunk(feed)
        summands = [*(out if isinstance(out, list | tuple) else [out]), *summands]
        if len(summands) == 1:
            return summands[0]
        return keras.layers.Add(dtype=F64, name=self.build.name(f"{name}_eta"))(summands)

    def mu(self, model: Any, name: str):
        """Expected response of ``model``, exposure included, ``(n, 1)``."""
        if isinstance(model, Nagging):
            model._check_fitted()
            members = [self.mu(m, f"member{k}") for k, m in enumerate(model.members_, start=1)]
            if len(members) == 1:
                return members[0]
            return keras.layers.Average(dtype=F64, name=self.build.name(f"{name}_mean"))(members)
        if isinstance(model, GLM):
            model._check_fitted()
            eta = self.glm_eta(model, name)
        elif isinstance(model, _NetworkModel):
            model._check_fitted()
            eta = self.network_eta(model, name)
        else:
            raise TypeError(
                "model must be a fitted actnn GLM, FNN, CANN, LocalGLMnet or Nagging, got "
                f"{type(model).__name__}"
            )
        mu = keras.layers.Activation("exponential", dtype=F64,
                                     name=self.build.name(f"{name}_exp_eta"))(eta)  # fmt: skip
        if not model.uses_exposure_:
            return mu
        exposure = self.number(model.exposure_ or EXPOSURE, "the exposure")
        valid = self.build.positive(exposure, "exposure_positive")  # 1 for exposure > 0
        self._flag(valid, [None, 0], "exposure", always=True)
        return keras.layers.Multiply(dtype=F64, name=self.build.name(f"{name}_mu"))([mu, exposure])


def keras_export_model(model: Any, *, unseen: str = "nan") -> keras.Model:
    """The self-contained Keras model of a fitted actnn model (see the module docstring).

    Parameters
    ----------
    model : GLM, FNN, CANN, LocalGLMnet or Nagging
        A fitted model (e.g. from :func:`actnn.load_model`).
    unseen : {"nan", "reference"}
        What the exported model returns for a row with a categorical level not seen in fitting
        or a value outside a binned feature's classes: NaN, or the prediction at the feature's
        reference level (as ``predict(..., unseen="reference")``).

    Returns
    -------
    keras.Model
        Inputs: a dict of the raw columns by name (``(n,)``; ``"string"`` for categorical
        columns of strings, ``"float64"`` otherwise), plus the exposure column if the model was
        fitted with one (named as at fit; ``"exposure"`` if it was an array). Output ``mu``,
        float64 ``(n, 1)``.
    """
    if unseen not in _UNSEEN:
        raise ValueError(f"unseen must be one of {_UNSEEN}, got {unseen!r}")
    exporter = _Exporter(unseen)
    mu = exporter.mu(model, "model")
    out = (
        keras.layers.Add(dtype=F64, name="mu")([mu, *exporter.flags])
        if exporter.flags
        else (keras.layers.Identity(dtype=F64, name="mu")(mu))
    )
    name = getattr(model, "name", None) or type(model).__name__.lower()
    return keras.Model(exporter.inputs, out, name=exporter.build.name(f"{name}_export"))


def export_keras(
    model: Any, path: str | Path, *, unseen: str = "nan", overwrite: bool = False
) -> Path:
    """Write a fitted model as one self-contained Keras file that reads raw columns.

    Parameters
    ----------
    model : GLM, FNN, CANN, LocalGLMnet or Nagging
        A fitted model.
    path : str or Path
        The file to write; its name must end in ``.keras``.
    unseen : {"nan", "reference"}
        See :func:`keras_export_model`.
    overwrite : bool
        Replace a file at ``path``.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    ValueError
        If ``path`` does not end in ``.keras``, or a feature cannot be exported (levels that
        mix strings and numbers; a column read as strings and as numbers).
    FileExistsError
        If ``path`` exists and ``overwrite`` is False.

    Examples
    --------
    >>> export_keras(glm, "glm.keras")  # doctest: +SKIP
    >>> # in any Python with Keras, without actnn:
    >>> exported = keras.saving.load_model("glm.keras")  # doctest: +SKIP
    >>> mu = exported({name: data[name].to_numpy() for name in exported.input})  # doctest: +SKIP
    """
    path = Path(path)
    if path.suffix != ".keras":
        raise ValueError(f"the exported model's file name must end in .keras, got {path.name!r}")
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists already: pass overwrite=True to replace it")
    keras_export_model(model, unseen=unseen).save(path)
    return path
