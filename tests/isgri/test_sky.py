"""Sky geometry and regions."""

from __future__ import annotations

import numpy as np
import pytest

from bayesbg.isgri.sky import (
    CRAB_LB,
    SkyRegion,
    angular_distance,
    is_background_sky,
    longitude_bins,
    wrap_longitude,
)


def test_regions_wrap_around_longitude_180():
    region = SkyRegion("anticentre", 180.0, 0.0, 20.0, 10.0)
    assert region.contains([175.0, -175.0, 160.0], [0.0, 0.0, 0.0]).tolist() == [True, True, False]
    bins = longitude_bins()
    assert len(bins) == 11 and bins[5].l_center == 0.0
    with pytest.raises(ValueError, match="width"):
        SkyRegion("x", 0, 0, 0, 1)


def test_longitudes_wrap_and_the_bkg_sky_is_high_latitude_or_outer_plane():
    np.testing.assert_allclose(wrap_longitude([180.0, 359.0, -181.0]), [-180.0, -1.0, 179.0])
    assert angular_distance(*CRAB_LB, *CRAB_LB) == pytest.approx(0.0, abs=1e-9)
    assert angular_distance(0.0, 0.0, 90.0, 0.0) == pytest.approx(90.0)
    assert is_background_sky([0.0, 100.0, 0.0], [0.0, 0.0, 40.0]).tolist() == [
        False, True, True]
