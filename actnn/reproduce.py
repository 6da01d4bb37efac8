"""Reproductions of published freMTPL2 tables, written as ``results.json`` and Markdown.

``results.json`` schema (shared by every case study)::

    {"case_study": str,
     "data": {"n_learn": int, "n_test": int, "sha256": str},
     "units": str,
     "models": [{"name", "n_params", "in_sample", "out_of_sample", "avg_frequency_learn",
                 "avg_frequency_test", "aic", "fit_seconds", "epochs", ...}],
     "versions": {package: version}}

``data.sha256`` is the content fingerprint of the raw input data (:func:`actnn.data.
content_fingerprint`: independent of the file format). ``avg_frequency_*`` are the model's predicted
claims per unit of exposure, ``sum mu / sum exposure`` (null for severity models, which report
``avg_severity_*``, the claim-weighted mean predicted claim size). ``epochs`` is null for exact
(IRLS) fits.
"""

from __future__ import annotations

import dataclasses
import json
import platform
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import data as data_module
from .glm import GLM
from .presets import get_preset, sw2019_network_inputs
from .rsplit import r_split
from .scores import GAMMA_UNITS, POISSON_UNITS, gamma_deviance, poisson_deviance

__all__ = [
    "PUBLISHED_NSW2018",
    "nsw2018_split",
    "wm2023_split",
    "nsw2018_severity_split",
    "write_split",
    "reproduce_nsw2018",
    "reproduce_severity",
    "write_results",
    "versions",
]

Progress = Callable[[str], None]

#: NSW2018 Table 5 as printed: (name, preset, n_params, AIC, in-sample, out-of-sample).
PUBLISHED_NSW2018: tuple[tuple[str, str, int, int, str, str], ...] = (
    ("homogeneous", "homogeneous", 1, 263_143, "32.93518", "33.86149"),
    ("GLM1", "nsw2018_glm1", 49, 253_062, "31.26738", "32.17123"),
    ("GLM2", "nsw2018_glm2", 48, 253_060, "31.26742", "32.17196"),
    ("GLM3", "nsw2018_glm3", 38, 253_108, "31.27852", "32.18196"),
)


