"""Network inputs: scaled numeric features and integer-coded categorical features.

A GLM reads a design matrix; a network reads its features as they are, numeric ones scaled to a
common range and categorical ones as integer codes into embedding layers. :class:`NetworkInputs`
declares them with the same feature objects as a GLM's :class:`~actnn.features.FeatureSpec`
(:class:`~actnn.features.Continuous` for transforms such as caps and logs,
:class:`~actnn.features.Categorical` for levels), fits the scaling and the levels on the learning
data, and turns any frame into the dict of arrays the network takes:

- ``"numeric"``: float32 ``(n, k)``, each column scaled by the learning data's range to
  ``[-1, 1]`` (``scaling="minmax"``, as Schelldorfer & Wüthrich 2019) or standardised
  (``scaling="standard"``);
- one int32 ``(n,)`` array of level codes per categorical feature, under the feature's label.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ._validation import _check_unseen
from .features import Categorical, Continuous, FeatureSpec

__all__ = ["NetworkInputs", "NUMERIC"]


#: Name of the network input holding the scaled numeric features.
NUMERIC = "numeric"


_SCALINGS = ("minmax", "standard")


@dataclass(frozen=True)
class NetworkInputs:
    """The inputs of a network: scaled numeric features and embedded categorical features.

    Parameters
    ----------
    numeric : sequence of Continuous
        Numeric features, transformed (mapping, caps, log, rounding) then scaled.
    categorical : sequence of Categorical
        Categorical features, given to the network as integer codes of their fitted levels.
    scaling : {"minmax", "standard"}
        ``"minmax"``: ``2 (x - min) / (max - min) - 1`` with the learning data's min and max;
        ``"standard"``: ``(x - mean) / sd``.
    centers, scales : tuple of float, optional
        Set by :meth:`fit`: ``x_scaled = (x - center) / scale``.
    """

    numeric: tuple[Continuous, ...] = ()
    categorical: tuple[Categorical, ...] = ()
    scaling: str = "minmax"
    centers: tuple[float, ...] | None = None
    scales: tuple[float, ...] | None = None

    def __post_init__(self):
        object.__setattr__(self, "numeric", tuple(self.numeric))
        object.__setattr__(self, "categorical", tuple(self.categorical))
        for f in self.numeric:
            if not isinstance(f, Continuous):
                raise TypeError(f"numeric features must be Continuous, got {type(f).__name__}")
        for f in self.categorical:
            if not isinstance(f, Categorical):
                raise TypeError(f"categorical features must be Categorical, got {type(f).__name__}")
        if self.scaling not in _SCALINGS:
            raise ValueError(f"scaling must be one of {_SCALINGS}, got {self.scaling!r}")
        labels = [f.label for f in (*self.numeric, *self.categorical)]
        if len(set(labels)) != len(labels) or NUMERIC in labels:
            raise ValueError(f"feature names must be unique and not {NUMERIC!r}: {labels}")

    @property
    def spec(self) -> FeatureSpec:
        """The features as a FeatureSpec (for column checks)."""
        return FeatureSpec((*self.numeric, *self.categorical))

    @property
    def numeric_names(self) -> list[str]:
        """Labels of the numeric features, in the column order of the ``"numeric"`` input."""
        return [f.label for f in self.numeric]

    @property
    def categorical_names(self) -> list[str]:
        """Labels of the categorical features: the names of their integer inputs."""
        return [f.label for f in self.categorical]

    @property
    def is_fitted(self) -> bool:
        """Whether the scaling and the categorical levels are fixed (see :meth:`fit`)."""
        return self.centers is not None and all(f.is_fitted for f in self.categorical)

    def n_levels(self) -> dict[str, int]:
        """Number of levels of each categorical feature (the embedding's input dimension)."""
        return {f.label: len(f.levels) for f in self.categorical}

    def fit(self, df: pd.DataFrame) -> NetworkInputs:
        """Fix the scaling of the numeric features and the levels of the categorical ones."""
        self.spec.check_columns(df)
        raw = self._raw_numeric(df)
        if self.scaling == "minmax":
            low, high = raw.min(axis=0), raw.max(axis=0)
            centers, scales = (high + low) / 2, (high - low) / 2
        else:
            centers, scales = raw.mean(axis=0), raw.std(axis=0)
        constant = [f.label for f, s in zip(self.numeric, scales, strict=True) if s == 0]
        if constant:
            raise ValueError(f"numeric features constant on the learning data: {constant}")
        return dataclasses.replace(
            self,
            numeric=tuple(f.fit(df) for f in self.numeric),
            categorical=tuple(f.fit(df) for f in self.categorical),
            centers=tuple(float(c) for c in centers),
            scales=tuple(float(s) for s in scales),
        )

    def _raw_numeric(self, df: pd.DataFrame, unseen: str = "error") -> np.ndarray:
        if not self.numeric:
            return np.empty((len(df), 0))
        return np.column_stack([f.values(df, unseen=unseen) for f in self.numeric])

    def transform(self, df: pd.DataFrame, *, unseen: str = "error") -> dict[str, np.ndarray]:
        """The network's input arrays for ``df`` (see the module docstring).

        ``unseen``: a categorical level not seen by :meth:`fit` is a ``ValueError`` naming the
        column, the rows and the levels (``"error"``), or is given the code of the feature's
        reference level with a :class:`~actnn.DataWarning` (``"reference"``); see
        :meth:`actnn.features.Categorical.codes`. A numeric value outside the range seen by
        :meth:`fit` (or given to :meth:`fit_from_statistics`) is clipped to the range with a
        DataWarning (:meth:`actnn.features.Continuous.values`).
        """
        if not self.is_fitted:
            raise RuntimeError("the network inputs are not fitted: call .fit(learning data) first")
        _check_unseen(unseen)
        self.spec.check_columns(df)
        raw = self._raw_numeric(df, unseen)
        scaled = (raw - np.asarray(self.centers)) / np.asarray(self.scales)
        out: dict[str, np.ndarray] = {NUMERIC: scaled.astype(np.float32)}
        for f in self.categorical:
            out[f.label] = f.codes(df, unseen=unseen).astype(np.int32)
        return out

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description, with the fitted scaling and levels if any."""
        return {
            "numeric": [f.to_dict() for f in self.numeric],
            "categorical": [f.to_dict() for f in self.categorical],
            "scaling": self.scaling,
            "centers": None if self.centers is None else list(self.centers),
            "scales": None if self.scales is None else list(self.scales),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> NetworkInputs:
        """Rebuild the inputs (fitted or not) from :meth:`to_dict`'s output."""
        numeric = FeatureSpec.from_dict({"features": data["numeric"]}).features
        categorical = FeatureSpec.from_dict({"features": data["categorical"]}).features
        fitted = data.get("centers") is not None
        return cls(
            numeric,  # type: ignore[arg-type]
            categorical,  # type: ignore[arg-type]
            scaling=data["scaling"],
            centers=tuple(data["centers"]) if fitted else None,
            scales=tuple(data["scales"]) if fitted else None,
        )

    def fit_from_statistics(
        self,
        levels: Mapping[str, Sequence[Any]],
        *,
        low: Sequence[float],
        high: Sequence[float],
        mean: Sequence[float] | None = None,
        sd: Sequence[float] | None = None,
    ) -> NetworkInputs:
        """Fix the scaling and the levels from statistics gathered elsewhere, e.g. over shards.

        Parameters
        ----------
        levels : dict
            The levels of each categorical feature, by label, in order (what :meth:`fit` finds:
            the categories' order for a categorical column, sorted otherwise).
        low, high : sequence of float
            Minimum and maximum of each numeric feature's transformed values
            (:meth:`~actnn.features.Continuous.values`), in the order of :attr:`numeric`.
        mean, sd : sequence of float, optional
            Their mean and standard deviation (``ddof=0``); needed for ``scaling="standard"``.

        Returns
        -------
        NetworkInputs
            Fitted; equal to ``fit(df)`` when the statistics are those of ``df``.
        """
        if set(levels) != set(self.categorical_names):
            raise ValueError(
                f"levels are needed for exactly the categorical features "
                f"{self.categorical_names}, got {sorted(levels)}"
            )
        stats = {"low": low, "high": high, "mean": mean, "sd": sd}
        if self.scaling == "standard" and (mean is None or sd is None):
            raise ValueError("scaling='standard' needs the mean and sd of the numeric features")
        arrays = {k: np.asarray(v, dtype=np.float64) for k, v in stats.items() if v is not None}
        for k, v in arrays.items():
            if v.shape != (len(self.numeric),):
                raise ValueError(f"{k} needs {len(self.numeric)} values, got shape {v.shape}")
        if self.scaling == "minmax":
            centers = (arrays["high"] + arrays["low"]) / 2
            scales = (arrays["high"] - arrays["low"]) / 2
        else:
            centers, scales = arrays["mean"], arrays["sd"]
        constant = [f.label for f, s in zip(self.numeric, scales, strict=True) if s == 0]
        if constant:
            raise ValueError(f"numeric features constant on the learning data: {constant}")
        categorical = tuple(
            dataclasses.replace(f, fitted_levels=tuple(levels[f.label])) for f in self.categorical
        )
        for f in categorical:
            f._check_reference()
        numeric = tuple(
            dataclasses.replace(f, fitted_range=(float(lo), float(hi)))
            for f, lo, hi in zip(self.numeric, arrays["low"], arrays["high"], strict=True)
        )
        return dataclasses.replace(
            self,
            numeric=numeric,
            categorical=categorical,
            centers=tuple(float(c) for c in centers),
            scales=tuple(float(s) for s in scales),
        )
