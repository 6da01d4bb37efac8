"""Declarative feature specifications: how rating factors enter a GLM's design matrix.

A :class:`FeatureSpec` lists features by the user's own column names. Fitting it on the learning
data fixes what the data decides (the levels of a categorical feature); it then turns any frame with
those columns into the design matrix of the GLM, term by term, and says which feature each term
belongs to, so coefficients can be read back as a tariff.

The feature kinds:

- :class:`Continuous`: a number, optionally mapped from labels, capped and log-transformed;
- :class:`Polynomial`: powers of a number (and its log), e.g. SW2019's polynomial driver age;
- :class:`Categorical`: a factor with a reference level (dummy coding), optionally capped first;
- :class:`Binned`: a number cut into classes ``[e_k, e_(k+1))`` with a reference class.
"""

from __future__ import annotations

import dataclasses
import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from ._unseen import _fitted_range, _level_codes, _within_range, _without_level
from ._validation import (
    _check_frame,
    _check_no_missing,
    _check_unseen,
    _listed,
    _repeated_columns,
    _rows_message,
)
from ._validation import (
    _column_values as _numeric,
)

__all__ = ["Feature", "Continuous", "Polynomial", "Categorical", "Binned", "FeatureSpec"]


@dataclass(frozen=True)
class Feature(ABC):
    """One rating factor of a :class:`FeatureSpec`."""

    column: str
    name: str | None = field(default=None, kw_only=True)

    kind: ClassVar[str] = ""

    @property
    def label(self) -> str:
        """The feature's name in coefficient and relativity tables (default: the column)."""
        return self.name or self.column

    def fit(self, df: pd.DataFrame) -> Feature:
        """Return the feature with whatever it learns from the learning data fixed."""
        return self

    @property
    def is_fitted(self) -> bool:
        """Whether the feature is ready to encode data (True unless it learns levels)."""
        return True

    @property
    @abstractmethod
    def terms(self) -> list[str]:
        """Names of the feature's columns in the design matrix."""

    @abstractmethod
    def encode(self, df: pd.DataFrame, *, unseen: str = "error") -> np.ndarray:
        """The feature's block of the design matrix, float64 of shape ``(n, len(terms))``.

        ``unseen``: what to do with data not seen in fitting (see :mod:`actnn._unseen`).
        """

    def write(self, df: pd.DataFrame, out: np.ndarray, *, unseen: str = "error") -> None:
        """Write the feature's block of the design matrix into ``out`` (a view)."""
        out[...] = self.encode(df, unseen=unseen)

    def levels_table(self) -> list[tuple[Any, str | None]]:
        """``(level, term)`` pairs for a tariff table; ``term`` None marks the reference."""
        return [(term, term) for term in self.terms]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description, read back by :meth:`FeatureSpec.from_dict`."""
        return {"kind": self.kind, **dataclasses.asdict(self)}


@dataclass(frozen=True)
class Continuous(Feature):
    """A numeric rating factor entering the linear predictor with one coefficient.

    Parameters
    ----------
    column : str
        Column of the data.
    mapping : dict, optional
        Labels to numbers before anything else, e.g. ``{"A": 1, ..., "F": 6}`` for Area.
    lower, upper : float, optional
        Caps applied next: ``min(max(x, lower), upper)``, e.g. ``upper=150`` for BonusMalus.
    log : bool
        Take the natural log next, e.g. for Density.
    decimals : int, optional
        Round last, e.g. ``round(log(Density), 2)`` of SW2019's network inputs.
    fitted_range : (float, float), optional
        Set by :meth:`fit`: the range of the transformed values on the learning data. A value
        outside it is an error or is clipped to it (``unseen``, see :meth:`values`).
    """

    mapping: Mapping[Any, float] | None = None
    lower: float | None = None
    upper: float | None = None
    log: bool = False
    decimals: int | None = None
    fitted_range: tuple[float, float] | None = None

    kind: ClassVar[str] = "continuous"

    @property
    def terms(self) -> list[str]:
        """One design-matrix column, named by the feature's label."""
        return [self.label]

    def fit(self, df: pd.DataFrame) -> Continuous:
        """Return the feature with ``fitted_range`` set to the range of its values in ``df``."""
        return dataclasses.replace(self, fitted_range=_fitted_range(self._transformed(df)))

    def values(self, df: pd.DataFrame, *, unseen: str = "error") -> np.ndarray:
        """The transformed value as float64 (mapped, capped, logged, rounded). A value outside
        ``fitted_range`` is clipped to it with a DataWarning naming the rows and the range
        (whatever ``unseen`` says, which is only checked)."""
        where = " (after the log)" if self.log else ""
        return _within_range(self._transformed(df), self.fitted_range, self.column, unseen, where)

    def _transformed(self, df: pd.DataFrame) -> np.ndarray:
        x = self._capped(df)
        if self.log:
            bad = x <= 0
            if bad.any():
                what = "a value <= 0, where the log needs values > 0"
                raise ValueError(_rows_message(f"column {self.column!r}", bad, x, what))
            x = np.log(x)
        if self.decimals is not None:
            x = np.round(x, self.decimals)
        return x

    def _capped(self, df: pd.DataFrame) -> np.ndarray:
        if self.mapping is not None:
            raw = df[self.column].astype(object)
            mapped = raw.map(dict(self.mapping))
            unknown = mapped.isna().to_numpy()
            if unknown.any():
                what = f"a value that is not in the mapping {sorted(self.mapping, key=str)}"
                raise ValueError(_rows_message(f"column {self.column!r}", unknown, raw, what))
            x = mapped.to_numpy(dtype=np.float64)
        else:
            x = _numeric(df, self.column)
        if self.lower is not None or self.upper is not None:
            x = np.clip(x, self.lower, self.upper)
        return x

    def encode(self, df: pd.DataFrame, *, unseen: str = "error") -> np.ndarray:
        """The transformed value (:meth:`values`) as a float64 column ``(n, 1)``."""
        return self.values(df, unseen=unseen)[:, None]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description; ``mapping`` is stored as ``[key, value]`` pairs."""
        out = super().to_dict()
        if self.mapping is not None:
            # pairs, not a dict: JSON would turn non-string keys into strings
            out["mapping"] = [[key, value] for key, value in self.mapping.items()]
        return out


@dataclass(frozen=True)
class Polynomial(Feature):
    """Powers ``x, x^2, ..., x^degree`` of a numeric column, optionally with ``log(x)``.

    With ``log_term=True`` the terms are ``x, log(x), x^2, ..., x^degree``, the driver-age
    polynomial of Schelldorfer & Wüthrich (2019), GLM2. ``fitted_range`` is set by :meth:`fit`,
    as for :class:`Continuous`: a polynomial is not extrapolated silently.
    """

    degree: int = 2
    log_term: bool = False
    fitted_range: tuple[float, float] | None = None

    kind: ClassVar[str] = "polynomial"

    def __post_init__(self):
        if self.degree < 1:
            raise ValueError(f"degree must be >= 1, got {self.degree}")

    @property
    def terms(self) -> list[str]:
        """``label``, ``log(label)`` (with ``log_term``), ``label^2``, ..., ``label^degree``."""
        names = [self.label]
        if self.log_term:
            names.append(f"log({self.label})")
        return names + [f"{self.label}^{k}" for k in range(2, self.degree + 1)]

    def fit(self, df: pd.DataFrame) -> Polynomial:
        """Return the feature with ``fitted_range`` set to the range of the column in ``df``."""
        return dataclasses.replace(self, fitted_range=_fitted_range(_numeric(df, self.column)))

    def encode(self, df: pd.DataFrame, *, unseen: str = "error") -> np.ndarray:
        """The powers (and log) of the column, float64 ``(n, len(terms))``, in ``terms`` order;
        a value outside ``fitted_range``: see :meth:`Continuous.values`."""
        x = _within_range(_numeric(df, self.column), self.fitted_range, self.column, unseen)
        cols = [x]
        if self.log_term:
            bad = x <= 0
            if bad.any():
                what = "a value <= 0, where the log term needs values > 0"
                raise ValueError(_rows_message(f"column {self.column!r}", bad, x, what))
            cols.append(np.log(x))
        cols += [x**k for k in range(2, self.degree + 1)]
        return np.column_stack(cols)


@dataclass(frozen=True)
class _Levelled(Feature):
    """A feature with levels and one dummy term per non-reference level."""

    reference: Any = None

    def codes(self, df: pd.DataFrame, *, unseen: str = "error") -> np.ndarray:
        """Integer code of each row's level, in :attr:`levels` order."""
        raise NotImplementedError

    @property
    def levels(self) -> list[Any]:
        """The feature's levels, in order (the reference among them)."""
        raise NotImplementedError

    @property
    def reference_level(self) -> Any:
        """The reference level (coefficient 0): ``reference``, else the first level."""
        levels = self.levels
        return levels[0] if self.reference is None else self.reference

    @property
    def terms(self) -> list[str]:
        """One dummy ``<label><level>`` per level other than the reference."""
        ref = self.reference_level
        return [f"{self.label}{lvl}" for lvl in self.levels if lvl != ref]

    def levels_table(self) -> list[tuple[Any, str | None]]:
        """``(level, term)`` for every level; the reference level's term is None."""
        ref = self.reference_level
        return [(lvl, None if lvl == ref else f"{self.label}{lvl}") for lvl in self.levels]

    def encode(self, df: pd.DataFrame, *, unseen: str = "error") -> np.ndarray:
        """The dummy block, float64 ``(n, len(terms))`` (zeros for the reference level).

        ``unseen``: rows without a level (see :meth:`codes`) are an error (``"error"``) or
        encoded as the reference level with a :class:`~actnn.DataWarning`
        (``"reference"``).
        """
        out = np.empty((len(df), len(self.terms)), order="F")
        self.write(df, out, unseen=unseen)
        return out

    def write(self, df: pd.DataFrame, out: np.ndarray, *, unseen: str = "error") -> None:
        """Write the dummy block into ``out`` (a view of the design matrix), in place."""
        # the dummies are written in place: a one-hot block is most of a design matrix
        codes = self.codes(df, unseen=unseen)
        levels = self.levels
        ref_code = levels.index(self.reference_level)
        col_of_code = np.arange(len(levels)) - (np.arange(len(levels)) > ref_code)
        col_of_code[ref_code] = -1
        cols = col_of_code[codes]
        rows = np.flatnonzero(cols >= 0)
        out[...] = 0.0
        if out.flags.f_contiguous:  # a block of the column-major design matrix
            # one flat index per row: about 7 times faster than out[rows, cols[rows]] = 1.0
            out.reshape(-1, order="F")[rows + len(out) * cols[rows]] = 1.0
        else:
            out[rows, cols[rows]] = 1.0

    def _check_reference(self):
        if self.reference is not None and self.reference not in self.levels:
            raise ValueError(
                f"feature {self.label!r}: reference {self.reference!r} is not a level; "
                f"levels: {_listed([repr(level) for level in self.levels], 'levels')}"
            )


