"""Modified Richardson-Lucy imaging of simulated COSI data (bayesbg.cosi.imaging)."""

from __future__ import annotations

import astropy_healpix as ahp
import numpy as np
import pytest
from scipy import optimize

from bayesbg.cosi import InstrumentSettings, simulate_cosi
from bayesbg.cosi.imaging import (
    DeconvolutionSettings,
    build_imaging_response,
    choose_iteration,
    classic_settings,
    gaussian_kernel,
    pixel_vectors,
    region_flux,
    richardson_lucy,
)
from bayesbg.cosi.imaging.products import pixel_lonlat
from bayesbg.cosi.imaging.steps import StepProblem, maximize_step
from bayesbg.cosi.model import build_background_model, equidistant_blocks, gaussian_sky
from bayesbg.cosi.pointing import balloon_pointing
from bayesbg.cosi.response import unit_vectors

INSTRUMENT = InstrumentSettings(instrument_nside=8)
COARSE = InstrumentSettings(instrument_nside=8, sky_nside=8)

CRAB = (184.56, -5.78)  # Galactic (l, b), deg
CRAB_FLUX = 4.5e-3  # ph cm-2 s-1, [COSI-PS] 325-480 keV


@pytest.fixture(scope="module")
def crab():
    """48 h, 12 phi x 184 psi-chi bins, the Crab at its [COSI-PS] flux; nside 8 image."""
    dataset, truth = simulate_cosi(3, n_time=48, bin_size=15.0, instrument=INSTRUMENT,
                                   sky="point", flux=CRAB_FLUX, source_lon=CRAB[0],
                                   source_lat=CRAB[1], n_change_points=1)
    response = build_imaging_response(dataset, balloon_pointing(3, n_time=48), nside=8,
                                      instrument=INSTRUMENT)
    background = build_background_model(dataset, blocks=equidistant_blocks(48, 4),
                                        tracer="photo_event_rate")
    settings = DeconvolutionSettings(iterations=25, smoothing_fwhm=15.0,
                                     background_perturbation=0.05, show_progress=False)
    modified = richardson_lucy(dataset, response, background, settings=settings)
    classic = richardson_lucy(dataset, response, background,
                              settings=classic_settings(30, settings))
    return dataset, truth, response, modified, classic


def test_forward_projection_reproduces_the_simulated_template():
    dataset, _ = simulate_cosi(5, n_time=12, bin_size=15.0, instrument=COARSE,
                               sigma=10.0, n_change_points=0)
    response = build_imaging_response(dataset, balloon_pointing(5, n_time=12), nside=8,
                                      instrument=INSTRUMENT)
    vectors, fraction = gaussian_sky(sigma_l=10.0, sigma_b=10.0, nside=8)
    pixel = np.argmax(vectors @ pixel_vectors(8).T, axis=1)
    image = np.bincount(pixel, weights=1e-3 * fraction, minlength=768)
    template = 1e-3 * np.asarray(dataset.templates["bulge"], dtype=np.float64)
    expected = template[dataset.counts.row, dataset.counts.col]
    assert np.allclose(response.forward(image), expected, rtol=1e-5, atol=1e-9 * expected.max())
    assert np.isclose(response.sensitivity @ image, template.sum(), rtol=1e-5)


def test_matrix_free_sparse_and_dense_responses_agree_and_are_adjoint(crab):
    _, _, response, _, _ = crab
    rng = np.random.default_rng(1)
    image = rng.uniform(0, 1e-4, response.n_pixel)
    weights = rng.uniform(size=response.time_index.size)
    as_sparse = response.to_matrix()
    assert as_sparse.matrix.nnz >= 1_000_000  # acceptance: a >= 1e6 non-zero response
    forward = response.forward(image)
    back = response.back(weights)
    assert np.allclose(as_sparse.forward(image), forward)
    assert np.allclose(as_sparse.back(weights), back)
    assert np.isclose(forward @ weights, image @ back)  # <R M, w> = <M, R^T w>
    dense = type(as_sparse)(matrix=as_sparse.matrix[:2000].toarray(),
                            sensitivity=as_sparse.sensitivity)
    assert np.allclose(dense.forward(image), forward[:2000])


