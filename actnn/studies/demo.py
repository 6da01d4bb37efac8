"""``actnn demo``: from an exact GLM to a CANN, a comparison report and tariff tables.

On a synthetic portfolio whose true frequency is known (:func:`actnn.simulate_mtpl`), split as
the published studies split freMTPL2 (R ``set.seed(100)``, 90 % learning), the demo walks through
what actnn is for:

1. NSW2018's GLM1, fitted exactly (IRLS) and held in a Keras network;
2. a CANN that starts at that GLM (its network part adds nothing before training) and learns
   what the GLM misses;
3. the balance correction of the CANN (Wüthrich 2020): its predictions sum to the observed claims
   on the learning data, as the GLM's do;
4. the HTML report that compares the two tariffs on the test set, and the tariff tables: the
   GLM's relativities and coefficients, and the CANN's relativities beside the GLM's.

It takes about a minute on two cores for the default 100,000 policies.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._utils import Progress, _say, versions
from ..datasets.presets import get_preset, sw2019_network_inputs
from ..datasets.rsplit import r_split
from ..datasets.simulate import simulate_mtpl
from ..glm import GLM
from ..metrics.scores import POISSON_UNITS, poisson_deviance
from ..networks import CANN
from ..report import markdown_table, write_report
from .results import write_results

__all__ = ["run_demo"]

#: The demo's CANN: small and quick, stopped early on 10 % of the learning data.
_CANN_OPTIONS = {"hidden": (20, 15, 10), "epochs": 60, "patience": 8, "batch_size": 5_000}


def run_demo(
    out: str | Path = "actnn-demo",
    *,
    n: int = 100_000,
    seed: int = 1,
    progress: Progress | None = print,
    epochs: int | None = None,
    verbose: bool | None = None,
) -> dict[str, Any]:
    """Run the demo and write its outputs into the folder ``out``.

    Parameters
    ----------
    out : path
        Output folder (created).
    n, seed : int
        Policies to simulate and the simulation's seed.
    progress : callable, optional
        Receives one line per step (default ``print``); None is silent, the CANN's progress line
        included.
    epochs : int, optional
        The CANN's maximum number of epochs (default 60, stopped early).
    verbose : bool, optional
        Show the CANN's progress line over the epochs (default: when ``progress`` is given and
        the standard output is a terminal).

    Returns
    -------
    dict
        The ``results.json`` content (losses in Wüthrich's units, see :mod:`actnn.studies`).

    Notes
    -----
    Outputs: ``report.html`` (the tariff comparison on the test set), ``results.json`` and
    ``results.md`` (losses, also against the true frequency), ``tariff_glm1.csv`` (the GLM's
    relativities by feature level), ``tariff_glm1_coefficients.csv`` and
    ``tariff_cann_vs_glm1.csv`` (the CANN's relativities beside the GLM's, from partial
    dependence on the test set).
    """
    started = time.perf_counter()
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    _say(progress, f"1/5 simulating {n:,} policies with a known true frequency (seed {seed})")
    data = simulate_mtpl(n, seed)
    learn_rows, test_rows = r_split(len(data), frac=0.9, seed=100)
    learn, test = data.iloc[learn_rows], data.iloc[test_rows]

    _say(progress, f"2/5 fitting GLM1 exactly (IRLS) on {len(learn):,} policies")
    glm = GLM(get_preset("nsw2018_glm1"), "poisson", name="GLM1")
    glm.fit(learn, "ClaimNb", exposure="Exposure")
    _say(progress, f"    {glm.n_params_} parameters, {glm.n_iter_} iterations")

    _say(progress, "3/5 training a CANN that starts at GLM1")
    options = {**_CANN_OPTIONS, "epochs": epochs or _CANN_OPTIONS["epochs"]}
    if verbose is None:
        verbose = progress is not None and sys.stdout.isatty()
    cann = CANN(glm, sw2019_network_inputs(), seed=seed, verbose=int(verbose),
                **{**options, "epochs": 0})  # fmt: skip
    cann.fit(learn, "ClaimNb", exposure="Exposure")  # builds the network, trains nothing
    start_gap = float(np.max(np.abs(np.log(cann.predict(test) / glm.predict(test)))))
    _say(progress, f"    before training the CANN is the GLM: largest |log ratio| {start_gap:.1e}")
    cann.epochs = options["epochs"]
    cann.fit(learn, "ClaimNb", exposure="Exposure")  # the same start (same seed), trained
    history = cann.history_
    _say(progress, f"    {history.epochs} epochs, best epoch {history.best_epoch}"
         + (", stopped early" if history.stopped_early else ""))  # fmt: skip

    _say(progress, "4/5 balance correction of the CANN (Wüthrich 2020)")
    before = float(cann.predict(learn).sum())
    cann.balance_correct(learn)
    after = float(cann.predict(learn).sum())
    observed = float(learn["ClaimNb"].sum())
    _say(progress, f"    predicted claims on the learning data {before:,.1f} -> {after:,.1f} "
         f"(observed {observed:,.0f})")  # fmt: skip

    rows = [
        _row("GLM1", learn, test, glm.predict(learn), glm.predict(test)),
        _row("CANN", learn, test, cann.predict(learn), cann.predict(test)),
        _row("true model", learn, test, learn["true_mu"], test["true_mu"]),
    ]
    results = {
        "case_study": "demo",
        "data": {
            "n_learn": len(learn),
            "n_test": len(test),
            "sha256": None,
            "simulation": {"n": n, "seed": seed},
        },  # fmt: skip
        "units": POISSON_UNITS,
        "models": rows,
        "cann": {
            "start_gap": start_gap,
            "epochs": history.epochs,
            "best_epoch": history.best_epoch,
            "claims_learn": {
                "before_balance": before,
                "after_balance": after,
                "observed": observed,
            },
        },
        "versions": versions(),
    }

    _say(progress, "5/5 the comparison report and the tariff tables")
    report = folder / "report.html"
    evaluation = write_report({"GLM1": glm, "CANN": cann}, test, report, title="actnn demo",
                              progress=None, response="ClaimNb", exposure="Exposure",
                              data_name="synthetic test set")  # fmt: skip
    glm.relativities().to_csv(folder / "tariff_glm1.csv", index=False)
    glm.coef_table().to_csv(folder / "tariff_glm1_coefficients.csv", index=False)
    comparison = pd.concat(
        [table.assign(feature=feature) for feature, table in evaluation.relativities.items()],
        ignore_index=True,
    )
    comparison.to_csv(folder / "tariff_cann_vs_glm1.csv", index=False)
    write_results(results, folder, _markdown(results))
    _say(progress, "\n" + _markdown(results))
    _say(progress, f"done in {time.perf_counter() - started:.0f} s; tariff tables in "
         f"{folder.resolve()}")  # fmt: skip
    _say(progress, f"report: {report.resolve()}")
    return results


def _row(name: str, learn: pd.DataFrame, test: pd.DataFrame, mu_learn: Any, mu_test: Any) -> dict:
    mu_learn, mu_test = np.asarray(mu_learn), np.asarray(mu_test)
    return {
        "name": name,
        "in_sample": poisson_deviance(learn["ClaimNb"], mu_learn),
        "out_of_sample": poisson_deviance(test["ClaimNb"], mu_test),
        "to_truth": poisson_deviance(test["true_mu"], mu_test),
        "avg_frequency_learn": float(mu_learn.sum() / learn["Exposure"].sum()),
        "avg_frequency_test": float(mu_test.sum() / test["Exposure"].sum()),
    }


def _markdown(results: dict[str, Any]) -> str:
    table = pd.DataFrame(results["models"]).rename(
        columns={"in_sample": "in", "out_of_sample": "out", "to_truth": "out, to the truth"}
    )
    return (
        "# actnn demo: synthetic portfolio, GLM1 and a CANN\n\n"
        f"Losses: {results['units']}; 'to the truth' scores the predictions against the true "
        "expected claims instead of the observed ones (0 for the true model).\n\n"
        + markdown_table(table.set_index("name"))
    )
