"""Per-orbit background model: the three regimes, the filters and the edge cases."""

from __future__ import annotations

import numpy as np
import pytest

from bayesbg.isgri.background import (
    CONSTANT,
    EXCLUDED,
    INTERPOLATED,
    LINEAR,
    NEAREST,
    BackgroundSettings,
    fit_background,
    sigma_clip_orbits,
)
from bayesbg.isgri.scw import Band, PointingTable

BAND = (Band(25.0, 60.0),)
NO_CLIP = BackgroundSettings(clip_band=None)


def _table(orbit, phase, rate, b=60.0):
    orbit = np.asarray(orbit)
    n = orbit.size
    return PointingTable(
        scw_id=[f"{i:012d}" for i in range(n)], orbit=orbit, phase=phase, time=np.zeros(n),
        l=np.zeros(n), b=np.broadcast_to(b, n), exposure=np.full(n, 2000.0),
        mode=np.ones(n, int), rate=np.asarray(rate, float)[:, None],
        rate_error=np.full((n, 1), 1e-4), bands=BAND,
    )


def test_linear_regime_recovers_slope_and_intercept():
    phase = np.linspace(0.2, 0.8, 12)
    rate = 0.05 + 5e-4 * phase + np.array([1, -1] * 6) * 1e-5
    model = fit_background(_table(np.full(12, 100), phase, rate), NO_CLIP)
    assert model.regime.tolist() == [LINEAR]
    assert model.slope[0, 0] == pytest.approx(5e-4, abs=1e-4)
    assert model.intercept[0, 0] == pytest.approx(0.05, abs=1e-4)
    prediction = model.evaluate([100], [0.5])
    assert prediction.regime.tolist() == [LINEAR]
    assert 0 < prediction.error[0, 0] < 1e-5


def test_short_phase_span_with_many_pointings_is_constant():
    phase = np.linspace(0.3, 0.6, 12)  # span 0.3 <= 0.4
    rate = 0.05 + 1e-4 * np.arange(12)
    model = fit_background(_table(np.full(12, 5), phase, rate), NO_CLIP)
    assert model.regime.tolist() == [CONSTANT]
    assert model.intercept[0, 0] == pytest.approx(rate.mean())
    assert np.sqrt(model.var_intercept[0, 0]) == pytest.approx(rate.std(ddof=1))


def test_constant_regime_for_four_to_nine_pointings():
    for n in (4, 9):
        rate = 0.04 + 1e-4 * np.arange(n)
        model = fit_background(_table(np.full(n, 7), np.linspace(0.2, 0.8, n), rate), NO_CLIP)
        assert model.regime.tolist() == [CONSTANT]
        prediction = model.evaluate([7], [0.3])
        assert prediction.rate[0, 0] == pytest.approx(rate.mean())
        assert prediction.error[0, 0] == pytest.approx(rate.std(ddof=1))


def test_exactly_three_bkg_pointings_are_interpolated():
    orbit = [10] * 5 + [11] * 3 + [12] * 5
    rate = [0.01] * 5 + [0.9] * 3 + [0.03] * 5
    model = fit_background(_table(orbit, np.full(13, 0.5), rate), NO_CLIP)
    assert model.orbit.tolist() == [10, 12]
    prediction = model.evaluate([11], [0.5])
    assert prediction.regime.tolist() == [INTERPOLATED]
    assert prediction.rate[0, 0] == pytest.approx(0.02)


def test_interpolation_over_orbit_numbers_skips_an_orbit_without_pointings():
    # orbit 11 has no pointings at all, orbit 12 only Galactic ones
    orbit = [10] * 4 + [13] * 4 + [12]
    b = np.array([60.0] * 8 + [0.0])
    rate = np.array([0.010] * 4 + [0.040] * 4 + [0.5])
    std = np.array([0.0] * 8 + [0.0])
    rate_noisy = rate + np.array([1, -1, 1, -1] * 2 + [0]) * 1e-3 + std
    model = fit_background(_table(orbit, np.full(9, 0.5), rate_noisy, b=b), NO_CLIP)
    prediction = model.evaluate([11, 12], [0.5, 0.5])
    assert prediction.regime.tolist() == [INTERPOLATED, INTERPOLATED]
    np.testing.assert_allclose(prediction.rate[:, 0], [0.020, 0.030])
    e10, e13 = np.sqrt(model.var_intercept[:, 0])
    np.testing.assert_allclose(prediction.error[:, 0], [(2 * e10 + e13) / 3, (e10 + 2 * e13) / 3])


def test_no_calibrated_neighbour_on_one_side_uses_the_nearest_first_and_last_orbit():
    orbit = [10] * 4 + [20] * 4
    rate = [0.01] * 4 + [0.03] * 4
    model = fit_background(_table(orbit, np.full(8, 0.5), np.array(rate) + 1e-4 * np.arange(8)),
                           NO_CLIP)
    prediction = model.evaluate([5, 25, 10, 20], [0.5] * 4)
    assert prediction.regime.tolist() == [NEAREST, NEAREST, CONSTANT, CONSTANT]
    assert prediction.rate[0, 0] == pytest.approx(model.intercept[0, 0])
    assert prediction.rate[1, 0] == pytest.approx(model.intercept[1, 0])


def test_slope_filter_drops_steep_orbits():
    phase = np.linspace(0.2, 0.8, 12)
    orbit = [1] * 12 + [2] * 12 + [3] * 12
    rate = np.concatenate([0.05 + 3e-3 * phase, 0.05 - 3e-3 * phase, 0.05 + 1e-4 * phase])
    model = fit_background(_table(orbit, np.tile(phase, 3), rate), NO_CLIP)
    assert model.slope_rejected.tolist() == [1, 2]
    assert model.orbit.tolist() == [3]
    assert model.evaluate([1, 2], [0.5, 0.5]).regime.tolist() == [EXCLUDED, EXCLUDED]


def test_no_calibrated_orbit_raises():
    with pytest.raises(ValueError, match="no orbit"):
        fit_background(_table([1, 1, 1], [0.3, 0.4, 0.5], [0.1, 0.1, 0.1]), NO_CLIP)


def test_sigma_clipping_removes_outlier_orbits():
    rng = np.random.default_rng(1)
    orbit = np.repeat(np.arange(200), 5)
    residual = rng.normal(0, 1e-4, orbit.size)
    residual[orbit == 17] += 5e-3
    orbits, clipped, summary = sigma_clip_orbits(orbit, residual)
    assert 17 in clipped
    assert clipped.size < 5
    assert orbits.size == 200


def test_settings_are_validated():
    with pytest.raises(ValueError, match="slope_min"):
        BackgroundSettings(slope_min=1.0, slope_max=0.0)
    with pytest.raises(ValueError, match="constant_min_pointings"):
        BackgroundSettings(constant_min_pointings=1)
