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
# # The Wüthrich & Merz (2023) data version: from GLM to CANN
#
# Data: `actnn.data.prepare_wm2023` (claim counts recounted from freMTPL2sev, policies with more
# than 5 claims removed, exposure capped at 1, rows ordered by IDpol: 678,007 policies). Split:
# the book's Listing 5.2, R `RNGversion("3.5.0"); set.seed(500); sample(1:n, round(0.9 n))`
# (R's "Rounding" sample kind), 90 % learning; the homogeneous model gives the published
# 25.21319 / 25.44541.
# Models: homogeneous, GLM1 (NSW2018's feature engineering), a CANN on GLM1 and an embedding
# network (SW2019's inputs, d = 2, early stopping on 10 % of the learning data,
# balance-corrected), and their 5-member nagging ensembles. Losses: average Poisson deviance per
# policy in 10^-2. The published networks on this split (Richman, Scognamiglio & Wüthrich 2025)
# use other feature engineering and ensembles; the figures below are ours.
#
# Run: `python case_studies/wm2023.py --data-dir ../shared/data [--quick] [--out DIR]`, or as a
# notebook with `ACTNN_QUICK=1` (see case_studies/README.md). Results go to
# `case_studies/results/wm2023/`.

# %% tags=["parameters"]
QUICK = None  # True: the CI-sized run; None: `--quick` in a script, else ACTNN_QUICK=1
DATA_DIR = None  # None: `--data-dir` in a script, else ACTNN_DATA_DIR
OUT = None  # None: `--out` in a script, else ACTNN_OUT/NAME, else case_studies/results/NAME

# %%
import time

import pandas as pd

import actnn
from actnn import GLM, data, get_preset, metrics, plotting, poisson_deviance
from actnn.datasets.presets import sw2019_network_inputs
from actnn.ensemble import Nagging
from actnn.networks import CANN, FNN
from actnn.report import markdown_table
from actnn.studies import case_study, show, show_markdown, versions, wm2023_split, write_results

study = case_study(
    "wm2023", quick=QUICK, data_dir=DATA_DIR, out=OUT,
    description="GLM to CANN on the WM2023 data version",
)  # fmt: skip
OUT = study.out
EPOCHS = 3 if study.quick else 500
MEMBERS = 2 if study.quick else 5
started = time.perf_counter()

# %%
wm = data.prepare_wm2023(data.load_freq(study.data_dir), data.load_sev(study.data_dir))
learn_rows, test_rows = wm2023_split(len(wm))
learn, test = wm.iloc[learn_rows], wm.iloc[test_rows]
print(f"{len(wm):,} policies: {len(learn):,} learning, {len(test):,} test; removed IDpol "
      f"{wm.attrs['removed_IDpol']}")  # fmt: skip

# %% [markdown]
# ## GLMs, then the networks on top

# %%
models, seconds = {}, {}


def timed(name, fit):
    t0 = time.perf_counter()
    models[name] = fit()
    seconds[name] = round(time.perf_counter() - t0, 1)
    print(f"{name}: {seconds[name]} s")


fit_args = {"exposure": "Exposure"}
timed("homogeneous", lambda: GLM(get_preset("homogeneous")).fit(learn, "ClaimNb", **fit_args))
timed("GLM1", lambda: GLM(get_preset("nsw2018_glm1")).fit(learn, "ClaimNb", **fit_args))
options = {"embedding_dim": 2, "epochs": EPOCHS, "verbose": 0}


def cann(seed):
    return CANN(models["GLM1"], sw2019_network_inputs(), seed=seed, **options)


def fnn(seed):
    return FNN(sw2019_network_inputs(), seed=seed, **options)


for name, make in (("CANN on GLM1", cann), ("FNN d=2", fnn)):
    timed(f"{name}, nagging M = {MEMBERS}",
          lambda make=make: Nagging(make, seeds=list(range(1, MEMBERS + 1)), progress=None)
          .fit(learn, "ClaimNb", **fit_args))  # fmt: skip
    models[name] = models[f"{name}, nagging M = {MEMBERS}"].members_[0]  # the seed-1 member

# %% [markdown]
# ## Losses

# %%
rows = []
for name, model in models.items():
    rows.append({
        "model": name,
        "in_sample": poisson_deviance(learn["ClaimNb"], model.predict(learn)),
        "out_of_sample": poisson_deviance(test["ClaimNb"], model.predict(test)),
        "avg_frequency_test": float(model.predict(test).sum() / test["Exposure"].sum()),
    })  # fmt: skip
table = pd.DataFrame(rows).set_index("model")
show(table)

# %%
results = {
    "case_study": "wm2023",
    "quick": study.quick,
    "data": {
        "n": len(wm),
        "n_learn": len(learn),
        "n_test": len(test),
        "removed_IDpol": wm.attrs["removed_IDpol"],
    },  # fmt: skip
    "units": "average Poisson deviance per policy, in units of 10^-2",
    "models": table.reset_index().to_dict(orient="records"),
    "fit_seconds": seconds,
    "epochs_max": EPOCHS,
    "total_seconds": time.perf_counter() - started,
    "versions": versions() | {"actnn": actnn.__version__},
}

# %% [markdown]
# ## Diagnostics on the test set: Lorenz curves and calibration

# %%
y, v = test["ClaimNb"].to_numpy(), test["Exposure"].to_numpy()
compared = ["GLM1", *(name for name in models if "nagging" in name)]
rates = {name: models[name].predict(test) / v for name in compared}
curves = {name: metrics.lorenz_curve(y, rate, v) for name, rate in rates.items()}
ginis = {name: metrics.gini(y, rate, v) for name, rate in rates.items()}
calibration = {name: metrics.calibration_bins(y / v, rate, v) for name, rate in rates.items()}
figures = {
    "lorenz.png": lambda ax: plotting.plot_lorenz(curves, ax=ax, ginis=ginis),
    "calibration.png": lambda ax: plotting.plot_calibration(calibration, ax=ax),
}
for file, draw in figures.items():
    png = plotting.figure_png(draw, size=(6.4, 5.0))
    (OUT / file).write_bytes(png)
    show(png)
results["gini_test"] = ginis

# %%
shown = table.assign(fit_seconds=pd.Series(seconds).round().astype("Int64")).rename(
    columns={"in_sample": "in", "out_of_sample": "out"}
)
lines = [
    "# Wüthrich & Merz (2023) data: GLM to CANN" + (" (quick run)" if study.quick else ""),
    "",
    f"Produced by `{study.command}`: {len(learn):,} learning and {len(test):,} test policies "
    "(R seed 500, 90 %). Losses: "
    "average Poisson deviance per policy, 10^-2. Networks: embeddings d = 2, early stopping on "
    f"10 % of the learning data (at most {EPOCHS} epochs), balance-corrected; single rows are "
    "the seed-1 members. `avg_frequency_test`: predicted claims per year of exposure.",
    "",
    markdown_table(shown),
    "",
    "Gini index on the test set: " + ", ".join(f"{k} {v:.4f}" for k, v in ginis.items()) + ".",
    "",
    *[f"![{file}]({file})" for file in figures],
    "",
    f"Total run time: {time.perf_counter() - started:.0f} s.",
    "",
]
write_results(results, OUT, "\n".join(lines))
show_markdown("\n".join(lines))
