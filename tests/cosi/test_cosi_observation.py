"""One instrument description (BalloonObservation) for simulator, template scan and imaging;
real pointing from a MEGAlib .ori file."""

from __future__ import annotations

import numpy as np
import pytest

from bayesbg.cosi import simulate_cosi
from bayesbg.cosi.imaging import Pointing, balloon_pointing, build_imaging_response, pixel_vectors
from bayesbg.cosi.io.orientation import lonlat_to_vectors, read_ori
from bayesbg.cosi.io.sample_data import sample_data_dir
from bayesbg.cosi.response import convolve_sky, effective_area
from bayesbg.cosi.scan_template import TemplateBuilder
from bayesbg.cosi.simulate import BalloonObservation, gaussian_sky, simulated_observation

ORI = sample_data_dir() / "classic-2016" / "OP_160628_FullDay.ori"
needs_ori = pytest.mark.skipif(not ORI.is_file(), reason=f"{ORI} not available")


def test_simulated_observation_is_the_simulators_instrument():
    dataset, truth = simulate_cosi(4, n_time=12, bin_size=20.0, instrument_nside=4,
                                   n_change_points=0)
    observation = truth["observation"]
    again = simulated_observation(4, n_time=12, bin_size=20.0, instrument_nside=4)
    assert isinstance(observation, BalloonObservation)
    assert np.array_equal(again.rotation, observation.rotation)
    assert np.array_equal(again.altitude, observation.altitude)
    assert np.allclose(dataset.altitude, again.altitude.reshape(12, 4).mean(axis=1))
    # the same code path: the template is reproduced bit for bit
    points, fraction = gaussian_sky(sigma_l=10.0, sigma_b=10.0)
    template = convolve_sky(again.detector_response(), again.exposure(points, fraction))
    assert np.array_equal(template, dataset.templates["bulge"])
    builder = TemplateBuilder.simulated(4, n_time=12, bin_size=20.0, instrument_nside=4)
    assert np.array_equal(builder.template(10.0, 10.0), dataset.templates["bulge"])
    pointing = balloon_pointing(12, 4)
    assert np.array_equal(pointing.rotation, again.rotation)
    assert np.array_equal(pointing.live_time, again.live_time)
    with pytest.raises(TypeError, match="seed"):
        simulated_observation(np.random.default_rng(4), n_time=12)
    with pytest.raises(ValueError, match="time_bin"):
        BalloonObservation(rotation=again.rotation, altitude=again.altitude,
                           live_time=again.live_time, time_bin=again.time_bin, n_time=6)


def test_pixel_exposure_is_the_exposure_of_each_pixel():
    observation = simulated_observation(2, n_time=6, instrument_nside=4)
    vectors = pixel_vectors(4)
    flux = np.random.default_rng(0).uniform(size=len(vectors))
    per_pixel = observation.pixel_exposure(vectors, chunk=5)
    summed = np.asarray(per_pixel @ flux).reshape(-1, 6)
    assert np.allclose(summed, observation.exposure(vectors, flux), rtol=1e-12)


@pytest.fixture(scope="module")
def orientation():
    return read_ori(ORI)


