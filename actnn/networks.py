"""Feed-forward networks and CANNs for frequency and severity, on top of the exact GLM.

Every network here is one Keras functional model built from registered, serializable layers (no
``Lambda``), in three sections:

1. inputs: ``"numeric"`` (scaled numeric features), one integer input per categorical feature,
   ``"offset"`` (float64: ``log(exposure)``, plus the GLM's linear predictor in a CANN), and for
   a nested CANN ``"x"`` (the GLM's design matrix);
2. layers: an embedding per categorical feature, the hidden layers (float32), the ``output``
   unit (float64, so that the exact balance correction keeps its precision);
3. wiring: ``eta = output(hidden) + offset [+ glm_linear_predictor(x)]`` and ``mu = exp(eta)``.

The model's output is ``mu``; ``eta_model`` gives ``eta`` for training on the deviance.

References
----------
Schelldorfer, J., Wüthrich, M. V. (2019). Nesting Classical Actuarial Models into Neural
Networks. SSRN 3320525.
Wüthrich, M. V. (2020). Bias regularization in neural network models for general insurance
pricing. European Actuarial Journal 10, 179-202.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import keras
import numpy as np
import pandas as pd
from sklearn.base import clone

from . import losses  # noqa: F401  (registers DevianceLoss with Keras, as actnn did at import)
from ._irls import irls
from ._network import GLM_INPUT, OFFSET, _NetworkModel, eta_model, last_hidden_model
from ._validation import DataWarning
from .families import Family, get_family
from .glm import GLM, predict_network
from .inputs import NUMERIC, NetworkInputs

__all__ = [
    "build_network",
    "eta_model",
    "last_hidden_model",
    "FNN",
    "CANN",
    "LocalGLMnet",
    "LocalLinear",
]


def build_network(
    inputs: NetworkInputs,
    *,
    hidden: Sequence[int] = (20, 15, 10),
    activation: str = "tanh",
    embedding_dim: int | Mapping[str, int] = 2,
    output_bias: float = 0.0,
    zero_output: bool = False,
    glm_terms: int | None = None,
    glm_trainable: bool = False,
    dropout: float = 0.0,
    name: str = "network",
) -> keras.Model:
    """Build a network ``mu = exp(output(hidden(features)) + offset [+ GLM part])``.

    Parameters
    ----------
    inputs : NetworkInputs
        Fitted network inputs (they give the numeric width and the number of levels).
    hidden : sequence of int
        Units of the hidden layers.
    activation : str
        Activation of the hidden layers.
    embedding_dim : int or dict
        Embedding dimension, for all categorical features or per feature label.
    output_bias : float
        Initial bias of the output unit, e.g. the homogeneous model's log frequency.
    zero_output : bool
        Start the output unit at zero (kernel and bias): a CANN then starts exactly at its GLM.
    glm_terms : int, optional
        Nest a GLM: an input ``"x"`` of this width enters a float64 ``glm_linear_predictor``
        unit (its weights are set by the caller) added to ``eta``.
    glm_trainable : bool
        Whether the nested GLM's coefficients are trained with the network.
    dropout : float
        Dropout rate after each hidden layer (0: none).
    """
    if not inputs.is_fitted:
        raise RuntimeError("fit the NetworkInputs on the learning data before building a network")
    levels = inputs.n_levels()
    dims = (
        {label: int(embedding_dim) for label in levels}
        if isinstance(embedding_dim, int)
        else {label: int(embedding_dim[label]) for label in levels}
    )

    # 1. inputs
    numeric = keras.Input((len(inputs.numeric),), name=NUMERIC, dtype="float32")
    codes = {label: keras.Input((), name=label, dtype="int32") for label in levels}
    offset = keras.Input((1,), name=OFFSET, dtype="float64")
    model_inputs: dict[str, Any] = {NUMERIC: numeric, **codes, OFFSET: offset}

    # 2. layers
    embeddings = {
        label: keras.layers.Embedding(n, dims[label], name=f"{label}_embedding")
        for label, n in levels.items()
    }
    hidden_layers = [
        keras.layers.Dense(units, activation=activation, name=f"hidden_{i + 1}")
        for i, units in enumerate(hidden)
    ]
    init = "zeros" if zero_output else "glorot_uniform"
    output = keras.layers.Dense(
        1,
        name="output",
        dtype="float64",
        kernel_initializer=init,
        bias_initializer=keras.initializers.Constant(0.0 if zero_output else output_bias),
    )

    # 3. wiring
    parts = [numeric] + [embeddings[label](codes[label]) for label in levels]
    z = keras.layers.Concatenate(name="features")(parts) if len(parts) > 1 else parts[0]
    for i, layer in enumerate(hidden_layers):
        z = layer(z)
        if dropout:
            z = keras.layers.Dropout(dropout, name=f"dropout_{i + 1}")(z)
    summands = [output(z), offset]
    if glm_terms is not None:
        x = keras.Input((glm_terms,), name=GLM_INPUT, dtype="float64")
        model_inputs[GLM_INPUT] = x
        glm_part = keras.layers.Dense(
            1, name="glm_linear_predictor", dtype="float64", trainable=glm_trainable
        )
        summands.append(glm_part(x))
    eta = keras.layers.Add(name="eta", dtype="float64")(summands)
    mu = keras.layers.Activation("exponential", name="mu", dtype="float64")(eta)
    return keras.Model(model_inputs, mu, name=name)


class FNN(_NetworkModel):
    """A feed-forward network with embeddings: ``mu = exposure * exp(network(x))``.

    The output bias starts at the homogeneous model (the log of the observed mean frequency).

    Parameters
    ----------
    inputs : NetworkInputs
        The features (fitted on the learning data by :meth:`fit`).
    family : str or Family
        ``"poisson"`` (frequency with exposure offset) or ``"gamma"`` (severity with weights).
    hidden, activation : tuple of int, str
        Hidden layers, default (20, 15, 10) with tanh.
    embedding_dim : int or dict
        Embedding dimension of the categorical features (all, or per feature label).
    epochs, batch_size, learning_rate : int, int, float
        Nadam training: at most ``epochs`` passes, mini-batches of ``batch_size`` rows.
    validation_fraction, patience : float, int
        Share of the learning rows held out for early stopping (seeded), and the epochs without
        a better validation loss before stopping; the best epoch's weights are restored.
    seed : int
        Initial weights, validation rows and shuffling; the same seed gives the same weights.
    verbose : int
        1 one line of progress, updated in place in a notebook or on a terminal, ending with
        the epochs run, the epoch kept and whether training stopped early; 2 a line per epoch;
        0 nothing.
    jit_compile : bool, optional
        Compile each epoch with XLA; None (default): unless there is dropout, which XLA's random
        numbers make about 20 times slower on CPU.
    lr_patience : int, optional
        Halve the learning rate after this many epochs without progress.
    lr_schedule : {None, "cosine"}
        ``"cosine"`` lowers the learning rate from ``learning_rate`` towards 0 along a half
        cosine over the epochs.
    dropout : float
        Dropout rate after each hidden layer.
    name : str, optional
        Name of the Keras model.
    """

    def _build(self, arrays, y, w):
        bias = math.log(np.sum(w * y) / np.sum(w * np.exp(arrays[OFFSET][:, 0])))
        return build_network(
            self.inputs_,
            hidden=self.hidden,
            activation=self.activation,
            embedding_dim=self.embedding_dim,
            output_bias=bias,
            dropout=self.dropout,
            name=self.name or "fnn",
        )


class CANN(_NetworkModel):
    """Combined actuarial neural network: a fitted GLM plus a network on its linear predictor.

    ``eta = glm_eta(x) + output(network(x))``; the output unit starts at zero, so the untrained
    CANN predicts exactly the GLM.

    Parameters
    ----------
    glm : GLM
        A fitted GLM of the same family (and exposure), e.g. SW2019's GLM2.
    inputs : NetworkInputs
        The network part's features.
    nested : bool
        False (SW2019's shortcut): the GLM's linear predictor enters as a fixed offset.
        True: the GLM's design matrix is an input and its coefficients a float64 unit inside the
        network, frozen unless ``glm_trainable``.
    glm_trainable : bool
        Train the nested GLM coefficients with the network (only with ``nested=True``).
    family : str or Family, optional
        None (default): the GLM's.
    hidden, activation, embedding_dim, epochs, batch_size, learning_rate, validation_fraction,
    patience, seed, verbose, jit_compile, lr_patience, lr_schedule, dropout, name
        The training and architecture options of :class:`FNN`.

    Notes
    -----
    scikit-learn's ``clone`` (e.g. in ``GridSearchCV``) keeps the fitted GLM: the clones share
    it, and a cross-validation score measures the network part with the GLM held fixed (the
    GLM was fitted on all of its learning data).
    """

    def __init__(
        self,
        glm: GLM,
        inputs: NetworkInputs,
        *,
        nested: bool = False,
        glm_trainable: bool = False,
        family: str | Family | None = None,
        hidden: Sequence[int] = (20, 15, 10),
        activation: str = "tanh",
        embedding_dim: int | Mapping[str, int] = 2,
        epochs: int = 200,
        batch_size: int = 10_000,
        learning_rate: float = 0.002,
        validation_fraction: float = 0.1,
        patience: int | None = 20,
        seed: int = 0,
        verbose: int = 1,
        jit_compile: bool | None = None,
        lr_patience: int | None = None,
        lr_schedule: str | None = None,
        dropout: float = 0.0,
        name: str | None = None,
    ):
        super().__init__(
            inputs, family, hidden=hidden, activation=activation, embedding_dim=embedding_dim,
            epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
            validation_fraction=validation_fraction, patience=patience, seed=seed,
            verbose=verbose, jit_compile=jit_compile, lr_patience=lr_patience,
            lr_schedule=lr_schedule, dropout=dropout, name=name,
        )  # fmt: skip
        self.glm = glm
        self.nested = nested
        self.glm_trainable = glm_trainable

    def _family(self):
        return getattr(self.glm, "family", None) if self.family is None else self.family

    def _check_params(self):
        super()._check_params()
        if not isinstance(self.glm, GLM) or not hasattr(self.glm, "coef_"):
            raise TypeError("glm must be a fitted actnn GLM")
        if self.glm_trainable and not self.nested:
            raise ValueError("glm_trainable needs nested=True (an offset has no weights)")
        if get_family(self._family()).name != self.glm.family_.name:
            raise ValueError(f"the GLM is {self.glm.family_.name}, the CANN {self.family}")

    def __sklearn_clone__(self):
        """An unfitted copy with the same parameters that shares the fitted GLM (see Notes)."""
        params = self.get_params(deep=False)
        glm = params.pop("glm")
        return type(self)(glm, **{k: clone(v, safe=False) for k, v in params.items()})

    def _offset(self, data, exposure, unseen="error", offset=None):
        base = super()._offset(data, exposure, unseen, offset)
        if self.nested:
            return base
        ones, zeros = np.ones(len(data)), np.zeros(len(data))
        return base + self.glm.linear_predictor(data, exposure=ones, offset=zeros, unseen=unseen)

    def _extra_inputs(self, data, unseen="error"):
        return {GLM_INPUT: self.glm.design_matrix(data, unseen=unseen)} if self.nested else {}

    def _describe_rows(self, data, arrays, rows, unseen):
        """For each row: the network's numeric input and the GLM's term that drive ``eta``."""
        if self.nested:
            x = arrays[GLM_INPUT][rows]
        else:
            with warnings.catch_warnings():  # the unseen levels were warned about already
                warnings.simplefilter("ignore", DataWarning)
                x = self.glm.design_matrix(data.iloc[rows], unseen=unseen)
        network = super()._describe_rows(data, arrays, rows, unseen)
        return [
            f"{note}; GLM part: {glm_note}" if note else f"GLM part: {glm_note}"
            for note, glm_note in zip(network, self.glm._largest_terms(x), strict=True)
        ]

    def _start_rows(self):
        if self.nested:
            how = "nested, coefficients " + ("trained" if self.glm_trainable else "frozen")
        else:
            how = "its linear predictor as a fixed offset"
        name = self.glm.features.name or "GLM"
        return [("starts at", f"{name} ({len(self.glm.coef_)} coefficients), {how}")]

    def _build(self, arrays, y, w):
        model = build_network(
            self.inputs_,
            hidden=self.hidden,
            activation=self.activation,
            embedding_dim=self.embedding_dim,
            zero_output=True,
            glm_terms=len(self.glm.coef_) - 1 if self.nested else None,
            glm_trainable=self.glm_trainable,
            dropout=self.dropout,
            name=self.name or "cann",
        )
        if self.nested:
            coef = self.glm.coef_.to_numpy()
            model.get_layer("glm_linear_predictor").set_weights([coef[1:, None], coef[:1]])
        return model


@keras.saving.register_keras_serializable(package="actnn")
class LocalLinear(keras.layers.Layer):
    """``b0 + sum_j beta_j(x) x_j`` from inputs ``[beta, x]``, with a trainable intercept ``b0``.

    The output layer of a LocalGLMnet (Richman & Wüthrich 2023).
    """

    def __init__(self, intercept_initializer: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.intercept_initializer = float(intercept_initializer)

    def build(self, input_shape):
        """Create the intercept weight ``b0``, shape ``(1,)``."""
        self.intercept = self.add_weight(
            shape=(1,),
            initializer=keras.initializers.Constant(self.intercept_initializer),
            name="intercept",
        )

    def call(self, inputs):
        """``b0 + sum_j beta_j x_j`` of ``inputs = [beta, x]``, shape ``(n, 1)``."""
        beta, x = inputs
        return keras.ops.sum(beta * keras.ops.cast(x, beta.dtype), axis=-1, keepdims=True) + (
            self.intercept
        )

    def compute_output_shape(self, input_shape):
        """``(batch, 1)``."""
        return (input_shape[0][0], 1)

    def get_config(self):
        """The layer's config with ``intercept_initializer``, for saving."""
        return {**super().get_config(), "intercept_initializer": self.intercept_initializer}


class LocalGLMnet(_NetworkModel):
    """LocalGLMnet: a GLM whose coefficients are functions of the features (RW2023).

    ``eta = b0 + sum_j beta_j(x) x_j + offset``, with ``beta(x)`` the output of a network on the
    same features ``x``: the scaled numeric features and the dummies (reference = first level) of
    the categorical ones. The ``beta`` layer starts with zero kernel and the coefficients of the
    exact GLM on ``x`` as bias, so the untrained model is that GLM. The variable importance of
    feature ``j`` is the mean of ``|beta_j(x)|`` (:meth:`variable_importance`).

    Parameters as :class:`FNN` (``embedding_dim`` is not used). :meth:`balance_correct` shifts
    the intercept ``b0`` by ``log(sum w y / sum w mu)`` for every family.

    References
    ----------
    Richman, R., Wüthrich, M. V. (2023). LocalGLMnet: interpretable deep learning for tabular
    data. Scandinavian Actuarial Journal 2023(1), 71-95.
    """

    _starts_at_glm = True

    _refit_output = False

    def terms(self) -> list[str]:
        """Names of the features ``x_j`` (numeric labels, then ``<feature><level>`` dummies)."""
        names = list(self.inputs_.numeric_names)
        for f in self.inputs_.categorical:
            names += [f"{f.label}{level}" for level in f.levels[1:]]
        return names

    def _categorical_row(self, features):
        dummies = [
            f"{f.label} ({len(f.levels) - 1} dummies)" if f.is_fitted else f.label for f in features
        ]
        return ("dummies", ", ".join(dummies) or "none")

    def _start_rows(self):
        return [("starts at", "the exact GLM on the same terms (beta(x) = its coefficients)")]

    def _network_inputs(self, data, exposure, unseen="error", offset=None):
        arrays = self.inputs_.transform(data, unseen=unseen)
        blocks = [arrays[NUMERIC].astype(np.float64)]
        for f in self.inputs_.categorical:
            dummies = arrays[f.label][:, None] == np.arange(1, len(f.levels))[None, :]
            blocks.append(dummies.astype(np.float64))
        design = np.concatenate(blocks, axis=1)
        return {GLM_INPUT: design, OFFSET: self._offset(data, exposure, unseen, offset)[:, None]}

    def _build(self, arrays, y, w):
        x, offset = arrays[GLM_INPUT], arrays[OFFSET][:, 0]
        glm = irls(np.column_stack([np.ones(len(x)), x]), y, self.family_, offset=offset,
                   weights=w, terms=["(Intercept)", *self.terms()])  # fmt: skip
        self.glm_coef_ = pd.Series(glm["coef"], index=["(Intercept)", *self.terms()])
        q = x.shape[1]

        # 1. inputs; 2. layers; 3. wiring
        design = keras.Input((q,), name=GLM_INPUT, dtype="float64")
        offset_in = keras.Input((1,), name=OFFSET, dtype="float64")
        hidden_layers = [
            keras.layers.Dense(units, activation=self.activation, name=f"hidden_{i + 1}")
            for i, units in enumerate(self.hidden)
        ]
        beta_layer = keras.layers.Dense(q, name="beta", dtype="float64",
                                        kernel_initializer="zeros")  # fmt: skip
        local = LocalLinear(name="output", dtype="float64")
        z = design
        for layer in hidden_layers:
            z = layer(z)
        eta = keras.layers.Add(name="eta", dtype="float64")([local([beta_layer(z), design]),
                                                             offset_in])  # fmt: skip
        mu = keras.layers.Activation("exponential", name="mu", dtype="float64")(eta)
        model = keras.Model({GLM_INPUT: design, OFFSET: offset_in}, mu,
                            name=self.name or "localglmnet")  # fmt: skip
        # the exact GLM, written after building (a Constant initializer would round to float32)
        beta_layer.set_weights([np.zeros((z.shape[-1], q)), glm["coef"][1:]])
        local.set_weights([glm["coef"][:1]])
        return model

    def beta(self, data: pd.DataFrame) -> pd.DataFrame:
        """The feature-wise coefficients ``beta_j(x)`` of every row, one column per term."""
        self._check_fitted()
        sub = keras.Model(self.keras_model_.inputs, self.keras_model_.get_layer("beta").output)
        arrays = self._network_inputs(data, np.ones(len(data)))
        return pd.DataFrame(predict_network(sub, arrays, flatten=False), columns=self.terms())

    def variable_importance(self, data: pd.DataFrame) -> pd.DataFrame:
        """Mean ``|beta_j(x)|`` per term over ``data``, largest first.

        Columns: ``term``, ``importance``. Numeric features are on the scaled range, so their
        importances are comparable.
        """
        importance = self.beta(data).abs().mean()
        return (
            importance.rename("importance")
            .rename_axis("term")
            .reset_index()
            .sort_values("importance", ascending=False, ignore_index=True)
        )