def test_gaussian_kernel_preserves_flux_and_has_the_requested_width():
    kernel = gaussian_kernel(16, 20.0)
    assert np.allclose(kernel.sum(axis=1), 1.0)
    vectors = pixel_vectors(16)
    centre = int(np.argmax(vectors[:, 0]))  # the pixel nearest (l, b) = (0, 0)
    row = kernel[[centre]].toarray().ravel()
    angle = np.degrees(np.arccos(np.clip(vectors @ vectors[centre], -1, 1)))
    sigma = np.sqrt(0.5 * row @ angle**2)  # 2D Gaussian: <theta^2> = 2 sigma^2
    assert sigma == pytest.approx(20.0 / 2.3548, rel=0.1)
    with pytest.raises(ValueError, match="fwhm"):
        gaussian_kernel(8, -1.0)


def test_step_fit_matches_a_direct_maximisation():
    rng = np.random.default_rng(4)
    n = 4000
    background = rng.uniform(0.5, 2.0, n)
    block = rng.integers(0, 3, n)
    direction = rng.uniform(0.0, 0.3, n)
    sky = np.full(n, 0.05)
    counts = rng.poisson(sky + 2.5 * direction + np.array([0.9, 1.0, 1.1])[block]
                         * background).astype(float)
    problem = StepProblem(counts=counts, sky=sky, direction=direction, background=background,
                          block=block, block_total=np.bincount(block, weights=background),
                          sky_total=sky.sum(), direction_total=direction.sum())
    step, amplitude, gain = maximize_step(problem, step=0.0, amplitude=np.ones(3))
    assert gain > 0
    # at an interior maximum of a concave function the gradient vanishes
    m = problem.expected(step, amplitude)
    assert abs(counts / m @ direction - direction.sum()) < 1e-4 * direction.sum()
    direct = optimize.minimize(lambda x: -problem.log_likelihood(x[0], x[1:]),
                               np.array([1.0, 1.0, 1.0, 1.0]), method="L-BFGS-B",
                               bounds=[(0, None)] * 4, options={"ftol": 1e-14})
    assert -direct.fun <= problem.log_likelihood(step, amplitude) + 1e-6
    assert step == pytest.approx(direct.x[0], rel=1e-3)
    assert amplitude == pytest.approx(direct.x[1:], rel=1e-3)
    assert step == pytest.approx(2.5, rel=0.3)  # and near the truth
    bounded, _, _ = maximize_step(problem, step=0.0, amplitude=np.ones(3), max_step=1.0)
    assert bounded == pytest.approx(1.0)


def test_choose_iteration_finds_the_knee_of_a_saturating_curve():
    k = np.arange(41)
    ts = 500 * (1 - np.exp(-k / 3.0)) + 2.0 * k
    choice = choose_iteration(ts)
    assert 4 <= choice.iteration <= 12
    assert choice.iteration == min(choice.curvature_maxima)
    s_curve = 1000 / (1 + np.exp(-(np.log(np.maximum(k, 1)) - 2.0) * 4))
    assert choose_iteration(s_curve).inflection_points  # an S-shaped curve has one


def test_crab_brightest_pixel_and_region_flux_at_the_chosen_iteration(crab):
    _, _, _, result, _ = crab
    choice = choose_iteration(result.ts)
    image = result.images[choice.iteration]
    true_pixel = int(np.argmax(pixel_vectors(8) @ unit_vectors([90 - CRAB[1]], [CRAB[0]])[0]))
    allowed = {true_pixel, *ahp.neighbours(true_pixel, 8, order="ring").tolist()}
    assert int(np.argmax(image)) in allowed
    region = region_flux(image, 8)
    assert region.flux == pytest.approx(CRAB_FLUX, rel=0.3)
    assert len(region.pixels) == 9
    disk = region_flux(image, 8, centre=CRAB, radius=15.0)
    assert disk.flux >= region_flux(image, 8, centre=CRAB).flux * 0.9
    assert disk.description.startswith("disk of 15 deg")


def test_log_likelihood_never_decreases(crab):
    _, _, _, modified, classic = crab
    for result in (modified, classic):
        steps = np.diff(result.log_likelihood)
        assert np.all(steps >= -1e-9 * np.abs(result.log_likelihood[1:]))
    assert np.all(modified.acceleration[1:] >= 0)
    assert np.all(modified.images >= 0)


def test_accelerated_refitting_reaches_the_classic_ts_in_far_fewer_iterations(crab):
    _, _, _, modified, classic = crab
    reached = modified.iterations_to_reach(classic.ts[-1])
    assert reached is not None and reached <= classic.n_iter // 3
    # the background amplitudes move: the sky takes counts the background-only fit gave them
    assert not np.allclose(modified.background_amplitude[-1], modified.background_amplitude[0])


