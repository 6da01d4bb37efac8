"""The freMTPL2 data versions of the literature: NSW2018 / SW2019 and Wüthrich & Merz (2023)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._validation import _rows_message, _warn
from .fremtpl2 import validate_freq, validate_sev


def prepare_nsw2018(freq: pd.DataFrame) -> pd.DataFrame:
    """Return the frequency data of the case study of Noll, Salzmann & Wüthrich (2018).

    ClaimNb is capped at 4 and Exposure at 1; all rows are kept, in the same order and with the
    same index. This is also the data of Schelldorfer & Wüthrich (2019).

    Parameters
    ----------
    freq : pandas.DataFrame
        freMTPL2freq, checked by :func:`validate_freq`.

    Returns
    -------
    pandas.DataFrame
        A new frame typed like :func:`validate_freq`. On the published data: 678,013 rows and
        36,056 claims (36,102 before capping).

    Notes
    -----
    ``ClaimNb = min(ClaimNb, 4)`` and ``Exposure = min(Exposure, 1)``: counts above 4 and
    exposures above one year are considered data errors in [1]_.

    References
    ----------
    .. [1] Noll, A., Salzmann, R. and Wüthrich, M. V. (2018). Case Study: French Motor
       Third-Party Liability Claims. SSRN 3164764.
    .. [2] Schelldorfer, J. and Wüthrich, M. V. (2019). Nesting Classical Actuarial Models into
       Neural Networks. SSRN 3320525.
    """
    out = validate_freq(freq)
    out["ClaimNb"] = np.minimum(out["ClaimNb"], 4)
    out["Exposure"] = np.minimum(out["Exposure"], 1.0)
    return out


def prepare_wm2023(freq: pd.DataFrame, sev: pd.DataFrame) -> pd.DataFrame:
    """Return the frequency and severity data of Wüthrich & Merz (2023), Chapter 13.

    Parameters
    ----------
    freq : pandas.DataFrame
        freMTPL2freq, checked by :func:`validate_freq`.
    sev : pandas.DataFrame
        freMTPL2sev, checked by :func:`validate_sev`.

    Returns
    -------
    pandas.DataFrame
        A new frame with the columns of `freq`, ClaimNb recounted and a new column
        ``ClaimTotal``, the remaining rows ordered by IDpol (as R's ``merge`` in the book's
        cleaning script orders them, whatever the order of `freq`), a fresh RangeIndex and
        ``attrs["removed_IDpol"]``, the list of the removed IDpol, and
        ``attrs["unmatched_IDpol"]``, the IDpol of `sev` that are not in `freq` (pandas may drop
        ``attrs`` in later operations). On the published data: 678,007 rows, 6 policies removed,
        195 records of 6 unmatched IDpol ignored.

    Notes
    -----
    - ``ClaimNb`` is the number of records of the policy in `sev` (0 if none), replacing the
      ClaimNb of `freq`; ``ClaimTotal`` is the sum of their ClaimAmount (0.0 if none). Records
      of `sev` whose IDpol is not in `freq` are ignored, with a :class:`DataWarning` naming
      them (see also :func:`severity_data`).
    - Policies with more than 5 recounted claims are removed.
    - ``Exposure = min(Exposure, 1)``.
    - VehBrand levels are in the order B1, ..., B6, B10, ..., B14 of :mod:`actnn.schema`.

    References
    ----------
    .. [1] Wüthrich, M. V. and Merz, M. (2023). Statistical Foundations of Actuarial Learning
       and its Applications. Springer Actuarial, Chapter 13.
    """
    out = validate_freq(freq)
    claims = validate_sev(sev)
    unmatched = ~claims["IDpol"].isin(out["IDpol"]).to_numpy()
    unmatched_ids = sorted(claims.loc[unmatched, "IDpol"].unique().tolist())
    if unmatched_ids:
        what = "an IDpol that is not a policy of freMTPL2freq"
        _warn(
            _rows_message("freMTPL2sev, column 'IDpol'", unmatched, claims["IDpol"], what)
            + f"; these records of {len(unmatched_ids)} IDpol are ignored "
            "(attrs['unmatched_IDpol'])"
        )
    records = claims.groupby("IDpol")["ClaimAmount"]
    out["ClaimNb"] = out["IDpol"].map(records.size()).fillna(0).astype(np.int64)
    out["ClaimTotal"] = out["IDpol"].map(records.sum()).fillna(0.0).astype(np.float64)
    out["Exposure"] = np.minimum(out["Exposure"], 1.0)
    removed = out["ClaimNb"] > 5
    removed_ids = out.loc[removed, "IDpol"].tolist()
    out = out[~removed].sort_values("IDpol", kind="stable").reset_index(drop=True)
    out.attrs["removed_IDpol"] = removed_ids
    out.attrs["unmatched_IDpol"] = unmatched_ids
    return out
