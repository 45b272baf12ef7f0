"""Morrison & McCammon (1983) photoelectric absorption."""

from __future__ import annotations

import numpy as np
import pytest

from bayesbg.spectra.absorption import MM83_EDGES, absorption_factor, mm83_cross_section


def test_cross_section_at_known_energies():
    # Table 2 of Morrison & McCammon: (c0 + c1 E + c2 E^2) / E^3 x 1e-24 cm2
    assert mm83_cross_section(1.0) == pytest.approx((120.6 + 169.3 - 47.7) * 1e-2)
    assert mm83_cross_section(3.0) == pytest.approx((342.7 + 18.7 * 3) / 27 * 1e-2)
    assert mm83_cross_section(20.0) == pytest.approx((701.2 + 25.2 * 20) / 8000 * 1e-2)


def test_cross_section_falls_between_edges_and_jumps_up_at_them():
    for lo, hi in zip(MM83_EDGES[:-1], MM83_EDGES[1:], strict=True):
        energy = np.geomspace(lo * 1.001, hi * 0.999, 20)
        assert np.all(np.diff(mm83_cross_section(energy)) < 0), (lo, hi)
    for edge in MM83_EDGES[2:-1]:  # absorption edges: the cross-section rises across them
        assert mm83_cross_section(edge * 1.0001) > mm83_cross_section(edge * 0.9999), edge


def test_absorption_of_the_crab_column():
    assert absorption_factor(3.0, 0.3) == pytest.approx(0.95666, abs=1e-5)
    assert absorption_factor(79.0, 0.3) > 0.9999
    assert absorption_factor(3.0, 0.0) == 1.0


@pytest.mark.parametrize("bad", [0.0, -1.0, np.nan])
def test_bad_energy_raises(bad):
    with pytest.raises(ValueError, match="energy"):
        mm83_cross_section([1.0, bad])


def test_negative_column_raises():
    with pytest.raises(ValueError, match="nh"):
        absorption_factor(1.0, -0.1)
