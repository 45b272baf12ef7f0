"""Tests of bayesbg.stan.sample / optimize / generate_quantities."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from bayesbg.stan import StanData, StanRunError, generate_quantities, optimize, sample
from bayesbg.template_fit import simulate_template_data


@pytest.mark.parametrize("seed", [None, -1, 2**32, 1.5, True])
def test_an_explicit_valid_seed_is_required(seed):
    with pytest.raises(ValueError, match="seed"):
        sample(None, {}, seed=seed)
    with pytest.raises(ValueError, match="seed"):
        optimize(None, {}, seed=seed)


@pytest.mark.stan
def test_cmdstan_failure_becomes_stan_run_error(template_model):
    data, _ = simulate_template_data(1)
    stan_data = data.to_stan_data()
    del stan_data["background"]
    with pytest.raises(StanRunError) as info:
        sample(template_model, stan_data, seed=1, chains=1, iter_warmup=10, iter_sampling=10)
    assert str(template_model.exe_file) in info.value.command
    assert "background" in info.value.console_tail


@pytest.mark.stan
def test_same_seed_same_draws(template_model):
    data, _ = simulate_template_data(1)
    runs = [
        sample(template_model, data.to_stan_data(), seed=5, chains=1, iter_warmup=50,
               iter_sampling=20).stan_variable("flux")
        for _ in range(2)
    ]
    np.testing.assert_array_equal(runs[0], runs[1])


@pytest.mark.stan
def test_maximum_likelihood_and_map(template_model):
    data, truth = simulate_template_data(4, flux=[2e-3, 1e-3])
    inits = {"flux": [1e-3, 1e-3], "background_amplitude": [1.0, 1.0, 1.0]}
    ml = optimize(template_model, data.to_stan_data(use_priors=False), seed=1, inits=inits)
    posterior_mode = optimize(template_model, data.to_stan_data(), seed=1, inits=inits)
    assert ml.kind == "maximum likelihood" and posterior_mode.kind == "MAP"
    # log L at the optimum is the full Poisson log-likelihood of the estimate
    estimate = ml.estimate
    expected = estimate["flux"] @ data.sky_response + estimate["background_amplitude"][
        data.background_blocks - 1] * data.background
    log_l = stats.poisson.logpmf(data.counts, expected).sum()
    assert ml.log_likelihood == pytest.approx(log_l, rel=1e-5)
    # the maximum-likelihood estimate maximises log L; the MAP trades some for the prior
    assert ml.log_likelihood >= posterior_mode.log_likelihood - 1e-6
    assert (ml.n_parameters, ml.n_observations) == (5, data.n_bin)
    assert ml.aic == pytest.approx(2 * 5 - 2 * ml.log_likelihood)
    assert ml.bic == pytest.approx(5 * np.log(data.n_bin) - 2 * ml.log_likelihood)
    np.testing.assert_allclose(ml.estimate["flux"], truth["flux"], rtol=0.5)


@pytest.mark.stan
def test_generate_quantities_redraws_predictions(template_model, small_fit):
    data, _ = simulate_template_data(11)
    gq = generate_quantities(template_model, data.to_stan_data(), small_fit.fit, seed=2)
    counts_rep = gq.stan_variable("counts_rep")
    assert counts_rep.shape == (small_fit.fit.num_draws_sampling * 4, data.n_bin)
    # a new seed gives new predictive draws at the same parameter values
    assert not np.array_equal(counts_rep, small_fit.fit.stan_variable("counts_rep"))


@pytest.mark.stan
def test_a_run_removes_its_data_file_and_stan_data_is_written_once(template_model):
    data, _ = simulate_template_data(2)
    values = data.to_stan_data(use_priors=False)
    inits = {"flux": [1e-3, 1e-3], "background_amplitude": [1.0, 1.0, 1.0]}
    plain = optimize(template_model, values, seed=1, inits=inits)
    workspace = Path(plain.fit.runset.csv_files[0]).parent
    assert not list(workspace.glob("data-*.json"))  # read, then removed
    with StanData(values) as shared:
        assert dict(shared) == values and shared["use_priors"] == 0
        written = shared.path.stat().st_mtime_ns
        runs = [optimize(template_model, shared, seed=1, inits=inits) for _ in range(2)]
        assert shared.path.stat().st_mtime_ns == written  # both runs read the one file
        assert all(r.kind == "maximum likelihood" for r in runs)
        np.testing.assert_allclose(runs[0].estimate["flux"], plain.estimate["flux"])
    assert not shared.path.exists()
    with pytest.raises(ValueError, match="StanData file .* was removed"):
        optimize(template_model, shared, seed=1, inits=inits)
