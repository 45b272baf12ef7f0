"""Tests of the InferenceData produced by a template fit (bayesbg.stan.to_inference_data)."""

from __future__ import annotations

import arviz as az
import numpy as np
import pytest

pytestmark = pytest.mark.stan


def test_groups_dims_and_coords(small_fit):
    idata = small_fit.inference_data
    assert set(idata.groups()) >= {"posterior", "log_likelihood", "posterior_predictive",
                                   "observed_data", "constant_data", "sample_stats"}
    assert idata.posterior["flux"].dims == ("chain", "draw", "template")
    assert list(idata.posterior["template"].values) == ["template_1", "template_2"]
    assert idata.posterior["background_amplitude"].dims == ("chain", "draw", "block")
    assert list(idata.posterior["block"].values) == [1, 2, 3]
    assert idata.log_likelihood["log_lik"].dims == ("chain", "draw", "bin")
    assert idata.posterior_predictive["counts_rep"].dims == ("chain", "draw", "bin")
    assert idata.observed_data["counts"].dims == ("bin",)
    assert idata.constant_data["sky_response"].dims == ("template", "bin")
    assert "log_lik" not in idata.posterior and "counts_rep" not in idata.posterior
    assert {"diverging", "tree_depth", "energy"} <= set(idata.sample_stats.data_vars)


def test_log_lik_is_the_poisson_log_pmf(small_fit):
    from scipy import stats

    idata = small_fit.inference_data
    flux = idata.posterior["flux"].values[0, 0]
    amplitude = idata.posterior["background_amplitude"].values[0, 0]
    data = idata.constant_data
    expected = flux @ data["sky_response"].values + amplitude[
        data["block"].values - 1] * data["background"].values
    np.testing.assert_allclose(
        idata.log_likelihood["log_lik"].values[0, 0],
        stats.poisson.logpmf(idata.observed_data["counts"].values, expected),
        rtol=1e-5,
    )


def test_loo_runs(small_fit):
    loo = az.loo(small_fit.inference_data, var_name="log_lik")
    assert np.isfinite(loo.elpd_loo)
    assert loo.n_data_points == small_fit.inference_data.observed_data["counts"].size
    # the model is correct: no observation should be badly influential
    assert float(np.max(loo.pareto_k)) < 0.7


def test_posterior_predictive_matches_observed_totals(small_fit):
    idata = small_fit.inference_data
    totals = idata.posterior_predictive["counts_rep"].sum("bin").values.ravel()
    observed = idata.observed_data["counts"].values.sum()
    low, high = np.quantile(totals, [0.005, 0.995])
    assert low <= observed <= high
