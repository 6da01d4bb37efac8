# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Where the truth is known: the synthetic portfolio
#
# `actnn.simulate_mtpl` draws a freMTPL2-like portfolio from a known frequency with smooth
# non-linear effects and three interactions that a main-effects GLM cannot represent. On such
# data each model can be measured against the **truth**, not only against noisy claim counts:
#
# - `deviance_observed`: the average Poisson deviance per policy against the claim counts
#   (10^-2), what a real portfolio allows;
# - `deviance_to_truth`: the same deviance with the true expected counts as the response,
#   `100 mean d(true_mu, mu)`: 0 for the true model, and the part of the observed deviance a
#   better model can still remove (up to noise);
# - `rmse_log_frequency`: the exposure-weighted root mean square of `log(mu / true_mu)`, the
#   typical relative error of the tariff.
#
# Run: `python case_studies/synthetic_truth.py [--quick] [--out DIR]` (no data needed), or as a
# notebook with `ACTNN_QUICK=1` (see case_studies/README.md). Results go to
# `case_studies/results/synthetic_truth/`.

# %% tags=["parameters"]
QUICK = None  # True: the CI-sized run; None: `--quick` in a script, else ACTNN_QUICK=1
OUT = None  # None: `--out` in a script, else ACTNN_OUT/NAME, else case_studies/results/NAME
N = None  # policies; None: 500,000 (quick: 40,000)

# %%
import time

import numpy as np
import pandas as pd

import actnn
from actnn import GLM, get_preset, plotting, poisson_deviance, r_split, simulate_mtpl
from actnn.datasets.presets import sw2019_network_inputs
from actnn.ensemble import Nagging
from actnn.families import Poisson
from actnn.networks import CANN, FNN
from actnn.report import markdown_table
from actnn.studies import case_study, show, show_markdown, versions, write_results

study = case_study(
    "synthetic_truth", quick=QUICK, out=OUT, uses_data=False,
    description="models against the known truth",
)  # fmt: skip
OUT = study.out
N = N or (40_000 if study.quick else 500_000)
EPOCHS = 5 if study.quick else 300
MEMBERS = 2 if study.quick else 5
started = time.perf_counter()

# %% [markdown]
# ## The portfolio and a 90 % / 10 % split

# %%
data = simulate_mtpl(N, seed=1, severity=False)
learn_rows, test_rows = r_split(len(data), frac=0.9, seed=100)
learn, test = data.iloc[learn_rows], data.iloc[test_rows]
print(f"{len(learn):,} learning and {len(test):,} test policies, "
      f"frequency {learn.ClaimNb.sum() / learn.Exposure.sum():.4f}")  # fmt: skip

# %% [markdown]
# ## The models: homogeneous, GLM1, an embedding network, a CANN on GLM1, nagging

# %%
models = {}
seconds = {}


def timed(name, fit):
    t0 = time.perf_counter()
    models[name] = fit()
    seconds[name] = time.perf_counter() - t0
    print(f"{name}: {seconds[name]:.0f} s")


timed("homogeneous", lambda: GLM(get_preset("homogeneous")).fit(learn, "ClaimNb",
                                                                  exposure="Exposure"))  # fmt: skip
timed("GLM1", lambda: GLM(get_preset("nsw2018_glm1")).fit(learn, "ClaimNb", exposure="Exposure"))
network = {"epochs": EPOCHS, "validation_fraction": 0.0, "verbose": 0}


def fnn(seed):
    return FNN(sw2019_network_inputs(), seed=seed, **network)


timed("FNN d=2", lambda: fnn(1).fit(learn, "ClaimNb", exposure="Exposure").balance_correct(learn))
timed("CANN on GLM1", lambda: CANN(models["GLM1"], sw2019_network_inputs(), seed=1, **network)
      .fit(learn, "ClaimNb", exposure="Exposure").balance_correct(learn))  # fmt: skip