def versions() -> dict[str, str]:
    """Versions of Python and the packages behind a result."""
    out = {"python": platform.python_version()}
    for pkg in ("actnn", "numpy", "pandas", "tensorflow", "keras"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    if out["actnn"] == "not installed":  # run from a source tree
        from . import __version__

        out["actnn"] = f"{__version__} (source tree)"
    return out


def nsw2018_split(n: int) -> tuple[np.ndarray, np.ndarray]:
    """The NSW2018/SW2019 split: R ``set.seed(100); sample(1:n, round(0.9 n))``, R 3.5 sampling."""
    return r_split(n, frac=0.9, seed=100, sample_kind="Rounding")


def wm2023_split(n: int) -> tuple[np.ndarray, np.ndarray]:
    """The WM2023 split: R ``RNGversion("3.5.0"); set.seed(500); sample(1:n, round(0.9 n))``.

    Wüthrich & Merz (2023), Listing 5.2, draw it under ``RNGversion("3.5.0")``: R's "Rounding"
    sample kind, as the NSW2018 split.
    """
    return r_split(n, frac=0.9, seed=500, sample_kind="Rounding")


@dataclass(frozen=True)
class _Frequency:
    learn: pd.DataFrame
    test: pd.DataFrame

    def row(self, name: str, model: Any) -> dict[str, Any]:
        """A results row of a fitted GLM, network or ensemble (anything with ``predict``)."""
        mu_learn, mu_test = model.predict(self.learn), model.predict(self.test)
        history = getattr(model, "history_", None)
        return {
            "name": name,
            "n_params": getattr(model, "n_params_", None),
            "in_sample": poisson_deviance(self.learn["ClaimNb"], mu_learn),
            "out_of_sample": poisson_deviance(self.test["ClaimNb"], mu_test),
            "avg_frequency_learn": float(mu_learn.sum() / self.learn["Exposure"].sum()),
            "avg_frequency_test": float(mu_test.sum() / self.test["Exposure"].sum()),
            "aic": getattr(model, "aic_", None),
            "fit_seconds": getattr(model, "fit_seconds_", None),
            "epochs": None if history is None else history.epochs,
        }


def _say(progress: Progress | None, message: str) -> None:
    if progress is not None:
        progress(message)


def reproduce_nsw2018(
    data_dir: str | Path | None = None,
    out: str | Path | None = None,
    *,
    progress: Progress | None = print,
) -> dict[str, Any]:
    """Reproduce NSW2018 Table 5: homogeneous model, GLM1, GLM2 and GLM3 on the published split.

    Loads freMTPL2freq, applies :func:`actnn.data.prepare_nsw2018`, splits with
    :func:`nsw2018_split` and fits each model exactly. With ``out``, writes ``results.json`` and
    ``results.md`` there.

    Returns
    -------
    dict
        The results (schema in the module docstring), with the published figures under
        ``"published"``.

    References
    ----------
    Noll, A., Salzmann, R., Wüthrich, M. V. (2018). Case Study: French Motor Third-Party
    Liability Claims. SSRN 3164764, Table 5.
    """
    _say(progress, "loading and checking freMTPL2freq")
    raw = data_module.load_freq(data_dir)
    dat = data_module.prepare_nsw2018(raw)
    learn_rows, test_rows = nsw2018_split(len(dat))
    freq = _Frequency(dat.iloc[learn_rows], dat.iloc[test_rows])
    models = []
    for name, preset, *_ in PUBLISHED_NSW2018:
        _say(progress, f"fitting {name} ({preset}) on {len(freq.learn):,} policies")
        model = GLM(get_preset(preset), "poisson", name=name)
        model.fit(freq.learn, "ClaimNb", exposure="Exposure")
        models.append(freq.row(name, model))
        _say(progress, f"  {name}: out-of-sample {models[-1]['out_of_sample']:.5f}")
    results = {
        "case_study": "nsw2018",
        "data": {
            "n_learn": len(freq.learn),
            "n_test": len(freq.test),
            "sha256": data_module.content_fingerprint(raw),
        },
        "units": POISSON_UNITS,
        "models": models,
        "published": [
            {"name": n, "n_params": k, "aic": a, "in_sample": i, "out_of_sample": o}
            for n, _, k, a, i, o in PUBLISHED_NSW2018
        ],
        "versions": versions(),
    }
    if out is not None:
        write_results(results, out, _nsw2018_markdown(results))
    return results


def _nsw2018_markdown(results: dict[str, Any]) -> str:
    published = {p["name"]: p for p in results["published"]}
    lines = [
        "# NSW2018 Table 5 reproduced",
        "",
        f"Losses: {results['units']}. Learning set {results['data']['n_learn']:,} policies, "
        f"test set {results['data']['n_test']:,}.",
        "",
        "| model | # param | AIC | in | out | published in | published out | published AIC |"
        " digits match |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for m in results["models"]:
        p = published[m["name"]]
        ours_in, ours_out = f"{m['in_sample']:.5f}", f"{m['out_of_sample']:.5f}"
        match = (
            ours_in == p["in_sample"]
            and ours_out == p["out_of_sample"]
            and round(m["aic"]) == p["aic"]
            and m["n_params"] == p["n_params"]
        )
        lines.append(
            f"| {m['name']} | {m['n_params']} | {m['aic']:,.0f} | {ours_in} | {ours_out} | "
            f"{p['in_sample']} | {p['out_of_sample']} | {p['aic']:,} | "
            f"{'yes' if match else 'NO'} |"
        )
    return "\n".join(lines) + "\n"


SPLITS = ("nsw2018", "wm2023")


def write_split(
    study: str,
    data_dir: str | Path | None = None,
    out: str | Path = ".",
    *,
    suffix: str = ".csv.gz",
) -> tuple[Path, Path]:
    """Write a case study's learning and test sets as files; returns their paths.

    ``study`` ``"nsw2018"``: :func:`actnn.data.prepare_nsw2018` and :func:`nsw2018_split` (the
    split of NSW2018, SW2019 and the published tables, 610,212 / 67,801 policies);
    ``"wm2023"``: :func:`actnn.data.prepare_wm2023` (claims recounted from freMTPL2sev, with
    ``ClaimTotal``) and :func:`wm2023_split` (610,206 / 67,801). The files are
    ``learn<suffix>`` and ``test<suffix>`` in the folder ``out`` (``suffix``: ``.csv``,
    ``.csv.gz`` or ``.parquet``), rows in the order of R's sample, as the case studies use them
    (so a network trained on the file sees the same rows in the same order).
    """
    if study not in SPLITS:
        raise ValueError(f"unknown split {study!r}; valid: {', '.join(SPLITS)}")
    folder = Path(out)
    paths = tuple(
        data_module.writable_table(folder / f"{part}{suffix}") for part in ("learn", "test")
    )
    if study == "nsw2018":
        dat = data_module.prepare_nsw2018(data_module.load_freq(data_dir))
        learn_rows, test_rows = nsw2018_split(len(dat))
    else:
        dat = data_module.prepare_wm2023(
            data_module.load_freq(data_dir), data_module.load_sev(data_dir)
        )
        learn_rows, test_rows = wm2023_split(len(dat))
    folder.mkdir(parents=True, exist_ok=True)
    for path, rows in zip(paths, (learn_rows, test_rows), strict=True):
        data_module.write_table(dat.iloc[rows], path)
    return paths


def nsw2018_severity_split(
    data_dir: str | Path | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """The severity rows of the NSW2018 split: ``(learn, test, info)``.

    Severity rows: the policies of the case-study data (:func:`actnn.data.prepare_nsw2018`) with
    at least one record in freMTPL2sev; response ``ClaimAmount`` = mean claim amount over the
    policy's records; weight ``n_claims`` = number of records; a row is in the learning set when
    its policy is. ``info`` holds ``data_report`` (the inconsistencies found, as
    :func:`actnn.data.severity_data` reports them) and the fingerprints ``sha256`` (freMTPL2freq)
    and ``sha256_sev``.
    """
    freq_raw = data_module.load_freq(data_dir)
    sev_raw = data_module.load_sev(data_dir)
    dat = data_module.prepare_nsw2018(freq_raw)
    learn_rows, _ = nsw2018_split(len(dat))
    in_learn = np.zeros(len(dat), dtype=bool)
    in_learn[learn_rows] = True
    sev, report = data_module.severity_data(dat.assign(_learn=in_learn), sev_raw)
    info = {
        "data_report": report,
        "sha256": data_module.content_fingerprint(freq_raw),
        "sha256_sev": data_module.content_fingerprint(sev_raw),
    }
    learn = sev[sev["_learn"]].drop(columns="_learn")
    test = sev[~sev["_learn"]].drop(columns="_learn")
    return learn, test, info


def reproduce_severity(
    data_dir: str | Path | None = None,
    out: str | Path | None = None,
    *,
    quick: bool = False,
    progress: Progress | None = print,
    models: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Gamma severity models on the NSW2018 split: homogeneous, GLM1 and a CANN on GLM1.

    The data is :func:`nsw2018_severity_split`'s. Losses are the weighted mean Gamma unit
    deviance; ``dispersion`` is the Pearson estimate of R's ``summary.glm``. The CANN (SW2019's
    network inputs, embeddings d = 2, seed 1, early stopping on 10 % of the learning rows) is
    balance-corrected (intercept); ``quick`` trains it for 5 epochs instead of at most 200. The
    data inconsistencies found are in ``"data_report"``. A dict passed as ``models`` receives the
    fitted models by name.
    """
    _say(progress, "loading and checking freMTPL2freq and freMTPL2sev")
    learn, test, info = nsw2018_severity_split(data_dir)
    report = info["data_report"]
    fitted = models if models is not None else {}
    rows = []
    glm1 = None
    for name, preset in (("homogeneous", "homogeneous"), ("GLM1", "nsw2018_glm1")):
        _say(progress, f"fitting Gamma {name} on {len(learn):,} policies with claims")
        glm1 = GLM(get_preset(preset), "gamma", name=name).fit(
            learn, "ClaimAmount", weights="n_claims"
        )
        rows.append(_severity_row(name, glm1, learn, test))
        fitted[name] = glm1
    from .networks import CANN  # TensorFlow only here: persistence imports this module

    _say(progress, "training a Gamma CANN on GLM1 (balance-corrected)")
    cann = CANN(glm1, sw2019_network_inputs(), embedding_dim=2, batch_size=1_000,
                epochs=5 if quick else 200, patience=20, seed=1, verbose=0,
                name="gamma_cann")  # fmt: skip
    cann.fit(learn, "ClaimAmount", weights="n_claims").balance_correct(learn)
    rows.append(_severity_row("CANN on GLM1", cann, learn, test))
    fitted["CANN on GLM1"] = cann
    results = {
        "case_study": "severity",
        "quick": quick,
        "data": {
            "n_learn": len(learn),
            "n_test": len(test),
            "sha256": info["sha256"],
            "sha256_sev": info["sha256_sev"],
        },
        "units": GAMMA_UNITS,
        "models": rows,
        "observed_avg_severity_learn": float(
            np.average(learn["ClaimAmount"], weights=learn["n_claims"])
        ),
        "observed_avg_severity_test": float(
            np.average(test["ClaimAmount"], weights=test["n_claims"])
        ),
        "data_report": dataclasses.asdict(report),
        "versions": versions(),
    }
    if out is not None:
        write_results(results, out, _severity_markdown(results, str(report)))
    return results


def _severity_row(name: str, model: Any, learn: pd.DataFrame, test: pd.DataFrame) -> dict:
    """A results row of a severity model (GLM or network)."""
    mu_learn, mu_test = model.predict(learn), model.predict(test)
    history = getattr(model, "history_", None)
    return {
        "name": name,
        "kind": "cann" if history is not None else "glm",
        "seed": getattr(model, "seed", None),
        "balance_corrected": getattr(model, "balance_corrected_", False),
        "n_params": model.n_params_,
        "in_sample": gamma_deviance(learn["ClaimAmount"], mu_learn, learn["n_claims"]),
        "out_of_sample": gamma_deviance(test["ClaimAmount"], mu_test, test["n_claims"]),
        "avg_frequency_learn": None,
        "avg_frequency_test": None,
        "avg_severity_learn": _claim_weighted_mean(mu_learn, learn),
        "avg_severity_test": _claim_weighted_mean(mu_test, test),
        "aic": getattr(model, "aic_", None),
        "dispersion": getattr(model, "dispersion_", None),
        "fit_seconds": model.fit_seconds_,
        "epochs": None if history is None else history.epochs,
    }


def _claim_weighted_mean(values: Any, rows: pd.DataFrame) -> float:
    return float(np.average(values, weights=rows["n_claims"]))


def _severity_markdown(results: dict[str, Any], report: str) -> str:
    lines = [
        "# Gamma severity GLMs on freMTPL2sev (NSW2018 split)",
        "",
        f"Losses: {results['units']}. Learning set {results['data']['n_learn']:,} policies with "
        f"claims, test set {results['data']['n_test']:,}.",
        "",
        "| model | # param | AIC | in | out | dispersion | avg. severity learn |"
        " avg. severity test |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for m in results["models"]:
        aic = "" if m["aic"] is None else f"{m['aic']:,.0f}"
        dispersion = "" if m["dispersion"] is None else f"{m['dispersion']:.4f}"
        lines.append(
            f"| {m['name']} | {m['n_params']} | {aic} | {m['in_sample']:.5f} | "
            f"{m['out_of_sample']:.5f} | {dispersion} | {m['avg_severity_learn']:,.1f} | "
            f"{m['avg_severity_test']:,.1f} |"
        )
    lines += [
        "",
        f"Observed average claim size: learn {results['observed_avg_severity_learn']:,.1f}, "
        f"test {results['observed_avg_severity_test']:,.1f}.",
        "",
        "## Data report",
        "",
        "```",
        report,
        "```",
    ]
    return "\n".join(lines) + "\n"


def write_results(results: dict[str, Any], out: str | Path, markdown: str) -> Path:
    """Write ``results.json`` and ``results.md`` into the folder ``out`` (created if needed)."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (folder / "results.md").write_text(markdown)
    return folder
