"""Model assessment: scores, discrimination and calibration, as numbers and tables.

- :mod:`actnn.metrics.scores`: deviances in the published units, ``deviance``, ``d2_score``,
  ``score_table``;
- :mod:`actnn.metrics.discrimination`: Lorenz curves, Gini indices, ordered Lorenz, double lift;
- :mod:`actnn.metrics.calibration`: isotonic recalibration, calibration bins, bias by feature and
  the Murphy decomposition.

Computation only (NumPy and pandas): every function returns a float, an array or a DataFrame
whose columns are documented; plotting them is left to the caller.

Inputs are 1-D array-likes of equal length. They are validated once, where they enter: an empty
input, a length mismatch, text, a NaN or infinite value, or a weight or exposure that is not > 0
raises ``ValueError`` naming the argument, the number of offending rows and the first of them
(positions counted from 0). An exposure above 1 is legal: :func:`score_table`, whose exposure is
years at risk, warns of it (:class:`~actnn.DataWarning`); in the discrimination functions
the exposure is a volume (e.g. claim counts for severities) and may be any number > 0.

Notes
-----
Three conventions for the three groups of functions, each the one its literature uses:

- **Scores** (:func:`deviance`, :func:`d2_score`, :func:`score_table`) take ``mu``, the expected
  response. For frequency with ``exposure`` these are expected claim counts
  ``mu = exposure * frequency`` (what ``GLM.predict`` returns), as in :mod:`actnn.metrics.scores`.
- **Discrimination** (:func:`lorenz_curve`, :func:`gini`, :func:`ordered_lorenz`,
  :func:`ordered_gini`, :func:`double_lift`, :func:`lift_by_ratio`) takes ``y`` as observed
  totals per row (claim counts or losses) and the predictions as **rates per unit of exposure**
  (frequencies or pure premiums, what ``GLM.predict_frequency`` returns); the expected total of a
  row is ``exposure * rate``. Without ``exposure`` every row has volume 1.
- **Calibration** (:func:`isotonic_regression`, :func:`calibration_bins`,
  :func:`calibration_isotonic`, :func:`bias_by_feature`, :func:`murphy_decomposition`) compares
  ``y`` and ``pred`` on the same scale with case ``weights``. For frequency pass
  ``y = claims / exposure``, ``pred = frequency`` and ``weights = exposure``.

Ties are never broken by row order: rows with equal sort keys form one block, which is never
split between bins and which a Lorenz curve crosses in a straight line. Results therefore do not
depend on the order of the rows.
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
