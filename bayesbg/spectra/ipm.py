"""Intermediate-polar model (IPM): a documented approximation, tabulated in white-dwarf mass.

The hard X-rays of an intermediate polar come from the post-shock accretion column on
the white dwarf (WD); its spectrum is set mainly by the shock temperature, i.e. by the
WD mass ([ISGRI] 4.3 uses the column model of Suleimanov et al. 2005). This module
replaces that model by a one-parameter approximation (docs/equations.md section 4):

1. **Mass-radius relation** (Nauenberg 1972, eq. 27):
   ``R = 0.0112 Rsun [(M/M3)^(-2/3) - (M/M3)^(2/3)]^(1/2)``, ``M3 = 5.816 / mu_e^2 Msun``
   with ``mu_e = 2`` (1.454 Msun).
2. **Shock temperature** of gas falling freely from infinity (strong-shock jump):
   ``kT_s = (3/8) mu m_H G M / R`` with ``mu = 0.615`` (solar plasma); 28.5 keV at
   0.7 Msun.
3. **Temperature distribution**: the column is treated as an isobaric cooling flow
   below the shock, whose differential emission measure is ``dEM/dT ∝ 1 / Lambda(T)``
   with bremsstrahlung cooling ``Lambda ∝ T^(1/2)``, for ``T_min < T < T_s`` with
   ``T_min = 0.01 T_s``.
4. **Emission**: optically thin bremsstrahlung, photon emissivity per unit emission
   measure ``∝ g(E, T) T^(-1/2) exp(-E/kT) / E`` with the thermally averaged Gaunt
   factor approximated by ``g = (E/kT)^(-0.4)`` (a fair fit for 0.1 < E/kT < 10).

Hence ``N(E) ∝ E^-1.4 ∫ T^(-1) (kT)^(0.4) exp(-E/kT) dT`` over the column, computed by
Gauss-Legendre quadrature in ln T. Neglected: the gravity change along the column,
the WD spin and magnetic field (pre-shock velocity below free fall for a finite
magnetospheric radius), cyclotron cooling, reflection, absorption, line emission and
electron-ion non-equilibrium. The absolute normalisation is irrelevant: the fits
normalise each component by its energy flux in the flux band.

`ipm_band_table` tabulates ln(photon flux per band / energy flux in the flux band) on a
mass grid (default 0.3 to 1.35 Msun in steps of 0.025) with natural-spline second
derivatives, which ``spectral_fit.stan`` interpolates
(`bayesbg.spectra.band_integrals.ipm_log_ratio`).

References
----------
Nauenberg (1972), ApJ 175, 417. Suleimanov, Revnivtsev, Ritter (2005), A&A 435, 191.
"""

from __future__ import annotations

import logging

import astropy.constants as const
import astropy.units as u
import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.interpolate import CubicSpline

from bayesbg.spectra.band_integrals import IpmTable, band_quadrature

__all__ = [
    "MASS_GRID",
    "ipm_band_table",
    "ipm_photon_spectrum",
    "shock_temperature",
    "white_dwarf_radius",
]

log = logging.getLogger(__name__)

MU = 0.615
"""Mean molecular weight of the post-shock plasma."""
MU_E = 2.0
"""Mean molecular weight per electron of the white dwarf (C/O)."""
T_MIN_FRACTION = 0.01
"""Lowest column temperature as a fraction of the shock temperature."""
GAUNT_INDEX = 0.4
"""Gaunt factor approximation g = (E / kT)^-GAUNT_INDEX."""
MASS_GRID = np.round(np.arange(0.3, 1.35 + 1e-9, 0.025), 3)
"""Default white-dwarf mass grid of the tables, Msun (0.3 to 1.35, 43 points)."""

_M_H = 1.00794 * const.u.cgs.value  # hydrogen atom mass, g
_T_NODES, _T_WEIGHTS = np.polynomial.legendre.leggauss(96)


def white_dwarf_radius(mass: ArrayLike) -> NDArray[np.float64]:
    """White-dwarf radius from Nauenberg's (1972) mass-radius relation.

    Parameters
    ----------
    mass : array_like
        Mass in Msun, ``0 < mass < 1.454``.

    Returns
    -------
    radius : `numpy.ndarray`
        Radius in cm.
    """
    m = np.asarray(mass, dtype=float)
    m3 = 5.816 / MU_E**2
    if np.any(m <= 0) or np.any(m >= m3):
        raise ValueError(f"mass: expected 0 < mass < {m3:.3f} Msun, found {m}")
    x = m / m3
    return 0.0112 * const.R_sun.cgs.value * np.sqrt(x ** (-2 / 3) - x ** (2 / 3))


