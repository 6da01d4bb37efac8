"""Tariff comparison: evaluate fitted models on one data set and write a report.

:func:`evaluate` computes every table (scores, balance, Lorenz / Gini, ordered Lorenz, double
lift, calibration, Murphy decomposition, bias by feature, partial dependence, relativities) and
returns an :class:`Evaluation`; :meth:`Evaluation.to_html` writes one self-contained HTML file
(figures embedded as PNG) and :meth:`Evaluation.to_markdown` a Markdown file with the figures
beside it, for version control. The command line ``actnn report`` does both from saved models.

The frequency tables follow the published case studies: scores are the average Poisson deviance
per policy in 10^-2 on expected claim counts, and the Murphy decomposition is in the unit of the
scores' ``deviance_per_exposure`` (Poisson deviance per unit of exposure in 10^-2), so its score
is that column; discrimination and calibration work on the frequency (claims per year) weighted
by exposure. A severity model uses its response and case weights instead, and its losses are
plain weighted mean unit deviances. Every table of the report states its units.
"""

from __future__ import annotations

import base64
import html
import tempfile
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import metrics
from .._base import _exposure_column, _response_column, _weights_column
from .._utils import Progress, versions
from .._validation import DataWarning, _check_frame
from ..glm import GLM
from ..interpret import partial_dependence, predict_rate, relativities_from_partial_dependence
from ..metrics._binning import _level_label
from ..metrics.discrimination import _gini_of_curve
from ..tables import content_fingerprint
from ._summary import report_display, summary_html, summary_text

__all__ = ["Evaluation", "evaluate", "write_report", "data_fingerprint", "markdown_table"]


def data_fingerprint(data: pd.DataFrame) -> str:
    """SHA-256 of the frame's column names and values, the same as ``results.json`` records.

    It is :func:`actnn.tables.content_fingerprint`: row and column order matter, the index and
    the file format do not.
    """
    return content_fingerprint(data)


def _fitted(model: Any, name: str) -> Any:
    """A fitted attribute of a model, or of an ensemble's first member."""
    if hasattr(model, name):
        return getattr(model, name)
    members = getattr(model, "members_", None)
    if members:
        return getattr(members[0], name, None)
    return None


def _seeds(model: Any) -> Any:
    if hasattr(model, "seeds"):
        return list(model.seeds)
    return getattr(model, "seed", None)


def _kind(model: Any) -> str:
    """The name of the model's actnn class (for a user's subclass, the actnn class it extends)."""
    for cls in type(model).__mro__:
        if cls.__module__.split(".")[0] == "actnn":
            return cls.__name__
    return type(model).__name__


def _feature_columns(models: Mapping[str, Any], data: pd.DataFrame) -> list[str]:
    """The raw columns the models use, in the order they first appear."""
    columns: list[str] = []
    for model in models.values():
        spec = _fitted(model, "features_")
        if spec is None:
            inputs = _fitted(model, "inputs_")
            spec = inputs.spec if inputs is not None else None
        for f in getattr(spec, "features", ()):
            if f.column in data.columns and f.column not in columns:
                columns.append(f.column)
    return columns


