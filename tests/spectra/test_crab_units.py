"""Crab units: the Crab spectrum 10 E^-2.1 in closed form, mCrab conversions, units."""

from __future__ import annotations

import astropy.units as u
import numpy as np
import pytest

from bayesbg.spectra.crab_units import (
    MCRAB,
    crab_energy_flux,
    crab_photon_flux,
    log_crab_photon_flux,
    mcrab_to_photon_flux,
    photon_flux_to_mcrab,
)


def test_crab_units():
    assert crab_photon_flux(25 * u.keV, 60 * u.keV).to_value("cm-2 s-1") == pytest.approx(
        10 / 1.1 * (25**-1.1 - 60**-1.1), rel=1e-12)
    assert crab_energy_flux(30 * u.keV, 80 * u.keV).to_value("erg s-1 cm-2") == pytest.approx(
        100 * (30**-0.1 - 80**-0.1) * 1.602176634e-9, rel=1e-10)
    # the same band in MeV
    assert crab_photon_flux(0.025 * u.MeV, 0.06 * u.MeV).to_value("cm-2 s-1") == \
        pytest.approx(crab_photon_flux(25 * u.keV, 60 * u.keV).to_value("cm-2 s-1"))
    flux = mcrab_to_photon_flux([150.0], [25.0] * u.keV, [60.0] * u.keV)
    assert photon_flux_to_mcrab(flux, [25.0] * u.keV, [60.0] * u.keV) == pytest.approx([150.0])


def test_the_log_crab_flux_of_the_stan_twin_is_the_crab_photon_flux():
    lo, hi = np.array([25.0, 60.0, 480.0]), np.array([60.0, 80.0, 5000.0])
    np.testing.assert_allclose(np.exp(log_crab_photon_flux(lo, hi)),
                               crab_photon_flux(lo * u.keV, hi * u.keV).to_value("cm-2 s-1"),
                               rtol=1e-12)
    assert MCRAB.to_string() == "mCrab"
