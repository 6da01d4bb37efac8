"""The mean unit deviance of a family as a Keras loss: :class:`DevianceLoss`.

Apart from :mod:`actnn.families` because it is a Keras class: importing this module imports Keras
and TensorFlow, which fitting and pricing a GLM do not need. ``actnn.DevianceLoss`` and
``actnn.families.DevianceLoss`` are this class.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from .families import Tweedie, get_family

__all__ = ["DevianceLoss"]


@keras.saving.register_keras_serializable(package="actnn")
class DevianceLoss(keras.losses.Loss):
    """Mean unit deviance of a family as a Keras loss.

    Parameters
    ----------
    family : str
        ``"poisson"``, ``"gamma"`` or ``"tweedie"``.
    power : float, optional
        Tweedie power, only for ``family="tweedie"``.
    from_eta : bool
        If True, ``y_pred`` is the linear predictor ``eta = log(mu)``; otherwise it is ``mu``.
        Training on ``eta`` is the numerically safe choice.

    Notes
    -----
    Keras' built-in ``"poisson"`` loss is ``mu - y log(mu)``: the same minimiser as the Poisson
    deviance, but not the deviance (no factor 2, no ``y log y`` term). This loss is the deviance,
    so its value is comparable with the published tables (times 100 for their units of 10^-2).
    Sample weights passed to ``fit`` weight the unit deviances.
    """

    def __init__(
        self,
        family: str = "poisson",
        power: float | None = None,
        from_eta: bool = False,
        name: str | None = None,
        reduction: str = "sum_over_batch_size",
        dtype=None,
    ):
        super().__init__(name=name or f"{family}_deviance", reduction=reduction, dtype=dtype)
        self.family = family
        self.power = power
        self.from_eta = from_eta
        base = get_family(family)
        self._family = Tweedie(power) if isinstance(base, Tweedie) and power is not None else base

    def call(self, y_true, y_pred):
        """Unit deviances of a batch, shape ``(n,)``; Keras applies weights and reduction."""
        # a 1-D y_true (model.fit(x, y)) against an (n, 1) prediction would broadcast to (n, n)
        y_true = ops.reshape(ops.cast(y_true, y_pred.dtype), ops.shape(y_pred))
        if self.from_eta:
            eta = y_pred
        else:
            tiny = float(np.finfo(keras.backend.standardize_dtype(y_pred.dtype)).tiny)
            eta = ops.log(ops.maximum(y_pred, tiny))
        return ops.squeeze(self._family.keras_unit_deviance(y_true, eta), axis=-1)

    def get_config(self):
        """The constructor arguments (``family``, ``power``, ``from_eta``, ...) for saving."""
        config = super().get_config()
        config.update(
            family=self.family, power=self.power, from_eta=self.from_eta, dtype=self.dtype
        )
        return config
