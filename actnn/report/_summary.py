"""How an :class:`~actnn.report.Evaluation` shows itself: a short summary, not its frames.

:func:`summary_text` (the ``repr``: at most about 30 lines) and :func:`summary_html` (Jupyter's
display: the same tables and the first figures inline) show the scores, the Gini indices and the
calibration, and say where the rest is; :func:`report_display` puts the full HTML report in a
notebook cell.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from .._display import html_block, number, plural

#: Rows of a table shown in the summary; more models are cut with a note.
MAX_ROWS = 8

#: Figures drawn in the HTML summary (the report's first: Lorenz, calibration, Murphy).
N_FIGURES = 3

HINT = (
    "more: fields .scores .calibration .murphy .lorenz .bias ...; "
    ".show(): the full report in a notebook"
)


def _header(evaluation: Any) -> tuple[str, list[tuple[str, str]]]:
    stamp = evaluation.stamp
    names = evaluation.names
    shown = ", ".join(names[:MAX_ROWS]) + (", ..." if len(names) > MAX_ROWS else "")
    title = f"Evaluation of {plural(len(names), 'model')}: {shown}"
    data = f"{stamp.get('n_rows', 0):,} rows" + (
        f" of {stamp['data_name']}" if stamp.get("data_name") else ""
    )
    return title, [("data", data), ("family", evaluation.family)]


def _scores_caption(evaluation: Any) -> str:
    units = evaluation.scores.attrs.get("units", {})
    return "Scores" + (f" (deviance: {units['deviance']})" if "deviance" in units else "")


def discrimination_and_calibration(evaluation: Any) -> pd.DataFrame:
    """One row per model: Gini indices, balance, the Murphy terms and calibration bins off.

    ``bins_off`` counts the calibration bins whose mean observed lies more than 1.96 standard
    errors from the mean predicted.
    """
    table = pd.DataFrame({"gini": pd.Series(evaluation.ginis)})
    if evaluation.ordered_ginis:
        column = f"ordered_gini_vs_{evaluation.names[0]}"
        table[column] = pd.Series(evaluation.ordered_ginis)
    table["balance"] = evaluation.scores["balance"]
    table["miscalibration"] = evaluation.murphy["miscalibration"]
    table["discrimination"] = evaluation.murphy["discrimination"]
    table["bins_off"] = [
        int(np.sum(np.abs(t["mean_observed"] - t["mean_predicted"]) > 1.96 * t["std_error"]))
        for t in (evaluation.calibration[name] for name in table.index)
    ]
    table.index.name = "model"
    return table


def _murphy_caption(evaluation: Any) -> str:
    unit = next(iter(evaluation.murphy.attrs.get("units", {}).values()), "")
    return (
        "Discrimination and calibration (Murphy decomposition: miscalibration, discrimination"
        + (f"; {unit})" if unit else ")")
    )


def _bins_note(evaluation: Any) -> str:
    volume = "exposure" if evaluation.family == "poisson" else "weight"
    return (
        f"bins_off: of {evaluation.n_bins} calibration bins (equal {volume}), those > 1.96 SE "
        "from the mean predicted"
    )


def _tables(evaluation: Any) -> list[tuple[str, pd.DataFrame]]:
    return [
        (_scores_caption(evaluation), evaluation.scores),
        (_murphy_caption(evaluation), discrimination_and_calibration(evaluation)),
    ]


def _cut(table: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """The first :data:`MAX_ROWS` rows, and a note of the rows left out."""
    if len(table) <= MAX_ROWS:
        return table, ""
    return table.head(MAX_ROWS), f"... and {len(table) - MAX_ROWS} more models"


def summary_text(evaluation: Any) -> str:
    """The text summary: data, scores, discrimination and calibration, where to see more."""
    title, rows = _header(evaluation)
    lines = [title, *(f"  {label}: {value}" for label, value in rows)]
    for caption, table in _tables(evaluation):
        shown, note = _cut(table)
        lines += [caption, shown.rename_axis(None).to_string(float_format=number)]
        lines += [note] if note else []
    return "\n".join([*lines, _bins_note(evaluation), HINT])


def summary_html(evaluation: Any, html_table: Callable[[pd.DataFrame], str]) -> str:
    """The HTML summary: the tables (drawn by ``html_table``) and the first figures inline."""
    title, rows = _header(evaluation)
    parts = []
    for caption, table in _tables(evaluation):
        shown, note = _cut(table)
        parts.append(f"<p style='margin:0.6em 0 0.2em'><b>{html.escape(caption)}</b></p>")
        parts.append(html_table(shown) + (f"<p>{html.escape(note)}</p>" if note else ""))
    figures = []
    for caption, draw in evaluation.figures()[:N_FIGURES]:
        png = base64.b64encode(draw()).decode("ascii")
        figures.append(
            f'<figure style="margin:0;width:340px"><img style="width:100%" '
            f'alt="{html.escape(caption)}" src="data:image/png;base64,{png}">'
            f'<figcaption style="font-size:0.85em">{html.escape(caption)}</figcaption></figure>'
        )
    parts.append(f'<div style="display:flex;flex-wrap:wrap;gap:0.5em">{"".join(figures)}</div>')
    notes = (_bins_note(evaluation), HINT)
    parts += [f"<p style='color:#555'>{html.escape(note)}</p>" for note in notes]
    return html_block(title, rows, "".join(parts))


def report_display(page: str, *, height: int = 800) -> Any:
    """An IPython ``HTML`` object showing the HTML document ``page`` in an iframe."""
    try:
        from IPython.display import HTML
    except ImportError:
        raise ImportError(
            "show() displays the report in a notebook and needs IPython; outside a notebook "
            "write the report with to_html(path)"
        ) from None
    frame = (
        f'<iframe srcdoc="{html.escape(page, quote=True)}" '
        f'style="width:100%;height:{int(height)}px;border:1px solid #ddd"></iframe>'
    )
    return HTML(f"<div>{frame}</div>")
