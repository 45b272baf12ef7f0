"""The 2016 energy response along a source's path."""

from __future__ import annotations

import numpy as np
import pytest

from bayesbg.cosi.exposure import simulated_observation
from bayesbg.cosi.io import read_classic_rmf
from bayesbg.cosi.response import effective_area
from bayesbg.cosi.spectral import DEFAULT_AREA_SCALE, EnergyResponse, source_direction
from bayesbg.cosi.spectral.response import air_attenuation

from .conftest import RMF, needs_rmf

pytestmark = needs_rmf


def test_default_area_scale_ties_the_photo_peak_to_the_toy_511_area():
    rmf = read_classic_rmf(RMF)
    on_axis = rmf.matrix[3, 3, :, 0].mean() * DEFAULT_AREA_SCALE
    assert on_axis == pytest.approx(float(effective_area(0.0, 33.0)), rel=1e-4)


def test_effective_area_falls_with_zenith_and_vanishes_below_the_horizon(energy_response):
    zenith = np.array([3.0, 33.0, 63.0, 93.0, 150.0])
    area = energy_response.effective_area(zenith, np.zeros(5)).sum(axis=1)  # (z, true)
    peak = area[:, 3]  # 480-520 keV
    assert np.all(np.diff(peak) <= 0)
    assert peak[-1] == 0.0 and peak[0] > 20.0


def test_lower_altitude_absorbs_more(energy_response):
    high = energy_response.effective_area([30.0], [0.0], [33.0])
    low = energy_response.effective_area([30.0], [0.0], [28.0])
    ratio = low.sum(axis=1)[0] / high.sum(axis=1)[0]
    assert np.all(ratio < 1) and ratio[0] < ratio[-1]  # low energies lose most
    assert air_attenuation(511.0) == pytest.approx(0.0865, rel=0.01)


def test_exposure_sums_live_time_weighted_areas(energy_response):
    observation = simulated_observation(3, n_time=6)
    pointing = observation.pointing
    exposure = energy_response.exposure(pointing, 0.0, -60.0, n_time=6, altitude=False)
    zenith, azimuth = source_direction(pointing, 0.0, -60.0)
    by_hand = np.zeros_like(exposure)
    area = energy_response.effective_area(zenith, azimuth)
    for k in range(pointing.n_step):
        by_hand[pointing.time_bin[k]] += pointing.live_time[k] * area[k]
    np.testing.assert_allclose(exposure, by_hand)
    assert exposure.shape == (6, 10, 10)


def test_merged_measured_bands_keep_the_total(energy_response):
    merged = energy_response.merge_measured([150.0, 480.0, 5000.0])
    assert merged.n_measured == 2
    np.testing.assert_allclose(merged.area.sum(axis=0), energy_response.area.sum(axis=0))
    with pytest.raises(ValueError, match="edges"):
        energy_response.merge_measured([150.0, 400.0])


def test_bad_area_raises():
    with pytest.raises(ValueError, match="area"):
        EnergyResponse(np.ones((2, 2, 3, 3)), np.array([1.0, 2.0, 3.0]),
                       np.linspace(0, 360, 3), np.linspace(0, 180, 3))
