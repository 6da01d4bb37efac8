"""Reproductions of published freMTPL2 tables and the demo, written as ``results.json`` and
Markdown.

- :mod:`~actnn.studies.nsw2018`: NSW2018 Table 5 (homogeneous, GLM1-GLM3);
- :mod:`~actnn.studies.severity`: Gamma severity models on the NSW2018 split;
- :mod:`~actnn.studies.sw2019`: the networks and CANNs of SW2019, nagging;
- :mod:`~actnn.studies.results`: the ``results.json`` schema and writers;
- :mod:`~actnn.studies.demo`: ``actnn demo``;
- ``case_study``, ``show``, ``show_markdown``: what the case studies in ``case_studies/``
  share (their settings, in a script or a notebook, and how they show results).

``actnn.reproduce`` and ``actnn.case_sw2019`` (the names before this package existed) still
import these.
"""

from .._utils import Progress, versions
from ..datasets.splits import nsw2018_severity_split, nsw2018_split, wm2023_split, write_split
from ._case_study import CaseStudy, case_study, show, show_markdown
from .nsw2018 import PUBLISHED_NSW2018, reproduce_nsw2018
from .results import write_results
from .severity import reproduce_severity

__all__ = [
    "CaseStudy",
    "case_study",
    "show",
    "show_markdown",
    "PUBLISHED_NSW2018",
    "Progress",
    "nsw2018_split",
    "wm2023_split",
    "nsw2018_severity_split",
    "write_split",
    "reproduce_nsw2018",
    "reproduce_severity",
    "write_results",
    "versions",
]
