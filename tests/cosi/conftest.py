"""COSI fixtures: the fast and dense Stan programs compiled once, a small simulated problem."""

from __future__ import annotations

from pathlib import Path

import cmdstanpy
import pytest

from bayesbg.cosi import InstrumentSettings, simulate_cosi
from bayesbg.cosi.model import (
    CosiFitData,
    bayesian_blocks,
    build_background_model,
    cosi_fit_model,
    equidistant_blocks,
    merge_blocks,
    prepare_fit_data,
)
from bayesbg.stan import compile_model
from bayesbg.toolchain import CmdStanNotFoundError

SMALL = InstrumentSettings(instrument_nside=4, sky_nside=16)
INSTRUMENT = InstrumentSettings(instrument_nside=8)

DENSE_REFERENCE = Path(__file__).resolve().parents[2] / "benchmarks" / "cosi_dense_reference.stan"


@pytest.fixture(scope="session")
def cosi_model() -> cmdstanpy.CmdStanModel:
    """``stan_models/cosi_template_fit.stan``, compiled once."""
    try:
        return cosi_fit_model()
    except CmdStanNotFoundError as err:
        pytest.fail(f"Stan tests need CmdStan (deselect them with -m 'not stan'): {err}")


@pytest.fixture(scope="session")
def dense_model() -> cmdstanpy.CmdStanModel:
    """``benchmarks/cosi_dense_reference.stan``, compiled once."""
    return compile_model(DENSE_REFERENCE)


@pytest.fixture(scope="session")
def tiny_fit_data() -> CosiFitData:
    """24 h x 936 bins (9 phi x 104 psi-chi), 3 equidistant blocks: small enough for dense."""
    dataset, _ = simulate_cosi(3, n_time=24, bin_size=20.0, instrument=SMALL,
                               n_change_points=1)
    background = build_background_model(dataset, blocks=equidistant_blocks(24, 3),
                                        tracer="photo_event_rate")
    return prepare_fit_data(dataset, background)


@pytest.fixture(scope="session")
def reduced_problem() -> tuple[CosiFitData, dict]:
    """48 h x 2,208 bins (~28,000 populated), a bulge of 1e-3, one untracked jump."""
    dataset, truth = simulate_cosi(21, n_time=48, bin_size=15.0,
                                   instrument=INSTRUMENT,
                                   n_change_points=1)
    blocks = merge_blocks(
        equidistant_blocks(dataset.n_time, 4),
        bayesian_blocks(dataset.counts_per_time(), dataset.time_edges, sigma=3.0,
                        tracer=dataset.tracers["photo_event_rate"]),
    )
    background = build_background_model(dataset, blocks=blocks, tracer="photo_event_rate")
    return prepare_fit_data(dataset, background), truth
