"""Figures of the evaluation: each function draws one DataFrame of :mod:`actnn.metrics` or
:mod:`actnn.interpret` on a matplotlib Axes.

Every function takes ``ax=None`` (a new figure is made) and returns the Axes. Each checks its
arguments before it draws: a wrong kind of argument is a ``TypeError`` and a table without the
columns it draws a ``ValueError``, both saying what the function expects. This is the only
module of actnn that imports matplotlib.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from ..metrics._binning import _level_label

__all__ = [
    "figure_png",
    "plot_lorenz",
    "plot_ordered_lorenz",
    "plot_double_lift",
    "plot_calibration",
    "plot_bias_by_feature",
    "plot_marginal",
    "plot_partial_dependence",
    "plot_ice",
    "plot_relativities",
    "plot_embeddings",
    "plot_beta",
    "plot_importance",
    "plot_murphy",
    "plot_history",
]


def figure_png(draw, size: tuple[float, float] = (6.4, 4.4), dpi: int = 100) -> bytes:
    """PNG bytes of a new figure on which ``draw(ax)`` draws (no pyplot state is kept)."""
    if not callable(draw):
        raise TypeError(f"draw must be a function of an Axes, got {type(draw).__name__}")
    import io

    from matplotlib.figure import Figure

    fig = Figure(figsize=size, layout="constrained", dpi=dpi)
    draw(fig.add_subplot())
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def _frame(table, columns: Sequence[str], argument: str, source: str) -> pd.DataFrame:
    """``table`` if it is a DataFrame with ``columns``, else an error naming what is expected."""
    expected = f"{argument} must be a DataFrame of {source} (columns {', '.join(columns)})"
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"{expected}, got {type(table).__name__}")
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"{expected}; it lacks {missing} (it has {list(table.columns)})")
    return table


def _frames(tables, columns: Sequence[str], argument: str, source: str) -> dict[str, pd.DataFrame]:
    """``tables`` as a dict of model name -> DataFrame with ``columns``, checked, or an error."""
    expected = f"a mapping of model name -> {source} DataFrame"
    if isinstance(tables, pd.DataFrame):
        raise TypeError(f"{argument} must be {expected}, got one DataFrame: pass {{'name': it}}")
    if not isinstance(tables, Mapping):
        raise TypeError(f"{argument} must be {expected}, got {type(tables).__name__}")
    if not tables:
        raise ValueError(f"{argument} is empty; it must be {expected}")
    return {
        str(name): _frame(t, columns, f"{argument}[{name!r}]", source) for name, t in tables.items()
    }


def _names(names, n: int = 2) -> tuple[str, ...]:
    if isinstance(names, str) or not isinstance(names, Sequence) or len(names) != n:
        raise TypeError(f"names must be a sequence of {n} model names, got {names!r}")
    return tuple(str(name) for name in names)


def _axes(ax, size=(5.5, 4.0)):
    from matplotlib.axes import Axes

    if ax is not None and not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}")
    if ax is None:
        _, ax = plt.subplots(figsize=size, layout="constrained")
    return ax


def plot_lorenz(curves: Mapping[str, pd.DataFrame], *, ax=None, ginis=None):
    """Concentration curves of several tariffs (``lorenz_curve`` frames), with the diagonal.

    ``ginis`` (name -> Gini) are added to the legend.
    """
    curves = _frames(curves, ["exposure_share", "loss_share"], "curves", "metrics.lorenz_curve")
    if ginis is not None:
        if not isinstance(ginis, Mapping) or set(curves) - set(map(str, ginis)):
            raise TypeError(f"ginis must be a mapping with a Gini for every curve {list(curves)}")
        ginis = {str(name): float(g) for name, g in ginis.items()}
    ax = _axes(ax)
    ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls="--", label="no discrimination")
    for name, curve in curves.items():
        label = name if ginis is None else f"{name} (Gini {ginis[name]:.3f})"
        ax.plot(curve["exposure_share"], curve["loss_share"], label=label)
    ax.set(xlabel="share of exposure, lowest predicted first", ylabel="share of claims",
           xlim=(0, 1), ylim=(0, 1), title="Lorenz curves")  # fmt: skip
    ax.legend(loc="upper left", fontsize="small")
    return ax


def plot_ordered_lorenz(curve: pd.DataFrame, *, x: str, y: str, label: str = "", ax=None):
    """Ordered Lorenz curve of an alternative tariff relative to a base (Frees et al. 2011)."""
    curve = _frame(curve, [x, y], "curve", "metrics.ordered_lorenz")
    ax = _axes(ax)
    ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls="--")
    ax.plot(curve[x], curve[y], label=label or None)
    ax.set(xlabel="share of base premium, by relativity alternative / base",
           ylabel="share of claims", xlim=(0, 1), ylim=(0, 1),
           title="Ordered Lorenz curve")  # fmt: skip
    if label:
        ax.legend(loc="upper left", fontsize="small")
    return ax


def plot_double_lift(table: pd.DataFrame, *, names: Sequence[str] = ("A", "B"), ax=None):
    """Double-lift chart: observed and both tariffs' mean predictions by bin of their ratio."""
    columns = ["bin", "observed", "predicted_a", "predicted_b"]
    table, names = _frame(table, columns, "table", "metrics.double_lift"), _names(names)
    ax = _axes(ax)
    x = table["bin"]
    ax.plot(x, table["observed"], "o-", color="black", label="observed")
    ax.plot(x, table["predicted_a"], "s--", label=names[0])
    ax.plot(x, table["predicted_b"], "^--", label=names[1])
    ax.set(xlabel=f"bin of {names[0]} / {names[1]} (equal exposure)", ylabel="frequency",
           title="Double lift")  # fmt: skip
    ax.legend(fontsize="small")
    return ax


