"""Crab units: the Crab spectrum N(E) = 10 E^-2.1 ph cm-2 s-1 keV-1 and mCrab conversions.

docs/equations.md section 3; [ISGRI] section 2.2: with a diagonal response that reproduces the
Crab, the value in mCrab of a band is ``1000 x (photon flux in the band) / (the Crab's
photon flux in the band)``. Energy fluxes are quoted in erg s-1 cm-2 (per IBIS field of
view for diffuse emission); component fluxes in the fits are in units of
``FLUX_UNIT`` = 1e-10 erg s-1 cm-2, as in [ISGRI] Tables 2 and 3.

Quantities (`~astropy.units.Quantity`) are accepted and returned at the edges; the
``_kev`` functions work on floats in keV and photons cm-2 s-1. `CRAB` and `MCRAB` are
astropy units for band values in Crab units (enable them with
``astropy.units.add_enabled_units([CRAB, MCRAB])`` to read such columns).

This module is the one Python definition of the Crab spectrum; the Stan programs use
``log_crab_photon_flux`` of ``stan_models/functions/spectra.stanfunctions``, tested
against `log_crab_photon_flux` here (``tests/spectra/test_stan_twins.py``).
"""

from __future__ import annotations

import logging

import astropy.units as u
import numpy as np
from numpy.typing import ArrayLike, NDArray

from bayesbg.spectra.band_integrals import log_powerlaw_integral

__all__ = [
    "CRAB",
    "CRAB_INDEX",
    "CRAB_NORM",
    "FLUX_UNIT",
    "KEV_PER_FLUX_UNIT",
    "MCRAB",
    "crab_energy_flux",
    "crab_photon_flux",
    "crab_photon_flux_kev",
    "log_crab_photon_flux",
    "mcrab_to_photon_flux",
    "photon_flux_to_mcrab",
]

log = logging.getLogger(__name__)

CRAB_NORM = 10.0
"""Crab normalisation at 1 keV, ph cm-2 s-1 keV-1 ([ISGRI] 2.2, Churazov et al. 2007)."""
CRAB_INDEX = 2.1
"""Crab photon index."""
FLUX_UNIT = 1e-10 * u.Unit("erg s-1 cm-2")
"""Unit of the component energy fluxes of the spectral fits ([ISGRI] Tables 2-3)."""
KEV_PER_FLUX_UNIT = float((1e-10 * u.erg).to_value(u.keV))
"""keV in 1e-10 erg (1 keV = 1.602176634e-9 erg)."""
CRAB = u.def_unit("Crab", doc="flux relative to the Crab, N(E) = 10 E^-2.1")
"""Crab unit (band photon flux relative to 10 E^-2.1 ph cm-2 s-1 keV-1)."""
MCRAB = u.def_unit("mCrab", 1e-3 * CRAB, doc="1e-3 Crab")
"""milli-Crab."""


def crab_photon_flux_kev(energy_min: ArrayLike, energy_max: ArrayLike) -> NDArray[np.float64]:
    """Crab photon flux in bands given in keV, ph cm-2 s-1 (closed form).

    Parameters
    ----------
    energy_min, energy_max : array_like
        Band edges, keV.

    Returns
    -------
    flux : `numpy.ndarray`
        ``int 10 E^-2.1 dE`` over each band, ph cm-2 s-1.
    """
    return np.exp(log_crab_photon_flux(energy_min, energy_max))


def log_crab_photon_flux(energy_min: ArrayLike, energy_max: ArrayLike) -> NDArray[np.float64]:
    """ln of the Crab photon flux per band, ln(ph cm-2 s-1); twin of the Stan function.

    The one definition of the Crab spectrum in Python (``CRAB_NORM``, ``CRAB_INDEX``);
    ``log_crab_photon_flux`` in ``stan_models/functions/spectra.stanfunctions`` is
    tested against it (``tests/spectra/test_stan_twins.py``).

    Parameters
    ----------
    energy_min, energy_max : array_like
        Band edges, keV.

    Returns
    -------
    value : `numpy.ndarray`
    """
    lo = np.asarray(energy_min, dtype=float)
    hi = np.asarray(energy_max, dtype=float)
    return np.log(CRAB_NORM) + log_powerlaw_integral(lo, hi, CRAB_INDEX)


def crab_photon_flux(energy_min: u.Quantity, energy_max: u.Quantity) -> u.Quantity:
    """Crab photon flux in a band, N(E) = 10 E^-2.1 ph cm-2 s-1 keV-1 (docs/equations.md section 3).

    Parameters
    ----------
    energy_min, energy_max : `~astropy.units.Quantity`
        Band edges, any energy unit.

    Returns
    -------
    flux : `~astropy.units.Quantity`
        Photon flux in cm-2 s-1.

    Examples
    --------
    >>> print(f"{crab_photon_flux(25 * u.keV, 60 * u.keV).to_value('cm-2 s-1'):.3f}")
    0.163
    """
    lo = u.Quantity(energy_min).to_value(u.keV)
    hi = u.Quantity(energy_max).to_value(u.keV)
    return crab_photon_flux_kev(lo, hi) * u.Unit("cm-2 s-1")


def crab_energy_flux(energy_min: u.Quantity, energy_max: u.Quantity) -> u.Quantity:
    """Crab energy flux in a band, ``int E 10 E^-2.1 dE``.

    Parameters
    ----------
    energy_min, energy_max : `~astropy.units.Quantity`
        Band edges, any energy unit.

    Returns
    -------
    flux : `~astropy.units.Quantity`
        Energy flux in erg s-1 cm-2.

    Examples
    --------
    >>> print(f"{crab_energy_flux(30 * u.keV, 80 * u.keV).to_value('erg s-1 cm-2'):.3e}")
    1.065e-08
    """
    lo = u.Quantity(energy_min).to_value(u.keV)
    hi = u.Quantity(energy_max).to_value(u.keV)
    kev = CRAB_NORM * np.exp(log_powerlaw_integral(lo, hi, CRAB_INDEX - 1.0))
    return (kev * u.Unit("keV s-1 cm-2")).to(u.Unit("erg s-1 cm-2"))


def photon_flux_to_mcrab(
    flux: u.Quantity, energy_min: u.Quantity, energy_max: u.Quantity
) -> NDArray[np.float64]:
    """Band photon fluxes to mCrab: ``1000 x flux / crab_photon_flux(band)``.

    Parameters
    ----------
    flux : `~astropy.units.Quantity`
        Photon flux in each band, convertible to cm-2 s-1.
    energy_min, energy_max : `~astropy.units.Quantity`
        Band edges.

    Returns
    -------
    mcrab : `numpy.ndarray`
        Values in mCrab.
    """
    crab = crab_photon_flux(energy_min, energy_max)
    return np.asarray(1000.0 * (u.Quantity(flux) / crab).to_value(u.dimensionless_unscaled))


def mcrab_to_photon_flux(
    mcrab: ArrayLike, energy_min: u.Quantity, energy_max: u.Quantity
) -> u.Quantity:
    """mCrab to band photon fluxes (inverse of :func:`photon_flux_to_mcrab`).

    Parameters
    ----------
    mcrab : array_like
        Values in mCrab.
    energy_min, energy_max : `~astropy.units.Quantity`
        Band edges.

    Returns
    -------
    flux : `~astropy.units.Quantity`
        Photon flux in cm-2 s-1.
    """
    return np.asarray(mcrab, dtype=float) / 1000.0 * crab_photon_flux(energy_min, energy_max)
