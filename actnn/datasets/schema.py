"""Column names, types and category levels of the French MTPL data (freMTPL2).

Every loader, preparation and simulator in actnn returns frames typed by this module, so that a
feature specification fitted on one of them applies to the others without surprises.
"""

from __future__ import annotations

import pandas as pd

AREA_LEVELS: tuple[str, ...] = ("A", "B", "C", "D", "E", "F")


VEHBRAND_LEVELS: tuple[str, ...] = (
    "B1", "B2", "B3", "B4", "B5", "B6", "B10", "B11", "B12", "B13", "B14",
)  # fmt: skip


VEHGAS_LEVELS: tuple[str, ...] = ("Diesel", "Regular")


REGION_LEVELS: tuple[str, ...] = (
    "R11", "R21", "R22", "R23", "R24", "R25", "R26", "R31", "R41", "R42", "R43",
    "R52", "R53", "R54", "R72", "R73", "R74", "R82", "R83", "R91", "R93", "R94",
)  # fmt: skip


#: Categorical columns of freMTPL2freq and their levels, in the order actnn uses.
CATEGORICAL_LEVELS: dict[str, tuple[str, ...]] = {
    "Area": AREA_LEVELS,
    "VehBrand": VEHBRAND_LEVELS,
    "VehGas": VEHGAS_LEVELS,
    "Region": REGION_LEVELS,
}


#: Integer columns of freMTPL2freq.
INTEGER_COLUMNS: tuple[str, ...] = (
    "IDpol", "ClaimNb", "VehPower", "VehAge", "DrivAge", "BonusMalus", "Density",
)  # fmt: skip


#: Columns of freMTPL2freq, in the order of the published file.
FREQ_COLUMNS: tuple[str, ...] = (
    "IDpol", "ClaimNb", "Exposure", "Area", "VehPower", "VehAge", "DrivAge",
    "BonusMalus", "VehBrand", "VehGas", "Density", "Region",
)  # fmt: skip


#: Columns of freMTPL2sev.
SEV_COLUMNS: tuple[str, ...] = ("IDpol", "ClaimAmount")


#: The rating factors (policy features) of freMTPL2freq.
FEATURE_COLUMNS: tuple[str, ...] = FREQ_COLUMNS[3:]


def categorical_dtype(column: str) -> pd.CategoricalDtype:
    """Return the categorical dtype actnn uses for a categorical freMTPL2 column."""
    return pd.CategoricalDtype(list(CATEGORICAL_LEVELS[column]), ordered=False)