def plot_calibration(tables: Mapping[str, pd.DataFrame], *, ax=None):
    """Reliability diagram: observed against predicted means by bin (``calibration_bins``)."""
    columns = ["mean_predicted", "mean_observed", "std_error"]
    tables = _frames(tables, columns, "tables", "metrics.calibration_bins")
    ax = _axes(ax)
    lo = min(float(t["mean_predicted"].min()) for t in tables.values())
    hi = max(float(t[["mean_predicted", "mean_observed"]].max().max()) for t in tables.values())
    ax.plot([lo, hi], [lo, hi], color="grey", lw=0.8, ls="--", label="perfect calibration")
    for name, t in tables.items():
        ax.errorbar(t["mean_predicted"], t["mean_observed"], yerr=1.96 * t["std_error"],
                    fmt="o-", ms=3, capsize=2, label=name)  # fmt: skip
    ax.set(xlabel="mean predicted", ylabel="mean observed", title="Calibration by bin")
    ax.legend(fontsize="small")
    return ax


def plot_bias_by_feature(tables: Mapping[str, pd.DataFrame], *, feature: str = "", ax=None):
    """Bias (mean predicted minus observed) by level with 95 % intervals, one series per model."""
    tables = _frames(tables, ["level", "bias", "std_error"], "tables", "metrics.bias_by_feature")
    ax = _axes(ax, size=(6.5, 4.0))
    names = list(tables)
    width = 0.8 / max(len(names), 1)
    for k, name in enumerate(names):
        t = tables[name]
        pos = np.arange(len(t)) + (k - (len(names) - 1) / 2) * width
        ax.errorbar(pos, t["bias"], yerr=1.96 * t["std_error"], fmt="o", ms=3, capsize=2,
                    label=name)  # fmt: skip
    first = tables[names[0]]
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xticks(np.arange(len(first)), [_level_label(v) for v in first["level"]], rotation=60,
                  fontsize="small")  # fmt: skip
    ax.set(xlabel=feature, ylabel="bias (predicted - observed)", title=f"Bias by {feature}")
    ax.legend(fontsize="small")
    return ax


def _share_bars(ax, positions, share, *, width: float) -> None:
    """Grey bars of the exposure share on a second y-axis, drawn behind ``ax``'s lines."""
    bars = ax.twinx()
    bars.bar(positions, share, width=width, color="grey", alpha=0.2)
    bars.set_ylabel("share of exposure", color="grey")
    bars.set_ylim(0, max(float(np.max(share)) * 4, 1e-9))
    ax.set_zorder(bars.get_zorder() + 1)
    ax.patch.set_visible(False)


def plot_marginal(tables: Mapping[str, pd.DataFrame], *, feature: str = "", ax=None):
    """Observed and predicted means by level of a feature (``bias_by_feature`` tables)."""
    columns = ["level", "observed", "predicted", "weight"]
    tables = _frames(tables, columns, "tables", "metrics.bias_by_feature")
    ax = _axes(ax, size=(6.5, 4.0))
    first = next(iter(tables.values()))
    pos = np.arange(len(first))
    ax.plot(pos, first["observed"], "o-", color="black", ms=3, label="observed")
    for name, t in tables.items():
        ax.plot(pos, t["predicted"], "s--", ms=3, label=name)
    _share_bars(ax, pos, first["weight"] / first["weight"].sum(), width=0.8)
    ax.set_xticks(pos, [_level_label(v) for v in first["level"]], rotation=60, fontsize="small")
    ax.set(xlabel=feature, ylabel="mean", title=f"Observed and predicted by {feature}")
    ax.legend(fontsize="small")
    return ax


