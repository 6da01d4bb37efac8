"""The published GLM feature specifications on freMTPL2, as named presets.

Each preset is a :class:`~actnn.features.FeatureSpec` whose feature names follow the papers
(``AreaGLM``, ``VehPowerGLM``, ...), so coefficient tables read like theirs.

References
----------
Noll, A., Salzmann, R., Wüthrich, M. V. (2018). Case Study: French Motor Third-Party Liability
Claims. SSRN 3164764, Section 4.1 (GLM1, GLM2, GLM3).
Schelldorfer, J., Wüthrich, M. V. (2019). Nesting Classical Actuarial Models into Neural Networks.
SSRN 3320525 (GLM2 with a polynomial in driver age).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from ..features import Binned, Categorical, Continuous, Feature, FeatureSpec, Polynomial
from ..inputs import NetworkInputs
from .schema import AREA_LEVELS

__all__ = ["PRESETS", "get_preset", "sw2019_network_inputs"]


_AREA = Continuous("Area", mapping={a: i + 1 for i, a in enumerate(AREA_LEVELS)}, name="AreaGLM")


_VEHPOWER = Categorical("VehPower", upper=9, reference=4, name="VehPowerGLM")


_VEHAGE = Binned(
    "VehAge", edges=(0, 1, 11, float("inf")), labels=("0", "1-10", "11+"),
    reference="1-10", name="VehAgeGLM",
)  # fmt: skip


_DRIVAGE = Binned(
    "DrivAge", edges=(18, 21, 26, 31, 41, 51, 71, float("inf")),
    labels=("18-20", "21-25", "26-30", "31-40", "41-50", "51-70", "71+"),
    reference="41-50", name="DrivAgeGLM",
)  # fmt: skip


_BONUSMALUS = Continuous("BonusMalus", upper=150, name="BonusMalusGLM")


_VEHBRAND = Categorical("VehBrand", reference="B1")


_VEHGAS = Categorical("VehGas", reference="Diesel")


_DENSITY = Continuous("Density", log=True, name="DensityGLM")


_REGION = Categorical("Region", reference="R24")


def _spec(name: str, *features: Feature) -> FeatureSpec:
    return FeatureSpec(features, name=name)


def nsw2018_glm1() -> FeatureSpec:
    """NSW2018 GLM1: all nine rating factors, 48 terms + intercept = 49 parameters."""
    return _spec(
        "nsw2018_glm1", _AREA, _VEHPOWER, _VEHAGE, _DRIVAGE, _BONUSMALUS, _VEHBRAND, _VEHGAS,
        _DENSITY, _REGION,
    )  # fmt: skip


def nsw2018_glm2() -> FeatureSpec:
    """NSW2018 GLM2: GLM1 without AreaGLM, 48 parameters."""
    return _spec(
        "nsw2018_glm2", _VEHPOWER, _VEHAGE, _DRIVAGE, _BONUSMALUS, _VEHBRAND, _VEHGAS, _DENSITY,
        _REGION,
    )  # fmt: skip


def nsw2018_glm3() -> FeatureSpec:
    """NSW2018 GLM3: GLM1 without AreaGLM and VehBrand, 38 parameters."""
    return _spec(
        "nsw2018_glm3", _VEHPOWER, _VEHAGE, _DRIVAGE, _BONUSMALUS, _VEHGAS, _DENSITY, _REGION
    )


def sw2019_glm2() -> FeatureSpec:
    """SW2019 GLM2: GLM1 with DrivAge as DrivAge, log DrivAge, DrivAge^2..^4; 48 parameters."""
    drivage = Polynomial("DrivAge", degree=4, log_term=True)
    return _spec(
        "sw2019_glm2", _AREA, _VEHPOWER, _VEHAGE, drivage, _BONUSMALUS, _VEHBRAND, _VEHGAS,
        _DENSITY, _REGION,
    )  # fmt: skip


def homogeneous() -> FeatureSpec:
    """No features: the intercept-only (homogeneous) model."""
    return _spec("homogeneous")


PRESETS: dict[str, Callable[[], FeatureSpec]] = {
    "homogeneous": homogeneous,
    "nsw2018_glm1": nsw2018_glm1,
    "nsw2018_glm2": nsw2018_glm2,
    "nsw2018_glm3": nsw2018_glm3,
    "sw2019_glm2": sw2019_glm2,
}


def get_preset(name: str) -> FeatureSpec:
    """Return a named published feature specification (unfitted)."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; valid: {', '.join(PRESETS)}")
    return PRESETS[name]()


def sw2019_network_inputs() -> NetworkInputs:
    """The network inputs of Schelldorfer & Wüthrich (2019) on freMTPL2.

    Area (1..6), VehPower, pmin(VehAge, 20), pmin(DrivAge, 90), pmin(BonusMalus, 150),
    round(log(Density), 2) and VehGas (binary) MinMax-scaled to [-1, 1]; VehBrand and Region as
    integer codes for embedding layers.
    """
    numeric = (
        dataclasses.replace(_AREA, name=None),
        Continuous("VehPower"),
        Continuous("VehAge", upper=20),
        Continuous("DrivAge", upper=90),
        Continuous("BonusMalus", upper=150),
        Continuous("Density", log=True, decimals=2),
        Continuous("VehGas", mapping={"Diesel": 0, "Regular": 1}),
    )
    return NetworkInputs(numeric, (Categorical("VehBrand"), Categorical("Region")))
