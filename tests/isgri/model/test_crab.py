"""The Crab calibration: the calibration variance of a mean flux, mCrab in erg s-1 cm-2."""

from __future__ import annotations

import astropy.units as u
import numpy as np
import pytest

from bayesbg.isgri.model.crab import mcrab_to_energy_flux
from bayesbg.isgri.pointings import Band
from bayesbg.spectra.crab_units import crab_energy_flux


def test_calibration_variance_per_orbit_and_polynomial_terms(flat_calibration):
    orbit = np.repeat([150, 250, 350, 450], 25)
    assert flat_calibration(0.0).flux_variance(100.0, orbit, 0) == 0.0
    # per-orbit gain scatter 37 mCrab = 3.7 %, four equal orbits: F^2 0.037^2 / 4
    assert flat_calibration(37.0).flux_variance(100.0, orbit, 0) == pytest.approx(
        100.0**2 * 0.037**2 / 4)
    # a constant polynomial known to 1 %: F^2 (0.01)^2 whatever the orbits
    covariance = np.zeros((4, 4))
    covariance[0, 0] = (0.01 * 2.0) ** 2
    assert flat_calibration(0.0, (covariance,)).flux_variance(50.0, orbit, 0) == pytest.approx(
        50.0**2 * 1e-4)


def test_a_thousand_mcrab_is_the_crab_energy_flux_of_the_band():
    flux = mcrab_to_energy_flux([1000.0, 500.0], Band(30.0, 80.0))
    crab = crab_energy_flux(30 * u.keV, 80 * u.keV)
    np.testing.assert_allclose(flux.to_value("erg s-1 cm-2"),
                               [crab.to_value("erg s-1 cm-2"), 0.5 * crab.to_value("erg s-1 cm-2")])
