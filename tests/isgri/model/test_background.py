"""The per-orbit background model's predictions: interpolation, nearest orbits, the two
errors, the settings."""

from __future__ import annotations

import numpy as np
import pytest

from bayesbg.isgri.model.background import (
    CONSTANT,
    INTERPOLATED,
    NEAREST,
    BackgroundSettings,
)
from bayesbg.isgri.model.background_fit import fit_background

NO_CLIP = BackgroundSettings(clip_band=None)


def test_interpolation_over_orbit_numbers_skips_an_orbit_without_pointings(bkg_table):
    # orbit 11 has no pointings at all, orbit 12 only Galactic ones
    orbit = [10] * 4 + [13] * 4 + [12]
    b = np.array([60.0] * 8 + [0.0])
    rate = np.array([0.010] * 4 + [0.040] * 4 + [0.5])
    std = np.array([0.0] * 8 + [0.0])
    rate_noisy = rate + np.array([1, -1, 1, -1] * 2 + [0]) * 1e-3 + std
    model = fit_background(bkg_table(orbit, np.full(9, 0.5), rate_noisy, b=b), settings=NO_CLIP)
    prediction = model.evaluate([11, 12], [0.5, 0.5])
    assert prediction.regime.tolist() == [INTERPOLATED, INTERPOLATED]
    np.testing.assert_allclose(prediction.rate[:, 0], [0.020, 0.030])
    e10, e13 = np.sqrt(model.var_intercept[:, 0])
    np.testing.assert_allclose(prediction.error[:, 0], [(2 * e10 + e13) / 3, (e10 + 2 * e13) / 3])


def test_no_calibrated_neighbour_on_one_side_uses_the_nearest_first_and_last_orbit(bkg_table):
    orbit = [10] * 4 + [20] * 4
    rate = [0.01] * 4 + [0.03] * 4
    model = fit_background(bkg_table(orbit, np.full(8, 0.5), np.array(rate) + 1e-4 * np.arange(8)),
                           settings=NO_CLIP)
    prediction = model.evaluate([5, 25, 10, 20], [0.5] * 4)
    assert prediction.regime.tolist() == [NEAREST, NEAREST, CONSTANT, CONSTANT]
    assert prediction.rate[0, 0] == pytest.approx(model.intercept[0, 0])
    assert prediction.rate[1, 0] == pytest.approx(model.intercept[1, 0])


def test_model_error_counts_the_orbit_scatter_interpolation_cannot_follow(bkg_table):
    rng = np.random.default_rng(3)
    n_orbit, per_orbit, tau = 300, 12, 1e-3
    orbit = np.repeat(np.arange(0, 2 * n_orbit, 2), per_orbit)  # odd orbits: none
    phase = np.tile(np.linspace(0.2, 0.8, per_orbit), n_orbit)
    level = 0.05 + tau * rng.standard_normal(n_orbit)
    rate = np.repeat(level, per_orbit) + 2e-4 * rng.standard_normal(orbit.size)
    model = fit_background(bkg_table(orbit, phase, rate), settings=NO_CLIP)
    assert model.orbit_scatter[0] == pytest.approx(tau, rel=0.15)
    prediction = model.evaluate([101, 100], [0.5, 0.5])
    # interpolated half way: own orbit's jitter plus half of each neighbour's
    assert prediction.model_error[0, 0] == pytest.approx(tau * np.sqrt(1.5), rel=0.2)
    # a calibrated orbit: only the standard error of its line
    assert prediction.model_error[1, 0] == pytest.approx(prediction.error[1, 0])
    assert prediction.model_error[1, 0] < 1e-4


def test_constant_model_error_is_the_error_of_the_mean(bkg_table):
    rate = 0.04 + 1e-4 * np.arange(6)
    model = fit_background(bkg_table(np.full(6, 7), np.linspace(0.3, 0.6, 6), rate),
                           settings=NO_CLIP)
    prediction = model.evaluate([7], [0.45])
    assert prediction.error[0, 0] == pytest.approx(rate.std(ddof=1))  # the paper's
    assert prediction.model_error[0, 0] == pytest.approx(rate.std(ddof=1) / np.sqrt(6))


def test_settings_are_validated():
    with pytest.raises(ValueError, match="slope_min"):
        BackgroundSettings(slope_min=1.0, slope_max=0.0)
    with pytest.raises(ValueError, match="constant_min_pointings"):
        BackgroundSettings(constant_min_pointings=1)
