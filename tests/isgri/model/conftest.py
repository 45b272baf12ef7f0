"""Fixtures of the ISGRI model tests: small pointing tables and Crab calibrations built by
hand."""

from __future__ import annotations

import numpy as np
import pytest

from bayesbg.isgri.model.crab import CrabCalibration
from bayesbg.isgri.pointings import Band, PointingTable


@pytest.fixture(scope="session")
def bkg_table():
    """Build a one-band (25-60 keV) table of pointings, at high latitude by default."""

    def build(orbit, phase, rate, b=60.0):
        orbit = np.asarray(orbit)
        n = orbit.size
        return PointingTable(
            scw_id=[f"{i:012d}" for i in range(n)], orbit=orbit, phase=phase,
            time=np.zeros(n), l=np.zeros(n), b=np.broadcast_to(b, n),
            exposure=np.full(n, 2000.0), mode=np.ones(n, int),
            rate=np.asarray(rate, float)[:, None], rate_error=np.full((n, 1), 1e-4),
            bands=(Band(25.0, 60.0),),
        )

    return build


@pytest.fixture(scope="session")
def flat_calibration():
    """Build a one-band calibration: P = 2 cts s-1 pix-1 over orbits 100-400, a given
    per-orbit systematic (mCrab) and optional coefficient covariance."""

    def build(systematic, covariance=None):
        polynomial = np.polynomial.Polynomial.fit([100.0, 200.0, 300.0, 400.0],
                                                  [2.0, 2.0, 2.0, 2.0], 3)
        return CrabCalibration((Band(25.0, 60.0),), (polynomial,),
                               np.array([100, 200, 300, 400]), np.full(4, 10),
                               np.full((4, 1), 2.0), np.zeros((4, 1)),
                               np.array([systematic]), covariance)

    return build
