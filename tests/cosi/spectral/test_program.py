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
    band_flux_dataset,
    fit_band_fluxes,
    fit_forward_folded,
    forward_fold_model,
    maximum_likelihood_forward_folded,
)
from bayesbg.cosi.spectral.reference import reference_instrument
from bayesbg.stan import SamplerWarning

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
        numpy = toy["counts"].log_likelihood(flux, point["background_amplitude"])
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
