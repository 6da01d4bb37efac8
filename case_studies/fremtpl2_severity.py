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
# # freMTPL2 claim severity: a Gamma GLM and a Gamma CANN, with diagnostics
#
# The severity rows are the policies of the NSW2018 case-study data that have claim records in
# freMTPL2sev; the response is the mean claim amount of the policy's records and the weight
# their number, so the model is a Gamma GLM with log link for the average claim size. The split
# is the NSW2018 one (a policy's claims go with the policy).
#
# 1. The data: how the records match the policies, and the claim-size distribution.
# 2. The models (as `actnn reproduce severity`): homogeneous, Gamma GLM1 (NSW2018's feature
#    engineering) and a Gamma CANN on GLM1 (SW2019's network inputs, embeddings d = 2, early
#    stopping on 10 % of the learning claims, balance-corrected by the intercept).
# 3. Diagnostics on the test claims: scores, Lorenz curves and Gini, calibration, Murphy
#    decomposition, bias and partial dependence by feature, in an HTML and a Markdown report;
#    and how much of the test loss a handful of very large claims make.
#
# Losses: the claim-weighted mean Gamma unit deviance (a plain number). No published severity
# table on freMTPL2sev is known to us: the figures are ours.
#
# Run: `python case_studies/fremtpl2_severity.py --data-dir ../shared/data [--quick]
# [--out DIR]`, or as a notebook with `ACTNN_QUICK=1` (see case_studies/README.md). Results go to
# `case_studies/results/fremtpl2_severity/`.

# %% tags=["parameters"]
QUICK = None  # True: the CI-sized run; None: `--quick` in a script, else ACTNN_QUICK=1
DATA_DIR = None  # None: `--data-dir` in a script, else ACTNN_DATA_DIR
OUT = None  # None: `--out` in a script, else ACTNN_OUT/NAME, else case_studies/results/NAME

# %%
import time

import numpy as np
import pandas as pd

import actnn
from actnn import gamma_deviance
from actnn.report import evaluate, markdown_table, plotting
from actnn.studies import (
    case_study,
    nsw2018_severity_split,
    reproduce_severity,
    show,
    show_markdown,
    write_results,
)

study = case_study(
    "fremtpl2_severity", quick=QUICK, data_dir=DATA_DIR, out=OUT,
    description="freMTPL2 severity: Gamma GLM and CANN",
)  # fmt: skip
OUT = study.out
started = time.perf_counter()

# %% [markdown]
# ## 1. The data
#
# Every inconsistency between the two files is counted, and nothing is dropped without being
# reported: records whose policy is not in freMTPL2freq are excluded and listed.

# %%
learn, test, info = nsw2018_severity_split(study.data_dir)
data_report = info["data_report"]
show(data_report.to_frame())
print(f"unmatched IDpol (excluded): {', '.join(map(str, data_report.unmatched_IDpol)) or 'none'}")


# %%
def size_summary(frame: pd.DataFrame) -> dict[str, float]:
    amounts = frame["ClaimAmount"]
    return {
        "policies": len(frame),
        "claims": int(frame["n_claims"].sum()),
        "mean (claim-weighted)": float(np.average(amounts, weights=frame["n_claims"])),
        **{f"q{int(100 * q)}": float(amounts.quantile(q)) for q in (0.1, 0.5, 0.9, 0.99)},
        "max": float(amounts.max()),
    }


sizes = pd.DataFrame({"learn": size_summary(learn), "test": size_summary(test)})
sizes.index.name = "claim size"
show(sizes.round().astype("int64"))


def draw_sizes(ax):
    bins = np.linspace(0, np.log10(max(learn["ClaimAmount"].max(), test["ClaimAmount"].max())), 60)
    for name, frame in (("learn", learn), ("test", test)):
        ax.hist(np.log10(frame["ClaimAmount"]), bins=bins, weights=frame["n_claims"],
                density=True, histtype="step", label=name)  # fmt: skip
    ax.set(xlabel="log10 mean claim amount of the policy", ylabel="density (claim-weighted)",
           title="Claim sizes")  # fmt: skip
    ax.legend(fontsize="small")


png = plotting.figure_png(draw_sizes)
(OUT / "claim_sizes.png").write_bytes(png)
show(png)

# %% [markdown]
# ## 2. The models

# %%
models: dict[str, object] = {}
results = reproduce_severity(study.data_dir, quick=study.quick, models=models)
scores = pd.DataFrame(results["models"]).set_index("name")
show(scores[["n_params", "aic", "in_sample", "out_of_sample", "dispersion"]])

