"""Tests of bayesbg.stan.diagnose on synthetic draws, and on a deliberately poor Stan run."""

from __future__ import annotations

import json
import warnings

import arviz as az
import numpy as np
import pytest

from bayesbg.config import SamplerConfig
from bayesbg.stan import SamplerWarning, Thresholds, diagnose
from bayesbg.template_fit import fit_templates, simulate_template_data

CHAINS, DRAWS = 4, 500


def _idata(rng, *, shift=0.0, diverging=0, tree_depth=3, energy=None):
    posterior = {
        "flux": rng.normal(size=(CHAINS, DRAWS, 2)),
        "amplitude": rng.normal(size=(CHAINS, DRAWS)) + shift * np.arange(CHAINS)[:, None],
        "constant": np.ones((CHAINS, DRAWS)),
    }
    divergent = np.zeros((CHAINS, DRAWS), dtype=bool)
    divergent.flat[:diverging] = True
    stats = {
        "diverging": divergent,
        "tree_depth": np.full((CHAINS, DRAWS), tree_depth),
        "energy": rng.normal(size=(CHAINS, DRAWS)) if energy is None else energy,
    }
    return az.from_dict(posterior=posterior, sample_stats=stats,
                        coords={"template": ["a", "b"]}, dims={"flux": ["template"]})


def test_good_draws_pass_every_check():
    with warnings.catch_warnings():
        warnings.simplefilter("error", SamplerWarning)
        result = diagnose(_idata(np.random.default_rng(1)))
    assert result.passed
    assert [c.name for c in result] == ["r_hat", "ess_bulk", "ess_tail", "divergences",
                                        "treedepth", "ebfmi"]
    assert result["ess_bulk"].threshold == 100 * CHAINS
    assert "all checks passed" in result.render()
    json.dumps(result.to_dict())


def test_chains_that_disagree_fail_r_hat_and_warn():
    with pytest.warns(SamplerWarning, match="r_hat"):
        result = diagnose(_idata(np.random.default_rng(2), shift=1.0))
    assert not result.passed
    assert not result["r_hat"].passed
    assert result["r_hat"].where == "amplitude"
    assert "FAIL" in result.render()


def test_divergences_and_treedepth_hits_fail():
    with pytest.warns(SamplerWarning):
        result = diagnose(_idata(np.random.default_rng(3), diverging=3, tree_depth=10),
                          max_treedepth=10)
    assert result["divergences"].value == 3 and not result["divergences"].passed
    assert result["treedepth"].value == CHAINS * DRAWS and not result["treedepth"].passed
    assert result["r_hat"].passed


def test_random_walk_energy_fails_ebfmi():
    rng = np.random.default_rng(4)
    energy = np.cumsum(rng.normal(size=(CHAINS, DRAWS)), axis=1)
    with pytest.warns(SamplerWarning, match="ebfmi"):
        result = diagnose(_idata(rng, energy=energy))
    assert result["ebfmi"].value < 0.3


def test_thresholds_are_configurable_and_warning_optional():
    idata = _idata(np.random.default_rng(5), diverging=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SamplerWarning)
        assert not diagnose(idata, warn=False).passed
        assert diagnose(idata, thresholds=Thresholds(divergences_max=1)).passed


def test_low_ess_fails():
    rng = np.random.default_rng(6)
    idata = _idata(rng)
    # strongly autocorrelated AR(1) chains
    x = np.zeros((CHAINS, DRAWS))
    for t in range(1, DRAWS):
        x[:, t] = 0.98 * x[:, t - 1] + rng.normal(size=CHAINS)
    idata.posterior["amplitude"].values[:] = x
    with pytest.warns(SamplerWarning, match="ess_bulk"):
        result = diagnose(idata)
    assert result["ess_bulk"].value < 400 and result["ess_bulk"].where == "amplitude"


@pytest.mark.stan
def test_poor_stan_run_is_flagged(template_model):
    """No adaptation, a tiny step and a shallow tree: chains stay near their inits."""
    data, truth = simulate_template_data(2)
    config = SamplerConfig(chains=4, parallel_chains=2, iter_warmup=5, iter_sampling=100,
                           adapt_engaged=False, step_size=1e-3, max_treedepth=3)
    with pytest.warns(SamplerWarning, match="sampler diagnostics failed"):
        result = fit_templates(data, seed=3, config=config, model=template_model)
    diagnostics = result.diagnostics
    assert not diagnostics.passed
    assert not diagnostics["r_hat"].passed
    assert not diagnostics["ess_bulk"].passed
    assert not diagnostics["treedepth"].passed


@pytest.mark.stan
def test_adequate_stan_run_passes(small_fit):
    assert small_fit.diagnostics.passed, small_fit.diagnostics.render()


def test_one_chain_says_r_hat_needs_two_chains():
    idata = _idata(np.random.default_rng(3))
    one = idata.isel(chain=[0])
    with warnings.catch_warnings():
        warnings.simplefilter("error", SamplerWarning)
        result = diagnose(one, thresholds=Thresholds(ess_bulk_per_chain_min=50,
                                                     ess_tail_per_chain_min=50))
    check = result["r_hat"]
    assert check.passed and check.note == "not computed: R-hat needs 2 or more chains"
    text = result.render()
    assert "1 chain x" in text and "R-hat needs 2 or more chains" in text
    assert "inf" not in text and "FAIL" not in text


def test_failed_check_says_what_to_do_next():
    with pytest.warns(SamplerWarning, match="r_hat = .* Run longer"):
        result = diagnose(_idata(np.random.default_rng(1), shift=3.0))
    assert "what to do (r_hat): Chains disagree" in result.render()