def plot_partial_dependence(tables: Mapping[str, pd.DataFrame], *, feature: str = "", ax=None):
    """Partial dependence of several models on one feature, with the weight share as bars."""
    columns = ["value", "prediction", "weight_share"]
    tables = _frames(tables, columns, "tables", "interpret.partial_dependence")
    ax = _axes(ax)
    first = next(iter(tables.values()))
    categorical = not pd.api.types.is_numeric_dtype(first["value"])
    positions = np.arange(len(first)) if categorical else first["value"].to_numpy(dtype=float)
    for name, t in tables.items():
        ax.plot(positions, t["prediction"], "o-" if categorical else "-", ms=3, label=name)
    step = (
        0.8 if categorical else 0.8 * float(np.min(np.diff(positions))) if len(positions) > 1 else 1
    )
    _share_bars(ax, positions, first["weight_share"], width=step)
    if categorical:
        ax.set_xticks(positions, [str(v) for v in first["value"]], rotation=60, fontsize="small")
    ax.set(xlabel=feature, ylabel="mean predicted rate", title=f"Partial dependence: {feature}")
    ax.legend(fontsize="small")
    return ax


def plot_ice(curves: pd.DataFrame, *, feature: str = "", ax=None):
    """ICE curves (``interpret.ice``) with their mean in black."""
    curves = _frame(curves, ["row", "value", "prediction"], "curves", "interpret.ice")
    ax = _axes(ax)
    for _, c in curves.groupby("row"):
        ax.plot(c["value"].astype(str) if c["value"].dtype == object else c["value"],
                c["prediction"], color="tab:blue", alpha=0.2, lw=0.8)  # fmt: skip
    mean = curves.groupby("value", sort=False)["prediction"].mean()
    ax.plot(mean.index.astype(str) if mean.index.dtype == object else mean.index, mean.to_numpy(),
            color="black", lw=2, label="mean")  # fmt: skip
    ax.set(xlabel=feature, ylabel="predicted frequency", title=f"ICE: {feature}")
    ax.legend(fontsize="small")
    return ax


def plot_relativities(table: pd.DataFrame, *, feature: str = "", names=("GLM", "model"), ax=None):
    """GLM relativities beside a model's implied ones (``interpret.relativities_comparison``)."""
    source = "interpret.relativities_from_partial_dependence"
    table, names = _frame(table, ["value", "glm", "model"], "table", source), _names(names)
    ax = _axes(ax)
    pos = np.arange(len(table))
    ax.bar(pos - 0.2, table["glm"], width=0.4, label=names[0])
    ax.bar(pos + 0.2, table["model"], width=0.4, label=names[1])
    ax.axhline(1.0, color="grey", lw=0.8)
    ax.set_xticks(pos, [str(v) for v in table["value"]], rotation=60, fontsize="small")
    ax.set(xlabel=feature, ylabel="relativity", title=f"Relativities: {feature}")
    ax.legend(fontsize="small")
    return ax


def plot_embeddings(table: pd.DataFrame, feature: str, *, ax=None):
    """A feature's learned 2-d embedding (``interpret.embedding_table``), levels as labels."""
    table = _frame(table, ["feature", "level", "dim_1"], "table", "interpret.embedding_table")
    t = table[table["feature"] == feature]
    if t.empty:
        raise ValueError(f"no feature {feature!r} in the table; it has {table['feature'].unique()}")
    ax = _axes(ax)
    if "dim_2" not in t.columns or t["dim_2"].isna().all():
        ax.scatter(t["dim_1"], np.zeros(len(t)), s=12)
        ys = np.zeros(len(t))
    else:
        ax.scatter(t["dim_1"], t["dim_2"], s=12)
        ys = t["dim_2"].to_numpy()
    for x, y, level in zip(t["dim_1"], ys, t["level"], strict=True):
        ax.annotate(str(level), (x, y), fontsize="x-small", xytext=(2, 2),
                    textcoords="offset points")  # fmt: skip
    ax.set(xlabel="dimension 1", ylabel="dimension 2", title=f"Embedding of {feature}")
    return ax


