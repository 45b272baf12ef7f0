"""The error terms a region's flux shares across pointings."""

from __future__ import annotations

import numpy as np
import pytest

from bayesbg.isgri.model.error_budget import orbit_correlated_variance, systematic_variance


def test_orbit_correlated_variance():
    assert orbit_correlated_variance([1, 1, 2], [1.0, 1.0, 2.0]) == pytest.approx(8 / 9)
    # equal errors: e**2 sum (n_o / N)**2
    orbit = np.repeat(np.arange(50), 4)
    assert orbit_correlated_variance(orbit, np.full(200, 3.0)) == pytest.approx(9 / 50)
    assert orbit_correlated_variance([], []) == 0.0
    with pytest.raises(ValueError, match="error"):
        orbit_correlated_variance([1, 2], [1.0])


def test_systematic_variance_is_the_orbit_and_calibration_terms(flat_calibration):
    orbit = np.repeat([150, 250, 350, 450], 25)
    calibration = flat_calibration(37.0)
    background, variance = systematic_variance(100.0, orbit, np.full(100, 2.0),
                                               calibration, 0)
    assert background == pytest.approx(4.0 / 4)
    assert variance == pytest.approx(100.0**2 * 0.037**2 / 4)
