"""Sky templates: the builder reproduces the simulator's template bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from bayesbg.cosi import InstrumentSettings, simulate_cosi
from bayesbg.cosi.model import TemplateBuilder, gaussian_sky, point_source_sky, template_dataset

SMALL = InstrumentSettings(instrument_nside=4, sky_nside=16)


def test_sky_models_are_unit_flux_point_sets():
    points, fraction = gaussian_sky(sigma_l=10.0, sigma_b=5.0, nside=16)
    assert np.isclose(fraction.sum(), 1.0) and np.allclose(np.linalg.norm(points, axis=1), 1.0)
    lon = np.degrees(np.arctan2(points[:, 1], points[:, 0]))
    lat = np.degrees(np.arcsin(points[:, 2]))
    assert abs(np.sum(fraction * lon)) < 0.5 and abs(np.sum(fraction * lat)) < 0.5
    assert np.sqrt(np.sum(fraction * lon**2)) > 1.5 * np.sqrt(np.sum(fraction * lat**2))
    point, one = point_source_sky(184.56, -5.78)
    assert point.shape == (1, 3) and one.tolist() == [1.0]


def test_builder_reproduces_the_simulated_template():
    dataset, _ = simulate_cosi(5, n_time=24, bin_size=20.0, instrument=SMALL, sigma=8.0)
    builder = TemplateBuilder.simulated(5, n_time=24, bin_size=20.0, instrument=SMALL)
    np.testing.assert_array_equal(builder.template(8.0, 8.0), dataset.templates["bulge"])
    wider = template_dataset(dataset, builder, 12.0, 4.0)
    assert not np.array_equal(wider.templates["bulge"], dataset.templates["bulge"])
    other = TemplateBuilder.simulated(5, n_time=12, bin_size=20.0, instrument=SMALL)
    with pytest.raises(ValueError, match="builder"):
        template_dataset(dataset, other, 8.0, 8.0)
