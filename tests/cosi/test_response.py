"""The toy Compton response: equal-area data space, cone, effective area, convolution."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from bayesbg.cosi.response import (
    compton_response,
    convolve_sky,
    effective_area,
    psi_chi_grid,
    unit_vectors,
)


def test_psi_chi_grid_is_equal_area_with_requested_size():
    centres, edges = psi_chi_grid(6.0)
    assert 1100 <= len(centres) <= 1200
    solid_angle = (np.cos(np.radians(edges[:, 0])) - np.cos(np.radians(edges[:, 1]))) \
        * np.radians(edges[:, 3] - edges[:, 2])
    assert np.allclose(solid_angle, 4 * np.pi / len(centres))
    assert 1600 <= len(psi_chi_grid(5.0)[0]) <= 1700  # the [COSI-511] 1,650-bin layout


def test_compton_response_is_a_cone_around_the_source():
    phi_edges = np.linspace(0, 180, 31)
    centres, _ = psi_chi_grid(6.0)
    source = unit_vectors([20.0], [40.0])
    response = compton_response(phi_edges, centres, source, resolution=2.5)
    column = response.toarray()[:, 0].reshape(30, len(centres))
    assert np.isclose(column.sum(), 1.0)
    directions = unit_vectors(centres[:, 0], centres[:, 1])
    angle = np.degrees(np.arccos(np.clip(directions @ source[0], -1, 1)))
    phi_centres = 0.5 * (phi_edges[:-1] + phi_edges[1:])
    j, q = np.nonzero(column > 1e-3 * column.max())
    assert np.all(np.abs(phi_centres[j] - angle[q]) < 3 + 4 * 2.5)  # events on the cone


def test_effective_area_falls_with_zenith_and_altitude():
    assert effective_area(0.0, 33.0) > effective_area(40.0, 33.0) > effective_area(70.0, 33.0)
    assert effective_area(30.0, 33.0) > 2 * effective_area(30.0, 28.0)
    assert effective_area(95.0, 33.0) == 0.0


def test_convolve_sky_accepts_dense_and_sparse_responses():
    rng = np.random.default_rng(1)
    dense = rng.uniform(size=(6, 3))
    exposure = rng.uniform(size=(3, 4))
    expected = (dense @ exposure).T
    assert np.allclose(convolve_sky(dense, exposure), expected, rtol=1e-6)
    assert np.allclose(convolve_sky(sparse.csr_array(dense), exposure), expected, rtol=1e-6)
    with pytest.raises(ValueError, match="exposure"):
        convolve_sky(dense, exposure[:2])
