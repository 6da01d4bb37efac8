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
# # freMTPL2 claim frequency: from the GLM to the CANN, beside the published tables
#
# The chain of Noll, Salzmann & Wüthrich (2018), Schelldorfer & Wüthrich (2019), Wüthrich
# (2020) and Richman & Wüthrich (2020) on the same data and split:
#
# 1. the homogeneous model and the GLMs, which reproduce the published figures exactly;
# 2. a CANN, which starts as the GLM it is built on (its untrained predictions are the GLM's);
# 3. embedding networks (FNN) and CANNs trained as SW2019 did (600 epochs, batch 10,000,
#    Nadam), five seeds each;
# 4. the balance correction of W2020 (the output layer refitted as a Poisson GLM);
# 5. a nagging ensemble of RW2020 (the mean of balance-corrected networks);
# 6. diagnostics on the test set: Lorenz curves and calibration.
#
# Losses: average Poisson deviance per policy, in units of 10^-2; published figures from
# `../shared/reference/published_tables.md`. The work is done by `actnn reproduce sw2019` (the
# same function), so the table here and that command's agree.
#
# Run: `python case_studies/fremtpl2_frequency.py --data-dir ../shared/data [--quick]
# [--out DIR]`, or as a notebook with `ACTNN_QUICK=1` (see case_studies/README.md). The full run
# takes about 45 min on two cores; quick mode (one CANN2 seed with early stopping, a 2-member
# ensemble) about a minute. Results go to `case_studies/results/fremtpl2_frequency/`.

# %% tags=["parameters"]
QUICK = None  # True: the CI-sized run; None: `--quick` in a script, else ACTNN_QUICK=1
DATA_DIR = None  # None: `--data-dir` in a script, else ACTNN_DATA_DIR
OUT = None  # None: `--out` in a script, else ACTNN_OUT/NAME, else case_studies/results/NAME

# %%
import time

import numpy as np
import pandas as pd

import actnn
from actnn import datasets as data
from actnn import metrics
from actnn.datasets.presets import sw2019_network_inputs
from actnn.networks import CANN
from actnn.report import plotting
from actnn.studies import case_study, nsw2018_split, show, show_markdown, write_results
from actnn.studies.sw2019 import SW2019Config, reproduce_sw2019, sw2019_markdown

study = case_study(
    "fremtpl2_frequency", quick=QUICK, data_dir=DATA_DIR, out=OUT,
    description="freMTPL2 frequency: GLM to CANN, nagging",
)  # fmt: skip
OUT = study.out
started = time.perf_counter()

# %% [markdown]
# ## 1. The data and the split
#
# `prepare_nsw2018` applies the case studies' preprocessing (claim counts capped at 4, exposure
# at 1); the split is R's `set.seed(100); sample(1:n, round(0.9 n))` with R 3.5 sampling.

# %%
dat = data.prepare_nsw2018(data.load_freq(study.data_dir))
learn_rows, test_rows = nsw2018_split(len(dat))
learn, test = dat.iloc[learn_rows], dat.iloc[test_rows]
for name, part in (("learning", learn), ("test", test)):
    print(f"{name}: {len(part):,} policies, {part['ClaimNb'].sum():,} claims, "
          f"frequency {part['ClaimNb'].sum() / part['Exposure'].sum():.2%}")  # fmt: skip

# %% [markdown]
# ## 2. The models, trained as the papers did
#
# `reproduce_sw2019` fits the GLMs, trains every network for every seed, balance-corrects it
# and builds the nagging ensemble; `models` receives the fitted models for the diagnostics
# below. The nagging members are checkpointed under `OUT/models/`, so an interrupted run resumes.

# %%
config = SW2019Config.quick() if study.quick else SW2019Config()
models: dict[str, object] = {}
results = reproduce_sw2019(
    study.data_dir, quick=study.quick, config=config, models=models,
    checkpoint_dir=OUT / "models" / "nagging",
)  # fmt: skip
table = pd.DataFrame(results["models"])
show(table[["name", "seed", "epochs", "in_sample", "out_of_sample", "avg_frequency_test"]])

# %% [markdown]
# ### The GLMs, exact
#
# Maximum likelihood by IRLS: every printed digit of the published tables.

# %%
published = results["published"]
exact = table.set_index("name").loc[["homogeneous", "GLM1", "GLM2"], ["in_sample", "out_of_sample"]]
exact = exact.map("{:.5f}".format).assign(
    published_in=[published[name]["in"] for name in exact.index],
    published_out=[published[name]["out"] for name in exact.index],
)
show(exact)

# %% [markdown]
# ### A CANN starts as its GLM
#
# The CANN adds the network's output to the GLM's linear predictor; the network's output
# weights start at zero, so before training the CANN's predictions are the GLM's.

# %%
untrained = CANN(models["GLM2"], sw2019_network_inputs(), embedding_dim=2, epochs=0, verbose=0)
untrained.fit(learn, "ClaimNb", exposure="Exposure")
start_gap = float(np.max(np.abs(np.log(untrained.predict(test) / models["GLM2"].predict(test)))))
print(f"largest |log(CANN / GLM2)| on the test set before training: {start_gap:.2e}")

