"""Spectral components, their registry, and numpy twins of every Stan spectral function.

The functions below mirror ``stan_models/functions/spectra.stanfunctions`` one to one
(same names, same formulas, natural logarithms of band integrals; energies in keV), so
that predictions made in Python (tables, chi2, figures) are those of the Stan program;
``tests/spectra/test_stan_twins.py`` checks the agreement to 1e-8 relative.

Shapes S(E) in XSPEC conventions (DOMAIN.md section 4):

=========  ====  ========================================  ===========================
name       code  S(E)                                      shape parameters
=========  ====  ========================================  ===========================
powerlaw   1     E^-index                                  index
cutoffpl   2     E^-index exp(-E / ecut)                   index, ecut (keV)
bknpower   3     E^-index1 (E <= eb),                      index1, break_energy (keV),
                 eb^(index2 - index1) E^-index2 (E > eb)   index2
expcutoff  4     exp(-E / ecut) (boundary-layer shape,     ecut (keV)
                 [ISGRI] Appendix C)
ipm        5     intermediate-polar model (`bayesbg.spectra.ipm`)   mass (Msun)
=========  ====  ========================================  ===========================

Band integrals: closed forms for powerlaw (``expm1(t)/t`` form, exact through index 1
and, for energy fluxes, index 2), bknpower and expcutoff; fixed-node Gauss-Legendre in
ln E for cutoffpl (`band_quadrature`); cubic-spline interpolation in mass of a
precomputed table of band integrals for the IPM.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

__all__ = [
    "COMPONENT_TYPES",
    "BandQuadrature",
    "ComponentType",
    "ShapeParameter",
    "band_quadrature",
    "component_log_ratio",
    "ipm_log_ratio",
    "log_bknpower_integral",
    "log_crab_photon_flux",
    "log_cutoffpl_integral",
    "log_expcutoff_integral",
    "log_expm1_ratio",
    "log_powerlaw_integral",
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

def log_expm1_ratio(t: ArrayLike) -> NDArray[np.float64]:
    """ln(expm1(t) / t), continuous through t = 0 (twin of the Stan function).

    Parameters
    ----------
    t : array_like

    Returns
    -------
    value : `numpy.ndarray`
        ``t/2 + t**2/24`` for ``|t| < 1e-4`` (error below 1e-19).
    """
    t = np.asarray(t, dtype=float)
    out = np.empty_like(t)
    small = np.abs(t) < 1e-4
    pos = (~small) & (t > 0)
    neg = (~small) & (t < 0)
    out[small] = t[small] / 2 + t[small] ** 2 / 24
    out[pos] = t[pos] + np.log(-np.expm1(-t[pos])) - np.log(t[pos])
    out[neg] = np.log(-np.expm1(t[neg])) - np.log(-t[neg])
    return out


def log_powerlaw_integral(a: ArrayLike, b: ArrayLike, index: ArrayLike) -> NDArray[np.float64]:
    """ln of int_a^b E^-index dE in closed form (exact through index = 1).

    Parameters
    ----------
    a, b : array_like
        Band edges, keV, ``0 < a < b``.
    index : array_like
        Photon index.

    Returns
    -------
    value : `numpy.ndarray`
        ln(integral); the integral is in ph per unit normalisation at 1 keV.
    """
    a, b, index = np.broadcast_arrays(*(np.asarray(x, dtype=float) for x in (a, b, index)))
    width = np.log(b / a)
    s = 1.0 - index
    return s * np.log(a) + np.log(width) + log_expm1_ratio(s * width)


def log_bknpower_integral(
    a: ArrayLike, b: ArrayLike, index1: float, break_energy: float, index2: float
) -> NDArray[np.float64]:
    """ln of int_a^b of the broken power law, continuous at ``break_energy``.

    Parameters
    ----------
    a, b : array_like
        Band edges, keV.
    index1, index2 : float
        Photon indices below and above the break.
    break_energy : float
        Break energy, keV.

    Returns
    -------
    value : `numpy.ndarray`
    """
    a, b = np.broadcast_arrays(np.asarray(a, dtype=float), np.asarray(b, dtype=float))
    log_scale = (index2 - index1) * math.log(break_energy)
    out = np.empty(a.shape)
    below = break_energy >= b
    above = (~below) & (break_energy <= a)
    across = ~(below | above)
    out[below] = log_powerlaw_integral(a[below], b[below], index1)
    out[above] = log_scale + log_powerlaw_integral(a[above], b[above], index2)
    out[across] = np.logaddexp(
        log_powerlaw_integral(a[across], break_energy, index1),
        log_scale + log_powerlaw_integral(break_energy, b[across], index2),
    )
    return out


def log_expcutoff_integral(
    a: ArrayLike, b: ArrayLike, ecut: float, moment: int
) -> NDArray[np.float64]:
    """ln of int_a^b E^moment exp(-E/ecut) dE in closed form.

    Parameters
    ----------
    a, b : array_like
        Band edges, keV.
    ecut : float
        e-folding energy, keV.
    moment : int
        0 (photon flux) or 1 (energy flux).

    Returns
    -------
    value : `numpy.ndarray`
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    x = (b - a) / ecut
    if moment == 0:
        return math.log(ecut) - a / ecut + np.log(-np.expm1(-x))
    if moment == 1:
        return (math.log(ecut) - a / ecut
                + np.log((a + ecut) * (-np.expm1(-x)) - (b - a) * np.exp(-x)))
    raise ValueError(f"moment: expected 0 or 1, found {moment}")


