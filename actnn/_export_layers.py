"""Exact float64 building blocks of an exported model, made of Keras built-in layers only.

:mod:`actnn.export` turns a fitted model into one Keras model that reads raw columns. Keras has
no built-in layer for a logarithm, a comparison or a rounding, and its ``Discretization`` compares
with float32 boundaries; this module builds them, in float64, from layers every Keras loads:

- ``x > a`` for thresholds ``a`` (:meth:`_Builder.above`): the sign of ``fl(x - a)`` is exact, and
  two saturating ``ReLU`` layers after scalings by ``2^1000`` and ``2^100`` turn every positive
  float64 (down to ``2^-1074``) into 1 and every other value into 0;
- the position of a value among levels or class edges (:meth:`_Builder.level_index`,
  :meth:`_Builder.class_index`): sums of such indicators, then an ``Embedding`` as lookup table;
- ``log(x)`` (:meth:`_Builder.log`): a first guess from ``Discretization`` at ``2^(k/4)``, then
  five Newton steps ``y <- y - 1 + x exp(-y)`` (error ``< 1e-20`` before rounding);
- ``round(x, d)`` as NumPy (:meth:`_Builder.round`): ``rint(x 10^d) / 10^d`` with ``rint(z) =
  (z + 1.5 2^52) - 1.5 2^52``, and the division by ``Normalization`` (``(x - 0) / sqrt(10^2d)``);
- caps by ``Minimum`` and ``Maximum`` with a constant, ``(x - c) / s`` by ``Normalization``
  (``sqrt(fl(s^2)) = s`` exactly).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import keras
import numpy as np

__all__ = []

F64 = "float64"

#: ``fl(z + _RINT) - _RINT`` is ``z`` rounded to an integer, half to even, for ``|z| < 2^51``.
_RINT = 1.5 * 2.0**52

#: The first guess of the logarithm: ``log`` is computed for ``2^-126 <= x < 2^127``.
_LOG_BOUNDS = 2.0 ** (np.arange(-126 * 4, 127 * 4 + 1) / 4)


class _Builder:
    """Makes the float64 layers of one exported model, each under a name not used before."""

    def __init__(self) -> None:
        self._names: set[str] = set()

    def name(self, wanted: str) -> str:
        """``wanted`` made a valid and unused layer name."""
        base = "".join(c if c.isalnum() or c in "_-" else "_" for c in wanted)
        name, k = base, 1
        while name in self._names:
            k += 1
            name = f"{base}_{k}"
        self._names.add(name)
        return name

    def affine(self, x, kernel: np.ndarray, bias: np.ndarray, name: str, activation=None):
        """``x @ kernel + bias`` by a frozen float64 Dense layer."""
        kernel = np.asarray(kernel, dtype=np.float64).reshape(x.shape[-1], -1)
        bias = np.asarray(bias, dtype=np.float64).reshape(-1)
        layer = keras.layers.Dense(kernel.shape[1], activation=activation, dtype=F64,
                                   trainable=False, name=self.name(name))  # fmt: skip
        out = layer(x)
        layer.set_weights([kernel, bias])
        return out

    def table(self, index, rows: np.ndarray, name: str):
        """Row ``index`` of ``rows`` (a lookup table, an Embedding), shape ``(n, width)``."""
        rows = np.asarray(rows, dtype=np.float64)
        layer = keras.layers.Embedding(rows.shape[0], rows.shape[1], dtype=F64,
                                       trainable=False, name=self.name(name))  # fmt: skip
        out = layer(index)
        layer.set_weights([rows])
        if len(out.shape) == 3:  # an index of shape (n, 1)
            out = keras.layers.Reshape((rows.shape[1],), dtype=F64, name=self.name(name + "_2d"))(
                out
            )
        return out

    def constant_like(self, x, value: float, name: str):
        """A column of ``value`` beside ``x`` (``(n, 1)``)."""
        return self.affine(x[..., :1] if x.shape[-1] != 1 else x, [0.0], [value], name)

    def minimum(self, x, value: float, name: str):
        """``min(x, value)``, exact."""
        const = self.constant_like(x, value, name + "_value")
        return keras.layers.Minimum(dtype=F64, name=self.name(name))([x, const])

    def maximum(self, x, value: float, name: str):
        """``max(x, value)``, exact."""
        const = self.constant_like(x, value, name + "_value")
        return keras.layers.Maximum(dtype=F64, name=self.name(name))([x, const])

    def positive(self, z, name: str):
        """1 where ``z > 0``, else 0, for every column of ``z`` (NaN where ``z`` is not finite)."""
        width = z.shape[-1]
        for k, scale in enumerate((2.0**1000, 2.0**100)):
            # the scale as a tensor: Rescaling would make it a float32 first
            factor = self.affine(z, np.zeros((width, width)), np.full(width, scale),
                                 f"{name}_factor{k}")  # fmt: skip
            z = keras.layers.Multiply(dtype=F64, name=self.name(f"{name}_scale{k}"))([z, factor])
            z = keras.layers.ReLU(max_value=1.0, dtype=F64, name=self.name(f"{name}_step{k}"))(z)
        return z

    def class_index(self, x, edges: Sequence[float], name: str):
        """The number of ``edges`` (increasing) that ``x`` (``(n, 1)``) is ``>=``: 0 below the
        first edge, ``k + 1`` in ``[edges[k], edges[k+1])``, ``len(edges)`` from the last on."""
        edges = np.asarray(edges, dtype=np.float64)
        finite = edges[np.isfinite(edges)]
        always = int(np.sum(edges == -np.inf))  # x >= -inf
        if len(finite) == 0:
            return self.constant_like(x, always, name + "_index")
        below = self.positive(self.affine(x, -np.ones(len(finite)), finite, name + "_gap"), name)
        # x >= e  <=>  not (e - x > 0)
        return self.affine(below, -np.ones(len(finite)), [always + len(finite)], name + "_index")

    def level_index(self, x, levels: Sequence[float], name: str):
        """``2k + 1`` where ``x`` equals ``levels[k]`` (sorted), an even number elsewhere."""
        levels = np.asarray(levels, dtype=np.float64)
        m = len(levels)
        gaps = self.affine(x, np.concatenate([-np.ones(m), np.ones(m)]),
                           np.concatenate([levels, -levels]), name + "_gap")  # fmt: skip
        steps = self.positive(gaps, name)  # [l > x], then [x > l]
        return self.affine(steps, np.concatenate([-np.ones(m), np.ones(m)]), [m], name + "_index")

    def log(self, x, name: str):
        """``log(x)`` of ``x`` (``(n, 1)``) to a few units in the last place; NaN unless
        ``2^-126 <= x < 2^127`` (so also for ``x <= 0``)."""
        bucket = keras.layers.Discretization(bin_boundaries=_LOG_BOUNDS.tolist(),
                                             name=self.name(name + "_bucket"))(x)  # fmt: skip
        middles = np.log(_LOG_BOUNDS[:-1]) + math.log(2.0) / 8
        guess = np.concatenate([[np.nan], middles, [np.nan]])[:, None]
        y = self.table(bucket, guess, name + "_guess")
        for k in range(5):
            e = self.affine(y, [-1.0], [0.0], f"{name}_exp{k}", activation="exponential")
            ratio = keras.layers.Multiply(dtype=F64, name=self.name(f"{name}_ratio{k}"))([x, e])
            step = self.affine(ratio, [1.0], [-1.0], f"{name}_step{k}")
            y = keras.layers.Add(dtype=F64, name=self.name(f"{name}_newton{k}"))([y, step])
        return y

    def divide(self, x, center: Sequence[float], scale: Sequence[float], name: str):
        """``(x - center) / scale`` per column, exactly as NumPy (a Normalization layer)."""
        scale = np.asarray(scale, dtype=np.float64)
        if np.any(np.abs(scale) <= keras.backend.epsilon()):
            raise ValueError(f"{name}: a scale <= {keras.backend.epsilon()} cannot be exported")
        # mean and variance as float64 weights: given to the constructor, they would be read
        # back from the saved config as float32 (Keras 3.15)
        layer = keras.layers.Normalization(dtype=F64, name=self.name(name))
        out = layer(x)
        layer.adapt_mean.assign(np.asarray(center, dtype=np.float64))
        layer.adapt_variance.assign(scale**2)
        layer.finalize_state()
        return out

    def round(self, x, decimals: int, name: str):
        """``numpy.round(x, decimals)``, half to even: for ``d >= 0`` ``rint(x 10^d) / 10^d``,
        for ``d < 0`` ``rint(x / 10^-d) 10^-d``, as NumPy computes it."""
        factor = 10.0 ** abs(decimals)
        if decimals > 0:
            x = self.affine(x, [factor], [0.0], name + "_times")
        elif decimals < 0:
            x = self.divide(x, [0.0], [factor], name + "_divided")
        x = self.affine(self.affine(x, [1.0], [_RINT], name + "_rint"), [1.0], [-_RINT],
                        name + "_rinted")  # fmt: skip
        if decimals > 0:
            return self.divide(x, [0.0], [factor], name)
        return self.affine(x, [factor], [0.0], name) if decimals < 0 else x

    def cast(self, x, dtype: str, name: str):
        """``x`` as ``dtype`` (float32 or float64), as NumPy's ``astype`` rounds."""
        return keras.layers.Identity(dtype=dtype, name=self.name(name))(x)

    def concat(self, parts: list, name: str):
        """The columns of ``parts`` side by side (float64)."""
        if len(parts) == 1:
            return parts[0]
        return keras.layers.Concatenate(dtype=F64, name=self.name(name))(parts)
