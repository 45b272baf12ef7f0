"""Band integrals of the spectral shapes: numpy twins of the Stan functions.

The functions below mirror ``stan_models/functions/spectra.stanfunctions`` one to one
(same names, same formulas, natural logarithms of band integrals; energies in keV), so
that predictions made in Python are those of the Stan program;
``tests/spectra/test_stan_twins.py`` checks the agreement to 1e-8 relative.

Closed forms for the power law (``expm1(t)/t`` form, exact through index 1 and, for
energy fluxes, index 2), the broken power law and the exponential cut-off; fixed-node
Gauss-Legendre in ln E for the cut-off power law (`band_quadrature`); cubic-spline
interpolation in mass of a precomputed table of band integrals for the IPM
(`ipm_log_ratio`, `IpmTable`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

__all__ = [
    "BandQuadrature",
    "IpmTable",
    "band_quadrature",
    "ipm_log_ratio",
    "log_bknpower_integral",
    "log_cutoffpl_integral",
    "log_expcutoff_integral",
    "log_expm1_ratio",
    "log_powerlaw_integral",
]


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