# %% [markdown]
# ### Balance correction
#
# Networks trained by gradient descent are not balanced: their mean prediction on the learning
# data differs from the observed frequency. W2020 refits the output layer as a Poisson GLM on
# the last hidden layer's activations, which restores the balance exactly (and often improves
# the out-of-sample loss).

# %%
networks = table[table["kind"].isin(["fnn", "cann"])]
balance = networks.pivot_table(
    index="name", values=["avg_frequency_learn", "out_of_sample"], aggfunc="median"
)
show(balance)
print(f"observed learning frequency: {learn['ClaimNb'].sum() / learn['Exposure'].sum():.5f}")

# %% [markdown]
# ### Nagging
#
# The mean of M balance-corrected networks (on the frequency scale). The loss falls quickly
# with the first members, then slowly.

# %%
curve = results["nagging"]["out_of_sample_by_members"]
show(pd.DataFrame({"out_of_sample": curve}, index=pd.RangeIndex(1, len(curve) + 1, name="M")))


def draw_nagging(ax):
    ax.plot(range(1, len(curve) + 1), curve, "o-", label="ours")
    ax.axhline(float(published["nagging"]["out"]), color="grey", ls="--",
               label=f"RW2020, M = 400: {published['nagging']['out']}")  # fmt: skip
    glm2 = float(table.loc[table["name"] == "GLM2", "out_of_sample"].iloc[0])
    ax.axhline(glm2, color="black", lw=0.8, ls=":", label=f"GLM2: {glm2:.5f}")
    ax.set(xlabel="members M", ylabel="out-of-sample deviance (10^-2)",
           title=f"Nagging {results['nagging']['network']}")  # fmt: skip
    ax.legend(fontsize="small")


# %% [markdown]
# ## 3. Diagnostics on the test set
#
# Lorenz curves (ordered by the predicted frequency) and calibration by decile of the
# prediction, for GLM1, GLM2 and the nagging ensemble.

# %%
compared = {name: models[name] for name in ("GLM1", "GLM2", "nagging")}
y, v = test["ClaimNb"].to_numpy(), test["Exposure"].to_numpy()
rates = {name: model.predict(test) / v for name, model in compared.items()}
curves = {name: metrics.lorenz_curve(y, rate, v) for name, rate in rates.items()}
ginis = {name: metrics.gini(y, rate, v) for name, rate in rates.items()}
calibration = {name: metrics.calibration_bins(y / v, rate, v) for name, rate in rates.items()}
show(pd.Series(ginis, name="Gini (test)").to_frame())


# %%
def draw_losses(ax):
    shown = table[table["name"] != "homogeneous"]  # 33.86: off the scale of the others
    order = shown.groupby("name", sort=False)["out_of_sample"]
    names = list(order.groups)
    positions = np.arange(len(names))[::-1]
    ax.plot(order.median().to_numpy(), positions, "o", label="ours (median over seeds)")
    ax.hlines(positions, order.min(), order.max(), lw=2, alpha=0.5)
    points = [(float(published[n]["out"]), p)
              for n, p in zip(names, positions, strict=True)
              if n in published and "-" not in published[n]["out"]]  # fmt: skip
    ax.plot(*zip(*points, strict=True), "x", color="black", label="published")
    ax.set_yticks(positions, names, fontsize="small")
    ax.set(xlabel="out-of-sample deviance (10^-2)",
           title="freMTPL2, NSW2018 test set (homogeneous: 33.86)")  # fmt: skip
    ax.legend(fontsize="small")


figures = {
    "losses.png": (draw_losses, (7.0, 5.0)),
    "nagging.png": (draw_nagging, (6.4, 4.4)),
    "lorenz.png": (lambda ax: plotting.plot_lorenz(curves, ax=ax, ginis=ginis), (5.5, 5.0)),
    "calibration.png": (lambda ax: plotting.plot_calibration(calibration, ax=ax), (6.4, 4.4)),
}
for file, (draw, size) in figures.items():
    png = plotting.figure_png(draw, size=size)
    (OUT / file).write_bytes(png)
    show(png)

# %% [markdown]
# ## 4. Results
#
# `results.json` (the schema of `actnn reproduce`, plus the diagnostics), `results.md` and the
# figures.

# %%
results["case_study"] = "fremtpl2_frequency"
results["cann_start_max_abs_log_gap"] = start_gap
results["gini_test"] = ginis
results["figures"] = list(figures)
results["total_seconds"] = time.perf_counter() - started
results["versions"]["actnn"] = results["versions"].get("actnn") or actnn.__version__
markdown = sw2019_markdown(results).replace(
    "# SW2019 on freMTPL2", "# freMTPL2 frequency: GLM to CANN", 1
) + "\n".join([
    "",
    f"Produced by `{study.command}`.",
    "",
    f"Before training, the CANN on GLM2 predicts the GLM: largest |log ratio| {start_gap:.1e}.",
    "",
    "Gini index on the test set (Lorenz curve by predicted frequency): "
    + ", ".join(f"{name} {value:.4f}" for name, value in ginis.items()) + ".",
    "",
    *[f"![{file}]({file})" for file in figures],
    "",
])  # fmt: skip
write_results(results, OUT, markdown)
show_markdown(markdown)
