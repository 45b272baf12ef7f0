"""Spectral component types: the registry (shapes, parameters, bounds, priors) and the
component-level numpy twins of the Stan spectral functions.

`COMPONENT_TYPES` names every component a `bayesbg.spectra.SpectralModel` may hold, with
its Stan code and shape parameters (`ShapeParameter`: unit, bounds, default prior).
`component_log_ratio` mirrors the Stan function of the same name in
``stan_models/functions/spectra.stanfunctions`` (energies in keV, natural logarithms of
band integrals), so that predictions made in Python (tables, chi2, figures, the
simulator) are those of the Stan program; ``tests/spectra/test_stan_twins.py`` checks
the agreement to 1e-8 relative. The band integrals behind it are in
:mod:`bayesbg.spectra.band_integrals`, the IPM table in :mod:`bayesbg.spectra.ipm`.

Shapes S(E) in XSPEC conventions (docs/equations.md section 4):

=========  ====  ================================================  ===========================
name       code  S(E)                                              shape parameters
=========  ====  ================================================  ===========================
powerlaw   1     E^-index                                          index
cutoffpl   2     E^-index exp(-E / ecut)                           index, ecut (keV)
bknpower   3     E^-index1 (E <= eb),                              index1, break_energy (keV),
                 eb^(index2 - index1) E^-index2 (E > eb)           index2
expcutoff  4     exp(-E / ecut) (boundary-layer shape,             ecut (keV)
                 [ISGRI] Appendix C)
ipm        5     intermediate-polar model (`bayesbg.spectra.ipm`)  mass (Msun)
=========  ====  ================================================  ===========================
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from bayesbg.spectra.band_integrals import (
    BandQuadrature,
    IpmTable,
    ipm_log_ratio,
    log_bknpower_integral,
    log_cutoffpl_integral,
    log_expcutoff_integral,
    log_powerlaw_integral,
)
from bayesbg.spectra.ipm import ipm_photon_spectrum

__all__ = [
    "COMPONENT_TYPES",
    "PRIOR_KINDS",
    "ComponentType",
    "ShapeParameter",
    "component_log_ratio",
    "photon_shape",
]

log = logging.getLogger(__name__)

PRIOR_KINDS = {"normal": 1, "lognormal": 2, "uniform": 3, "loguniform": 4}
"""Prior families of free shape parameters and their codes in ``spectral_fit.stan``."""


@dataclass(frozen=True)
class ShapeParameter:
    """A shape parameter of a component type, with its default bounds and prior.

    Parameters
    ----------
    name : str
        Parameter name, e.g. ``"ecut"``.
    unit : str
        Unit (``"keV"``, ``"Msun"`` or ``""``).
    lower, upper : float
        Bounds of a free parameter, in ``unit``.
    prior : str
        ``"normal"`` (location, scale), ``"lognormal"`` (of ln value: location, scale),
        ``"uniform"`` or ``"loguniform"`` between the bounds.
    location, scale : float
        Prior location and scale (unused by the uniform priors).
    typical : float
        A typical value, used for initial values.
    """

    name: str
    unit: str
    lower: float
    upper: float
    prior: str
    location: float = 0.0
    scale: float = 1.0
    typical: float = 1.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.lower) and math.isfinite(self.upper)):
            raise ValueError(f"lower, upper: expected finite bounds, found {self.lower}, "
                             f"{self.upper}")
        if not self.lower < self.upper:
            raise ValueError(f"lower: expected lower < upper, found {self.lower} >= "
                             f"{self.upper}")
        if self.prior not in PRIOR_KINDS:
            raise ValueError(f"prior: expected one of {sorted(PRIOR_KINDS)}, found "
                             f"{self.prior!r}")
        if self.prior in ("lognormal", "loguniform") and self.lower <= 0:
            raise ValueError(f"lower: a {self.prior} prior needs lower > 0, found {self.lower}")
        if not (math.isfinite(self.scale) and self.scale > 0):
            raise ValueError(f"scale: expected a positive number, found {self.scale}")
        if not self.lower <= self.typical <= self.upper:
            raise ValueError(f"typical: expected a value in [{self.lower}, {self.upper}], "
                             f"found {self.typical}")


@dataclass(frozen=True)
class ComponentType:
    """A spectral shape known to ``spectral_fit.stan``.

    Parameters
    ----------
    name : str
        Registry name, e.g. ``"cutoffpl"``.
    code : int
        ``component_type`` code in the Stan program (1..5).
    parameters : tuple of `ShapeParameter`
        Shape parameters in Stan order (at most 3).
    description : str
        One line for tables and help.
    """

    name: str
    code: int
    parameters: tuple[ShapeParameter, ...]
    description: str = ""

    def __post_init__(self) -> None:
        if not 1 <= self.code <= 5:
            raise ValueError(f"code: expected 1..5, found {self.code}")
        if not 1 <= len(self.parameters) <= 3:
            raise ValueError(f"parameters: expected 1 to 3, found {len(self.parameters)}")

    @property
    def parameter_names(self) -> tuple[str, ...]:
        """Names of the shape parameters, in Stan order."""
        return tuple(p.name for p in self.parameters)


_INDEX = ShapeParameter("index", "", -3.0, 6.0, "normal", 2.0, 1.0, 2.0)
COMPONENT_TYPES: dict[str, ComponentType] = {
    "powerlaw": ComponentType("powerlaw", 1, (_INDEX,), "power law E^-index"),
    "cutoffpl": ComponentType(
        "cutoffpl", 2,
        (ShapeParameter("index", "", -3.0, 5.0, "normal", 1.0, 1.5, 1.0),
         ShapeParameter("ecut", "keV", 0.5, 2000.0, "lognormal", math.log(30.0), 1.5, 30.0)),
        "power law with exponential cut-off E^-index exp(-E/ecut)",
    ),
    "bknpower": ComponentType(
        "bknpower", 3,
        (ShapeParameter("index1", "", -3.0, 6.0, "normal", 2.0, 1.0, 2.0),
         ShapeParameter("break_energy", "keV", 10.0, 1000.0, "loguniform", 0.0, 1.0, 100.0),
         ShapeParameter("index2", "", -3.0, 6.0, "normal", 2.0, 1.0, 2.0)),
        "broken power law, continuous at break_energy",
    ),
    "expcutoff": ComponentType(
        "expcutoff", 4,
        (ShapeParameter("ecut", "keV", 0.5, 2000.0, "lognormal", math.log(10.0), 1.5, 10.0),),
        "exponential cut-off exp(-E/ecut), boundary-layer shape",
    ),
    "ipm": ComponentType(
        "ipm", 5,
        (ShapeParameter("mass", "Msun", 0.3, 1.35, "uniform", 0.0, 1.0, 0.7),),
        "intermediate-polar model (white-dwarf mass)",
    ),
}
"""Registry of component types by name."""


# --- numpy twins of spectra.stanfunctions -------------------------------------------------
def component_log_ratio(
    code: int,
    shape: ArrayLike,
    energy_min: ArrayLike,
    energy_max: ArrayLike,
    quadrature: BandQuadrature,
    flux_band: tuple[float, float],
    reference: BandQuadrature,
    ipm: IpmTable | None = None,
) -> NDArray[np.float64]:
    """ln(photon flux per band / energy flux in the flux band) of one component.

    Twin of the Stan function of the same name. A component of energy flux F (keV
    cm-2 s-1) in ``flux_band`` has photon flux ``F exp(ratio[j])`` ph cm-2 s-1 in band j.

    Parameters
    ----------
    code : int
        Component type code (`COMPONENT_TYPES`).
    shape : array_like
        Its shape parameters, in Stan order.
    energy_min, energy_max : array_like
        Band edges, keV.
    quadrature : `BandQuadrature`
        Nodes of the bands (used by cutoffpl).
    flux_band : tuple of float
        Energy-flux band, keV.
    reference : `BandQuadrature`
        Nodes of the flux band (one band).
    ipm : `IpmTable`, optional
        Required for the IPM (code 5).

    Returns
    -------
    value : `numpy.ndarray`
        ln(keV^-1) per band.
    """
    lo = np.asarray(energy_min, dtype=float)
    hi = np.asarray(energy_max, dtype=float)
    p = np.asarray(shape, dtype=float)
    f_lo, f_hi = flux_band
    if code == 5:
        if ipm is None:
            raise ValueError("ipm: an IpmTable is required for the ipm component")
        return ipm_log_ratio(p[0], ipm.mass, ipm.table, ipm.table_d2)
    if code == 1:
        reference_value = float(log_powerlaw_integral(f_lo, f_hi, p[0] - 1))
        bands = log_powerlaw_integral(lo, hi, p[0])
    elif code == 2:
        reference_value = log_cutoffpl_integral(*reference.band(0), p[0] - 1, p[1])
        bands = np.array([log_cutoffpl_integral(*quadrature.band(j), p[0], p[1])
                          for j in range(lo.size)])
    elif code == 3:
        reference_value = float(log_bknpower_integral(f_lo, f_hi, p[0] - 1, p[1], p[2] - 1))
        bands = log_bknpower_integral(lo, hi, p[0], p[1], p[2])
    elif code == 4:
        reference_value = float(log_expcutoff_integral(f_lo, f_hi, p[0], 1))
        bands = log_expcutoff_integral(lo, hi, p[0], 0)
    else:
        raise ValueError(f"code: expected a component type code 1..5, found {code}")
    return bands - reference_value


def photon_shape(code: int, energy: ArrayLike, shape: ArrayLike) -> NDArray[np.float64]:
    """Unnormalised photon spectrum S(E) of a component type (for figures and tests).

    Parameters
    ----------
    code : int
        Component type code.
    energy : array_like
        Energies, keV.
    shape : array_like
        Shape parameters.

    Returns
    -------
    spectrum : `numpy.ndarray`
        S(E), ph per keV per unit normalisation.
    """
    e = np.asarray(energy, dtype=float)
    p = np.asarray(shape, dtype=float)
    if code == 1:
        return e ** -p[0]
    if code == 2:
        return e ** -p[0] * np.exp(-e / p[1])
    if code == 3:
        return np.where(e <= p[1], e ** -p[0], p[1] ** (p[2] - p[0]) * e ** -p[2])
    if code == 4:
        return np.exp(-e / p[0])
    if code == 5:
        return ipm_photon_spectrum(e, p[0])
    raise ValueError(f"code: expected a component type code 1..5, found {code}")

