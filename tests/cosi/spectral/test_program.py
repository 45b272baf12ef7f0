"""``cosi_spectral_fit.stan``: the fused segment pass equals the plain Stan expression
(density and gradient, threaded or not), the numpy twins, and recovers known spectra."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from bayesbg.config import SamplerConfig
from bayesbg.cosi.spectral import (
    ForwardFoldProblem,
    InstrumentData,
    PhotonSpectrum,
    ShapePrior,
    band_flux_dataset,
    fit_band_fluxes,
    fit_forward_folded,
    forward_fold_model,
    maximum_likelihood_forward_folded,
)
from bayesbg.cosi.spectral.fit import laplace_inverse_metric, shapes_on_bound
from bayesbg.cosi.spectral.program import amplitude_log_scale
from bayesbg.cosi.spectral.reference import reference_instrument
from bayesbg.stan import SamplerWarning, laplace

from .conftest import FLUX, TRUTH, needs_rmf

pytestmark = [pytest.mark.stan, needs_rmf]
SHORT = SamplerConfig(chains=2, iter_warmup=300, iter_sampling=300)


def _points(problem: ForwardFoldProblem, n: int = 3) -> list[dict]:
    rng = np.random.default_rng(7)
    out = []
    for _ in range(n):
        point = problem.initial_values(photon_flux=FLUX, shape=TRUTH, rng=rng, jitter=0.05)
        out.append(point)
    return out


def _instruments(seed: int = 5) -> list[InstrumentData]:
    spectrum = PhotonSpectrum("cutoffpl", nh=0.3)
    rng = np.random.default_rng(seed)
    out = []
    for name, norm, exposure in (("NuSTAR FPMA", 1.0, 2e3), ("NuSTAR FPMB", 0.97, 2e3)):
        toy = reference_instrument("NuSTAR")
        spec = toy.simulate(rng, lambda e: spectrum.bin_flux(e, FLUX, TRUTH),
                            exposure=exposure, cross_norm=norm, name=name)
        out.append(InstrumentData.from_ogip(spec, energy_min=3.0))
    bat = reference_instrument("Swift-BAT").simulate(
        rng, lambda e: spectrum.bin_flux(e, FLUX, TRUTH), exposure=2e6, cross_norm=1.2)
    out.append(InstrumentData.from_ogip(bat))
    return out


@pytest.fixture(scope="module")
def joint(toy) -> ForwardFoldProblem:
    return ForwardFoldProblem(PhotonSpectrum("cutoffpl", nh=0.3), cosi=toy["counts"],
                              instruments=_instruments(), report_bands=[(325, 480)])


def test_fused_and_plain_agree(spectral_model, toy, joint):
    cosi = ForwardFoldProblem(toy["spectrum"], cosi=toy["counts"], report_bands=[(325, 480)])
    for problem in (cosi, joint):
        fused = problem.to_stan_data()
        chunked = problem.to_stan_data(grainsize=97)
        plain = problem.to_stan_data(fused=False)
        for point in _points(problem):
            a = spectral_model.log_prob(point, fused, sig_figs=18).to_numpy()
            b = spectral_model.log_prob(point, plain, sig_figs=18).to_numpy()
            c = spectral_model.log_prob(point, chunked, sig_figs=18).to_numpy()
            np.testing.assert_allclose(a, b, rtol=1e-9)
            np.testing.assert_array_equal(a[0, 0], c[0, 0])  # chunks add in segment order


def test_threaded_pass_is_bit_identical(spectral_model, joint, monkeypatch):
    threaded = forward_fold_model(threads=True)
    data = joint.to_stan_data(grainsize=97)
    for point in _points(joint, 2):
        serial = spectral_model.log_prob(point, data, sig_figs=18).to_numpy()
        for threads in ("1", "2"):
            monkeypatch.setenv("STAN_NUM_THREADS", threads)
            np.testing.assert_array_equal(
                threaded.log_prob(point, data, sig_figs=18).to_numpy(), serial)


def test_log_likelihood_matches_the_numpy_twins(spectral_model, toy):
    """Stan's density with priors off equals the numpy model: the spectrum's bin
    integrals (PhotonSpectrum.bin_flux) and the COSI likelihood (CosiSpectralCounts)."""
    problem = ForwardFoldProblem(toy["spectrum"], cosi=toy["counts"])
    data = problem.to_stan_data(use_priors=False)
    for point in _points(problem):
        stan = float(spectral_model.log_prob(point, data, jacobian=False,
                                             sig_figs=18)["lp__"].iloc[0])
        shape = dict(zip(("index", "ecut"), point["shape_free"], strict=True))
        flux = toy["spectrum"].bin_flux(toy["counts"].energy_true_edges,
                                        point["photon_flux"], shape)
        numpy = toy["counts"].log_likelihood(flux, np.exp(point["log_background_amplitude"]))
        assert stan == pytest.approx(numpy, rel=1e-10)


def test_forward_folded_fit_recovers_the_spectrum(spectral_model, toy):
    truth = toy["truth"]
    band = truth["band_photon_flux"][2]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplerWarning)
        result = fit_forward_folded(
            ForwardFoldProblem(toy["spectrum"], cosi=toy["counts"], report_bands=[(325, 480)]),
            seed=3, config=SHORT, model=spectral_model,
            truth={"photon_flux": FLUX, **TRUTH, "report_flux": [band]})
    posterior = result.inference_data.posterior
    for name, value in {"photon_flux": FLUX, **TRUTH}.items():
        draws = posterior[name].values.ravel()
        assert abs(draws.mean() - value) < 3 * draws.std(), name
    draws = posterior["report_flux"].values.ravel()
    assert abs(draws.mean() - band) < 3 * draws.std()
    assert int(result.inference_data.sample_stats.diverging.sum()) == 0


def test_joint_fit_recovers_cross_normalisations(spectral_model, joint):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplerWarning)
        result = fit_forward_folded(joint, seed=4, config=SHORT, model=spectral_model)
    norm = result.inference_data.posterior["cross_norm"]
    truth = {"NuSTAR FPMB": 0.97, "Swift-BAT": 1.2, "COSI": 1.0}
    for name, value in truth.items():
        draws = norm.sel(dataset=name).values.ravel()
        assert abs(draws.mean() - value) < 3 * draws.std(), name
    for name, value in TRUTH.items():
        draws = result.inference_data.posterior[name].values.ravel()
        assert abs(draws.mean() - value) < 3 * draws.std(), name


def test_two_step_route_recovers_the_spectrum(spectral_model, toy, energy_response):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplerWarning)
        fluxes = fit_band_fluxes(toy["dataset"], exposure=toy["exposure"],
                                 patterns=toy["patterns"], background_models=toy["models"],
                                 energy_true_edges=energy_response.energy_edges, seed=1,
                                 bands=range(7), config=SHORT)
        bands = band_flux_dataset(fluxes, exposure=toy["exposure"],
                                  energy_true_edges=energy_response.energy_edges,
                                  energy_edges=energy_response.measured_edges)
        result = fit_forward_folded(ForwardFoldProblem(toy["spectrum"], instruments=[bands]),
                                    seed=2, config=SHORT, model=spectral_model)
    assert fluxes[2].significance > 10
    for name, value in {"photon_flux": FLUX, **TRUTH}.items():
        draws = result.inference_data.posterior[name].values.ravel()
        assert abs(draws.mean() - value) < 3 * draws.std(), name


def test_maximum_likelihood_starts_from_the_data(spectral_model, joint):
    """A start 40 x off in flux sends L-BFGS astray; the data-scaled start does not."""
    result = maximum_likelihood_forward_folded(joint, seed=1, model=spectral_model)
    assert float(result.estimate["photon_flux"]) == pytest.approx(FLUX, rel=0.1)


def test_laplace_metric_is_the_posterior_scale_of_each_coordinate(spectral_model, joint):
    """The Laplace inverse metric: one positive variance per unconstrained coordinate,
    ln A on its multiplier of order 1, and the sd of ln photon_flux matching NUTS's."""
    mode = maximum_likelihood_forward_folded(joint, seed=1, model=spectral_model)
    variance = laplace_inverse_metric(joint, mode, seed=1, model=spectral_model)
    n_shape = len(joint.spectrum.free_parameters)
    n_norm = len(joint.dataset_names) - 1
    assert variance is not None
    assert variance.shape == (1 + n_shape + n_norm + joint.cosi.n_amplitude,)
    assert np.all(np.isfinite(variance)) and np.all(variance > 0)
    amplitudes = variance[1 + n_shape + n_norm:]
    assert 0.1 < np.median(amplitudes) < 10, "ln A / scale should be of order 1"
    dense = laplace_inverse_metric(joint, mode, seed=1, model=spectral_model,
                                   metric="dense_e")
    assert dense.shape == (variance.size, variance.size)
    np.testing.assert_allclose(np.diag(dense), variance, rtol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplerWarning)
        result = fit_forward_folded(joint, seed=4, config=SHORT, model=spectral_model)
    nuts_sd = float(np.log(result.inference_data.posterior["photon_flux"].values).std())
    assert np.sqrt(variance[0]) == pytest.approx(nuts_sd, rel=0.35)


