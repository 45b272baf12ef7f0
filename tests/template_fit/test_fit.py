"""Parameter recovery and calibration of the template fit (bayesbg.template_fit.fit_templates)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from bayesbg.config import SamplerConfig
from bayesbg.stan import SamplerWarning
from bayesbg.template_fit import PARAMETERS, fit_templates, simulate_template_data


def test_data_must_be_binned_counts():
    with pytest.raises(TypeError, match="BinnedCounts"):
        fit_templates({"counts": [1, 2]}, seed=1)


@pytest.mark.stan
def test_parameters_recovered_within_90_percent_intervals(template_model, fast_config):
    """Fixed seed. Fluxes and amplitudes are correlated, so all five 90 % intervals cover
    together in roughly 2 of 3 seeds; calibration over seeds is the slow coverage test."""
    flux = np.array([2.0e-3, 0.8e-3])
    amplitude = np.array([1.05, 0.95, 1.0])
    data, truth = simulate_template_data(2000, flux=flux, background_amplitude=amplitude)
    result = fit_templates(data, seed=2000, config=fast_config, truth=truth,
                           model=template_model)
    table = result.summary
    assert list(table.index) == ["flux[template_1]", "flux[template_2]",
                                 "background_amplitude[1]", "background_amplitude[2]",
                                 "background_amplitude[3]"]
    np.testing.assert_array_equal(table["truth"], np.concatenate([flux, amplitude]))
    inside = (table["q5"] <= table["truth"]) & (table["truth"] <= table["q95"])
    assert inside.all(), table
    # the data constrain the fluxes well beyond the prior (sd 2e-3)
    assert (table.loc[["flux[template_1]", "flux[template_2]"], "sd"] < 5e-4).all()
    assert result.diagnostics.passed, result.diagnostics.render()


@pytest.mark.stan
@pytest.mark.slow
def test_interval_coverage_over_many_seeds(template_model):
    """Simulation-based calibration: with truths drawn from the priors, the 90 % intervals
    contain about 90 % of them, with about 5 % of truths in each tail.

    200 seeds x 5 parameters = 1000 intervals (binomial sd of the pooled coverage ~1 %,
    more with the correlation between parameters of one fit). Two chains of 250 draws per
    fit, run in parallel on two cores: ~35 s.
    """
    config = SamplerConfig(chains=2, parallel_chains=2, iter_warmup=250, iter_sampling=250)
    below, above = [], []
    for seed in range(1000, 1200):
        data, truth = simulate_template_data(seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SamplerWarning)
            table = fit_templates(data, seed=seed, config=config, truth=truth,
                                  model=template_model).summary
        assert [name.split("[")[0] for name in table.index] == [
            "flux", "flux", "background_amplitude", "background_amplitude",
            "background_amplitude"] and set(PARAMETERS) == {"flux", "background_amplitude"}
        below.append((table["truth"] < table["q5"]).to_numpy())
        above.append((table["truth"] > table["q95"]).to_numpy())
    below, above = np.array(below), np.array(above)
    coverage = 1 - below - above
    report = {"coverage": coverage.mean(axis=0), "below": below.mean(axis=0),
              "above": above.mean(axis=0)}
    assert 0.86 <= coverage.mean() <= 0.94, report
    assert 0.025 <= below.mean() <= 0.08, report
    assert 0.025 <= above.mean() <= 0.08, report
    assert np.all((coverage.mean(axis=0) >= 0.82) & (coverage.mean(axis=0) <= 0.97)), report
