"""Simulation-based calibration of the COSI template fit (`bayesbg.sbc`,
`bayesbg.cosi.checks.sbc`).

The quick test runs ~30 NUTS replications of a tiny problem through a process
`LocalCluster`: a correct model passes, a simulating prior unlike the fitted one fails.
The slow test is the acceptance check: 200 replications of a reduced problem, uniform
ranks of the flux and several background amplitudes (chi-square at 1 %).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from bayesbg.config import SamplerConfig
from bayesbg.cosi import InstrumentSettings, simulate_cosi
from bayesbg.cosi.checks import CosiSbcModel
from bayesbg.cosi.model import build_background_model, equidistant_blocks, prepare_fit_data
from bayesbg.sbc import plot_sbc, run_sbc

SMALL = InstrumentSettings(instrument_nside=4, sky_nside=16)
FIGURE = Path(__file__).resolve().parents[3] / "docs" / "figures" / "cosi_sbc.png"


def _tiny_problem():
    dataset, _ = simulate_cosi(5, n_time=12, bin_size=30.0, instrument=SMALL,
                               n_change_points=0, background_to_sky=10.0)
    background = build_background_model(dataset, blocks=equidistant_blocks(12, 2),
                                        tracer="photo_event_rate")
    return dataset, background


@pytest.mark.stan
def test_prior_draws_follow_the_truncated_normal_priors(tiny_fit_data, cosi_model):
    data = prepare_fit_data(tiny_fit_data.dataset, tiny_fit_data.background_model,
                            flux_prior_mean=1e-3, flux_prior_sd=3e-3, background_prior_sd=0.5)
    model = CosiSbcModel(data, blocks=[1, 3], model=cosi_model)
    rng = np.random.default_rng(0)
    draws = [model.draw_prior(rng) for _ in range(1500)]
    flux = np.array([d["flux[bulge]"] for d in draws])
    amplitude = np.array([d["background_amplitude[2]"] for d in draws])
    assert flux.min() >= 0 and amplitude.min() >= 0
    # mean of N+(mu, sigma): mu + sigma phi(a) / (1 - Phi(a)), a = -mu / sigma
    from scipy import stats

    expected = stats.truncnorm.mean(-1 / 3, np.inf, loc=1e-3, scale=3e-3)
    assert abs(flux.mean() - expected) < 4 * flux.std() / np.sqrt(flux.size)
    assert abs(amplitude.mean() - stats.truncnorm.mean(-2, np.inf, loc=1, scale=0.5)) < 0.03
    assert model.parameter_names == ("flux[bulge]", "background_amplitude[1]",
                                     "background_amplitude[3]")
    truth = draws[0]
    simulated = model.simulate(truth, rng)
    assert simulated.dataset.n_nonzero > 0
    expected_total = model.expected_counts(truth).sum()
    assert abs(simulated.counts.sum() - expected_total) < 5 * np.sqrt(expected_total)
    with pytest.raises(ValueError, match="blocks: expected block numbers"):
        CosiSbcModel(data, blocks=[0], model=cosi_model)


@pytest.mark.stan
def test_cosi_sbc_machinery_on_a_tiny_problem(cosi_model, tmp_path):
    """30 NUTS replications through worker processes: correct passes, wrong prior fails."""
    dataset, background = _tiny_problem()
    data = prepare_fit_data(dataset, background, flux_prior_mean=1e-3, flux_prior_sd=1e-3)
    # the fit assumes a flux prior 20x narrower than the one the data are simulated from
    narrow = prepare_fit_data(dataset, background, flux_prior_mean=1e-3, flux_prior_sd=5e-5)
    config = SamplerConfig(chains=1, iter_warmup=150, iter_sampling=300, show_progress=False)
    from dask.distributed import Client, LocalCluster

    # one process cluster for both runs (as run_sbc would start by default)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        correct = run_sbc(CosiSbcModel(data, config=config, model=cosi_model),
                          n_replications=30, seed=3, scheduler=client)
        misspecified = run_sbc(
            CosiSbcModel(narrow, config=config, prior_data=data, model=cosi_model),
            n_replications=30, seed=3, scheduler=client)
    assert correct.n_replications == 30 and not correct.failures
    assert correct.passed(alpha=0.01), correct.chi_square()
    assert misspecified.chi_square()["flux[bulge]"]["p_value"] < 0.01
    plot_sbc(correct, path=tmp_path / "sbc.png")
    assert (tmp_path / "sbc.png").stat().st_size > 10_000


@pytest.mark.slow
@pytest.mark.stan
def test_cosi_sbc_ranks_are_uniform(cosi_model, tmp_path):
    """Acceptance: 200 replications, 24 h x 264 bins, 4 blocks, the model's own priors.

    Set ``BAYESBG_SBC_OUTPUT=DIR`` to keep the figure (``cosi_sbc.png``) and the ranks
    (``cosi_sbc.json``) there; ``docs/figures/cosi_sbc.png`` comes from such a run.
    """
    dataset, _ = simulate_cosi(21, n_time=24, bin_size=30.0, instrument=SMALL, n_change_points=1)
    background = build_background_model(dataset, blocks=equidistant_blocks(24, 4),
                                        tracer="photo_event_rate")
    data = prepare_fit_data(dataset, background)  # F ~ N+(1e-3, 3e-3), A_b ~ N+(1, 0.1)
    config = SamplerConfig(chains=2, parallel_chains=1, iter_warmup=250, iter_sampling=500,
                           show_progress=False)
    result = run_sbc(CosiSbcModel(data, config=config, model=cosi_model),
                     n_replications=200, seed=2016,
                     workers=int(os.environ.get("BAYESBG_SBC_WORKERS", "2")))
    output = Path(os.environ.get("BAYESBG_SBC_OUTPUT", tmp_path))
    output.mkdir(parents=True, exist_ok=True)
    plot_sbc(result, path=output / "cosi_sbc.png")
    result.write_json(output / "cosi_sbc.json")
    assert result.n_replications == 200 and not result.failures
    assert result.parameter_names == ("flux[bulge]", "background_amplitude[1]",
                                      "background_amplitude[2]", "background_amplitude[3]",
                                      "background_amplitude[4]")
    tests = result.chi_square()
    assert all(t["p_value"] >= 0.01 for t in tests.values()), tests