def log_cutoffpl_integral(
    node_log_energy: ArrayLike, node_log_weight: ArrayLike, index: float, ecut: float
) -> float:
    """ln of int E^-index exp(-E/ecut) dE by Gauss-Legendre in ln E over given nodes.

    Parameters
    ----------
    node_log_energy : array_like
        ln E at the nodes of one band, ln keV.
    node_log_weight : array_like
        ln(w E) at the nodes (weight in ln E times the Jacobian E), ln keV.
    index : float
        Photon index.
    ecut : float
        Cut-off energy, keV.

    Returns
    -------
    value : float
    """
    log_energy = np.asarray(node_log_energy, dtype=float)
    terms = np.asarray(node_log_weight, dtype=float) - index * log_energy \
        - np.exp(log_energy) / ecut
    return float(special.logsumexp(terms))


def ipm_log_ratio(
    mass: float, grid_mass: ArrayLike, table: ArrayLike, table_d2: ArrayLike
) -> NDArray[np.float64]:
    """Natural cubic spline in mass of tabulated IPM band ratios (twin of the Stan one).

    Parameters
    ----------
    mass : float
        White-dwarf mass, Msun.
    grid_mass : array_like, shape (G,)
        Increasing masses, Msun.
    table, table_d2 : array_like, shape (G, N)
        ln band ratios and their second derivatives in mass.

    Returns
    -------
    value : `numpy.ndarray`, shape (N,)
    """
    grid = np.asarray(grid_mass, dtype=float)
    table = np.asarray(table, dtype=float)
    d2 = np.asarray(table_d2, dtype=float)
    i = 0
    while i < grid.size - 2 and mass > grid[i + 1]:
        i += 1
    h = grid[i + 1] - grid[i]
    w_hi = (mass - grid[i]) / h
    w_lo = 1.0 - w_hi
    return (w_lo * table[i] + w_hi * table[i + 1]
            + ((w_lo**3 - w_lo) * d2[i] + (w_hi**3 - w_hi) * d2[i + 1]) * h**2 / 6)


def log_crab_photon_flux(energy_min: ArrayLike, energy_max: ArrayLike) -> NDArray[np.float64]:
    """ln of the Crab photon flux per band, ln(ph cm-2 s-1), N(E) = 10 E^-2.1.

    Parameters
    ----------
    energy_min, energy_max : array_like
        Band edges, keV.

    Returns
    -------
    value : `numpy.ndarray`
    """
    return math.log(10.0) + log_powerlaw_integral(energy_min, energy_max, 2.1)


