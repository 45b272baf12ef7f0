"""The energy bands: the 21 logarithmic bands of the spectra, 24 of the pipeline."""

from __future__ import annotations

import numpy as np
import pytest

from bayesbg.isgri.bands import (
    BROAD_BANDS,
    CLIPPING_BAND,
    NARROW_BANDS,
    PIPELINE_BANDS,
    Band,
    narrow_band_edges,
)


def test_narrow_bands_are_the_papers_21_logarithmic_bands():
    assert len(NARROW_BANDS) == 21 and len(PIPELINE_BANDS) == 24
    assert PIPELINE_BANDS[:3] == BROAD_BANDS
    edges = np.array([b.energy_min for b in NARROW_BANDS] + [NARROW_BANDS[-1].energy_max])
    assert edges[0] == 25.0 and edges[-1] == 185.0
    np.testing.assert_allclose(edges, np.geomspace(25, 185, 22), atol=0.05)
    assert CLIPPING_BAND == Band(168.2, 185.0) and CLIPPING_BAND.name == "168.2-185"
    assert CLIPPING_BAND.column == "rate_168p2_185"
    assert Band.parse(CLIPPING_BAND.column) == CLIPPING_BAND


def test_bad_bands_and_edges_are_named():
    with pytest.raises(ValueError, match="energy_min"):
        Band(60.0, 25.0)
    with pytest.raises(ValueError, match="decimals"):
        narrow_band_edges(200, 25.0, 26.0, decimals=0)