def plot_beta(beta: pd.DataFrame, values: pd.Series, term: str, *, ax=None):
    """LocalGLMnet: the coefficient ``beta_j(x)`` of one term against the feature's value."""
    beta = _frame(beta, [term], "beta", "LocalGLMnet.beta")
    if not isinstance(values, pd.Series) or len(values) != len(beta):
        raise TypeError(f"values must be a Series, one value per row of beta ({len(beta)} rows)")
    ax = _axes(ax)
    ax.scatter(values, beta[term], s=2, alpha=0.3)
    ax.axhline(0, color="grey", lw=0.8)
    ax.set(xlabel=str(values.name or term), ylabel=f"beta({term})",
           title=f"LocalGLMnet coefficient: {term}")  # fmt: skip
    return ax


def plot_importance(table: pd.DataFrame, *, value: str = "increase", label: str = "", ax=None):
    """Horizontal bars of an importance table (``feature``/``term`` and ``value`` columns)."""
    key = "feature" if isinstance(table, pd.DataFrame) and "feature" in table.columns else "term"
    table = _frame(table, [key, value], "table", "an importance")
    ax = _axes(ax)
    t = table.sort_values(value)
    ax.barh(t[key].astype(str), t[value], xerr=t["std"] if "std" in t.columns else None)
    ax.set(xlabel=label or value, title="Importance")
    return ax


def plot_murphy(table: pd.DataFrame, *, ax=None):
    """Murphy decomposition: miscalibration against discrimination, one point per model.

    Lines of equal score (``score = MCB - DSC + UNC``) are drawn through the points.
    """
    columns = ["miscalibration", "discrimination"]
    table = _frame(table, columns, "table", "metrics.murphy_decomposition rows, one per model")
    ax = _axes(ax)
    mcb, dsc = table["miscalibration"].to_numpy(), table["discrimination"].to_numpy()
    pad_x = max(float(np.ptp(mcb)), float(np.max(np.abs(mcb))), 1e-12) * 0.25
    pad_y = max(float(np.ptp(dsc)), float(np.max(np.abs(dsc))) * 0.1, 1e-12) * 0.25
    ax.set_xlim(min(0.0, float(mcb.min())) - pad_x / 4, float(mcb.max()) + pad_x)
    ax.set_ylim(float(dsc.min()) - pad_y, float(dsc.max()) + pad_y)
    lines = np.array(ax.get_xlim())
    for k, (name, row) in enumerate(table.iterrows()):
        colour = f"C{k}"
        # the points of equal score: discrimination = miscalibration + (uncertainty - score)
        ax.plot(lines, lines + row["discrimination"] - row["miscalibration"], color=colour,
                lw=0.7, ls=":")  # fmt: skip
        label = f"{name} (score {row['score']:.4g})" if "score" in row else str(name)
        ax.scatter(row["miscalibration"], row["discrimination"], s=20, color=colour, label=label)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=4))
    ax.yaxis.set_major_locator(MaxNLocator(nbins=5))
    ax.ticklabel_format(useOffset=False)
    unit = next(iter(table.attrs.get("units", {}).values()), "")
    ax.set(xlabel="miscalibration (lower is better)" + (f"\n{unit}" if unit else ""),
           ylabel="discrimination (higher is better)", title="Murphy decomposition")  # fmt: skip
    ax.legend(fontsize="small", title="dotted: equal score", title_fontsize="x-small")
    return ax


def plot_history(frame: pd.DataFrame, *, best_epoch: int | None = None, ax=None):
    """Training and validation loss by epoch (``History.to_frame``), the best epoch marked."""
    if not {"loss", "val_loss"} <= set(frame.columns):
        raise ValueError(
            f"frame must be History.to_frame() with columns loss and val_loss, got {list(frame)}"
        )
    ax = _axes(ax)
    epochs = frame.index.to_numpy()
    ax.plot(epochs, frame["loss"], "-", label="training loss")
    if frame["val_loss"].notna().any():
        ax.plot(epochs, frame["val_loss"], "-", label="validation loss")
    if best_epoch:
        ax.axvline(best_epoch, color="grey", lw=0.8, ls="--", label=f"best epoch ({best_epoch})")
    units = frame.attrs.get("units", {}).get("loss", "loss")
    ax.set(xlabel="epoch", ylabel=units, title="Training history")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(fontsize="small")
    return ax
