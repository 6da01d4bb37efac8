"""Gamma severity on the NSW2018 split: homogeneous, Gamma GLM1 and a CANN on GLM1.

Results follow the schema of :mod:`actnn.studies.results`.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._utils import Progress, _say, versions
from ..datasets.presets import get_preset, sw2019_network_inputs
from ..datasets.splits import nsw2018_severity_split
from ..glm import GLM
from ..metrics.scores import GAMMA_UNITS, gamma_deviance
from .results import write_results

__all__ = ["reproduce_severity"]


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
    from ..networks import CANN  # TensorFlow only here: actnn reproduce nsw2018 needs none

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