@dataclass(frozen=True)
class Categorical(_Levelled):
    """A factor with dummy coding against a reference level.

    Parameters
    ----------
    column : str
        Column of the data (strings, categories or integers).
    reference : optional
        The reference level (coefficient 0); default the first level.
    upper : float, optional
        Cap numeric values first, ``min(x, upper)``, e.g. ``pmin(VehPower, 9)`` of NSW2018.
    fitted_levels : list, optional
        The levels; set by :meth:`fit` from the learning data (the categories' order for a
        categorical column, sorted otherwise). Unseen levels later are an error.
    """

    upper: float | None = None
    fitted_levels: tuple[Any, ...] | None = None

    kind: ClassVar[str] = "categorical"

    def _values(self, df: pd.DataFrame) -> pd.Series:
        values = df[self.column]
        if self.upper is not None:
            values = pd.Series(np.minimum(_numeric(df, self.column), self.upper), index=df.index)
            if (values == np.round(values)).all():
                values = values.astype(np.int64)
        return values

    def fit(self, df: pd.DataFrame) -> Categorical:
        """Return the feature with ``fitted_levels`` set to the levels present in ``df``.

        Missing values, values of mixed types and a ``reference`` that is not a level are a
        ``ValueError`` (naming the rows).
        """
        values = self._values(df)
        _check_no_missing(values, self.column)
        if isinstance(values.dtype, pd.CategoricalDtype):
            present = set(values.unique())
            levels = [lvl for lvl in values.cat.categories if lvl in present]
        else:
            try:
                levels = sorted(values.unique().tolist())
            except TypeError:
                types = sorted({type(v).__name__ for v in values.unique().tolist()})
                raise ValueError(
                    f"column {self.column!r}: the values mix types ({', '.join(types)}), which "
                    "cannot be ordered as levels: give the column one type"
                ) from None
        levels = [lvl.item() if isinstance(lvl, np.generic) else lvl for lvl in levels]
        fitted = dataclasses.replace(self, fitted_levels=tuple(levels))
        fitted._check_reference()
        return fitted

    @property
    def is_fitted(self) -> bool:
        """Whether the levels are fixed (by :meth:`fit` or ``fitted_levels``)."""
        return self.fitted_levels is not None

    @property
    def levels(self) -> list[Any]:
        """The fitted levels; a ``RuntimeError`` before :meth:`fit`."""
        if self.fitted_levels is None:
            raise RuntimeError(f"feature {self.label!r} is not fitted: call FeatureSpec.fit first")
        return list(self.fitted_levels)

    def codes(self, df: pd.DataFrame, *, unseen: str = "error") -> np.ndarray:
        """Integer code of each row's level in :attr:`levels`.

        Missing values are a ``ValueError``. A level not seen by :meth:`fit` is a ``ValueError``
        naming the rows, the unseen and the fitted levels (``unseen="error"``), or is encoded as
        :attr:`reference_level` with a :class:`~actnn.DataWarning` naming the same
        (``unseen="reference"``).
        """
        return _level_codes(self._values(df), self.levels, self.column, unseen=unseen,
                            reference=self.reference_level)  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description, with the fitted levels if any."""
        out = super().to_dict()
        if self.fitted_levels is not None:
            out["fitted_levels"] = list(self.fitted_levels)
        return out


@dataclass(frozen=True)
class Binned(_Levelled):
    """A numeric column cut into classes ``[edges[k], edges[k+1])``, dummy coded.

    Parameters
    ----------
    column : str
        Column of the data.
    edges : sequence of float
        Increasing class boundaries; the first may be ``-inf`` and the last ``inf``. Values
        outside ``[edges[0], edges[-1])`` are an error.
    reference : str, optional
        Label of the reference class; default the first class.
    labels : sequence of str, optional
        Class labels; default ``"[a,b)"``, ``"<b"`` for a first class from ``-inf`` and ``"a+"``
        for a last class to ``inf``.
    fitted_range : (float, float), optional
        Set by :meth:`fit`, as for :class:`Continuous`: checked before the classes.
    """

    edges: tuple[float, ...] = ()
    labels: tuple[str, ...] | None = None
    fitted_range: tuple[float, float] | None = None

    kind: ClassVar[str] = "binned"

    def __post_init__(self):
        edges = tuple(float(e) for e in self.edges)
        if len(edges) < 2 or any(b <= a for a, b in zip(edges, edges[1:], strict=False)):
            raise ValueError(f"edges must be increasing with at least 2 values, got {self.edges}")
        object.__setattr__(self, "edges", edges)
        if self.labels is not None:
            if len(self.labels) != len(edges) - 1:
                raise ValueError(
                    f"{len(edges) - 1} classes need {len(edges) - 1} labels, got {len(self.labels)}"
                )
            object.__setattr__(self, "labels", tuple(self.labels))
        self._check_reference()

    @property
    def levels(self) -> list[str]:
        """The class labels: ``labels`` if given, else ``"[a,b)"``, ``"<b"`` and ``"a+"``."""
        if self.labels is not None:
            return list(self.labels)

        def fmt(x: float) -> str:
            return str(int(x)) if x == int(x) else repr(x)

        def label(a: float, b: float) -> str:
            if math.isinf(a):
                return f"<{fmt(b)}"
            return f"{fmt(a)}+" if math.isinf(b) else f"[{fmt(a)},{fmt(b)})"

        return [label(a, b) for a, b in zip(self.edges, self.edges[1:], strict=False)]

    def fit(self, df: pd.DataFrame) -> Binned:
        """Return the feature with ``fitted_range`` set to the range of the column in ``df``."""
        return dataclasses.replace(self, fitted_range=_fitted_range(_numeric(df, self.column)))

    def codes(self, df: pd.DataFrame, *, unseen: str = "error") -> np.ndarray:
        """Class index of each row.

        A value outside ``fitted_range`` is clipped to the range, i.e. put in the nearest class
        seen, with a :class:`~actnn.DataWarning` naming the rows and the range. Without a
        fitted range, a value outside ``[edges[0], edges[-1])`` is an error
        (``unseen="error"``) or the reference class (``unseen="reference"``).
        """
        x = _within_range(_numeric(df, self.column), self.fitted_range, self.column, unseen)
        codes = np.searchsorted(np.asarray(self.edges), x, side="right") - 1
        outside = (x < self.edges[0]) | (x >= self.edges[-1])
        if outside.any():
            what = f"a value outside the classes [{self.edges[0]}, {self.edges[-1]})"
            codes = _without_level(codes, outside, x, self.column, what, "", unseen, self.levels,
                                   self.reference_level)  # fmt: skip
        return codes

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description; infinite edges are stored as ``"inf"`` and ``"-inf"``."""
        out = super().to_dict()
        out["edges"] = [str(e) if math.isinf(e) else e for e in self.edges]  # JSON has no inf
        if self.labels is not None:
            out["labels"] = list(self.labels)
        return out


