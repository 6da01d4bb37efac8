"""SW2019 / RW2020 / W2020 on freMTPL2: GLMs, embedding networks, CANNs, balance, nagging.

``actnn reproduce sw2019`` fits, on the NSW2018 split of the case-study data:

- the homogeneous model, GLM1 and SW2019's GLM2 (exact);
- embedding networks with d = 1 and d = 2, and CANN1 / CANN2 (the same networks on the GLM2
  offset), each for several seeds, plain and balance-corrected;
- a nagging ensemble of balance-corrected networks, with its out-of-sample loss by size.

Results follow the schema of :mod:`actnn.studies.results`; every model entry also has ``kind``,
``balance_corrected``, ``seed`` and ``members``. The Markdown table puts the published figures
beside ours, with the median over seeds and the range.

References
----------
Schelldorfer, J., Wüthrich, M. V. (2019). Nesting Classical Actuarial Models into Neural
Networks. SSRN 3320525.
Richman, R., Wüthrich, M. V. (2020). Nagging predictors. Risks 8(3), 83.
Wüthrich, M. V. (2020). Bias regularization in neural network models for general insurance
pricing. European Actuarial Journal 10, 179-202.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import datasets as data_module
from .._utils import Progress, _say, versions
from ..datasets.presets import get_preset, sw2019_network_inputs
from ..datasets.splits import nsw2018_split
from ..ensemble import Nagging
from ..glm import GLM
from ..metrics.scores import POISSON_UNITS, poisson_deviance
from ..networks import CANN, FNN
from .results import _Frequency, write_results

__all__ = ["SW2019Config", "reproduce_sw2019", "PUBLISHED_SW2019"]


#: Published out-of-sample (and in-sample) figures on the same split, as printed.
PUBLISHED_SW2019: dict[str, dict[str, str]] = {
    "homogeneous": {"in": "32.93518", "out": "33.86149", "source": "SW2019"},
    "GLM1": {"in": "31.26738", "out": "32.17123", "source": "SW2019"},
    "GLM2": {"in": "31.25674", "out": "32.14902", "source": "SW2019"},
    "FNN d=1": {"in": "30.24464", "out": "31.50647", "source": "SW2019"},
    "FNN d=2": {"in": "30.16513", "out": "31.45327", "source": "SW2019"},
    "CANN1": {"in": "30.39966", "out": "31.50136", "source": "SW2019"},
    "CANN2": {"in": "30.47557", "out": "31.56555", "source": "SW2019"},
    "FNN d=2, balance-corrected": {
        "in": "30.303-30.408", "out": "31.418-31.488", "source": "W2020 (3 seeds)",
    },
    "nagging": {"in": "30.060", "out": "31.272", "source": "RW2020 (M = 400)"},
}  # fmt: skip


@dataclass(frozen=True)
class SW2019Config:
    """What the reproduction trains. ``quick()`` is the CI-sized version.

    The full run trains as SW2019 did: a fixed number of epochs on all learning data (no
    validation split, ``patience`` None), keeping the epoch with the lowest training loss, then
    the W2020 balance correction. ``epochs_by_network`` overrides ``epochs`` per network.
    ``nagging_members`` networks of ``nagging_network`` (its seed rows included) make the
    ensemble; its size is set by the 45-minute budget of the whole run on two cores.
    """

    seeds: tuple[int, ...] = (1, 2, 3, 4, 5)
    networks: tuple[str, ...] = ("FNN d=1", "FNN d=2", "CANN1", "CANN2")
    epochs: int = 600
    epochs_by_network: dict[str, int] = field(default_factory=dict)
    validation_fraction: float = 0.0
    patience: int | None = None
    batch_size: int = 10_000
    learning_rate: float = 0.002
    nagging_network: str = "FNN d=2"
    nagging_members: int = 10
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def quick(cls) -> SW2019Config:
        """The CI-sized run: seed 1, CANN2 only, 60 epochs with early stopping, 2 members."""
        return cls(
            seeds=(1,), networks=("CANN2",), epochs=60, validation_fraction=0.1, patience=10,
            nagging_network="CANN2", nagging_members=2,
        )  # fmt: skip


def _network(kind: str, glm2: GLM, seed: int, config: SW2019Config):
    options = {
        "embedding_dim": 1 if kind.endswith("1") else 2,
        "epochs": config.epochs_by_network.get(kind, config.epochs),
        "validation_fraction": config.validation_fraction,
        "patience": config.patience,
        "batch_size": config.batch_size,
        "learning_rate": config.learning_rate,
        "seed": seed,
        "verbose": 0,
        **config.extra,
    }
    inputs = sw2019_network_inputs()
    return CANN(glm2, inputs, **options) if kind.startswith("CANN") else FNN(inputs, **options)


def reproduce_sw2019(
    data_dir: str | Path | None = None,
    out: str | Path | None = None,
    *,
    quick: bool = False,
    config: SW2019Config | None = None,
    checkpoint_dir: str | Path | None = None,
    progress: Progress | None = print,
    models: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Run the SW2019 reproduction (``quick``: one seed of CANN2 and a 2-member ensemble).

    With ``checkpoint_dir`` the nagging members are saved as they finish and a rerun resumes.
    A dict passed as ``models`` receives the fitted models, keyed by their row names (a network
    by ``"<name> seed <seed>"``, balance-corrected), for diagnostics beyond the results table.
    """
    started = time.perf_counter()
    config = config or (SW2019Config.quick() if quick else SW2019Config())
    _say(progress, "loading and checking freMTPL2freq")
    raw = data_module.load_freq(data_dir)
    dat = data_module.prepare_nsw2018(raw)
    learn_rows, test_rows = nsw2018_split(len(dat))
    freq = _Frequency(dat.iloc[learn_rows], dat.iloc[test_rows])
    learn = freq.learn
    rows: list[dict[str, Any]] = []

    fitted = models if models is not None else {}

    def add(name: str, model: Any, kind: str, corrected: bool, seed: int | None, members=None):
        if corrected or seed is None:  # a network is corrected in place: keep it once
            fitted[name if seed is None else f"{name} seed {seed}"] = model
        rows.append(
            freq.row(name, model)
            | {"kind": kind, "balance_corrected": corrected, "seed": seed, "members": members}
        )

    glms = {}
    for name, preset in (("homogeneous", "homogeneous"), ("GLM1", "nsw2018_glm1"),
                         ("GLM2", "sw2019_glm2")):  # fmt: skip
        glms[name] = GLM(get_preset(preset), name=name).fit(learn, "ClaimNb", exposure="Exposure")
        add(name, glms[name], "homogeneous" if name == "homogeneous" else "glm", False, None)
        _say(progress, f"{name}: out-of-sample {rows[-1]['out_of_sample']:.5f}")

    trained: dict[tuple[str, int], Any] = {}
    for kind in config.networks:
        for seed in config.seeds:
            model = _network(kind, glms["GLM2"], seed, config)
            model.fit(learn, "ClaimNb", exposure="Exposure")
            family_kind = "cann" if kind.startswith("CANN") else "fnn"
            add(kind, model, family_kind, False, seed)
            plain = rows[-1]["out_of_sample"]
            model.balance_correct(learn)
            add(f"{kind}, balance-corrected", model, family_kind, True, seed)
            trained[kind, seed] = model
            _say(
                progress,
                f"{kind} seed {seed}: {model.history_.epochs} epochs, out-of-sample "
                f"{plain:.5f}, balance-corrected {rows[-1]['out_of_sample']:.5f} "
                f"({model.fit_seconds_:.0f} s)",
            )

    seeds = list(config.seeds)
    extra_seeds = [100 + k for k in range(max(0, config.nagging_members - len(seeds)))]
    member_seeds = (seeds + extra_seeds)[: config.nagging_members]
    ensemble = Nagging(
        lambda seed: _network(config.nagging_network, glms["GLM2"], seed, config),
        member_seeds,
        checkpoint_dir=checkpoint_dir,
        progress=progress,
    )
    reused = {s: m for (kind, s), m in trained.items() if kind == config.nagging_network}
    ensemble.fit(learn, "ClaimNb", exposure="Exposure", trained=reused)
    add("nagging", ensemble, "nagging", True, None, members=member_seeds)
    curve = ensemble.loss_by_size(freq.test, "ClaimNb", poisson_deviance)
    results = {
        "case_study": "sw2019",
        "quick": quick,
        "data": {
            "n_learn": len(freq.learn),
            "n_test": len(freq.test),
            "sha256": data_module.content_fingerprint(raw),
        },
        "units": POISSON_UNITS,
        "models": rows,
        "nagging": {
            "network": config.nagging_network,
            "seeds": member_seeds,
            "out_of_sample_by_members": curve["loss"].tolist(),
        },
        "published": PUBLISHED_SW2019,
        "config": {k: v for k, v in config.__dict__.items()},
        "total_seconds": time.perf_counter() - started,
        "versions": versions(),
    }
    if out is not None:
        write_results(results, out, sw2019_markdown(results))
    return results


