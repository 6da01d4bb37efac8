"""``actnn demo``: an exact frequency and severity GLM on the embedded synthetic portfolio.

Simulates a portfolio whose true model is known (:func:`actnn.simulate.simulate_mtpl`), splits it
as the published studies split freMTPL2 (R ``set.seed(100)``, 90 % learning), fits the homogeneous
model and NSW2018's GLM1 by IRLS into Keras networks, and a Gamma GLM1 for the claim sizes. The
true model is scored too, so the table shows how far a main-effects GLM stays from the truth.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._utils import Progress, _say, versions
from ..datasets.presets import get_preset
from ..datasets.rsplit import r_split
from ..datasets.simulate import simulate_mtpl
from ..glm import GLM
from ..metrics.scores import POISSON_UNITS, gamma_deviance, poisson_deviance
from .results import write_results

__all__ = ["run_demo"]


def run_demo(
    out: str | Path = "actnn-demo",
    *,
    n: int = 200_000,
    seed: int = 1,
    progress: Progress | None = print,
) -> dict[str, Any]:
    """Run the demo and write its outputs into ``out``.

    Outputs: ``results.json`` (the shared results schema), ``results.md`` (the deviance tables),
    ``glm1_relativities.csv`` and ``glm1_coefficients.csv`` (the frequency tariff),
    ``severity_relativities.csv``, and ``glm1.keras`` (the frequency GLM as a Keras model).
    """
    _say(progress, f"simulating a synthetic portfolio of {n:,} policies (seed {seed})")
    data = simulate_mtpl(n, seed)
    learn_rows, test_rows = r_split(len(data), frac=0.9, seed=100)
    learn, test = data.iloc[learn_rows], data.iloc[test_rows]

    rows: list[dict[str, Any]] = []
    fitted: dict[str, GLM] = {}
    for name, preset in (("homogeneous", "homogeneous"), ("GLM1", "nsw2018_glm1")):
        _say(progress, f"fitting the Poisson model {name} on {len(learn):,} policies")
        model = GLM(get_preset(preset), "poisson", name=name)
        fitted[name] = model.fit(learn, "ClaimNb", exposure="Exposure")
        rows.append(_frequency_row(name, learn, test, model.predict(learn), model.predict(test)))
        rows[-1].update(
            n_params=model.n_params_, aic=model.aic_, fit_seconds=model.fit_seconds_, epochs=None
        )
    rows.append(_frequency_row("true model", learn, test, learn["true_mu"], test["true_mu"]))
    rows[-1].update(n_params=None, aic=None, fit_seconds=None, epochs=None)

    _say(progress, "fitting the Gamma GLM1 on the claim sizes")
    claims_learn = learn[learn["ClaimNb"] > 0]
    claims_test = test[test["ClaimNb"] > 0]
    severity = GLM(get_preset("nsw2018_glm1"), "gamma", name="severity_GLM1")
    severity.fit(claims_learn, "ClaimAmount", weights="ClaimNb")
    severity_rows = [
        {
            "name": name,
            "in_sample": gamma_deviance(
                claims_learn["ClaimAmount"], mu_learn, claims_learn["ClaimNb"]
            ),
            "out_of_sample": gamma_deviance(
                claims_test["ClaimAmount"], mu_test, claims_test["ClaimNb"]
            ),
        }
        for name, mu_learn, mu_test in (
            ("Gamma GLM1", severity.predict(claims_learn), severity.predict(claims_test)),
            ("true model", claims_learn["true_severity"], claims_test["true_severity"]),
        )
    ]

    results = {
        "case_study": "demo",
        "data": {
            "n_learn": len(learn),
            "n_test": len(test),
            "sha256": None,
            "simulation": {"n": n, "seed": seed},
        },
        "units": POISSON_UNITS,
        "models": rows,
        "severity": {"units": "weighted mean Gamma unit deviance", "models": severity_rows},
        "versions": versions(),
    }
    folder = write_results(results, out, _markdown(results))
    glm1 = fitted["GLM1"]
    glm1.relativities().to_csv(folder / "glm1_relativities.csv", index=False)
    glm1.coef_table().to_csv(folder / "glm1_coefficients.csv", index=False)
    severity.relativities().to_csv(folder / "severity_relativities.csv", index=False)
    glm1.keras_model_.save(folder / "glm1.keras")
    _say(progress, "\n" + _markdown(results))
    _say(progress, f"outputs written to {folder.resolve()}")
    return results


def _frequency_row(
    name: str, learn: pd.DataFrame, test: pd.DataFrame, mu_learn: Any, mu_test: Any
) -> dict[str, Any]:
    mu_learn, mu_test = np.asarray(mu_learn), np.asarray(mu_test)
    return {
        "name": name,
        "in_sample": poisson_deviance(learn["ClaimNb"], mu_learn),
        "out_of_sample": poisson_deviance(test["ClaimNb"], mu_test),
        "avg_frequency_learn": float(mu_learn.sum() / learn["Exposure"].sum()),
        "avg_frequency_test": float(mu_test.sum() / test["Exposure"].sum()),
    }


def _markdown(results: dict[str, Any]) -> str:
    lines = [
        "# actnn demo: synthetic portfolio",
        "",
        f"Frequency losses: {results['units']}.",
        "",
        "| model | # param | in | out | avg. freq. learn | avg. freq. test |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for m in results["models"]:
        lines.append(
            f"| {m['name']} | {m['n_params'] or ''} | {m['in_sample']:.5f} | "
            f"{m['out_of_sample']:.5f} | {m['avg_frequency_learn']:.4f} | "
            f"{m['avg_frequency_test']:.4f} |"
        )
    lines += [
        "",
        f"Severity losses: {results['severity']['units']}.",
        "",
        "| model | in | out |",
        "| --- | ---: | ---: |",
    ]
    for m in results["severity"]["models"]:
        lines.append(f"| {m['name']} | {m['in_sample']:.5f} | {m['out_of_sample']:.5f} |")
    return "\n".join(lines) + "\n"
