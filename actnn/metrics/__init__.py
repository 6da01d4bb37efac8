"""Scores, discrimination and calibration of frequency and severity models.

- :mod:`actnn.metrics.scores`: deviances in the published units, ``deviance``, ``d2_score``,
  ``score_table``;
- :mod:`actnn.metrics.discrimination`: Lorenz curves, Gini indices, ordered Lorenz, double lift;
- :mod:`actnn.metrics.calibration`: isotonic recalibration, calibration bins, bias by feature and
  the Murphy decomposition.

Every function takes the observed values, the predictions and optional exposure or weights as
arrays, and checks them through :mod:`actnn._validation`.
"""

from .calibration import (
    bias_by_feature,
    calibration_bins,
    calibration_isotonic,
    isotonic_regression,
    murphy_decomposition,
)
from .discrimination import (
    double_lift,
    gini,
    lift_by_ratio,
    lorenz_curve,
    ordered_gini,
    ordered_lorenz,
)
from .scores import (
    GAMMA_UNITS,
    POISSON_EXPOSURE_UNITS,
    POISSON_UNITS,
    d2_score,
    deviance,
    gamma_deviance,
    poisson_deviance,
    poisson_deviance_per_exposure,
    score_table,
)

__all__ = [
    "deviance",
    "d2_score",
    "score_table",
    "lorenz_curve",
    "gini",
    "ordered_lorenz",
    "ordered_gini",
    "double_lift",
    "lift_by_ratio",
    "isotonic_regression",
    "calibration_bins",
    "calibration_isotonic",
    "bias_by_feature",
    "murphy_decomposition",
    "POISSON_UNITS",
    "POISSON_EXPOSURE_UNITS",
    "GAMMA_UNITS",
    "poisson_deviance",
    "poisson_deviance_per_exposure",
    "gamma_deviance",
]