def test_no_laplace_metric_for_a_shape_on_its_bound(spectral_model, toy, monkeypatch):
    """An index bounded away from the truth (1.4, bounds 1.6-3): the maximum likelihood
    puts it on the bound, where the Hessian does not exist; NUTS starts from the unit
    metric without a CmdStan run that must fail."""
    bounded = PhotonSpectrum("cutoffpl", priors={
        "index": ShapePrior(1.6, 3.0, "normal", 2.0, 0.5)})
    problem = ForwardFoldProblem(bounded, cosi=toy["counts"])
    mode = maximum_likelihood_forward_folded(problem, seed=1, model=spectral_model)
    shape = np.atleast_1d(mode.estimate["shape_free"])
    assert shapes_on_bound(problem, shape) == {"index": pytest.approx(1.6, abs=1e-4)}

    def no_run(*args, **kwargs):
        raise AssertionError("laplace should not run")

    monkeypatch.setattr("bayesbg.cosi.spectral.fit.laplace", no_run)
    assert laplace_inverse_metric(problem, mode, seed=1, model=spectral_model) is None


def test_shapes_on_bound_reads_the_prior_bounds(toy):
    problem = ForwardFoldProblem(PhotonSpectrum("cutoffpl"), cosi=toy["counts"])
    lower = problem.spectrum.prior("index").lower
    upper = problem.spectrum.prior("ecut").upper
    assert shapes_on_bound(problem, np.array([1.4, 300.0])) == {}
    assert shapes_on_bound(problem, np.array([lower, upper])) == {"index": lower,
                                                                   "ecut": upper}