_KINDS: dict[str, type[Feature]] = {
    cls.kind: cls for cls in (Continuous, Polynomial, Categorical, Binned)
}


@dataclass(frozen=True)
class FeatureSpec:
    """An ordered list of features: the design of a GLM.

    Examples
    --------
    >>> spec = FeatureSpec([
    ...     Continuous("BonusMalus", upper=150),
    ...     Continuous("Density", log=True),
    ...     Categorical("VehGas"),
    ... ])
    >>> fitted = spec.fit(learn)  # doctest: +SKIP
    >>> X = fitted.design_matrix(learn)  # doctest: +SKIP
    """

    features: tuple[Feature, ...]
    name: str | None = None

    def __post_init__(self):
        features = tuple(self.features)
        for f in features:
            if not isinstance(f, Feature):
                raise TypeError(f"features must be Feature objects, got {type(f).__name__}")
        labels = [f.label for f in features]
        dupes = sorted({x for x in labels if labels.count(x) > 1})
        if dupes:
            raise ValueError(f"feature names must be unique; repeated: {dupes} (set name=...)")
        object.__setattr__(self, "features", features)

    @property
    def columns(self) -> list[str]:
        """The data columns the features read."""
        return list(dict.fromkeys(f.column for f in self.features))

    def check_columns(self, df: pd.DataFrame) -> None:
        """Raise ``TypeError``/``ValueError`` unless ``df`` is a frame with rows and every needed
        column, each once (further columns are ignored)."""
        _check_frame(df, "data")
        missing = [c for c in self.columns if c not in df.columns]
        if missing:
            raise ValueError(f"data lacks the feature columns {missing}; it has {list(df.columns)}")
        repeated = _repeated_columns(df, self.columns)
        if repeated:
            raise ValueError(f"the data has the columns {repeated} more than once")
        if len(df) == 0:
            raise ValueError(f"the data has no rows (columns: {list(df.columns)})")

    def fit(self, df: pd.DataFrame) -> FeatureSpec:
        """Return the specification with the levels of its categorical features fixed on ``df``."""
        self.check_columns(df)
        return dataclasses.replace(self, features=tuple(f.fit(df) for f in self.features))

    @property
    def is_fitted(self) -> bool:
        """Whether every feature is fitted (see :meth:`fit`)."""
        return all(f.is_fitted for f in self.features)

    @property
    def terms(self) -> list[str]:
        """Names of the design-matrix columns (without the intercept)."""
        return [t for f in self.features for t in f.terms]

    @property
    def term_feature(self) -> dict[str, str]:
        """The feature label of each term."""
        return {t: f.label for f in self.features for t in f.terms}

    def design_matrix(
        self, df: pd.DataFrame, *, intercept: bool = False, unseen: str = "error"
    ) -> np.ndarray:
        """The design matrix of ``df``, float64 ``(n, len(terms))``.

        With ``intercept=True`` a first column of ones is added (written in place, no copy).
        The matrix is column-major (Fortran order): each feature writes a contiguous block.
        ``unseen`` says what to do with a row that has no level of a :class:`Categorical` (a
        level not seen by :meth:`fit`) or :class:`Binned` feature (a value outside its classes):
        ``"error"`` (default), a ``ValueError`` naming the column, the rows and the levels;
        ``"reference"``, encode it as the feature's reference level, with a
        :class:`~actnn.DataWarning` naming the same. A numeric value outside a feature's
        ``fitted_range`` is clipped to the range with a DataWarning.
        """
        if not self.is_fitted:
            raise RuntimeError("the feature specification is not fitted: call .fit(data) first")
        _check_unseen(unseen)
        self.check_columns(df)
        start = int(intercept)
        out = np.empty((len(df), start + len(self.terms)), order="F")
        if intercept:
            out[:, 0] = 1.0
        for f in self.features:
            width = len(f.terms)
            block = out[:, start : start + width]
            f.write(df, block, unseen=unseen)
            start += width
        return out

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description: ``name`` and each feature's ``to_dict``."""
        return {"name": self.name, "features": [f.to_dict() for f in self.features]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FeatureSpec:
        """Rebuild a specification (fitted levels included) from :meth:`to_dict`'s output."""
        features = []
        for item in data["features"]:
            item = dict(item)
            kind = item.pop("kind")
            if kind not in _KINDS:
                raise ValueError(f"unknown feature kind {kind!r}; valid: {sorted(_KINDS)}")
            if isinstance(item.get("mapping"), list):
                item["mapping"] = {key: value for key, value in item["mapping"]}
            for key in ("fitted_levels", "edges", "labels", "fitted_range"):
                if item.get(key) is not None:
                    item[key] = tuple(item[key])
            features.append(_KINDS[kind](**item))
        return cls(tuple(features), name=data.get("name"))
