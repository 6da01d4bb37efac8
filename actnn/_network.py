"""The machinery shared by actnn's networks: fitting, prediction, balance correction, saving.

:class:`_NetworkModel` is the base of :class:`~actnn.networks.FNN`,
:class:`~actnn.networks.CANN` and :class:`~actnn.networks.LocalGLMnet`; :func:`eta_model` and
:func:`last_hidden_model` cut a fitted network at its linear predictor or its last hidden layer.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pandas as pd

from ._base import (
    _case_weights,
    _exposure_column,
    _link_offset,
    _offset_column,
    _predict_exposure,
    _predict_offset,
    _response_column,
    _weights_column,
)
from ._display import html_block, plural, text_block
from ._irls import _check_levels_have_response, _check_mu, irls
from ._sklearn import NotFittedError, _Estimator
from ._utils import seeded
from ._validation import _check_frame
from .families import Family, Poisson, Tweedie, get_family
from .glm import predict_network
from .inputs import NUMERIC, NetworkInputs
from .training import History, check_schedules, make_optimizer, train

OFFSET = "offset"


GLM_INPUT = "x"


def eta_model(model: keras.Model) -> keras.Model:
    """The same network (shared weights) with output ``eta`` instead of ``mu``."""
    return keras.Model(model.inputs, model.get_layer("eta").output)


def last_hidden_model(model: keras.Model) -> keras.Model:
    """The same network with output the input of the ``output`` unit (last hidden layer)."""
    return keras.Model(model.inputs, model.get_layer("output").input)


class _NetworkModel(_Estimator):
    """Shared fitting, prediction and balance correction of FNN, CANN and LocalGLMnet.

    scikit-learn estimators: the constructor stores its arguments as given; they are checked
    by :meth:`fit`.
    """

    #: True for a network whose weights start at a GLM fitted on the data (LocalGLMnet): it
    #: cannot start from summary statistics, and its levels need a response (finite MLE).
    _starts_at_glm = False

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
        self.inputs = inputs
        self.family = family
        self.hidden = hidden
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
        self,
        data: pd.DataFrame,
        exposure: np.ndarray | None,
        unseen: str = "error",
        offset: np.ndarray | None = None,
    ) -> np.ndarray:
        return _link_offset(exposure, offset, len(data))

    def _family(self) -> str | Family:
        """The family to fit (a CANN's default: its GLM's)."""
        return self.family

    def _check_params(self) -> None:
        """A TypeError or ValueError naming a constructor argument that is not valid."""
        if not isinstance(self.inputs, NetworkInputs):
            raise TypeError(f"inputs must be NetworkInputs, got {type(self.inputs).__name__}")
        if not 0.0 <= self.validation_fraction < 1.0:
            raise ValueError(
                f"validation_fraction must be in [0, 1), got {self.validation_fraction}"
            )

    def _build(self, arrays: dict[str, np.ndarray], y: np.ndarray, w: np.ndarray) -> keras.Model:
        """The network, initialised, for the learning data's ``arrays``, response and weights."""
        raise NotImplementedError

    def _extra_inputs(self, data: pd.DataFrame, unseen: str = "error") -> dict[str, np.ndarray]:
        return {}

    # -- data
    def network_inputs(
        self, data: pd.DataFrame, *, exposure: Any = None, offset: Any = None, unseen: str = "error"
    ) -> dict[str, np.ndarray]:
        """The dict of arrays the Keras network takes for ``data`` (options: see predict)."""
        self._check_fitted()
        _check_frame(data, "data")
        v = _predict_exposure(self, data, exposure)
        return self._network_inputs(data, v, unseen, offset=_predict_offset(self, data, offset))

    def _network_inputs(
        self,
        data: pd.DataFrame,
        exposure: np.ndarray | None,
        unseen: str = "error",
        offset: np.ndarray | None = None,
    ) -> dict:
        arrays = self.inputs_.transform(data, unseen=unseen)
        arrays[OFFSET] = self._offset(data, exposure, unseen, offset)[:, None]
        arrays.update(self._extra_inputs(data, unseen))
        return arrays

    def _check_fitted(self) -> None:
        if not hasattr(self, "keras_model_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet: call fit first")

    # -- fitting
    def fit(
        self,
        X: pd.DataFrame,
        y: Any,
        *,
        exposure: Any = None,
        offset: Any = None,
        sample_weight: Any = None,
        weights: Any = None,
        validation_data: pd.DataFrame | tuple | None = None,
        callbacks: Sequence[keras.callbacks.Callback] = (),
        optimizer: keras.optimizers.Optimizer | str | None = None,
    ):
        """Train the network on ``X`` (learning data; the validation rows are carved from it).

        Parameters, errors and warnings as :meth:`actnn.glm.GLM.fit`. The last
        ``validation_fraction`` of a seeded permutation of the rows is held out for early
        stopping, unless ``validation_data`` is given. A ``TypeError`` or ``ValueError`` names a
        constructor argument that is not valid (e.g. ``inputs`` that are not NetworkInputs,
        ``validation_fraction`` outside [0, 1)).

        Parameters
        ----------
        validation_data : DataFrame or tuple, optional
            Rows for early stopping instead of the ``validation_fraction`` (all of ``X`` is
            then learnt from). A DataFrame has the columns of ``X``: its response, exposure,
            offset and weights are read by the names given to ``fit``. A tuple ``(data,
            response, exposure, weights)`` (the last two optional) gives them as ``fit`` takes
            them: a column name or an array; one left out is the column named in ``fit`` (an
            array given to ``fit`` must be given here too).
        callbacks : sequence of keras.callbacks.Callback
            Called by actnn's training loop with ``keras_model_`` as their model; see
            :func:`actnn.training.run_epochs` for the calls and logs (``loss``, ``val_loss``,
            ``learning_rate``). A callback that sets ``model.stop_training`` stops the training;
            the weights of the best epoch are kept all the same.
        optimizer : keras Optimizer or str, optional
            Default Nadam with the model's ``learning_rate``; a name (``"adam"``) with the
            model's ``learning_rate``; an optimizer is copied from its config and keeps its own
            learning rate, which may be a Keras ``LearningRateSchedule`` (then
            ``lr_schedule`` and ``lr_patience`` must be None: two schedules are a
            ``ValueError``).
        """
        started = time.perf_counter()
        self._check_params()
        optimizer = make_optimizer(optimizer, self.learning_rate)
        check_schedules(optimizer, lr_schedule=self.lr_schedule, lr_patience=self.lr_patience)
        data, response = X, y
        self.family_ = get_family(self._family())
        y, self.response_ = _response_column(data, response, self.family_)
        self.uses_exposure_ = exposure is not None
        v, self.exposure_ = _exposure_column(data, exposure)
        self.uses_offset_ = offset is not None
        extra, self.offset_ = _offset_column(data, offset)
        w, self.weights_ = _case_weights(data, sample_weight, weights)
        w = np.ones(len(y)) if w is None else w
        self.inputs_ = self.inputs.fit(data)
        if self._starts_at_glm and isinstance(self.family_, Poisson | Tweedie):
            _check_levels_have_response(self.inputs_.categorical, data, y, w)  # it starts at a GLM
        arrays = self._network_inputs(data, v, offset=extra)

        with seeded(self.seed):  # the caller's global random state is left as it was
            self.keras_model_ = self._build(arrays, y, w)
        order = np.random.default_rng(self.seed).permutation(len(y))
        n_val = 0 if validation_data is not None else int(round(self.validation_fraction * len(y)))
        val_rows, fit_rows = np.sort(order[:n_val]), np.sort(order[n_val:])

        def take(rows: np.ndarray) -> dict[str, np.ndarray]:
            return {k: a[rows] for k, a in arrays.items()}

        validation = (take(val_rows), y[val_rows], w[val_rows]) if n_val else None
        if validation_data is not None:
            case_weights = weights if sample_weight is None else sample_weight
            validation = self._validation(validation_data, response, exposure, case_weights, offset)
        self.history_: History = train(
            eta_model(self.keras_model_),
            take(fit_rows),
            y[fit_rows],
            self.family_,
            weights=w[fit_rows],
            validation=validation,
            epochs=self.epochs,
            batch_size=self.batch_size,
            optimizer=optimizer,
            patience=self.patience,
            seed=self.seed,
            verbose=self.verbose,
            # XLA halves the epoch time, but its random numbers make dropout 20 times slower
            jit_compile=not self.dropout if self.jit_compile is None else self.jit_compile,
            lr_patience=self.lr_patience,
            lr_schedule=self.lr_schedule,
            callbacks=callbacks,
            callback_model=self.keras_model_,
            title=type(self).__name__,
        )
        self.balance_corrected_ = False
        self.fit_seconds_ = time.perf_counter() - started
        return self

    def _validation(
        self, validation_data: Any, response: Any, exposure: Any, weights: Any, offset: Any
    ) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
        """The network inputs, response and weights of ``validation_data`` (see :meth:`fit`)."""
        given = (validation_data,) if isinstance(validation_data, pd.DataFrame) else validation_data
        if not (
            isinstance(given, tuple) and 1 <= len(given) <= 4 and isinstance(given[0], pd.DataFrame)
        ):
            raise TypeError(
                "validation_data must be a DataFrame with the columns of data, or a tuple "
                f"(data, response, exposure, weights), got {type(validation_data).__name__}"
            )
        data, args = given[0], {"response": response, "exposure": exposure, "weights": weights}
        for k, (name, value) in enumerate(args.items(), start=1):
            if k < len(given):
                args[name] = given[k]
            elif value is not None and not isinstance(value, str):
                raise ValueError(
                    f"fit got the {name} as an array: give the validation rows' {name} in "
                    "validation_data=(data, response, exposure, weights)"
                )
        if (args["exposure"] is None) != (exposure is None):
            raise ValueError(
                "validation_data must have an exposure exactly when fit has one (the network's "
                "offset)"
            )
        if offset is not None and not isinstance(offset, str):
            raise ValueError(
                "fit got the offset as an array: with validation_data, give the offset as a "
                "column name that both frames have"
            )
        _check_frame(data, "validation_data")
        y, _ = _response_column(data, args["response"], self.family_)
        v, _ = _exposure_column(data, args["exposure"])
        extra, _ = _offset_column(data, offset)
        w, _ = _weights_column(data, args["weights"])
        w = np.ones(len(y)) if w is None else w
        return self._network_inputs(data, v, offset=extra), y, w

    # -- prediction
    def predict(
        self, data: pd.DataFrame, *, exposure: Any = None, offset: Any = None, unseen: str = "error"
    ) -> np.ndarray:
        """Expected response ``mu``: expected claim counts for a model fitted with exposure.

        ``exposure`` and a further ``offset`` (log scale) as in :meth:`actnn.glm.GLM.predict`
        (defaults: the columns named at fit).

        ``unseen`` says what to do with a level of a categorical input not seen at fit:
        ``"error"`` (default) raises a ``ValueError`` naming the column, the rows and the
        levels; ``"reference"`` gives the row the embedding (LocalGLMnet: the dummies) of the
        feature's reference level (its ``reference``, else its first level) and warns
        (:class:`~actnn.DataWarning`) naming the same. A CANN treats its GLM's features
        the same way. A numeric input outside the range seen at fit is clipped to that
        range with a warning: one rule for every model kind (docs/models.md). A prediction
        that is not a finite number > 0 (``exp(eta)`` overflows) is a ``ValueError`` naming
        the rows, their ``eta`` and the input farthest outside the learning data's scale.
        """
        arrays = self.network_inputs(data, exposure=exposure, offset=offset, unseen=unseen)
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

    # -- display
    def _input_rows(self) -> list[tuple[str, str]]:
        """The numeric features and how the categorical ones enter the network."""
        inputs = getattr(self, "inputs_", self.inputs)
        scaling = "scaled to [-1, 1]" if inputs.scaling == "minmax" else "standardised"
        rows = [("numeric", f"{', '.join(inputs.numeric_names)} ({scaling})")]
        return (rows if inputs.numeric else []) + [self._categorical_row(inputs.categorical)]

    def _categorical_row(self, features: Sequence[Any]) -> tuple[str, str]:
        """The embeddings: each categorical feature's levels (once fitted) and dimension."""
        dims = self.embedding_dim
        embedded = [
            f"{f.label} ({f'{len(f.levels)} levels, ' if f.is_fitted else ''}dim "
            f"{dims if isinstance(dims, int) else dims.get(f.label, '?')})"
            for f in features
        ]
        return ("embeddings", ", ".join(embedded) or "none")

    def _start_rows(self) -> list[tuple[str, str]]:
        """Where the network starts (a CANN's or LocalGLMnet's GLM); none for an FNN."""
        return []

    def _architecture_rows(self) -> list[tuple[str, str]]:
        """Where it starts, its inputs, its hidden layers and (once built) its size."""
        hidden = f"{', '.join(map(str, self.hidden))} units, {self.activation}"
        hidden += f", dropout {self.dropout:g}" if self.dropout else ", no dropout"
        rows = [*self._start_rows(), *self._input_rows(), ("hidden layers", hidden)]
        if hasattr(self, "keras_model_"):
            rows.append(("parameters", f"{self.n_params_:,} trainable"))
        return rows

    def _display_rows(self) -> list[tuple[str, str]]:
        """The architecture, the size and what training did, as (label, value) rows."""
        rows = self._architecture_rows()
        if not hasattr(self, "keras_model_"):
            return [*rows, ("state", f"not fitted (at most {plural(self.epochs, 'epoch')})")]
        history = getattr(self, "history_", None)
        rows += [] if history is None else history._rows(self.epochs)
        balance = "corrected" if getattr(self, "balance_corrected_", False) else "not corrected"
        return [*rows, ("balance", balance)]

    def _title(self) -> str:
        family = getattr(self, "family_", None) or self._family()
        state = "fitted" if hasattr(self, "keras_model_") else "not fitted"
        return f"{type(self).__name__}({getattr(family, 'name', family)}; {state})"

    def __repr__(self) -> str:
        return text_block(self._title(), self._display_rows())

    def _repr_html_(self) -> str:
        return html_block(self._title(), self._display_rows())

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
        self,
        data: pd.DataFrame,
        response: Any = None,
        *,
        exposure: Any = None,
        offset: Any = None,
        weights: Any = None,
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
        included), with the same response, exposure, offset and weights (defaults: those named
        at fit).
        """
        y, w = self._response_and_weights(data, response, weights)
        arrays = self.network_inputs(data, exposure=exposure, offset=offset)
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
            mu = self.predict(data, exposure=exposure, offset=offset)
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
        if self._starts_at_glm:
            raise TypeError(f"a {type(self).__name__} starts at a GLM fitted on the data: use fit")
        if not inputs.is_fitted:
            raise ValueError("inputs must be fitted (NetworkInputs.fit or fit_from_statistics)")
        if not (math.isfinite(mean_response) and mean_response > 0):
            raise ValueError(f"mean_response must be finite and > 0, got {mean_response}")
        self.family_ = get_family(self._family())
        self.response_, self.exposure_, self.weights_ = response, exposure, weights
        self.uses_exposure_ = exposure is not None
        self.offset_, self.uses_offset_ = None, False
        self.inputs_ = inputs
        # the homogeneous model as a one-row data set (offset 0, response mean_response)
        homogeneous = {OFFSET: np.zeros((1, 1))}
        with seeded(self.seed):
            self.keras_model_ = self._build(homogeneous, np.array([mean_response]), np.ones(1))
        return self