@dataclass(frozen=True)
class BandQuadrature:
    """Gauss-Legendre nodes in ln E for a list of bands (Stan data of the same names).

    Parameters
    ----------
    node_log_energy : `numpy.ndarray`
        ln E of all nodes, band after band, ln keV.
    node_log_weight : `numpy.ndarray`
        ln(w E) of all nodes, ln keV.
    node_start : `numpy.ndarray` of int
        First node of each band, 1-based (Stan indexing).
    node_count : `numpy.ndarray` of int
        Number of nodes of each band.
    """

    node_log_energy: NDArray[np.float64]
    node_log_weight: NDArray[np.float64]
    node_start: NDArray[np.int64]
    node_count: NDArray[np.int64]

    def __post_init__(self) -> None:
        if self.node_log_energy.shape != self.node_log_weight.shape:
            raise ValueError("node_log_weight: expected the shape of node_log_energy, found "
                             f"{self.node_log_weight.shape}")
        if self.node_start.shape != self.node_count.shape:
            raise ValueError("node_count: expected one entry per band like node_start")
        if np.any(self.node_count < 1):
            raise ValueError("node_count: expected at least one node per band")

    def band(self, j: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Nodes of band ``j`` (0-based): ``(log_energy, log_weight)``."""
        start = int(self.node_start[j]) - 1
        stop = start + int(self.node_count[j])
        return self.node_log_energy[start:stop], self.node_log_weight[start:stop]


def band_quadrature(
    energy_min: ArrayLike, energy_max: ArrayLike, *, order: int = 8,
    max_log_width: float = 0.05,
) -> BandQuadrature:
    """Gauss-Legendre nodes in ln E, each band cut into equal pieces of ln-width
    at most ``max_log_width``, ``order`` nodes per piece.

    Parameters
    ----------
    energy_min, energy_max : array_like
        Band edges, keV.
    order : int
        Nodes per piece. Default is 8 (exact for polynomials of degree 15 in ln E).
    max_log_width : float
        Largest ln(E_hi / E_lo) of a piece. Default is 0.05 (5 % wide pieces).

    Returns
    -------
    quadrature : `BandQuadrature`
    """
    lo = np.atleast_1d(np.asarray(energy_min, dtype=float))
    hi = np.atleast_1d(np.asarray(energy_max, dtype=float))
    if order < 1:
        raise ValueError(f"order: expected a positive integer, found {order}")
    if not max_log_width > 0:
        raise ValueError(f"max_log_width: expected a positive number, found {max_log_width}")
    if np.any(lo <= 0) or np.any(hi <= lo):
        raise ValueError("energy_min, energy_max: expected 0 < energy_min < energy_max")
    x, w = np.polynomial.legendre.leggauss(order)
    log_energy, log_weight, start, count = [], [], [], []
    position = 1
    for a, b in zip(np.log(lo), np.log(hi), strict=True):
        pieces = max(1, math.ceil((b - a) / max_log_width - 1e-9))
        edges = np.linspace(a, b, pieces + 1)
        half = 0.5 * np.diff(edges)
        mid = 0.5 * (edges[1:] + edges[:-1])
        u = (mid[:, None] + half[:, None] * x[None, :]).ravel()
        log_energy.append(u)
        log_weight.append((np.log(half)[:, None] + np.log(w)[None, :]).ravel() + u)
        start.append(position)
        count.append(u.size)
        position += u.size
    return BandQuadrature(
        node_log_energy=np.concatenate(log_energy),
        node_log_weight=np.concatenate(log_weight),
        node_start=np.asarray(start, dtype=np.int64),
        node_count=np.asarray(count, dtype=np.int64),
    )


@dataclass(frozen=True)
class IpmTable:
    """Tabulated IPM band ratios for `component_log_ratio` (see `bayesbg.spectra.ipm`).

    Parameters
    ----------
    mass : `numpy.ndarray`, shape (G,)
        Grid of white-dwarf masses, Msun.
    table, table_d2 : `numpy.ndarray`, shape (G, N)
        ln band ratios, ln(keV^-1), and their natural-spline second derivatives.
    """

    mass: NDArray[np.float64]
    table: NDArray[np.float64]
    table_d2: NDArray[np.float64] = field(repr=False)


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
        from bayesbg.spectra.ipm import ipm_photon_spectrum

        return ipm_photon_spectrum(e, p[0])
    raise ValueError(f"code: expected a component type code 1..5, found {code}")

