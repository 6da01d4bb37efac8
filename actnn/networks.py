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
import time
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pandas as pd

from . import losses  # noqa: F401  (registers DevianceLoss with Keras, as actnn did at import)
from .data import DataWarning, _check_frame
from .families import Family, Poisson, Tweedie, get_family
from .glm import (
    GLM,
    _check_levels_have_response,
    _check_mu,
    _exposure_column,
    _response_column,
    _weights_column,
    irls,
    predict_network,
)
from .inputs import NUMERIC, NetworkInputs
from .training import History, train

__all__ = ["build_network", "FNN", "CANN", "LocalGLMnet", "LocalLinear"]

OFFSET = "offset"
GLM_INPUT = "x"


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


def eta_model(model: keras.Model) -> keras.Model:
    """The same network (shared weights) with output ``eta`` instead of ``mu``."""
    return keras.Model(model.inputs, model.get_layer("eta").output)


def last_hidden_model(model: keras.Model) -> keras.Model:
    """The same network with output the input of the ``output`` unit (last hidden layer)."""
    return keras.Model(model.inputs, model.get_layer("output").input)


class _NetworkModel:
    """Shared fitting, prediction and balance correction of FNN, CANN and LocalGLMnet."""

    #: Whether a Poisson balance correction refits the output unit by IRLS (else: bias shift).
    _refit_output = True

    def __init__(
        self,
        inputs: NetworkInputs,
        family: str | Family = "poisson",
        *,
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
        if not isinstance(inputs, NetworkInputs):
            raise TypeError(f"inputs must be NetworkInputs, got {type(inputs).__name__}")
        if not 0.0 <= validation_fraction < 1.0:
            raise ValueError(f"validation_fraction must be in [0, 1), got {validation_fraction}")
        self.inputs = inputs
        self.family = family
        self.hidden = tuple(hidden)
        self.activation = activation
        self.embedding_dim = embedding_dim
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.seed = seed
        self.verbose = verbose
        self.jit_compile = jit_compile
        self.lr_patience = lr_patience
        self.lr_schedule = lr_schedule
        self.dropout = dropout
        self.name = name

    # -- subclasses say how the offset is made and how the network starts
    def _offset(
        self, data: pd.DataFrame, exposure: np.ndarray | None, unseen: str = "error"
    ) -> np.ndarray:
        return np.zeros(len(data)) if exposure is None else np.log(exposure)

    def _build(self, arrays: dict[str, np.ndarray], y: np.ndarray, w: np.ndarray) -> keras.Model:
        """The network, initialised, for the learning data's ``arrays``, response and weights."""
        raise NotImplementedError

    def _extra_inputs(self, data: pd.DataFrame, unseen: str = "error") -> dict[str, np.ndarray]:
        return {}

    # -- data
    def _exposure(self, data: pd.DataFrame, exposure: Any) -> np.ndarray | None:
        if exposure is None:
            if not getattr(self, "uses_exposure_", False):
                return None
            if self.exposure_ is None or self.exposure_ not in data.columns:
                raise ValueError("this model was fitted with an exposure: pass exposure=...")
            exposure = self.exposure_
        return _exposure_column(data, exposure)[0]

    def network_inputs(
        self, data: pd.DataFrame, *, exposure: Any = None, unseen: str = "error"
    ) -> dict[str, np.ndarray]:
        """The dict of arrays the Keras network takes for ``data`` (``unseen``: see predict)."""
        self._check_fitted()
        _check_frame(data, "data")
        return self._network_inputs(data, self._exposure(data, exposure), unseen)

    def _network_inputs(
        self, data: pd.DataFrame, exposure: np.ndarray | None, unseen: str = "error"
    ) -> dict:
        arrays = self.inputs_.transform(data, unseen=unseen)
        arrays[OFFSET] = self._offset(data, exposure, unseen)[:, None]
        arrays.update(self._extra_inputs(data, unseen))
        return arrays

    def _check_fitted(self) -> None:
        if not hasattr(self, "keras_model_"):
            raise RuntimeError(f"this {type(self).__name__} is not fitted yet: call fit first")

    # -- fitting
    def fit(
        self,
        data: pd.DataFrame,
        response: Any,
        *,
        exposure: Any = None,
        weights: Any = None,
    ):
        """Train the network on ``data`` (learning data; the validation rows are carved from it).

        Parameters, errors and warnings as :meth:`actnn.glm.GLM.fit`. The last
        ``validation_fraction`` of a seeded permutation of the rows is held out for early
        stopping.
        """
        started = time.perf_counter()
        self.family_ = get_family(self.family)
        y, self.response_ = _response_column(data, response, self.family_)
        self.uses_exposure_ = exposure is not None
        v, self.exposure_ = _exposure_column(data, exposure)
        w, self.weights_ = _weights_column(data, weights)
        w = np.ones(len(y)) if w is None else w
        self.inputs_ = self.inputs.fit(data)
        if isinstance(self, LocalGLMnet) and isinstance(self.family_, Poisson | Tweedie):
            _check_levels_have_response(self.inputs_.categorical, data, y, w)  # it starts at a GLM
        arrays = self._network_inputs(data, v)

        keras.utils.set_random_seed(self.seed)
        self.keras_model_ = self._build(arrays, y, w)
        order = np.random.default_rng(self.seed).permutation(len(y))
        n_val = int(round(self.validation_fraction * len(y)))
        val_rows, fit_rows = np.sort(order[:n_val]), np.sort(order[n_val:])

        def take(rows: np.ndarray) -> dict[str, np.ndarray]:
            return {k: a[rows] for k, a in arrays.items()}

        validation = (take(val_rows), y[val_rows], w[val_rows]) if n_val else None
        self.history_: History = train(
            eta_model(self.keras_model_),
            take(fit_rows),
            y[fit_rows],
            self.family_,
            weights=w[fit_rows],
            validation=validation,
            epochs=self.epochs,
            batch_size=self.batch_size,
            optimizer=keras.optimizers.Nadam(self.learning_rate),
            patience=self.patience,
            seed=self.seed,
            verbose=self.verbose,
            # XLA halves the epoch time, but its random numbers make dropout 20 times slower
            jit_compile=not self.dropout if self.jit_compile is None else self.jit_compile,
            lr_patience=self.lr_patience,
            lr_schedule=self.lr_schedule,
        )
        self.balance_corrected_ = False
        self.fit_seconds_ = time.perf_counter() - started
        return self

    # -- prediction
    def predict(
        self, data: pd.DataFrame, *, exposure: Any = None, unseen: str = "error"
    ) -> np.ndarray:
        """Expected response ``mu``: expected claim counts for a model fitted with exposure.

        ``unseen`` says what to do with a level of a categorical input not seen at fit:
        ``"error"`` (default) raises a ``ValueError`` naming the column, the rows and the
        levels; ``"reference"`` gives the row the embedding (LocalGLMnet: the dummies) of the
        feature's reference level (its ``reference``, else its first level) and warns
        (:class:`~actnn.data.DataWarning`) naming the same. A CANN treats its GLM's features
        the same way. A prediction that is not a finite number > 0 (``exp(eta)`` overflows) is a
        ``ValueError`` naming the rows, their ``eta`` and the input farthest outside the
        learning data's scale.
        """
        arrays = self.network_inputs(data, exposure=exposure, unseen=unseen)
        mu = predict_network(self.keras_model_, arrays)
        return _check_mu(
            mu,
            lambda rows: predict_network(
                eta_model(self.keras_model_), {k: a[rows] for k, a in arrays.items()}
            ),
            lambda rows: self._describe_rows(data, arrays, rows, unseen),
        )

    def _describe_rows(
        self, data: pd.DataFrame, arrays: dict[str, np.ndarray], rows: np.ndarray, unseen: str
    ) -> list[str]:
        """For each row: the numeric input farthest outside the learning data's scale."""
        numeric = self.inputs_.numeric
        if not numeric:
            return [""] * len(rows)
        scaled = arrays[NUMERIC] if NUMERIC in arrays else arrays[GLM_INPUT][:, : len(numeric)]
        scale = "[-1, 1]" if self.inputs_.scaling == "minmax" else "mean 0, sd 1"
        notes = []
        for row in rows:
            j = int(np.argmax(np.abs(scaled[row])))
            notes.append(
                f"largest numeric input {numeric[j].label!r} (column {numeric[j].column!r}) "
                f"scaled to {scaled[row, j]:.6g} (learning data: {scale})"
            )
        return notes

    def predict_frequency(self, data: pd.DataFrame, *, unseen: str = "error") -> np.ndarray:
        """Expected claims per unit of exposure (``unseen``: see :meth:`predict`)."""
        ones = np.ones(len(data)) if self.uses_exposure_ else None
        return self.predict(data, exposure=ones, unseen=unseen)

    def save(self, path: str | Path, *, overwrite: bool = False) -> Path:
        """Save the fitted network to the directory ``path``, read back by :func:`actnn.load_model`.

        See :func:`actnn.persistence.save_model` for the layout and ``overwrite``.
        """
        from .persistence import save_model  # persistence imports this module

        return save_model(self, path, overwrite=overwrite)

    @property
    def n_params_(self) -> int:
        """Number of trainable weights."""
        self._check_fitted()
        return int(sum(np.prod(w.shape) for w in self.keras_model_.trainable_weights))

    # -- balance correction
    def _response_and_weights(
        self, data: pd.DataFrame, response: Any, weights: Any
    ) -> tuple[np.ndarray, np.ndarray]:
        """Response and weights for a balance correction (defaults: the columns named at fit)."""
        self._check_fitted()
        response = response if response is not None else self.response_
        if response is None:
            raise ValueError("pass the response (the model was fitted with an array)")
        y, _ = _response_column(data, response, self.family_)
        w, _ = _weights_column(data, weights if weights is not None else self.weights_)
        return y, np.ones(len(y)) if w is None else w

    def balance_correct(
        self, data: pd.DataFrame, response: Any = None, *, exposure: Any = None, weights: Any = None
    ):
        """Restore the balance property on the learning data (Wüthrich 2020).

        Poisson: the ``output`` unit is refitted as an exact GLM (IRLS, log link, intercept) on
        the activations of the last hidden layer, with the network's offset; then the sum of the
        predictions equals the sum of the observed responses on ``data``. Other families (log
        link is not their canonical link): only the output bias moves, by
        ``log(sum w y / sum w mu)``. Returns self; the model stays one Keras model.

        Notes
        -----
        Pass the learning data that the network was fitted on (all of it, validation rows
        included), with the same response, exposure and weights (defaults: those named at fit).
        """
        y, w = self._response_and_weights(data, response, weights)
        arrays = self.network_inputs(data, exposure=exposure)
        out = self.keras_model_.get_layer("output")
        if self.family_.canonical_log_link and self._refit_output:
            z = predict_network(last_hidden_model(self.keras_model_), arrays, flatten=False)
            x = np.column_stack([np.ones(len(z)), z])
            eta_rest = predict_network(eta_model(self.keras_model_), arrays) - (
                predict_network(keras.Model(self.keras_model_.inputs, out.output), arrays)
            )
            sol = irls(x, y, self.family_, offset=eta_rest, weights=w)
            out.set_weights([sol["coef"][1:, None], sol["coef"][:1]])
        else:
            # the output unit's last weight is its bias (intercept): shift it
            mu = self.predict(data, exposure=exposure)
            out_weights = out.get_weights()
            out_weights[-1] = out_weights[-1] + math.log(np.sum(w * y) / np.sum(w * mu))
            out.set_weights(out_weights)
        self.balance_corrected_ = True
        return self

    def build_from_statistics(
        self,
        inputs: NetworkInputs,
        response: str,
        *,
        exposure: str | None = None,
        weights: str | None = None,
        mean_response: float,
    ):
        """Build the initial network from statistics of the learning data instead of the data.

        For training outside :meth:`fit`, e.g. by :func:`actnn.streaming.train_streaming` on a
        portfolio too large for memory. Sets the fitted attributes :meth:`fit` sets before it
        trains (``family_``, ``inputs_``, ``keras_model_``, the column names), with the same
        seed, so the network starts as ``fit`` would start it. Returns self.

        Parameters
        ----------
        inputs : NetworkInputs
            Fitted on the learning data (e.g. by :func:`actnn.streaming.fit_inputs_streaming`).
        response, exposure, weights : str
            The columns of the response, the exposure and the case weights.
        mean_response : float
            ``sum w y / sum w exposure`` (without exposure: ``sum w y / sum w``), the
            homogeneous model, where an FNN's output bias starts.
        """
        if isinstance(self, LocalGLMnet):
            raise TypeError("a LocalGLMnet starts at a GLM fitted on the data: use fit")
        if not inputs.is_fitted:
            raise ValueError("inputs must be fitted (NetworkInputs.fit or fit_from_statistics)")
        if not (math.isfinite(mean_response) and mean_response > 0):
            raise ValueError(f"mean_response must be finite and > 0, got {mean_response}")
        self.family_ = get_family(self.family)
        self.response_, self.exposure_, self.weights_ = response, exposure, weights
        self.uses_exposure_ = exposure is not None
        self.inputs_ = inputs
        keras.utils.set_random_seed(self.seed)
        # the homogeneous model as a one-row data set (offset 0, response mean_response)
        homogeneous = {OFFSET: np.zeros((1, 1))}
        self.keras_model_ = self._build(homogeneous, np.array([mean_response]), np.ones(1))
        return self


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
        1 shows a progress bar, 0 nothing.
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
    **kwargs
        The training and architecture options of :class:`FNN` (``family`` defaults to the
        GLM's).
    """

    def __init__(self, glm: GLM, inputs: NetworkInputs, *, nested: bool = False,
                 glm_trainable: bool = False, **kwargs):  # fmt: skip
        if not isinstance(glm, GLM) or not hasattr(glm, "coef_"):
            raise TypeError("glm must be a fitted actnn GLM")
        if glm_trainable and not nested:
            raise ValueError("glm_trainable needs nested=True (an offset has no weights)")
        kwargs.setdefault("family", glm.family)
        super().__init__(inputs, **kwargs)
        if get_family(self.family).name != glm.family_.name:
            raise ValueError(f"the GLM is {glm.family_.name}, the CANN {self.family}")
        self.glm = glm
        self.nested = nested
        self.glm_trainable = glm_trainable

    def _offset(self, data, exposure, unseen="error"):
        base = super()._offset(data, exposure)
        if self.nested:
            return base
        ones = np.ones(len(data))
        return base + self.glm.linear_predictor(data, exposure=ones, unseen=unseen)

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

    _refit_output = False

    def terms(self) -> list[str]:
        """Names of the features ``x_j`` (numeric labels, then ``<feature><level>`` dummies)."""
        names = list(self.inputs_.numeric_names)
        for f in self.inputs_.categorical:
            names += [f"{f.label}{level}" for level in f.levels[1:]]
        return names

    def _network_inputs(self, data, exposure, unseen="error"):
        arrays = self.inputs_.transform(data, unseen=unseen)
        blocks = [arrays[NUMERIC].astype(np.float64)]
        for f in self.inputs_.categorical:
            dummies = arrays[f.label][:, None] == np.arange(1, len(f.levels))[None, :]
            blocks.append(dummies.astype(np.float64))
        design = np.concatenate(blocks, axis=1)
        return {GLM_INPUT: design, OFFSET: self._offset(data, exposure)[:, None]}

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
