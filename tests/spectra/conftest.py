"""Fixtures of the spectral tests: the spectral program and the function-test program,
each compiled (or taken from the cache) once per session."""

from __future__ import annotations

from pathlib import Path

import cmdstanpy
import pytest

from bayesbg.config import SamplerConfig
from bayesbg.spectra import spectral_fit_model
from bayesbg.stan import compile_model, stan_models_dir
from bayesbg.toolchain import CmdStanNotFoundError

SPECTRAL_CONFIG = SamplerConfig(chains=4, parallel_chains=2, iter_warmup=500,
                                iter_sampling=500, metric="dense_e",
                                adapt_delta=0.95)
"""Quick settings for spectral fits (fast: a gradient costs microseconds)."""


@pytest.fixture(scope="session")
def spectral_model() -> cmdstanpy.CmdStanModel:
    """``stan_models/spectral_fit.stan``, compiled once."""
    try:
        return spectral_fit_model()
    except CmdStanNotFoundError as err:
        pytest.fail(f"Stan tests need CmdStan (deselect them with -m 'not stan'): {err}")


@pytest.fixture(scope="session")
def functions_model() -> cmdstanpy.CmdStanModel:
    """``tests/spectra/stan/spectra_functions.stan``: the spectral functions as generated
    quantities."""
    program = Path(__file__).parent / "stan" / "spectra_functions.stan"
    try:
        return compile_model(program, include_paths=[stan_models_dir() / "functions"])
    except CmdStanNotFoundError as err:
        pytest.fail(f"Stan tests need CmdStan (deselect them with -m 'not stan'): {err}")


@pytest.fixture(scope="session")
def spectral_config() -> SamplerConfig:
    """Sampler settings for quick spectral fits."""
    return SPECTRAL_CONFIG
