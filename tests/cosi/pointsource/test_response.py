"""Point-source response on cosipy's test files: dwell-time map, PsiChi frames."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.time import Time

from bayesbg.cosi.io.histpy_files import read_detector_response
from bayesbg.cosi.io.orientation import Orientation, read_ori
from bayesbg.cosi.io.sample_data import sample_data_dir
from bayesbg.cosi.pointsource.response import dwell_time_map, point_source_response

DATA_DIR = sample_data_dir() / "cosipy-test"
pytestmark = pytest.mark.skipif(not (DATA_DIR / "test_spectral_fit_data.h5").is_file(),
                                reason=f"cosipy test files not found in {DATA_DIR}")


def test_dwell_time_map_known_values() -> None:
    orientation = read_ori(DATA_DIR / "20280301_2s.ori")
    dwell = dwell_time_map(orientation, 50.0, -45.0, nside=1)
    assert dwell.sum() == pytest.approx(2.0)
    np.testing.assert_allclose(dwell[:4], [0.25276933, 0.64357206, 0.85088928, 0.25276933],
                               atol=1e-7)
    assert np.all(dwell[4:] == 0)


def test_dwell_time_at_a_pixel_centre_is_all_in_that_pixel() -> None:
    # instrument axes = Galactic axes; ring pixels 4 and 1 of nside 1 are centred at
    # (0, 0) and (135, 41.81) deg
    orientation = Orientation(Time([0.0, 10.0], format="unix"), np.zeros(2), np.zeros(2),
                              np.full(2, 90.0), np.zeros(2))
    for pixel, (lon, lat) in [(4, (0.0, 0.0)), (1, (135.0, 41.8103149))]:
        dwell = dwell_time_map(orientation, lon, lat, nside=1)
        assert dwell[pixel] == pytest.approx(10.0, rel=1e-6)
        assert dwell.sum() == pytest.approx(10.0)


def test_galactic_psichi_equals_local_for_the_identity_attitude() -> None:
    response = read_detector_response(DATA_DIR / "test_full_detector_response.h5")
    orientation = Orientation(Time([0.0, 1.0, 3.0], format="unix"), np.zeros(3),
                              np.zeros(3), np.full(3, 90.0), np.zeros(3))
    local = point_source_response(response, orientation, 120.0, 30.0)
    galactic = point_source_response(response, orientation, 120.0, 30.0, coordsys="galactic")
    np.testing.assert_allclose(galactic.exposure, local.exposure, rtol=1e-12)
    assert local.duration == pytest.approx(3.0)