@dataclass
class Evaluation:
    """The tables of a tariff comparison (see :func:`evaluate` for their columns)."""

    names: list[str]
    family: str
    scores: pd.DataFrame
    ginis: dict[str, float]
    lorenz: dict[str, pd.DataFrame]
    ordered_lorenz: dict[str, pd.DataFrame]
    ordered_ginis: dict[str, float]
    double_lift: pd.DataFrame | None
    calibration: dict[str, pd.DataFrame]
    murphy: pd.DataFrame
    bias: dict[str, dict[str, pd.DataFrame]]
    partial_dependence: dict[str, dict[str, pd.DataFrame]]
    relativities: dict[str, pd.DataFrame]
    stamp: dict[str, Any] = field(default_factory=dict)
    n_bins: int = 10

    # -- figures
    def pngs(self) -> list[tuple[str, bytes]]:
        """(caption, PNG bytes) of every figure, drawn once and kept."""
        if not hasattr(self, "_pngs"):
            self._pngs = [(caption, draw()) for caption, draw in self.figures()]
        return self._pngs

    def figures(self) -> list[tuple[str, Callable[[], bytes]]]:
        """(caption, function returning the figure's PNG bytes) pairs, in the report's order."""
        from .plotting import (
            figure_png,
            plot_bias_by_feature,
            plot_calibration,
            plot_double_lift,
            plot_lorenz,
            plot_marginal,
            plot_murphy,
            plot_ordered_lorenz,
            plot_partial_dependence,
            plot_relativities,
        )

        def figure(draw, size=(6.4, 4.4)):
            return lambda: figure_png(draw, size)

        rate = "frequency" if self.family == "poisson" else "mean response"
        out = [
            ("Lorenz curves (concentration of claims by predicted " + rate + ")",
             figure(lambda ax: plot_lorenz(self.lorenz, ginis=self.ginis, ax=ax))),
            (f"Calibration: mean observed against mean predicted in {self.n_bins} bins of "
             f"equal {'exposure' if self.family == 'poisson' else 'weight'}",
             figure(lambda ax: plot_calibration(self.calibration, ax=ax))),
            ("Murphy decomposition of the deviance",
             figure(lambda ax: plot_murphy(self.murphy, ax=ax))),
        ]  # fmt: skip
        base = self.names[0]
        for alt, curve in self.ordered_lorenz.items():
            label = f"{alt} against {base} (Gini {self.ordered_ginis[alt]:.3f})"
            out.append((f"Ordered Lorenz curve: {alt} relative to {base}",
                        figure(lambda ax, c=curve, lab=label: plot_ordered_lorenz(
                            c, x="premium_share", y="loss_share", label=lab, ax=ax))))  # fmt: skip
        if self.double_lift is not None:
            names = self.names[:2]
            out.append((f"Double lift: {names[0]} against {names[1]}",
                        figure(lambda ax: plot_double_lift(self.double_lift, names=names,
                                                                    ax=ax))))  # fmt: skip
        for feature, tables in self.bias.items():
            out.append((f"Observed and predicted by {feature}",
                        figure(lambda ax, t=tables, f=feature: plot_marginal(
                            t, feature=f, ax=ax), size=(7.2, 4.4))))  # fmt: skip
            out.append((f"Bias by {feature} (95 % intervals)",
                        figure(lambda ax, t=tables, f=feature: plot_bias_by_feature(
                            t, feature=f, ax=ax), size=(7.2, 4.4))))  # fmt: skip
        for feature, tables in self.partial_dependence.items():
            out.append((f"Partial dependence on {feature}",
                        figure(lambda ax, t=tables, f=feature: plot_partial_dependence(
                            t, feature=f, ax=ax))))  # fmt: skip
        for feature, table in self.relativities.items():
            names = table.attrs.get("names", ("GLM", "model"))
            out.append((f"Relativities of {feature}: {names[0]} and {names[1]}",
                        figure(lambda ax, t=table, f=feature, n=names: plot_relativities(
                            t, feature=f, names=n, ax=ax))))  # fmt: skip
        return out

    # -- display
    def __repr__(self) -> str:
        return summary_text(self)

    def _repr_html_(self) -> str:
        return summary_html(self, _html_table)

    def show(self, *, title: str = "Tariff comparison", height: int = 800) -> Any:
        """The full report, as :meth:`to_html` writes it, shown inline in a notebook.

        Returns an ``IPython.display.HTML`` object holding the report in an iframe of
        ``height`` pixels (the last value of a cell is displayed); needs IPython.
        """
        with tempfile.TemporaryDirectory() as folder:
            page = self.to_html(Path(folder) / "report.html", title=title).read_text("utf-8")
        return report_display(page, height=height)

    # -- writers
    def _tables(self) -> list[tuple[str, pd.DataFrame, str]]:
        """(caption, table, units) of each table of the report."""
        units = self.scores.attrs.get("units", {})
        tables = [("Scores", self.scores, "; ".join(f"{c}: {u}" for c, u in units.items()))]
        discrimination = pd.DataFrame({"gini": self.ginis})
        discrimination.index.name = "model"
        if self.ordered_ginis:
            discrimination["ordered_gini_vs_" + self.names[0]] = pd.Series(self.ordered_ginis)
        gini_units = "Gini indices, plain numbers: 0 for no discrimination, below 1"
        tables.append(("Discrimination", discrimination, gini_units))
        murphy_unit = next(iter(self.murphy.attrs.get("units", {}).values()), "")
        murphy_unit += "; score = miscalibration - discrimination + uncertainty"
        tables.append(("Murphy decomposition", self.murphy, murphy_unit))
        if self.double_lift is not None:
            a, b = self.names[:2]
            rate = ("claims per unit of exposure" if self.family == "poisson"
                    else "mean response, weighted")  # fmt: skip
            volume = "exposure" if self.family == "poisson" else "weight"
            lift_units = (
                f"{volume}: total of the bin; observed, predicted_a ({a}), predicted_b ({b}): "
                f"{rate}; ratio_mean: mean of {a} / {b} (plain number)"
            )
            tables.append((f"Double lift: {a} / {b}", self.double_lift, lift_units))
        return tables

    def _stamp_lines(self) -> list[str]:
        s = self.stamp
        data = ", ".join(x for x in (s.get("data_name"), f"{s.get('n_rows', 0):,} rows") if x)
        lines = [f"created {s.get('created', '')}",
                 f"data: {data}, sha256 {s.get('data_sha256', '')}"]  # fmt: skip
        for name, info in s.get("models", {}).items():
            line = name if info["kind"] == name else f"{name}: {info['kind']}"
            seed = info["seed"]
            if seed is not None:
                line += f", {'seeds' if isinstance(seed, list) else 'seed'} {seed}"
            lines.append(line)
        versions = ", ".join(f"{k} {v}" for k, v in s.get("versions", {}).items())
        lines.append(f"versions: {versions}")
        return lines

    def to_html(self, path: str | Path, *, title: str = "Tariff comparison") -> Path:
        """Write one self-contained HTML file (figures embedded); returns its path."""
        path = Path(path)
        parts = [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{html.escape(title)}</title>",
            f"<style>{_CSS}</style></head><body>",
            f"<h1>{html.escape(title)}</h1>",
            '<p class="stamp">' + "<br>".join(map(html.escape, self._stamp_lines())) + "</p>",
        ]
        for caption, table, units in self._tables():
            parts.append(f"<h2>{html.escape(caption)}</h2>")
            parts.append(f'<p class="units">Units: {html.escape(units)}</p>')
            parts.append(_html_table(table))
        parts.append('<h2>Figures</h2><div class="grid">')
        for caption, data in self.pngs():
            png = base64.b64encode(data).decode("ascii")
            parts.append(
                f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{png}">'
                f"<figcaption>{html.escape(caption)}</figcaption></figure>"
            )
        parts.append("</div></body></html>")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(parts), encoding="utf-8")
        return path

    def to_markdown(self, path: str | Path, *, title: str = "Tariff comparison") -> Path:
        """Write a Markdown report; the figures go to ``<stem>_figures/`` beside it."""
        path = Path(path)
        folder = path.parent / f"{path.stem}_figures"
        folder.mkdir(parents=True, exist_ok=True)
        lines = [f"# {title}", ""] + [f"- {line}" for line in self._stamp_lines()] + [""]
        for caption, table, units in self._tables():
            lines += [f"## {caption}", "", f"Units: {units}", "", markdown_table(table), ""]
        lines += ["## Figures", ""]
        for k, (caption, data) in enumerate(self.pngs(), start=1):
            name = f"figure_{k:02d}.png"
            (folder / name).write_bytes(data)
            lines += [f"![{caption}]({folder.name}/{name})", "", f"*{caption}*", ""]
        path.write_text("\n".join(lines), encoding="utf-8")
        return path