# %% [markdown]
# ## 3. Diagnostics on the test claims
#
# `evaluate` computes what a tariff-comparison report shows; the report is written as one
# self-contained HTML file and as Markdown with its figures.

# %%
t0 = time.perf_counter()
evaluation = evaluate(
    {"Gamma GLM1": models["GLM1"], "Gamma CANN": models["CANN on GLM1"]}, test,
    pd_sample=None, data_name="freMTPL2sev, NSW2018 test claims",
)  # fmt: skip
title = "freMTPL2 severity, NSW2018 test claims: Gamma GLM1 against Gamma CANN"
evaluation.to_html(OUT / "report.html", title=title)
evaluation.to_markdown(OUT / "report.md", title=title)
report_seconds = time.perf_counter() - t0
show(evaluation.scores)
show(evaluation.murphy)

# %% [markdown]
# The first figures of the report: Lorenz curves, calibration and the Murphy decomposition.

# %%
for caption, png in evaluation.pngs()[:3]:
    show_markdown(f"*{caption}*")
    show(png)

# %% [markdown]
# ### How much do the largest claims weigh?
#
# The test set holds a few very large claims. The Gamma deviance of a claim grows almost
# linearly in its ratio to the prediction, so one claim far above every prediction can
# dominate the mean: the comparison is repeated without the test set's largest claim size and
# without its 10 largest.

# %%
largest = test["ClaimAmount"].nlargest(10).index
robustness = pd.DataFrame(
    {
        name: {
            label: gamma_deviance(part["ClaimAmount"], model.predict(part), part["n_claims"])
            for label, part in (
                ("all test claims", test),
                ("without the largest", test.drop(index=largest[:1])),
                ("without the 10 largest", test.drop(index=largest)),
            )
        }
        for name, model in models.items()
    }
).T
robustness.index.name = "model"
print(f"10 largest test claim sizes: {sorted(test.loc[largest, 'ClaimAmount'].round())}")
show(robustness)

# %% [markdown]
# ## 4. Results

# %%
results["case_study"] = "fremtpl2_severity"
results["claim_sizes"] = sizes.to_dict()
results["largest_test_claims"] = sorted(float(v) for v in test.loc[largest, "ClaimAmount"])
results["robustness"] = robustness.to_dict(orient="index")
results["gini_test"] = evaluation.ginis
results["murphy_test"] = evaluation.murphy.reset_index().to_dict(orient="records")
results["report"] = ["report.html", "report.md"]
results["seconds"] = {"report": report_seconds, "total": time.perf_counter() - started}
results["versions"]["actnn"] = results["versions"].get("actnn") or actnn.__version__
table = (
    scores[["n_params", "aic", "in_sample", "out_of_sample", "dispersion"]]
    .rename(columns={"in_sample": "in", "out_of_sample": "out"})
    .rename_axis("model")
)
cann_epochs = results["models"][-1]["epochs"]
markdown = "\n".join([
    "# freMTPL2 severity: Gamma GLM and Gamma CANN" + (" (quick run)" if study.quick else ""),
    "",
    f"Produced by `{study.command}`: NSW2018 split, {len(learn):,} learning and {len(test):,} test "
    f"policies with claims. Losses: {results['units']}. The CANN trained {cann_epochs} epochs.",
    "",
    markdown_table(table),
    "",
    "## Claim sizes",
    "",
    markdown_table(sizes, digits=0),
    "",
    "![claim sizes](claim_sizes.png)",
    "",
    "## Test claims: scores and discrimination",
    "",
    markdown_table(evaluation.scores),
    "",
    "Gini index (claim amounts ordered by predicted severity): "
    + ", ".join(f"{k} {v:.4f}" for k, v in evaluation.ginis.items()) + ".",
    "",
    "The test losses without the largest claim sizes (the 10 largest: "
    f"{', '.join(f'{v:,.0f}' for v in results['largest_test_claims'])}):",
    "",
    markdown_table(robustness),
    "",
    "Lowest loss: "
    + "; ".join(f"{col}: {robustness[col].idxmin()}" for col in robustness.columns) + ".",
    "",
    "Full diagnostics (calibration, Murphy decomposition, bias and partial dependence by "
    "feature): [report.md](report.md), and the self-contained `report.html` (not committed).",
    "",
    "## Data report",
    "",
    "```",
    str(info["data_report"]),
    "```",
    "",
    f"Run time on 2 cores: {results['seconds']['total']:.0f} s "
    f"(report {report_seconds:.0f} s).",
    "",
])  # fmt: skip
write_results(results, OUT, markdown)
show_markdown(markdown)