@needs_ori
def test_pointing_from_orientation_averages_the_rows_over_each_time_bin(orientation):
    seconds = orientation.seconds
    edges = seconds[0] + 600.0 + 3600.0 * np.arange(7)
    pointing = Pointing.from_orientation(orientation, edges, altitude=33.0)
    assert pointing.n_time == 6
    assert np.allclose(np.bincount(pointing.time_bin, pointing.live_time), 3600.0)
    assert np.allclose(pointing.altitude, 33.0)
    lon, lat = pointing.zenith_lonlat()
    zenith = lonlat_to_vectors(lon, lat)
    rows = lonlat_to_vectors(orientation.z_lon, orientation.z_lat)
    for k in range(6):
        # dwell-time weighted: each row holds until the next one, sampled every second
        t = np.arange(edges[k], edges[k + 1]) + 0.5
        held = rows[np.searchsorted(seconds, t, side="right") - 1].mean(axis=0)
        held /= np.linalg.norm(held)
        assert np.degrees(np.arccos(min(1.0, held @ zenith[k]))) < 0.01
        # and close to the plain mean of the rows in the bin (about 12 s apart)
        inside = rows[(seconds >= edges[k]) & (seconds < edges[k + 1])].mean(axis=0)
        inside /= np.linalg.norm(inside)
        assert np.degrees(np.arccos(min(1.0, inside @ zenith[k]))) < 1.0
    coarse = Pointing.from_orientation(orientation, edges, altitude=33.0, substeps=4)
    assert coarse.n_step == 24
    assert np.allclose(coarse.zenith_lonlat()[1], lat, atol=1e-3)
    # the last bin runs past the end of the file: only covered time counts
    late = Pointing.from_orientation(orientation, seconds[-1] - 1800.0 + 3600.0 * np.arange(2),
                                     altitude=33.0)
    assert late.live_time.sum() == pytest.approx(1800.0)
    with pytest.raises(ValueError, match="altitude"):
        Pointing.from_orientation(orientation, edges)
    with pytest.raises(ValueError, match="overlap"):
        Pointing.from_orientation(orientation, np.arange(7) * 3600.0, altitude=33.0)


@needs_ori
def test_real_pointing_images_and_builds_templates(orientation):
    dataset, _ = simulate_cosi(6, n_time=6, bin_size=20.0, instrument_nside=8, sky_nside=8,
                               n_change_points=0)
    start = orientation.seconds[0] + 600.0  # the simulated edges count from 0
    pointing = Pointing.from_orientation(orientation, dataset.time_edges, altitude=33.0,
                                         time_offset=start)
    response = build_imaging_response(dataset, pointing, nside=8, instrument_nside=8)
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
    builder = TemplateBuilder.for_dataset(dataset, pointing, instrument_nside=8, sky_nside=8)
    template = builder.template(10.0, 10.0).astype(np.float64)
    points, fraction = gaussian_sky(sigma_l=10.0, sigma_b=10.0, nside=8)
    gaussian = np.bincount(np.argmax(points @ vectors.T, axis=1), weights=fraction,
                           minlength=vectors.shape[0])
    expected_counts = template[dataset.counts.row, dataset.counts.col]
    assert np.allclose(response.forward(gaussian), expected_counts, rtol=1e-5,
                       atol=1e-9 * expected_counts.max())


@needs_ori
def test_deconvolve_config_takes_an_orientation_file(tmp_path, orientation):
    from bayesbg.cosi.imaging import DeconvolveConfig, run_deconvolve_config

    dataset, _ = simulate_cosi(8, n_time=6, bin_size=20.0, instrument_nside=8, sky="point",
                               flux=4.5e-3, source_lon=330.0, source_lat=30.0,
                               n_change_points=0)
    dataset.write(tmp_path / "sim.nc")
    text = f"""
[data]
dataset = "sim.nc"
[pointing]
orientation = "{ORI}"
altitude = 33.0
time_offset = {float(orientation.seconds[0]) + 600.0!r}
[response]
nside = 8
instrument_nside = 8
[background]
scheme = "equidistant"
n_blocks = 2
[deconvolution]
iterations = 3
"""
    config = DeconvolveConfig.from_toml(text, base=tmp_path)
    assert config.orientation_file == ORI and config.substeps is None
    assert config.to_dict()["pointing"]["altitude"] == 33.0
    run = run_deconvolve_config(config, run_dir=tmp_path / "run")
    assert np.all(np.isfinite(run.result.images[-1])) and run.result.images[-1].sum() > 0
    with pytest.raises(ValueError, match="exactly one"):
        DeconvolveConfig.from_toml(text.replace("[pointing]", "[pointing]\nballoon_seed = 8"),
                                   base=tmp_path)
