"""NSW2018 Table 5: the homogeneous model and GLM1-GLM3, to the last printed digit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .. import datasets as data_module
from .._utils import Progress, _say, versions
from ..datasets.presets import get_preset
from ..datasets.splits import nsw2018_split
from ..glm import GLM
from ..metrics.scores import POISSON_UNITS
from .results import _Frequency, write_results

__all__ = ["PUBLISHED_NSW2018", "reproduce_nsw2018"]


#: NSW2018 Table 5 as printed: (name, preset, n_params, AIC, in-sample, out-of-sample).
PUBLISHED_NSW2018: tuple[tuple[str, str, int, int, str, str], ...] = (
    ("homogeneous", "homogeneous", 1, 263_143, "32.93518", "33.86149"),
    ("GLM1", "nsw2018_glm1", 49, 253_062, "31.26738", "32.17123"),
    ("GLM2", "nsw2018_glm2", 48, 253_060, "31.26742", "32.17196"),
    ("GLM3", "nsw2018_glm3", 38, 253_108, "31.27852", "32.18196"),
)


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