def _summary(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    outs = [r["out_of_sample"] for r in rows]
    ins = [r["in_sample"] for r in rows]
    return {
        "in": statistics.median(ins),
        "out": statistics.median(outs),
        "out_range": (min(outs), max(outs)),
        "freq": statistics.median(r["avg_frequency_test"] for r in rows),
        "n": len(rows),
        "epochs": statistics.median(r["epochs"] for r in rows) if rows[0]["epochs"] else None,
    }


def sw2019_markdown(results: dict[str, Any]) -> str:
    """The results table: per model the median over seeds, the range, and the published figure."""
    names = list(dict.fromkeys(r["name"] for r in results["models"]))
    lines = [
        f"# SW2019 on freMTPL2{' (quick run)' if results.get('quick') else ''}",
        "",
        f"Losses: {results['units']}. Learning set {results['data']['n_learn']:,}, test set "
        f"{results['data']['n_test']:,}. Networks: median over seeds (range out of sample).",
        "",
        "| model | seeds / members | epochs | in | out | out range | avg. freq. test |"
        " published in | published out | source |",
        "| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | --- |",
    ]
    for name in names:
        s = _summary([r for r in results["models"] if r["name"] == name])
        p = results["published"].get(name, {})
        lo, hi = s["out_range"]
        members = [r["members"] for r in results["models"] if r["name"] == name][0]
        count = f"M = {len(members)}" if members else str(s["n"])
        lines.append(
            f"| {name} | {count} | {s['epochs'] or ''} | {s['in']:.5f} | {s['out']:.5f} | "
            f"{lo:.5f}-{hi:.5f} | {100 * s['freq']:.2f} % | {p.get('in', '')} | "
            f"{p.get('out', '')} | {p.get('source', '')} |"
        )
    curve = results["nagging"]["out_of_sample_by_members"]
    lines += [
        "",
        f"Nagging ({results['nagging']['network']}, balance-corrected members, seeds "
        f"{results['nagging']['seeds']}): out-of-sample loss by number of members M:",
        "",
        "| M | " + " | ".join(str(m) for m in range(1, len(curve) + 1)) + " |",
        "| --- |" + " ---: |" * len(curve),
        "| out | " + " | ".join(f"{v:.5f}" for v in curve) + " |",
        "",
        f"Total run time: {results['total_seconds'] / 60:.1f} min.",
    ]
    return "\n".join(lines) + "\n"