def test_amplitude_log_scale_is_one_over_root_counts(toy):
    counts = toy["counts"]
    scale = amplitude_log_scale(counts)
    per_amplitude = np.bincount(np.asarray(counts.segment_block) - 1,
                                weights=np.bincount(counts.bin_segment(),
                                                    weights=counts.counts.astype(float),
                                                    minlength=counts.n_segment),
                                minlength=counts.n_amplitude)
    assert per_amplitude.sum() == counts.counts.sum()
    np.testing.assert_allclose(scale, 1 / np.sqrt(np.maximum(per_amplitude, 1)))


def test_laplace_rejects_bad_arguments(spectral_model, joint):
    mode = maximum_likelihood_forward_folded(joint, seed=1, model=spectral_model)
    data = joint.to_stan_data(use_priors=False)
    with pytest.raises(ValueError, match="draws"):
        laplace(spectral_model, data, mode, seed=1, draws=1)
    with pytest.raises(ValueError, match="jacobian"):
        laplace(spectral_model, data, mode, seed=1, jacobian=True)
    with pytest.raises(ValueError, match="metric"):
        laplace_inverse_metric(joint, mode, seed=1, model=spectral_model, metric="unit_e")
    with pytest.raises(ValueError, match="use_priors"):  # the metric needs priors on
        laplace_inverse_metric(joint, mode, seed=1, model=spectral_model, data=data)
