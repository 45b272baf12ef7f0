"""The flux per FOV of a group and its error budget, with the collimator term measured by
refitting under the alternative calibration."""

from __future__ import annotations

import numpy as np
import pytest

from bayesbg.isgri.bands import Band
from bayesbg.isgri.measure import GroupMeasurement, PointingFluxes
from bayesbg.isgri.model.crab import CrabCalibration
from bayesbg.isgri.pointings import PointingTable


@pytest.fixture
def flat_calibration():
    """A one-band calibration: P = 2 cts s-1 pix-1, a given per-orbit systematic (mCrab)."""

    def build(systematic):
        polynomial = np.polynomial.Polynomial.fit([100.0, 200.0, 300.0, 400.0],
                                                  [2.0, 2.0, 2.0, 2.0], 3)
        return CrabCalibration((Band(25.0, 60.0),), (polynomial,),
                               np.array([100, 200, 300, 400]), np.full(4, 10),
                               np.full((4, 1), 2.0), np.zeros((4, 1)), np.array([systematic]))

    return build


def _fluxes(flat_calibration, ratio):
    rng = np.random.default_rng(2)
    n = 4000
    flux = rng.normal(80.0, 40.0, n)
    wing = rng.random(n) < 0.08
    flux[wing] += rng.uniform(0, 600, wing.sum())
    table = PointingTable(
        scw_id=[f"{i:012d}" for i in range(n)], orbit=np.repeat([150, 250, 350, 450], n // 4),
        phase=np.full(n, 0.5), time=np.zeros(n), l=np.zeros(n), b=np.zeros(n),
        exposure=np.full(n, 2000.0), mode=np.ones(n, int), rate=np.zeros((n, 1)),
        rate_error=np.zeros((n, 1)), bands=(Band(25.0, 60.0),))
    return PointingFluxes(table, flux[:, None], None if ratio is None else
                          np.full((n, 1), ratio), np.full((n, 1), 2.0),
                          flat_calibration(37.0))


def test_collimator_term_is_the_refitted_difference(flat_calibration):
    everyone = np.ones(4000, dtype=bool)
    band = Band(25.0, 60.0)
    plain = _fluxes(flat_calibration, None).measure(everyone, band)
    assert np.isnan(plain.flux_alternative) and np.isnan(plain.error_collimator)
    assert plain.error == pytest.approx(plain.error_random)
    scaled = _fluxes(flat_calibration, 0.96).measure(everyone, band)
    # the mixture is scale-equivariant: a common factor 0.96 moves mu by 4 %
    assert scaled.flux_alternative == pytest.approx(0.96 * scaled.flux, rel=2e-4)
    assert scaled.error_collimator == pytest.approx(0.04 * scaled.flux, rel=5e-3)
    assert scaled.error == pytest.approx(np.sqrt(scaled.error_statistical**2
                                                 + scaled.error_background**2
                                                 + scaled.error_calibration**2
                                                 + scaled.error_collimator**2))
    # background: 2 mCrab per pointing, four equal orbits -> 2 / 2 = 1 mCrab
    assert scaled.error_background == pytest.approx(1.0)
    assert scaled.error_calibration == pytest.approx(scaled.flux * 0.037 / 2, rel=1e-6)


def test_too_small_a_group_has_no_flux(flat_calibration):
    fluxes = _fluxes(flat_calibration, 0.96)
    mask = np.zeros(4000, dtype=bool)
    mask[:10] = True
    empty = fluxes.measure(mask, Band(25.0, 60.0))
    assert empty.n == 10 and np.isnan(empty.flux) and np.isnan(empty.error)
    assert GroupMeasurement.empty(3, 0.1).to_row()["n"] == 3