_CSS = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1400px; padding: 0 1rem;
       color: #222; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
.stamp, .units { color: #555; font-size: 0.85rem; } .units { max-width: 60rem; }
table { border-collapse: collapse; font-size: 0.9rem; margin: 0.5rem 0; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.6rem; text-align: right; }
th { background: #f3f3f3; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 1rem; }
figure { margin: 0; } figure img { width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: 0.85rem; color: #444; }
"""


def _format(value: Any, digits: int = 5) -> str:
    if value is pd.NA or value is None:
        return ""
    if isinstance(value, bool | np.bool_):
        return str(value)
    if isinstance(value, int | np.integer):
        return f"{value:,}"
    if isinstance(value, float | np.floating):
        if not np.isfinite(value):
            return ""
        return f"{value:,.{digits}f}" if abs(value) < 1e5 else f"{value:,.0f}"
    return _level_label(value)


def _column_digits(values: pd.Series, digits: int) -> int:
    """Decimals of a column: none for whole numbers (counts), one from 1,000 up, else ``digits``."""
    if not pd.api.types.is_float_dtype(values):
        return digits
    finite = values.to_numpy(dtype=float, na_value=np.nan)
    finite = finite[np.isfinite(finite)]
    if finite.size and np.all(finite == np.round(finite)):
        return 0
    return 1 if finite.size and np.min(np.abs(finite)) >= 1_000 else digits


def _formatters(frame: pd.DataFrame, digits: int) -> list[Callable[[Any], str]]:
    """One formatter per column of ``frame`` (see :func:`markdown_table`)."""
    decimals = [_column_digits(frame.iloc[:, k], digits) for k in range(frame.shape[1])]
    return [lambda v, d=d: _format(v, d) for d in decimals]


def _html_table(table: pd.DataFrame) -> str:
    frame = table.reset_index() if table.index.name else table
    formatters = _formatters(frame, 5)
    return frame.to_html(formatters=formatters, border=0, na_rep="", index=False)


def markdown_table(table: pd.DataFrame, *, digits: int = 5) -> str:
    """A frame as a Markdown table: numbers right-aligned, floats with ``digits`` decimals.

    A named or non-default index becomes the first column; a float column of whole numbers
    (counts) shows no decimals, one whose values are all 1,000 or more one decimal, and floats
    of 100,000 or more are rounded to integers; integers get thousands separators, intervals
    show their bounds in the data's units (``18-27``), and missing values, NaN and inf show as
    empty cells.
    The case studies and :meth:`Evaluation.to_markdown` write their tables with it.
    """
    frame = table.reset_index() if table.index.name or not isinstance(
        table.index, pd.RangeIndex) else table  # fmt: skip
    header = "| " + " | ".join(map(str, frame.columns)) + " |"
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
               for c in frame.columns]  # fmt: skip
    rule = "|" + "|".join(" ---: " if n else " --- " for n in numeric) + "|"
    formatters = _formatters(frame, digits)
    rows = ["| " + " | ".join(f(v) for f, v in zip(formatters, row, strict=True)) + " |"
            for row in frame.itertuples(index=False)]  # fmt: skip
    return "\n".join([header, rule, *rows])


def _gini(curve: pd.DataFrame, x: str) -> float:
    """``1 - 2 * area`` under a curve of :mod:`actnn.metrics` (as ``gini`` / ``ordered_gini``)."""
    return _gini_of_curve(curve[x].to_numpy(), curve["loss_share"].to_numpy())


def evaluate(
    models: Mapping[str, Any],
    data: pd.DataFrame,
    *,
    response: str | None = None,
    exposure: str | None = None,
    weights: str | None = None,
    features: Sequence[str] | None = None,
    published: Mapping[str, float] | None = None,
    n_bins: int = 10,
    pd_sample: int | None = 20_000,
    seed: int = 0,
    data_name: str = "",
    progress: Progress | None = None,
) -> Evaluation:
    """Compare fitted models on one data set (e.g. the test data).

    Parameters
    ----------
    models : mapping of str to fitted model
        One or more actnn models (GLM, FNN, CANN, LocalGLMnet, Nagging) of the same family;
        the first is the base of the ordered Lorenz curves and of the double lift (which need
        two models and are left out for one).
    data : DataFrame
        The policies with the response (and exposure or weights).
    response, exposure, weights : str, optional
        Columns; default: those the first model was fitted with.
    features : sequence of str, optional
        Columns for bias and partial dependence; default: every column the models use.
    published : mapping, optional
        Published deviances to print beside the scores.
    n_bins : int
        Bins of the calibration and double-lift tables.
    pd_sample : int, optional
        Rows averaged in the partial dependences (None: all).
    data_name : str
        How the data is named in the report's stamp (e.g. its file).
    progress : callable, optional
        Called with a line of text as each part is computed.
    """
    if len(models) < 1:
        raise ValueError("evaluate needs at least one model")
    _check_frame(data, "data")
    names = list(models)
    say = progress or (lambda _line: None)
    first = models[names[0]]
    family = _fitted(first, "family_")
    if family is None:
        raise ValueError(f"model {names[0]!r} is not fitted")
    for name, model in models.items():
        fam = _fitted(model, "family_")
        if fam is None or fam.name != family.name:
            raise ValueError(f"model {name!r} is not a fitted {family.name} model")
    response = response or _fitted(first, "response_")
    exposure = exposure if exposure is not None else _fitted(first, "exposure_")
    weights = weights if weights is not None else _fitted(first, "weights_")
    if response is None or response not in data.columns:
        raise ValueError(f"the data has no response column {response!r}: pass response=...")
    for what, column in (("exposure", exposure), ("weights", weights)):
        if column is not None and column not in data.columns:
            raise ValueError(f"the data has no {what} column {column!r}")
    # the checks of GLM.fit: text, NaN, inf, support, exposure and weights > 0, named by row
    y = _response_column(data, response, family)[0]
    v = _exposure_column(data, exposure)[0]
    w = _weights_column(data, weights)[0]

    say(f"predicting {len(data):,} rows with {len(models)} models")
    rates = {name: predict_rate(m, data) for name, m in models.items()}
    if v is not None:
        means = {name: rates[name] * v for name in names}
        y_rate, volume = y / v, v * (1.0 if w is None else w)
    else:
        means = dict(rates)
        y_rate, volume = y, (np.ones(len(y)) if w is None else w)
    say("scores, discrimination and calibration")
    with warnings.catch_warnings():  # exposures above one year: warned of once, above
        warnings.simplefilter("ignore", DataWarning)
        scores = metrics.score_table(means, y, exposure=v, weights=w, family=family,
                                     published=published)  # fmt: skip
    totals = y_rate * volume
    lorenz = {name: metrics.lorenz_curve(totals, rates[name], volume) for name in names}
    ordered = {
        name: metrics.ordered_lorenz(totals, rates[names[0]], rates[name], volume)
        for name in names[1:]
    }
    # the Gini indices of the curves just drawn (metrics.gini would sort the rows again)
    ginis = {n: _gini(c, "exposure_share") for n, c in lorenz.items()}
    ordered_ginis = {n: _gini(c, "premium_share") for n, c in ordered.items()}
    double = (
        metrics.double_lift(totals, rates[names[0]], rates[names[1]], volume, n_bins=n_bins)
        if len(names) > 1
        else None
    )
    calibration = {
        name: metrics.calibration_bins(y_rate, rates[name], volume, n_bins=n_bins) for name in names
    }
    murphy = pd.concat(
        [metrics.murphy_decomposition(y_rate, rates[n], volume, family) for n in names],
        ignore_index=True,
    )
    murphy.index = pd.Index(names, name="model")
    if v is not None:  # the scores' unit: per unit of exposure, in 10^-2 (deviance_per_exposure)
        murphy = 100.0 * murphy
        murphy.attrs["units"] = dict.fromkeys(murphy.columns, metrics.POISSON_EXPOSURE_UNITS)
    else:
        unit = f"weighted mean {family.name} unit deviance (plain number), as the scores' deviance"
        murphy.attrs["units"] = dict.fromkeys(murphy.columns, unit)

    columns = list(features) if features is not None else _feature_columns(models, data)
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise ValueError(f"features not in the data: {missing}")
    bias: dict[str, dict[str, pd.DataFrame]] = {}
    pdp: dict[str, dict[str, pd.DataFrame]] = {}
    for column in columns:
        say(f"bias and partial dependence: {column}")
        bias[column] = {
            name: metrics.bias_by_feature(
                data[column], y_rate, rates[name], volume, family, n_bins=n_bins
            )  # fmt: skip
            for name in names
        }
        pdp[column] = {
            name: partial_dependence(m, data, column, weights=volume, sample=pd_sample, seed=seed)
            for name, m in models.items()
        }
    relativities: dict[str, pd.DataFrame] = {}
    glms = [n for n in names if isinstance(models[n], GLM)]
    others = [n for n in names if n not in glms]
    if glms and others:
        for column in columns:
            table = relativities_from_partial_dependence(pdp[column][glms[0]],
                                                         pdp[column][others[0]])  # fmt: skip
            table.attrs["names"] = (glms[0], others[0])
            relativities[column] = table
    stamp = {
        "created": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "data_name": data_name,
        "n_rows": len(data),
        "data_sha256": data_fingerprint(data),
        "models": {n: {"kind": _kind(m), "seed": _seeds(m)} for n, m in models.items()},
        "versions": versions(),
    }
    return Evaluation(
        names=names,
        family=family.name,
        scores=scores,
        ginis=ginis,
        lorenz=lorenz,
        ordered_lorenz=ordered,
        ordered_ginis=ordered_ginis,
        double_lift=double,
        calibration=calibration,
        murphy=murphy,
        bias=bias,
        partial_dependence=pdp,
        relativities=relativities,
        stamp=stamp,
        n_bins=n_bins,
    )


def write_report(
    models: Mapping[str, Any] | Sequence[str | Path],
    data: pd.DataFrame | str | Path,
    out: str | Path,
    *,
    title: str = "Tariff comparison",
    markdown: bool = False,
    progress: Progress | None = print,
    **options: Any,
) -> Evaluation:
    """Evaluate models on data and write the report ``out`` (``.html``, or ``.md``).

    Parameters
    ----------
    models : mapping of name to fitted model, or sequence of saved-model directories
        Directories are loaded with :func:`actnn.load_model` and named by their folder names.
    data : DataFrame or path
        The data, or a csv / csv.gz / parquet file.
    out : path
        The report; ``.md`` writes Markdown (figures beside it), anything else HTML.
    markdown : bool
        Also write the Markdown variant next to an HTML report (same stem, ``.md``).
    **options
        Passed to :func:`evaluate` (``response``, ``exposure``, ``features``, ...).
    """
    started = time.perf_counter()
    say = progress or (lambda _line: None)
    if not isinstance(models, Mapping):
        from ..persistence import load_model

        dirs = [Path(d) for d in models]
        names = [d.resolve().name for d in dirs]
        if len(set(names)) != len(names):
            raise ValueError(f"model directories must have distinct names, got {names}")
        models = {name: load_model(d) for name, d in zip(names, dirs, strict=True)}
        say(f"loaded {', '.join(names)}")
    data_name = options.pop("data_name", "")
    if not isinstance(data, str | Path):
        _check_frame(data, "data")
    else:
        from ..tables import read_table

        data_name = data_name or Path(data).name
        data = read_table(data)
        say(f"read {len(data):,} rows from {data_name}")
    evaluation = evaluate(models, data, data_name=data_name, progress=say, **options)
    out = Path(out)
    if out.suffix.lower() == ".md":
        evaluation.to_markdown(out, title=title)
    else:
        evaluation.to_html(out, title=title)
        if markdown:
            evaluation.to_markdown(out.with_suffix(".md"), title=title)
    say(f"report written to {out} ({time.perf_counter() - started:.0f} s)")
    return evaluation
