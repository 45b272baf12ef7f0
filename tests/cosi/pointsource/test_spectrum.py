"""The Band spectrum: continuity, peak of E^2 f(E), bin integrals by Simpson in ln E."""

from __future__ import annotations

import numpy as np
import pytest

from bayesbg.cosi.pointsource.spectrum import band, band_bin_integrals, band_bin_integrals_quad

ENERGY_EDGES = [150, 220, 325, 480, 520, 765, 1120, 1650, 2350, 3450, 5000]


def test_band_function_and_bin_integrals() -> None:
    # continuity at the break and the E^2 f(E) peak at xp
    alpha, beta, xp = -1.1, -2.3, 450.0
    e_break = (alpha - beta) * xp / (2 + alpha)
    below, above = band([e_break * (1 - 1e-9), e_break * (1 + 1e-9)], 1.0, alpha, beta, xp,
                        500.0)
    assert below == pytest.approx(above, rel=1e-6)
    grid = np.geomspace(100, 2000, 20001)
    assert grid[np.argmax(grid**2 * band(grid, 1.0, alpha, beta, xp))] == pytest.approx(xp,
                                                                                    rel=1e-3)
    assert band(500.0, 2.0, alpha, beta, xp, 500.0) == pytest.approx(2.0 * np.exp(-500 / 500))
    for shape in [(-1.1, -2.3, 450.0), (2.6, -2.9, 18.2), (-1.9, -4.9, 10.0), (2.9, -2.01, 9e3)]:
        simpson = band_bin_integrals(ENERGY_EDGES, 1.0, *shape, 500.0, n_sub=32)
        reference = band_bin_integrals_quad(ENERGY_EDGES, 1.0, *shape, 500.0)
        np.testing.assert_allclose(simpson, reference, rtol=1e-6)
    with pytest.raises(ValueError, match="alpha > -2"):
        band(100.0, 1.0, -2.5, -3.0, 300.0)