timed(f"nagging FNN d=2, M = {MEMBERS}",
      lambda: Nagging(fnn, seeds=list(range(1, MEMBERS + 1)), progress=None,
                      ).fit(learn, "ClaimNb", exposure="Exposure",
                            trained={1: models["FNN d=2"]}))  # fmt: skip

# %% [markdown]
# ## Distance to the truth, out of sample
#
# On the learning set, a model whose deviance against the claim counts is below the truth's has
# fitted noise; the distance to the truth shows what that costs.

# %%
POISSON = Poisson()


def scores(frame: pd.DataFrame) -> pd.DataFrame:
    true_mu = frame["true_mu"].to_numpy()
    v = frame["Exposure"].to_numpy()
    rows = {}
    for name, model in {**models, "truth": None}.items():
        mu = true_mu if model is None else model.predict(frame)
        log_ratio = np.log(mu / true_mu)
        rows[name] = {
            "deviance_observed": poisson_deviance(frame["ClaimNb"], mu),
            "deviance_to_truth": 100 * POISSON.mean_deviance(true_mu, mu),
            "rmse_log_frequency": float(np.sqrt(np.average(log_ratio**2, weights=v))),
        }
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "model"
    return table


test_table, learn_table = scores(test), scores(learn)
show(test_table)

# %%
results = {
    "case_study": "synthetic_truth",
    "quick": study.quick,
    "data": {"n": N, "seed": 1, "n_learn": len(learn), "n_test": len(test)},
    "units": {
        "deviance_observed": "average Poisson deviance per policy, in units of 10^-2",
        "deviance_to_truth": "100 x mean Poisson deviance of mu against the true mean",
        "rmse_log_frequency": "exposure-weighted RMS of log(mu / true_mu)",
    },
    "test": test_table.reset_index().to_dict(orient="records"),
    "learn": learn_table.reset_index().to_dict(orient="records"),
    "fit_seconds": seconds,
    "epochs": EPOCHS,
    "total_seconds": time.perf_counter() - started,
    "versions": versions() | {"actnn": actnn.__version__},
}


def draw_errors(ax):
    """Distribution of log(mu / true_mu) on the test set, one line per model."""
    true_mu = test["true_mu"].to_numpy()
    bins = np.linspace(-1.0, 1.0, 81)
    for name, model in models.items():
        log_ratio = np.clip(np.log(model.predict(test) / true_mu), bins[0], bins[-1])
        rms = test_table.loc[name, "rmse_log_frequency"]
        ax.hist(log_ratio, bins=bins, weights=test["Exposure"], density=True, histtype="step",
                label=f"{name} (RMS {rms:.3f})")  # fmt: skip
    ax.set(xlabel="log(predicted / true frequency), clipped to [-1, 1]",
           ylabel="density (exposure-weighted)",
           title="Test set: error against the truth")  # fmt: skip
    ax.legend(fontsize="small")


png = plotting.figure_png(draw_errors, size=(7.0, 4.6))
(OUT / "errors.png").write_bytes(png)
show(png)

md = "\n".join([
    "# The synthetic portfolio: models against the known truth"
    + (" (quick run)" if study.quick else ""),
    "",
    f"Produced by `{study.command}`: "
    f"{N:,} policies (`simulate_mtpl(n, seed=1)`), R split seed 100, networks {EPOCHS} epochs "
    "without validation, balance-corrected.",
    "",
    f"Test set ({len(test):,} policies):",
    "",
    markdown_table(test_table),
    "",
    "![errors against the truth](errors.png)",
    "",
    "On the learning set, a model whose deviance against the claim counts is below the truth's "
    "has fitted noise: it is then farther from the truth out of sample too.",
    "",
    f"Learning set ({len(learn):,} policies):",
    "",
    markdown_table(learn_table),
    "",
    "Fit times: " + ", ".join(f"{k} {v:.0f} s" for k, v in seconds.items())
    + f"; total {results['total_seconds']:.0f} s.",
    "",
])  # fmt: skip
write_results(results, OUT, md)
show_markdown(md)
