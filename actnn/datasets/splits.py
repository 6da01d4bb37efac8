"""The published learning/test splits of freMTPL2, drawn with R's ``sample``
(:mod:`actnn.datasets.rsplit`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..tables import content_fingerprint, writable_table, write_table
from .fremtpl2 import load_freq, load_sev, severity_data
from .prepare import prepare_nsw2018, prepare_wm2023
from .rsplit import r_split

__all__ = ["nsw2018_split", "wm2023_split", "nsw2018_severity_split", "write_split"]


def nsw2018_split(n: int) -> tuple[np.ndarray, np.ndarray]:
    """The NSW2018/SW2019 split: R ``set.seed(100); sample(1:n, round(0.9 n))``, R 3.5 sampling."""
    return r_split(n, frac=0.9, seed=100, sample_kind="Rounding")


def wm2023_split(n: int) -> tuple[np.ndarray, np.ndarray]:
    """The WM2023 split: R ``RNGversion("3.5.0"); set.seed(500); sample(1:n, round(0.9 n))``.

    Wüthrich & Merz (2023), Listing 5.2, draw it under ``RNGversion("3.5.0")``: R's "Rounding"
    sample kind, as the NSW2018 split.
    """
    return r_split(n, frac=0.9, seed=500, sample_kind="Rounding")


SPLITS = ("nsw2018", "wm2023")


def write_split(
    study: str,
    data_dir: str | Path | None = None,
    out: str | Path = ".",
    *,
    suffix: str = ".csv.gz",
) -> tuple[Path, Path]:
    """Write a case study's learning and test sets as files; returns their paths.

    ``study`` ``"nsw2018"``: :func:`actnn.datasets.prepare_nsw2018` and :func:`nsw2018_split` (the
    split of NSW2018, SW2019 and the published tables, 610,212 / 67,801 policies);
    ``"wm2023"``: :func:`actnn.datasets.prepare_wm2023` (claims recounted from freMTPL2sev, with
    ``ClaimTotal``) and :func:`wm2023_split` (610,206 / 67,801). The files are
    ``learn<suffix>`` and ``test<suffix>`` in the folder ``out`` (``suffix``: ``.csv``,
    ``.csv.gz`` or ``.parquet``), rows in the order of R's sample, as the case studies use them
    (so a network trained on the file sees the same rows in the same order).
    """
    if study not in SPLITS:
        raise ValueError(f"unknown split {study!r}; valid: {', '.join(SPLITS)}")
    folder = Path(out)
    paths = tuple(writable_table(folder / f"{part}{suffix}") for part in ("learn", "test"))
    if study == "nsw2018":
        dat = prepare_nsw2018(load_freq(data_dir))
        learn_rows, test_rows = nsw2018_split(len(dat))
    else:
        dat = prepare_wm2023(load_freq(data_dir), load_sev(data_dir))
        learn_rows, test_rows = wm2023_split(len(dat))
    folder.mkdir(parents=True, exist_ok=True)
    for path, rows in zip(paths, (learn_rows, test_rows), strict=True):
        write_table(dat.iloc[rows], path)
    return paths


def nsw2018_severity_split(
    data_dir: str | Path | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """The severity rows of the NSW2018 split: ``(learn, test, info)``.

    Severity rows: the policies of the case-study data (:func:`actnn.datasets.prepare_nsw2018`) with
    at least one record in freMTPL2sev; response ``ClaimAmount`` = mean claim amount over the
    policy's records; weight ``n_claims`` = number of records; a row is in the learning set when
    its policy is. ``info`` holds ``data_report`` (the inconsistencies found, as
    :func:`actnn.data.severity_data` reports them) and the fingerprints ``sha256`` (freMTPL2freq)
    and ``sha256_sev``.
    """
    freq_raw = load_freq(data_dir)
    sev_raw = load_sev(data_dir)
    dat = prepare_nsw2018(freq_raw)
    learn_rows, _ = nsw2018_split(len(dat))
    in_learn = np.zeros(len(dat), dtype=bool)
    in_learn[learn_rows] = True
    sev, report = severity_data(dat.assign(_learn=in_learn), sev_raw)
    info = {
        "data_report": report,
        "sha256": content_fingerprint(freq_raw),
        "sha256_sev": content_fingerprint(sev_raw),
    }
    learn = sev[sev["_learn"]].drop(columns="_learn")
    test = sev[~sev["_learn"]].drop(columns="_learn")
    return learn, test, info