def shock_temperature(mass: ArrayLike) -> NDArray[np.float64]:
    """Shock temperature ``kT_s = (3/8) mu m_H G M / R`` of free-falling gas.

    Parameters
    ----------
    mass : array_like
        White-dwarf mass, Msun.

    Returns
    -------
    kt : `numpy.ndarray`
        kT_s in keV.

    Examples
    --------
    >>> print(f"{float(shock_temperature(0.7)):.1f}")
    28.5
    """
    m = np.asarray(mass, dtype=float)
    energy = (3 / 8 * MU * _M_H * const.G.cgs.value
              * m * const.M_sun.cgs.value / white_dwarf_radius(m))
    return energy * (u.erg).to(u.keV)


def ipm_photon_spectrum(energy: ArrayLike, mass: float) -> NDArray[np.float64]:
    """IPM photon spectrum shape, ``N(E) ∝ E^-1.4 ∫ T^-1 (kT)^0.4 exp(-E/kT) dT``.

    Parameters
    ----------
    energy : array_like
        Energies, keV.
    mass : float
        White-dwarf mass, Msun.

    Returns
    -------
    spectrum : `numpy.ndarray`
        Photon spectrum in arbitrary units (ph per keV); only ratios matter.
    """
    e = np.asarray(energy, dtype=float)
    kt_s = float(shock_temperature(mass))
    a, b = np.log(T_MIN_FRACTION * kt_s), np.log(kt_s)
    log_t = 0.5 * (a + b) + 0.5 * (b - a) * _T_NODES
    kt = np.exp(log_t)
    # dT / T = d ln T; integrand T^-1 (kT)^0.4 exp(-E/kT) dT = (kT)^0.4 exp(-E/kT) d ln T
    weights = 0.5 * (b - a) * _T_WEIGHTS * kt**GAUNT_INDEX
    integral = np.exp(-e[..., None] / kt) @ weights
    return e ** -(1.0 + GAUNT_INDEX) * integral


def _log_band_integrals(
    energy_min: NDArray[np.float64], energy_max: NDArray[np.float64], mass: float, moment: int
) -> NDArray[np.float64]:
    quadrature = band_quadrature(energy_min, energy_max, order=8, max_log_width=0.02)
    energy = np.exp(quadrature.node_log_energy)
    terms = np.exp(quadrature.node_log_weight) * energy**moment * ipm_photon_spectrum(energy,
                                                                                     mass)
    sums = np.add.reduceat(terms, quadrature.node_start - 1)
    return np.log(sums)


def ipm_band_table(
    energy_min: ArrayLike,
    energy_max: ArrayLike,
    *,
    flux_band: tuple[float, float] = (30.0, 80.0),
    mass: ArrayLike | None = None,
) -> IpmTable:
    """Tabulate ln(IPM photon flux per band / IPM energy flux in ``flux_band``).

    Parameters
    ----------
    energy_min, energy_max : array_like
        Band edges, keV.
    flux_band : tuple of float
        Energy-flux band, keV. Default is (30, 80).
    mass : array_like, optional
        Increasing mass grid, Msun. Default is `MASS_GRID`.

    Returns
    -------
    table : `bayesbg.spectra.band_integrals.IpmTable`
        ``mass`` (G,), ``table`` and ``table_d2`` (G, N), ln(keV^-1).
    """
    lo = np.atleast_1d(np.asarray(energy_min, dtype=float))
    hi = np.atleast_1d(np.asarray(energy_max, dtype=float))
    grid = MASS_GRID if mass is None else np.asarray(mass, dtype=float)
    if grid.ndim != 1 or grid.size < 2 or np.any(np.diff(grid) <= 0):
        raise ValueError("mass: expected an increasing grid of at least 2 masses")
    rows = []
    for m in grid:
        bands = _log_band_integrals(lo, hi, float(m), 0)
        reference = _log_band_integrals(np.array([flux_band[0]]), np.array([flux_band[1]]),
                                        float(m), 1)
        rows.append(bands - reference[0])
    table = np.array(rows)
    d2 = CubicSpline(grid, table, bc_type="natural", axis=0).derivative(2)(grid)
    d2[0] = 0.0
    d2[-1] = 0.0
    return IpmTable(mass=grid.copy(), table=table, table_d2=np.asarray(d2))
