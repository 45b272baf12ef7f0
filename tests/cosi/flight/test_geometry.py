"""Flight-like geometry: event selection, templates repeated over days, file round trip."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from scipy import sparse

from bayesbg.cosi.flight import (
    FlightGeometry,
    FlightTemplateBuilder,
    bulge,
    load_flight_geometry,
    point_source,
    thick_disk,
    thin_disk,
)
from bayesbg.cosi.flight.sky import SkyComponent
from bayesbg.cosi.model.sky import TemplateBuilder


def test_selection_is_the_background_support(two_days, flight_inputs):
    _, _, background = flight_inputs
    support = background.band(506.0, 516.0) > 0
    np.testing.assert_array_equal(two_days.selection[0], support)
    assert support.sum() == 2458 and two_days.n_data_bin == 30 * 1145


def test_templates_repeat_the_day_inside_the_selection(two_days):
    template = two_days.template(bulge(10.0))
    assert isinstance(template, sparse.csr_array) and template.dtype == np.float32
    assert template.shape == (48, 30 * 1145)
    dense = template.toarray()
    np.testing.assert_array_equal(dense[24:], dense[:24])
    assert np.all(dense[:, ~two_days.selection[0]] == 0)
    per_hour = dense.sum(axis=1)
    # the Galactic centre is up from 00 to 10 UTC on 2016-06-28, below the horizon later
    assert per_hour[:10].min() > 0 and per_hour[14:21].max() < 0.01 * per_hour.max()
    # one day of a 1e-3 bulge: ~130 counts after the selection (~100x below background)
    assert 100 < 1e-3 * per_hour[:24].sum() < 170
    builder = two_days.template_builder()
    assert isinstance(builder, FlightTemplateBuilder) and isinstance(builder, TemplateBuilder)
    assert builder.n_time == 48 and builder.n_data_bin == two_days.n_data_bin
    np.testing.assert_allclose(builder.template(10.0, 10.0).toarray(), dense, rtol=1e-6)


def test_components():
    assert thick_disk().sigma_b == 10.5 and thin_disk().sigma_b == 3.0
    assert thin_disk().sigma_l == thick_disk().sigma_l == 60.0
    points, fraction = point_source(-10.0, -10.0).sky_points()
    assert points.shape == (1, 3) and fraction.tolist() == [1.0]
    _, fraction = bulge(5.0).sky_points()
    assert fraction.sum() == pytest.approx(1.0)
    assert bulge(5.0).with_width(8.0, 4.0).sigma_b == 4.0
    with pytest.raises(ValueError, match="kind"):
        SkyComponent("x", kind="ring")
    with pytest.raises(ValueError, match="sigma_l, sigma_b"):
        SkyComponent("x", sigma_l=0.0)


def test_geometry_file_round_trip_is_byte_identical(two_days, tmp_path):
    first = two_days.write(tmp_path / "a.nc")
    again = load_flight_geometry(first)
    second = again.write(tmp_path / "b.nc")
    assert hashlib.sha256(first.read_bytes()).digest() == \
        hashlib.sha256(second.read_bytes()).digest()
    np.testing.assert_array_equal(again.pointing.rotation, two_days.pointing.rotation)
    assert again.period == 24 and again.instrument == two_days.instrument
    with pytest.raises(FileExistsError):
        two_days.write(first)
    (tmp_path / "bad.nc").write_bytes(b"not hdf5")
    with pytest.raises(ValueError, match="bad.nc"):
        load_flight_geometry(tmp_path / "bad.nc")


def test_several_bands(flight_inputs, two_days):
    _, _, background = flight_inputs
    from bayesbg.cosi.flight import flight_background_response, flight_timeline

    orientation, tracer, _ = flight_inputs
    timeline = flight_timeline(orientation, tracer, n_time=24)
    geometry = FlightGeometry.from_timeline(timeline, background,
                                            energy_edges=(493.0, 500.0, 506.0, 516.0),
                                            substeps=4)
    assert geometry.n_energy == 3 and geometry.n_data_bin == 3 * 34350
    response = flight_background_response(background, geometry)
    assert response.sum() == pytest.approx(1.0)
    template = geometry.template(point_source(0.0, 0.0), spectrum=[0.0, 0.0, 1.0])
    per_band = np.asarray(template.sum(axis=0)).reshape(3, -1).sum(axis=1)
    assert per_band[0] == per_band[1] == 0 and per_band[2] > 0
    with pytest.raises(ValueError, match="spectrum"):
        geometry.template(point_source(0.0, 0.0))
    with pytest.raises(ValueError, match="band"):
        geometry.band_template(point_source(0.0, 0.0), 3)
    assert geometry.band_energy(0) == 496.5
