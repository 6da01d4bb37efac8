"""Tariff-comparison reports: :func:`evaluate` computes the tables, :func:`write_report` writes
them as self-contained HTML and Markdown; :mod:`actnn.report.plotting` draws the figures.
"""

from .evaluation import Evaluation, data_fingerprint, evaluate, markdown_table, write_report

__all__ = ["Evaluation", "evaluate", "write_report", "data_fingerprint", "markdown_table"]
