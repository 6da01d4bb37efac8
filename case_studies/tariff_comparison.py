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
# # Tariff comparison on freMTPL2: GLM1 against a CANN, and the pure premium
#
# 1. **Frequency.** On the NSW2018 split, GLM1 (NSW2018) against a CANN on GLM1 (SW2019's
#    network inputs, embeddings d = 2, early stopping, balance-corrected, seed 1). Both are
#    saved, the test data is written to a file, and the comparison report is produced exactly
#    as a user would produce it: `actnn report MODELS/GLM1 MODELS/CANN --data test.parquet
#    --out report.html`.
# 2. **Pure premium.** On the Wüthrich & Merz (2023) data version (claim counts recounted from
#    freMTPL2sev, so every claim has an amount), frequency x severity (Poisson GLM1 x Gamma
#    GLM1) against a direct Tweedie GLM, on observed claim amounts.
#
# The severity models themselves (a Gamma GLM against a Gamma CANN, with diagnostics) are the
# subject of `fremtpl2_severity.py`.
#
# Run: `python case_studies/tariff_comparison.py --data-dir ../shared/data [--quick]
# [--out DIR]`, or as a notebook with `ACTNN_QUICK=1` (see case_studies/README.md). Quick mode
# trains the CANN for 5 epochs and averages the partial dependences over fewer policies (CI runs
# it). Results go to `case_studies/results/tariff_comparison/`.

# %% tags=["parameters"]
QUICK = None  # True: the CI-sized run; None: `--quick` in a script, else ACTNN_QUICK=1
DATA_DIR = None  # None: `--data-dir` in a script, else ACTNN_DATA_DIR
OUT = None  # None: `--out` in a script, else ACTNN_OUT/NAME, else case_studies/results/NAME

# %%
import time
import warnings

import actnn
from actnn import GLM, DataWarning, data, get_preset
from actnn.datasets.presets import sw2019_network_inputs
from actnn.networks import CANN
from actnn.premium import fit_tweedie_pure_premium, pure_premium, pure_premium_table
from actnn.report import markdown_table, write_report
from actnn.studies import (
    case_study,
    nsw2018_split,
    show,
    show_markdown,
    versions,
    wm2023_split,
    write_results,
)

study = case_study(
    "tariff_comparison", quick=QUICK, data_dir=DATA_DIR, out=OUT,
    description="GLM1 against a CANN on freMTPL2, pure premium",
)  # fmt: skip
OUT = study.out
started = time.perf_counter()
timings: dict[str, float] = {}

# %% [markdown]
# ## 1. Frequency: GLM1 and a CANN on the NSW2018 split

# %%
freq = data.prepare_nsw2018(data.load_freq(study.data_dir))
learn_rows, test_rows = nsw2018_split(len(freq))
learn, test = freq.iloc[learn_rows], freq.iloc[test_rows].reset_index(drop=True)

t0 = time.perf_counter()
glm1 = GLM(get_preset("nsw2018_glm1"), name="GLM1").fit(learn, "ClaimNb", exposure="Exposure")
cann = CANN(glm1, sw2019_network_inputs(), embedding_dim=2, seed=1, verbose=0,
            epochs=5 if study.quick else 500)  # fmt: skip
cann.fit(learn, "ClaimNb", exposure="Exposure").balance_correct(learn)
timings["fit GLM1 and CANN"] = time.perf_counter() - t0
print(f"CANN: {cann.history_.epochs} epochs, {cann.fit_seconds_:.0f} s")

# %% [markdown]
# Save both tariffs and the test data, then build the report from the files, as
# `actnn report` does.

# %%
models_dir = OUT / "models"
glm1.save(models_dir / "GLM1", overwrite=True)
cann.save(models_dir / "CANN", overwrite=True)
test_file = OUT / "test.csv.gz"
test.to_csv(test_file, index=False)

t0 = time.perf_counter()
evaluation = write_report(
    [models_dir / "GLM1", models_dir / "CANN"], test_file, OUT / "report.html",
    title="freMTPL2 frequency, NSW2018 test set: GLM1 against CANN", markdown=True,
    pd_sample=5_000 if study.quick else 20_000,
)  # fmt: skip
timings["report (load, evaluate, write)"] = time.perf_counter() - t0
show(evaluation.scores)

# %%
show(evaluation.murphy)

# %% [markdown]
# The first figures of the report: Lorenz curves, calibration and the Murphy decomposition.

# %%
for caption, png in evaluation.pngs()[:3]:
    show_markdown(f"*{caption}*")
    show(png)

# %% [markdown]
# ## 2. Pure premium on the Wüthrich & Merz (2023) data version
#
# Split: the book's Listing 5.2, R `RNGversion("3.5.0"); set.seed(500); sample(1:n, round(0.9 n))`.

