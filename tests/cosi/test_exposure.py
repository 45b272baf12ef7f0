"""One instrument and exposure model (BalloonObservation) for simulator, templates and
imaging, on simulated and real pointing."""

from __future__ import annotations

import numpy as np
import pytest

from bayesbg.cosi import simulate_cosi
from bayesbg.cosi.exposure import BalloonObservation, InstrumentSettings, simulated_observation
from bayesbg.cosi.imaging import build_imaging_response, pixel_vectors
from bayesbg.cosi.io.orientation import lonlat_to_vectors, read_ori
from bayesbg.cosi.io.sample_data import sample_data_dir
from bayesbg.cosi.model import TemplateBuilder, gaussian_sky
from bayesbg.cosi.pointing import Pointing, balloon_pointing
from bayesbg.cosi.response import convolve_sky, effective_area

ORI = sample_data_dir() / "classic-2016" / "OP_160628_FullDay.ori"
needs_ori = pytest.mark.skipif(not ORI.is_file(), reason=f"{ORI} not available")
SMALL = InstrumentSettings(instrument_nside=4)


def test_simulated_observation_is_the_simulators_instrument():
    dataset, truth = simulate_cosi(4, n_time=12, bin_size=20.0, instrument=SMALL,
                                   n_change_points=0)
    observation = truth["observation"]
    again = simulated_observation(4, n_time=12, bin_size=20.0, instrument=SMALL)
    assert isinstance(observation, BalloonObservation)
    assert np.array_equal(again.pointing.rotation, observation.pointing.rotation)
    assert np.array_equal(again.pointing.altitude, observation.pointing.altitude)
    assert np.allclose(dataset.altitude, again.pointing.altitude.reshape(12, 4).mean(axis=1))
    # the same code path: the template is reproduced bit for bit
    points, fraction = gaussian_sky(sigma_l=10.0, sigma_b=10.0)
    template = convolve_sky(again.detector_response(), again.exposure(points, fraction))
    assert np.array_equal(template, dataset.templates["bulge"])
    builder = TemplateBuilder.simulated(4, n_time=12, bin_size=20.0, instrument=SMALL)
    assert np.array_equal(builder.template(10.0, 10.0), dataset.templates["bulge"])
    pointing = balloon_pointing(4, n_time=12)
    assert np.array_equal(pointing.rotation, again.pointing.rotation)
    assert np.array_equal(pointing.live_time, again.pointing.live_time)
    with pytest.raises(TypeError, match="seed"):
        simulated_observation(np.random.default_rng(4), n_time=12)
    with pytest.raises(ValueError, match="time_bin"):
        BalloonObservation(again.pointing, n_time=6)
    with pytest.raises(TypeError, match="pointing"):
        BalloonObservation(again, n_time=12)


def test_instrument_settings_validate_once_for_every_user():
    assert InstrumentSettings() == InstrumentSettings(instrument_nside=16, sky_nside=32,
                                                      resolution=2.5, area=50.0, substeps=4)
    assert InstrumentSettings().to_dict()["area"] == 50.0
    for field, value, match in (("instrument_nside", 12, "power of 2"),
                                ("sky_nside", 0, "sky_nside"), ("substeps", 1.5, "substeps"),
                                ("resolution", -1.0, "resolution"), ("area", np.inf, "area")):
        with pytest.raises(ValueError, match=match):
            InstrumentSettings(**{field: value})


def test_pixel_exposure_is_the_exposure_of_each_pixel():
    observation = simulated_observation(2, n_time=6, instrument=SMALL)
    vectors = pixel_vectors(4)
    flux = np.random.default_rng(0).uniform(size=len(vectors))
    per_pixel = observation.pixel_exposure(vectors, chunk=5)
    summed = np.asarray(per_pixel @ flux).reshape(-1, 6)
    assert np.allclose(summed, observation.exposure(vectors, flux), rtol=1e-12)


@pytest.fixture(scope="module")
def orientation():
    return read_ori(ORI)


@needs_ori
def test_real_pointing_images_and_builds_templates(orientation):
    instrument = InstrumentSettings(instrument_nside=8, sky_nside=8)
    dataset, _ = simulate_cosi(6, n_time=6, bin_size=20.0, instrument=instrument,
                               n_change_points=0)
    start = orientation.seconds[0] + 600.0  # the simulated edges count from 0
    pointing = Pointing.from_orientation(orientation, dataset.time_edges, altitude=33.0,
                                         time_offset=start)
    response = build_imaging_response(dataset, pointing, nside=8, instrument=instrument)
    # a point source near the mean zenith: its sensitivity is the effective area
    # integrated over the orientation rows (the detector keeps every photon)
    vectors = pixel_vectors(8)
    pixel = int(np.argmax(vectors @ lonlat_to_vectors(330.0, 30.0)))
    lon = np.degrees(np.arctan2(vectors[pixel, 1], vectors[pixel, 0]))
    lat = np.degrees(np.arcsin(vectors[pixel, 2]))
    seconds = orientation.seconds
    cuts = np.clip(seconds, start, start + 6 * 3600.0)
    dwell = np.diff(cuts)
    theta, _ = orientation.to_local(lon, lat)
    expected = np.sum(effective_area(theta[:-1], 33.0) * dwell)
    assert response.sensitivity[pixel] == pytest.approx(expected, rel=1e-9)
    image = np.zeros(response.n_pixel)
    image[pixel] = 1e-3
    counts = response.forward(image)
    assert np.all(np.isfinite(counts)) and counts.sum() > 0
    # templates on real pointing agree with the imaging response's forward projection
    builder = TemplateBuilder.for_dataset(dataset, pointing, instrument=instrument)
    template = builder.template(10.0, 10.0).astype(np.float64)
    points, fraction = gaussian_sky(sigma_l=10.0, sigma_b=10.0, nside=8)
    gaussian = np.bincount(np.argmax(points @ vectors.T, axis=1), weights=fraction,
                           minlength=vectors.shape[0])
    expected_counts = template[dataset.counts.row, dataset.counts.col]
    assert np.allclose(response.forward(gaussian), expected_counts, rtol=1e-5,
                       atol=1e-9 * expected_counts.max())
