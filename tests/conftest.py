"""Shared fixtures: the template-fit model compiled once per session, small fits."""

from __future__ import annotations

import warnings

import cmdstanpy
import pytest

from bayesbg.config import SamplerConfig
from bayesbg.stan import SamplerWarning
from bayesbg.template_fit import (
    TemplateFitResult,
    fit_templates,
    simulate_template_data,
    template_fit_model,
)
from bayesbg.toolchain import CmdStanNotFoundError

FAST_CONFIG = SamplerConfig(chains=4, parallel_chains=2, iter_warmup=300, iter_sampling=300)
"""Few draws: enough for intervals and diagnostics on 5 parameters, fast on 2 cores."""


@pytest.fixture(scope="session")
def template_model() -> cmdstanpy.CmdStanModel:
    """``stan_models/template_fit.stan``, compiled (or taken from the cache) once."""
    try:
        return template_fit_model()
    except CmdStanNotFoundError as err:
        pytest.fail(f"Stan tests need CmdStan (deselect them with -m 'not stan'): {err}")


@pytest.fixture(scope="session")
def fast_config() -> SamplerConfig:
    """Sampler settings for quick test fits."""
    return FAST_CONFIG


@pytest.fixture(scope="session")
def small_fit(template_model: cmdstanpy.CmdStanModel) -> TemplateFitResult:
    """One quick fit of simulated data (seed 11), shared by read-only tests."""
    data, truth = simulate_template_data(11)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplerWarning)
        return fit_templates(data, seed=11, config=FAST_CONFIG, truth=truth,
                             model=template_model)
