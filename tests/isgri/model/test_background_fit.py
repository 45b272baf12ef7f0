"""Building the per-orbit background model: the regimes, the slope filter, the clipping."""

from __future__ import annotations

import numpy as np
import pytest

from bayesbg.isgri.model.background import (
    CONSTANT,
    EXCLUDED,
    INTERPOLATED,
    LINEAR,
    BackgroundSettings,
)
from bayesbg.isgri.model.background_fit import fit_background, sigma_clip_orbits

NO_CLIP = BackgroundSettings(clip_band=None)


def test_linear_regime_recovers_slope_and_intercept(bkg_table):
    phase = np.linspace(0.2, 0.8, 12)
    rate = 0.05 + 5e-4 * phase + np.array([1, -1] * 6) * 1e-5
    model = fit_background(bkg_table(np.full(12, 100), phase, rate), settings=NO_CLIP)
    assert model.regime.tolist() == [LINEAR]
    assert model.slope[0, 0] == pytest.approx(5e-4, abs=1e-4)
    assert model.intercept[0, 0] == pytest.approx(0.05, abs=1e-4)
    prediction = model.evaluate([100], [0.5])
    assert prediction.regime.tolist() == [LINEAR]
    assert 0 < prediction.error[0, 0] < 1e-5


def test_short_phase_span_with_many_pointings_is_constant(bkg_table):
    phase = np.linspace(0.3, 0.6, 12)  # span 0.3 <= 0.4
    rate = 0.05 + 1e-4 * np.arange(12)
    model = fit_background(bkg_table(np.full(12, 5), phase, rate), settings=NO_CLIP)
    assert model.regime.tolist() == [CONSTANT]
    assert model.intercept[0, 0] == pytest.approx(rate.mean())
    assert np.sqrt(model.var_intercept[0, 0]) == pytest.approx(rate.std(ddof=1))


def test_constant_regime_for_four_to_nine_pointings(bkg_table):
    for n in (4, 9):
        rate = 0.04 + 1e-4 * np.arange(n)
        table = bkg_table(np.full(n, 7), np.linspace(0.2, 0.8, n), rate)
        model = fit_background(table, settings=NO_CLIP)
        assert model.regime.tolist() == [CONSTANT]
        prediction = model.evaluate([7], [0.3])
        assert prediction.rate[0, 0] == pytest.approx(rate.mean())
        assert prediction.error[0, 0] == pytest.approx(rate.std(ddof=1))


def test_exactly_three_bkg_pointings_are_interpolated(bkg_table):
    orbit = [10] * 5 + [11] * 3 + [12] * 5
    rate = [0.01] * 5 + [0.9] * 3 + [0.03] * 5
    model = fit_background(bkg_table(orbit, np.full(13, 0.5), rate), settings=NO_CLIP)
    assert model.orbit.tolist() == [10, 12]
    prediction = model.evaluate([11], [0.5])
    assert prediction.regime.tolist() == [INTERPOLATED]
    assert prediction.rate[0, 0] == pytest.approx(0.02)


def test_slope_filter_drops_steep_orbits(bkg_table):
    phase = np.linspace(0.2, 0.8, 12)
    orbit = [1] * 12 + [2] * 12 + [3] * 12
    rate = np.concatenate([0.05 + 3e-3 * phase, 0.05 - 3e-3 * phase, 0.05 + 1e-4 * phase])
    model = fit_background(bkg_table(orbit, np.tile(phase, 3), rate), settings=NO_CLIP)
    assert model.slope_rejected.tolist() == [1, 2]
    assert model.orbit.tolist() == [3]
    assert model.evaluate([1, 2], [0.5, 0.5]).regime.tolist() == [EXCLUDED, EXCLUDED]


def test_no_calibrated_orbit_raises(bkg_table):
    with pytest.raises(ValueError, match="no orbit"):
        fit_background(bkg_table([1, 1, 1], [0.3, 0.4, 0.5], [0.1, 0.1, 0.1]), settings=NO_CLIP)


def test_sigma_clipping_removes_outlier_orbits():
    rng = np.random.default_rng(1)
    orbit = np.repeat(np.arange(200), 5)
    residual = rng.normal(0, 1e-4, orbit.size)
    residual[orbit == 17] += 5e-3
    orbits, clipped, summary = sigma_clip_orbits(orbit, residual)
    assert 17 in clipped
    assert clipped.size < 5
    assert orbits.size == 200
