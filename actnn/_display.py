"""How actnn's objects show themselves: a few lines of text, or a small HTML box in a notebook.

A model describes itself as a title and labelled rows (``[("hidden", "(20, 15, 10), tanh"),
...]``); :func:`text_block` writes them as an indented text block (``__repr__``), and
:func:`html_block` as a compact HTML box with a table (``_repr_html_``, which Jupyter shows),
optionally followed by more HTML such as a DataFrame's table. Nothing here imports matplotlib.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

import pandas as pd

#: The History's losses: the weighted mean unit deviance of the family, per row (not x 100).
LOSS_UNITS = "weighted mean unit deviance"

_STYLE = (
    "display:inline-block;border:1px solid #bbb;border-radius:4px;padding:0.4em 0.7em;"
    "font-family:system-ui,sans-serif;font-size:0.85em;line-height:1.35"
)
_KEY_STYLE = "text-align:left;padding:0.1em 0.8em 0.1em 0;color:#555;font-weight:normal"
_VALUE_STYLE = "text-align:left;padding:0.1em 0"


def text_block(title: str, rows: Sequence[tuple[str, str]]) -> str:
    """``title`` then one indented ``label: value`` line per row."""
    return "\n".join([title, *(f"  {label}: {value}" for label, value in rows)])


def html_block(title: str, rows: Sequence[tuple[str, str]], extra: str = "") -> str:
    """A compact box: the title in bold, the rows as a two-column table, then ``extra`` HTML.

    ``title`` and the rows are escaped; ``extra`` is inserted as it is.
    """
    body = "".join(
        f'<tr><th style="{_KEY_STYLE}">{html.escape(label)}</th>'
        f'<td style="{_VALUE_STYLE}">{html.escape(value)}</td></tr>'
        for label, value in rows
    )
    return (
        f'<div class="actnn-repr" style="{_STYLE}"><b>{html.escape(title)}</b>'
        f'<table style="border-collapse:collapse;margin:0.3em 0">{body}</table>{extra}</div>'
    )


def frame_html(frame: pd.DataFrame, *, max_rows: int = 12, digits: int = 5) -> str:
    """A DataFrame as a small HTML table (floats with ``digits`` significant digits).

    Longer frames show their first and last rows around a row of ``...``.
    """
    return frame.to_html(
        max_rows=max_rows,
        float_format=lambda x: number(x, digits),
        border=0,
        na_rep="",
        classes="actnn-frame",
    )


def number(value: float | None, digits: int = 5) -> str:
    """``value`` with ``digits`` significant digits (trailing zeros kept), whole from 1,000 on.

    ``"-"`` for None or NaN.
    """
    if value is None or math.isnan(value):
        return "-"
    if abs(value) >= 1_000:
        return f"{value:,.0f}"
    return f"{value:#.{digits}g}".rstrip(".")


def plural(n: int, word: str) -> str:
    """``"1 epoch"``, ``"3 epochs"``, with thousands separators."""
    return f"{n:,} {word}" + ("" if n == 1 else "s")
