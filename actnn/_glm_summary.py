"""What a GLM shows of itself: the summary of :meth:`actnn.GLM.summary` and the GLM's HTML repr.

A header of the fit (family, data, deviances, dispersion, AIC) over the coefficient table, as
statsmodels' ``results.summary()``, in text (``print``) and in HTML (a notebook).
"""

from __future__ import annotations

import html
from typing import Any

import pandas as pd

from .families import Tweedie

#: A fitted :class:`actnn.GLM` (not imported: :mod:`actnn.glm` imports this module).
GLM = Any

__all__ = ["GLMSummary"]


#: Least width of the text summary and of each of its two header columns, in characters.
_WIDTH = 78
_COLUMN = 36


_DISPERSION_METHODS = {"fixed": "fixed", "pearson": "Pearson chi-square / df"}


def _number(value: float | None, digits: int = 6) -> str:
    return "-" if value is None else f"{value:,.{digits}g}"


def _family_text(glm: GLM) -> str:
    family = glm.family_
    return f"tweedie (power {family.power:g})" if isinstance(family, Tweedie) else family.name


def _dispersion_text(glm: GLM) -> str:
    if glm.dispersion_method_ == "pearson":
        return _DISPERSION_METHODS["pearson"]
    return f"fixed at {glm.dispersion_:g}"


def _column_text(name: str | None, used: bool) -> str:
    if not used:
        return "none"
    return "(an array)" if name is None else name


def _model_name(glm: GLM) -> str:
    return glm.name or glm.features.name or "GLM"


def header_pairs(glm: GLM) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The header of a fitted GLM as two columns of ``(label, text)``: the model, the fit."""
    model = [
        ("Model", _model_name(glm)),
        ("Family", _family_text(glm)),
        ("Link", "log"),
        ("Response", _column_text(glm.response_, True)),
        ("Exposure", _column_text(glm.exposure_, glm.uses_exposure_)),
    ]
    if glm.weights_ is not None:  # weights given as an array have no name to show
        model.append(("Weights", glm.weights_))
    model += [
        ("Dispersion", _number(glm.dispersion_)),
        ("Dispersion from", _dispersion_text(glm)),
    ]
    fit = [("Observations", f"{glm.n_obs_:,}")]
    if glm.exposure_total_ is not None:
        fit.append(("Total exposure", _number(glm.exposure_total_, 8)))
    fit += [
        ("Parameters", f"{glm.n_params_:,}"),
        ("Df residuals", f"{glm.df_resid_:,}"),
        ("Deviance", _number(glm.deviance_, 8)),
        ("Null deviance", _number(glm.null_deviance_, 8)),
        ("AIC", _number(glm.aic_, 8)),
        ("IRLS iterations", f"{glm.n_iter_}"),
    ]
    return model, fit


def _test_note(glm: GLM, alpha: float) -> str:
    level = f"{1 - alpha:.4g}"
    if glm.dispersion_method_ == "pearson":
        return (
            f"p-values and {level} intervals: Student's t with {glm.df_resid_:,} df "
            "(the dispersion is estimated)"
        )
    return f"p-values and {level} intervals: normal (the dispersion is fixed)"


def _header_html(left: list[tuple[str, str]], right: list[tuple[str, str]]) -> str:
    rows = []
    for i in range(max(len(left), len(right))):
        cells = []
        for pairs in (left, right) if right else (left,):
            label, text = pairs[i] if i < len(pairs) else ("", "")
            cells.append(
                f'<th style="text-align:left">{html.escape(label)}</th>'
                f'<td style="text-align:right">{html.escape(text)}</td>'
            )
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table>{''.join(rows)}</table>"


class GLMSummary:
    """The summary of a fitted GLM (:meth:`actnn.GLM.summary`): a header over the coefficients.

    ``str(summary)`` (and ``print``) gives the text, a notebook shows the HTML
    (``_repr_html_``).

    Attributes
    ----------
    title : str
        ``"GLM summary: <model name>"``.
    header : pandas.Series
        The header's values as text, indexed by their labels.
    coefficients : pandas.DataFrame
        :meth:`actnn.GLM.coef_table` indexed by term, without its ``feature`` column.
    note : str
        Which distribution the p-values and intervals use, and why.
    """

    def __init__(self, glm: GLM, *, alpha: float = 0.05):
        self._left, self._right = header_pairs(glm)
        self.title = f"GLM summary: {_model_name(glm)}"
        self.header = pd.Series(dict(self._left + self._right), name="value", dtype=object)
        self.coefficients = glm.coef_table(alpha=alpha).drop(columns="feature").set_index("term")
        self.note = _test_note(glm, alpha)
        self._alpha = alpha

    def _display_table(self) -> pd.DataFrame:
        """The coefficients with statsmodels' column headings."""
        stat = "z" if "z_value" in self.coefficients.columns else "t"
        lower, upper = self._alpha / 2, 1 - self._alpha / 2
        table = self.coefficients.copy()
        table.columns = [
            "estimate", "std error", stat, f"P>|{stat}|", f"[{lower:.4g}", f"{upper:.4g}]",
        ]  # fmt: skip
        table.index.name = None
        return table

    def _formatters(self, table: pd.DataFrame) -> dict[str, object]:
        number = "{:.6g}".format
        return {
            **{c: number for c in table.columns},
            table.columns[2]: "{:.3f}".format,
            table.columns[3]: "{:.3g}".format,
        }

    def __str__(self) -> str:
        left, right = self._left, self._right
        widths = [max(_COLUMN, *(len(k) + 2 + len(v) for k, v in p)) for p in (left, right)]
        table = self._display_table()
        text = table.to_string(formatters=self._formatters(table))
        width = max(_WIDTH, sum(widths) + 4, *(len(line) for line in text.splitlines()))
        rule = "=" * width
        lines = [self.title.center(width).rstrip(), rule]
        for i in range(max(len(left), len(right))):
            cells = []
            for pairs, column in zip((left, right), widths, strict=True):
                label, value = pairs[i] if i < len(pairs) else ("", "")
                label = f"{label}:" if label else ""
                cells.append(f"{label:<{column - len(value)}}{value}")
            lines.append("    ".join(cells).rstrip())
        return "\n".join([*lines, rule, text, rule, self.note])

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        table = self._display_table()
        return (
            f"<div><strong>{html.escape(self.title)}</strong>"
            f"{_header_html(self._left, self._right)}"
            f"{table.to_html(formatters=self._formatters(table))}"
            f"<p><small>{html.escape(self.note)}</small></p></div>"
        )


def glm_html(glm: GLM) -> str:
    """The compact HTML repr of a GLM: its repr, then the header of the fit (if fitted)."""
    title = f"<strong>{html.escape(repr(glm))}</strong>"
    if not hasattr(glm, "coef_"):
        settings = [
            ("Features", f"{glm.features.name or 'features'} ({len(glm.features.features)})"),
            ("Family", str(glm.family)),
            ("Dispersion", "the family's" if glm.dispersion is None else str(glm.dispersion)),
            ("State", "not fitted"),
        ]
        return f"<div>{title}{_header_html(settings, [])}</div>"
    left, right = header_pairs(glm)
    return f"<div>{title}{_header_html(left, right)}</div>"
