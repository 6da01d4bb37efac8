"""The files every case study and reproduction writes: ``results.json`` and ``results.md``.

``results.json`` schema (shared by every case study)::

    {"case_study": str,
     "data": {"n_learn": int, "n_test": int, "sha256": str},
     "units": str,
     "models": [{"name", "n_params", "in_sample", "out_of_sample", "avg_frequency_learn",
                 "avg_frequency_test", "aic", "fit_seconds", "epochs", ...}],
     "versions": {package: version}}

``data.sha256`` is the content fingerprint of the raw input data (:func:`actnn.datasets.
content_fingerprint`: independent of the file format). ``avg_frequency_*`` are the model's predicted
claims per unit of exposure, ``sum mu / sum exposure`` (null for severity models, which report
``avg_severity_*``, the claim-weighted mean predicted claim size). ``epochs`` is null for exact
(IRLS) fits.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..metrics.scores import poisson_deviance

__all__ = ["write_results"]


@dataclass(frozen=True)
class _Frequency:
    learn: pd.DataFrame
    test: pd.DataFrame

    def row(self, name: str, model: Any) -> dict[str, Any]:
        """A results row of a fitted GLM, network or ensemble (anything with ``predict``)."""
        mu_learn, mu_test = model.predict(self.learn), model.predict(self.test)
        history = getattr(model, "history_", None)
        return {
            "name": name,
            "n_params": getattr(model, "n_params_", None),
            "in_sample": poisson_deviance(self.learn["ClaimNb"], mu_learn),
            "out_of_sample": poisson_deviance(self.test["ClaimNb"], mu_test),
            "avg_frequency_learn": float(mu_learn.sum() / self.learn["Exposure"].sum()),
            "avg_frequency_test": float(mu_test.sum() / self.test["Exposure"].sum()),
            "aic": getattr(model, "aic_", None),
            "fit_seconds": getattr(model, "fit_seconds_", None),
            "epochs": None if history is None else history.epochs,
        }


def write_results(results: dict[str, Any], out: str | Path, markdown: str) -> Path:
    """Write ``results.json`` and ``results.md`` into the folder ``out`` (created if needed)."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (folder / "results.md").write_text(markdown)
    return folder