# %%
wm = data.prepare_wm2023(data.load_freq(study.data_dir), data.load_sev(study.data_dir))
wm_learn_rows, wm_test_rows = wm2023_split(len(wm))
wm_learn, wm_test = wm.iloc[wm_learn_rows], wm.iloc[wm_test_rows]
claims = wm_learn[wm_learn["ClaimNb"] > 0].assign(
    ClaimAmount=lambda d: d["ClaimTotal"] / d["ClaimNb"]
)

t0 = time.perf_counter()
frequency = GLM(get_preset("nsw2018_glm1"), name="frequency GLM1").fit(
    wm_learn, "ClaimNb", exposure="Exposure"
)
severity = GLM(get_preset("nsw2018_glm1"), "gamma", name="severity GLM1").fit(
    claims, "ClaimAmount", weights="ClaimNb"
)
tweedie = fit_tweedie_pure_premium(get_preset("nsw2018_glm1"), wm_learn, power=1.9)
timings["fit pure-premium GLMs"] = time.perf_counter() - t0

# %% [markdown]
# The CANN tariff: a frequency CANN on the frequency GLM1 (trained as in part 1), times the same
# Gamma GLM1 severity.

# %%
t0 = time.perf_counter()
frequency_cann = CANN(frequency, sw2019_network_inputs(), embedding_dim=2, seed=1, verbose=0,
                      epochs=5 if study.quick else 500)  # fmt: skip
frequency_cann.fit(wm_learn, "ClaimNb", exposure="Exposure").balance_correct(wm_learn)
timings["fit frequency CANN (WM2023)"] = time.perf_counter() - t0

# %% [markdown]
# The severity GLM saw only the policies with claims: a policy of the whole portfolio may lie
# outside its range (an older car, say). actnn prices such a value at the nearest end of the
# range with a `DataWarning` naming the rows; here they are collected and counted instead of
# filling the page.

# %%
homogeneous_rate = wm_learn["ClaimTotal"].sum() / wm_learn["Exposure"].sum()
tables = {}
with warnings.catch_warnings(record=True) as clipped:
    warnings.simplefilter("always", DataWarning)
    for name, frame in (("learn", wm_learn), ("test", wm_test)):
        tables[name] = pure_premium_table(
            {
                "homogeneous": [homogeneous_rate] * len(frame),
                "frequency x severity (GLM1 x Gamma GLM1)": pure_premium(
                    frequency, severity, frame
                ),
                "frequency x severity (CANN x Gamma GLM1)": pure_premium(
                    frequency_cann, severity, frame
                ),
                "Tweedie GLM1 (p = 1.9)": tweedie.predict(frame),
            },
            frame,
            power=1.9,
        )
print(f"{len(clipped)} DataWarnings while pricing, e.g.: {clipped[0].message}" if clipped else
      "no DataWarning while pricing")  # fmt: skip
show(tables["test"])

# %% [markdown]
# ## Results


# %%
def _records(table):
    return [{"tariff": k, **{c: float(v) for c, v in row.items()}}
            for k, row in table.iterrows()]  # fmt: skip


results = {
    "case_study": "tariff_comparison",
    "quick": study.quick,
    "frequency": {
        "data": {"n_learn": len(learn), "n_test": len(test)},
        "units": evaluation.scores.attrs.get("units"),
        "scores_test": _records(evaluation.scores),
        "gini_test": evaluation.ginis,
        "murphy_test": _records(evaluation.murphy),
        "cann_epochs": cann.history_.epochs,
        "report": "report.html",
    },
    "pure_premium": {
        "data": {"n_learn": len(wm_learn), "n_test": len(wm_test)},
        "tweedie_power": 1.9,
        "learn": _records(tables["learn"]),
        "test": _records(tables["test"]),
    },
    "seconds": {**timings, "total": time.perf_counter() - started},
    "versions": versions() | {"actnn": actnn.__version__},
}

md = [
    "# Tariff comparison on freMTPL2" + (" (quick run)" if study.quick else ""),
    "",
    f"Produced by `{study.command}`.",
    "",
    f"## Frequency, NSW2018 test set ({len(test):,} policies)",
    "",
    "Deviance: " + str(evaluation.scores.attrs.get("units", {}).get("deviance", "")),
    "",
    markdown_table(evaluation.scores),
    "",
    "Full report: [report.md](report.md) (and the self-contained `report.html`, which the run"
    " writes and the repository does not keep).",
    "",
    f"## Pure premium, Wüthrich & Merz (2023) data, test set ({len(wm_test):,} policies)",
    "",
    "Tweedie deviance: exposure-weighted mean unit deviance of S/v, power 1.9.",
    "",
    markdown_table(tables["test"]),
    "",
    "Learning set:",
    "",
    markdown_table(tables["learn"]),
    "",
    "## Run time (2 cores)",
    "",
    *[f"- {k}: {v:.0f} s" for k, v in results["seconds"].items()],
    "",
]
write_results(results, OUT, "\n".join(md))
show_markdown("\n".join(md))
