"""Interpretation of fitted tariffs: partial dependence, ICE, permutation importance, embeddings.

Every function takes a fitted actnn model (GLM, FNN, CANN, LocalGLMnet or Nagging) and a data
frame with the model's feature columns, and returns a pandas DataFrame with documented columns.
Averages over policies weigh every policy equally unless ``weights`` is given (pass the exposure,
or the case weights of a severity model, as the report does), so a partial dependence is the
tariff's mean rate over the portfolio as it is, with one feature set to each value.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .families import get_family

__all__ = [
    "predict_rate",
    "partial_dependence",
    "ice",
    "permutation_importance",
    "embedding_table",
    "relativities_comparison",
    "relativities_from_partial_dependence",
]


def predict_rate(model: Any, data: pd.DataFrame) -> np.ndarray:
    """The model's prediction per unit of exposure (frequency), or its mean if it has no exposure.

    Works for every actnn model: those fitted with an exposure give claims per year, the others
    (severity) the expected claim size.
    """
    if hasattr(model, "predict_frequency"):
        return np.asarray(model.predict_frequency(data), dtype=float)
    return np.asarray(model.predict(data), dtype=float)


def _weights(data: pd.DataFrame, weights: Any) -> np.ndarray:
    if weights is None:
        return np.ones(len(data))
    w = np.asarray(data[weights] if isinstance(weights, str) else weights, dtype=float)
    if w.shape != (len(data),):
        raise ValueError(f"weights must have one value per row ({len(data)}), got {w.shape}")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("weights must be finite and >= 0")
    return w


def _grid(data: pd.DataFrame, feature: str, grid: Sequence | None, n_points: int) -> list:
    if feature not in data.columns:
        raise KeyError(f"no column {feature!r} in the data; columns: {list(data.columns)}")
    if grid is not None:
        return list(grid)
    col = data[feature]
    values = col.dropna().unique()
    if not pd.api.types.is_numeric_dtype(col) or len(values) <= n_points:
        if isinstance(col.dtype, pd.CategoricalDtype):
            return [v for v in col.cat.categories if v in set(values)]
        return sorted(values.tolist())
    qs = np.quantile(col.to_numpy(dtype=float), np.linspace(0.01, 0.99, n_points))
    grid_values = np.unique(np.round(qs, 6))
    if pd.api.types.is_integer_dtype(col):
        grid_values = np.unique(np.round(grid_values).astype(col.dtype))
    return grid_values.tolist()


def _with_value(data: pd.DataFrame, feature: str, value: Any) -> pd.DataFrame:
    changed = data.copy()
    if isinstance(data[feature].dtype, pd.CategoricalDtype):
        changed[feature] = pd.Categorical([value] * len(data), dtype=data[feature].dtype)
    else:
        changed[feature] = np.full(len(data), value, dtype=np.asarray(data[feature]).dtype)
    return changed


def _sample(data: pd.DataFrame, w: np.ndarray, n: int | None, seed: int):
    if n is None or n >= len(data):
        return data, w
    rows = np.sort(np.random.default_rng(seed).choice(len(data), size=n, replace=False))
    return data.iloc[rows], w[rows]


def _rates_on_grid(model: Any, data: pd.DataFrame, feature: str, grid: Sequence) -> np.ndarray:
    """Rates of every row with the feature set to each grid value, shape ``(len(grid), n)``.

    All grid values go through the model in one call (one large batch, not one per value).
    """
    if not len(grid):
        return np.empty((0, len(data)))
    stacked = pd.concat([_with_value(data, feature, v) for v in grid], ignore_index=True)
    return predict_rate(model, stacked).reshape(len(grid), len(data))


def partial_dependence(
    model: Any,
    data: pd.DataFrame,
    feature: str,
    *,
    grid: Sequence | None = None,
    n_points: int = 20,
    weights: Any = None,
    sample: int | None = 20_000,
    seed: int = 0,
) -> pd.DataFrame:
    """Weighted partial dependence of the model's rate on one feature.

    Parameters
    ----------
    model : fitted actnn model
    data : DataFrame
        Portfolio over which the prediction is averaged (e.g. the learning data).
    feature : str
        Column to vary.
    grid : sequence, optional
        Values to set; default: every level (categorical or <= ``n_points`` values), else
        ``n_points`` quantiles between the 1 % and 99 % quantiles.
    weights : str or array, optional
        Column name or array of weights (e.g. ``"Exposure"``); default equal weights.
    sample : int, optional
        Average over a random sample of this many rows (None: all rows).
    seed : int
        Seed of the sample.

    Returns
    -------
    DataFrame
        ``value`` (the grid), ``prediction`` (weighted mean rate with the feature set to the
        value), ``weight_share`` (share of the weights observed at the value; 0 for values
        between observed ones).
    """
    grid_values = _grid(data, feature, grid, n_points)
    w_all = _weights(data, weights)
    sub, w = _sample(data, w_all, sample, seed)
    rates = _rates_on_grid(model, sub, feature, grid_values)
    prediction = [float(np.average(r, weights=w)) for r in rates]
    observed = data[feature].to_numpy()
    share = [float(w_all[observed == v].sum() / w_all.sum()) for v in grid_values]
    return pd.DataFrame({"value": grid_values, "prediction": prediction, "weight_share": share})


def ice(
    model: Any,
    data: pd.DataFrame,
    feature: str,
    *,
    grid: Sequence | None = None,
    n_points: int = 20,
    n_curves: int = 50,
    seed: int = 0,
) -> pd.DataFrame:
    """Individual conditional expectation: the rate of single policies as one feature varies.

    Returns a long DataFrame: ``row`` (position of the policy in ``data``), ``value``,
    ``prediction``; ``n_curves`` policies drawn at random (seeded).
    """
    grid_values = _grid(data, feature, grid, n_points)
    n = min(n_curves, len(data))
    rows = np.sort(np.random.default_rng(seed).choice(len(data), size=n, replace=False))
    sub = data.iloc[rows]
    rates = _rates_on_grid(model, sub, feature, grid_values)
    frames = [
        pd.DataFrame({"row": rows, "value": [v] * n, "prediction": r})
        for v, r in zip(grid_values, rates, strict=True)
    ]
    return pd.concat(frames, ignore_index=True)


def permutation_importance(
    model: Any,
    data: pd.DataFrame,
    response: str,
    *,
    features: Sequence[str],
    exposure: str | None = None,
    weights: str | None = None,
    family: str = "poisson",
    n_repeats: int = 3,
    seed: int = 0,
    predict: Callable[[Any, pd.DataFrame], np.ndarray] | None = None,
) -> pd.DataFrame:
    """Increase of the mean deviance when one feature's values are shuffled.

    Parameters
    ----------
    model : fitted actnn model
    data : DataFrame
        Data with the response (use the test data for an honest measure).
    response : str
        Response column (claim counts with ``exposure``, else the response the model predicts).
    features : sequence of str
        Columns to permute, one at a time.
    exposure, weights : str, optional
        Exposure column (Poisson frequency: predictions are expected counts) or case weights.
    family : str
        Deviance used as the score.
    n_repeats, seed : int
        Permutations per feature, and their seed.
    predict : callable, optional
        ``predict(model, data)`` giving the mean response; default ``model.predict`` with the
        exposure column.

    Returns
    -------
    DataFrame
        ``feature``, ``increase`` (mean increase of the weighted mean unit deviance over the
        repeats; for Poisson in units of 10^-2 per policy, as the published tables), ``std``,
        sorted by ``increase``, largest first. ``attrs["baseline"]`` holds the unpermuted score.
    """
    fam = get_family(family)
    scale = 100.0 if fam.name == "poisson" else 1.0
    y = data[response].to_numpy(dtype=float)
    w = _weights(data, weights)

    def score(frame: pd.DataFrame) -> float:
        if predict is not None:
            mu = predict(model, frame)
        elif exposure is not None:
            mu = model.predict(frame, exposure=exposure)
        else:
            mu = model.predict(frame)
        return scale * fam.mean_deviance(y, np.asarray(mu, dtype=float), w)

    baseline = score(data)
    rng = np.random.default_rng(seed)
    rows = []
    for feature in features:
        if feature not in data.columns:
            raise KeyError(f"no column {feature!r} in the data")
        increases = []
        for _ in range(n_repeats):
            shuffled = data.copy()
            shuffled[feature] = data[feature].to_numpy()[rng.permutation(len(data))]
            if isinstance(data[feature].dtype, pd.CategoricalDtype):
                shuffled[feature] = pd.Categorical(shuffled[feature], dtype=data[feature].dtype)
            increases.append(score(shuffled) - baseline)
        rows.append((feature, float(np.mean(increases)), float(np.std(increases, ddof=0))))
    out = pd.DataFrame(rows, columns=["feature", "increase", "std"])
    out = out.sort_values("increase", ascending=False, ignore_index=True)
    out.attrs["baseline"] = baseline
    return out


def embedding_table(model: Any) -> pd.DataFrame:
    """The learned embedding of every categorical level of a network (FNN or CANN).

    Returns
    -------
    DataFrame
        ``feature``, ``level``, and ``dim_1``, ``dim_2``, ... (the embedding coordinates).
    """
    inputs = getattr(model, "inputs_", None)
    # only a network has inputs_ (a GLM would build its network, with TensorFlow, for nothing)
    keras_model = None if inputs is None else getattr(model, "keras_model_", None)
    if keras_model is None or inputs is None:
        raise TypeError(
            f"{type(model).__name__} has no learned embeddings (a fitted FNN or CANN has)"
        )
    frames = []
    for f in inputs.categorical:
        try:
            layer = keras_model.get_layer(f"{f.label}_embedding")
        except ValueError:
            continue
        table = np.asarray(layer.get_weights()[0])
        frame = pd.DataFrame(table, columns=[f"dim_{k + 1}" for k in range(table.shape[1])])
        frame.insert(0, "level", [str(level) for level in f.levels])
        frame.insert(0, "feature", f.label)
        frames.append(frame)
    if not frames:
        raise TypeError(f"{type(model).__name__} has no embedding layers")
    return pd.concat(frames, ignore_index=True)


def relativities_comparison(
    glm: Any,
    model: Any,
    data: pd.DataFrame,
    feature: str,
    *,
    weights: Any = None,
    sample: int | None = 20_000,
    seed: int = 0,
) -> pd.DataFrame:
    """Relativities of one feature by level: the GLM's beside those implied by another model.

    Both are partial dependences normalised to 1 at the level with the largest weight, so a
    GLM on that feature alone shows exactly its ``exp(coefficient)`` ratios and a network its
    average effect.

    Returns
    -------
    DataFrame
        ``value``, ``glm``, ``model`` (relativities), ``weight_share``.
    """
    pd_glm = partial_dependence(glm, data, feature, weights=weights, sample=sample, seed=seed)
    pd_net = partial_dependence(model, data, feature, grid=pd_glm["value"], weights=weights,
                                sample=sample, seed=seed)  # fmt: skip
    return relativities_from_partial_dependence(pd_glm, pd_net)


def relativities_from_partial_dependence(
    pd_glm: pd.DataFrame, pd_model: pd.DataFrame
) -> pd.DataFrame:
    """Two partial dependences on the same grid as relativities, 1 at the GLM's largest level.

    Returns the table of :func:`relativities_comparison` (``value``, ``glm``, ``model``,
    ``weight_share``).
    """
    base = int(np.argmax(pd_glm["weight_share"].to_numpy()))
    return pd.DataFrame(
        {
            "value": pd_glm["value"],
            "glm": pd_glm["prediction"] / pd_glm["prediction"].iloc[base],
            "model": pd_model["prediction"] / pd_model["prediction"].iloc[base],
            "weight_share": pd_glm["weight_share"],
        }
    )