def test_bulge_is_centred_on_the_galactic_centre_and_approaches_its_width():
    dataset, _ = simulate_cosi(11, n_time=48, bin_size=15.0, instrument=INSTRUMENT, sky="bulge",
                               flux=1e-3, sigma=10.0, n_change_points=1)
    response = build_imaging_response(dataset, balloon_pointing(11, n_time=48), nside=16,
                                      instrument=INSTRUMENT)
    background = build_background_model(dataset, blocks=equidistant_blocks(48, 4),
                                        tracer="photo_event_rate")
    result = richardson_lucy(dataset, response, background, settings=DeconvolutionSettings(
        iterations=30, smoothing_fwhm=10.0, background_perturbation=0.05,
        show_progress=False))
    lon, lat = pixel_lonlat(16)
    lon = (lon + 180.0) % 360.0 - 180.0
    near = np.hypot(lon, lat) < 45.0
    resolution = np.degrees(np.sqrt(4 * np.pi / lon.size))  # pixel size, 3.7 deg

    def centre_and_width(k: int) -> tuple[float, float, float]:
        weight = result.images[k] * near
        weight = weight / weight.sum()
        l0, b0 = weight @ lon, weight @ lat
        width = np.sqrt(0.5 * weight @ ((lon - l0) ** 2 + (lat - b0) ** 2))
        return l0, b0, width

    chosen = choose_iteration(result.ts).iteration
    l0, b0, width = centre_and_width(chosen)
    assert np.hypot(l0, b0) < resolution
    errors = [abs(centre_and_width(k)[2] - 10.0) for k in (1, chosen, result.n_iter)]
    # The width converges on the injected 10 deg, from above: a flat start makes the first
    # images as broad as the back-projection (docs/imaging.md).
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 0.35 * 10.0
    # What grows with the iterations is the flux of the central region, towards the
    # injected 1e-3 (1 - e^-2) inside 20 deg ([COSI-511]: the central component first).
    disk = np.hypot(lon, lat) < 20.0
    disk_flux = np.array([image[disk].sum() for image in result.images[1:]])
    assert np.all(np.diff(disk_flux) > -1e-3 * disk_flux[-1])
    assert disk_flux[0] < 0.1 * disk_flux[-1]
    assert disk_flux[-1] == pytest.approx(1e-3 * (1 - np.exp(-2.0)), rel=0.15)


def test_settings_and_inputs_are_validated(crab):
    dataset, _, response, _, _ = crab
    with pytest.raises(ValueError, match="background_perturbation"):
        DeconvolutionSettings(background_perturbation=0.5)
    with pytest.raises(ValueError, match="smoothing_target"):
        DeconvolutionSettings(smoothing_target="image")
    with pytest.raises(ValueError, match="image"):
        response.forward(np.zeros(5))
    small, _ = simulate_cosi(1, n_time=12, bin_size=15.0, instrument=INSTRUMENT,
                             n_change_points=0)
    with pytest.raises(ValueError, match="response"):
        richardson_lucy(small, response, build_background_model(
            small, blocks=equidistant_blocks(12, 2), tracer="photo_event_rate"))
    with pytest.raises(ValueError, match="background"):
        richardson_lucy(dataset, response, build_background_model(
            small, blocks=equidistant_blocks(12, 2), tracer="photo_event_rate"))


def test_a_selection_cuts_the_response_and_its_sensitivity():
    dataset, _ = simulate_cosi(5, n_time=12, bin_size=15.0, instrument=COARSE,
                               sigma=10.0, n_change_points=0)
    pointing = balloon_pointing(5, n_time=12)
    full = build_imaging_response(dataset, pointing, nside=8, instrument=INSTRUMENT)
    keep = np.zeros(dataset.n_data_bin, dtype=bool)
    keep[: dataset.n_data_bin // 2] = True  # the first half of the phi bins
    cut = build_imaging_response(dataset, pointing, nside=8, instrument=INSTRUMENT,
                                 selection=keep)
    assert np.all(cut.sensitivity <= full.sensitivity + 1e-9)
    assert 0.1 < cut.sensitivity.sum() / full.sensitivity.sum() < 0.99
    image = np.full(768, 1e-6)
    inside = keep[dataset.counts.col]
    np.testing.assert_allclose(cut.forward(image)[inside], full.forward(image)[inside])
    assert np.all(cut.forward(image)[~inside] == 0)
    with pytest.raises(ValueError, match="selection"):
        build_imaging_response(dataset, pointing, nside=8, instrument=INSTRUMENT,
                               selection=keep[:10])
