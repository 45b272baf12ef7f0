"""Fixtures of the ISGRI tests: a small simulated pointing table, the pipeline on a full-size
simulation."""

from __future__ import annotations

import pytest

from bayesbg.isgri.pipeline import run_pipeline
from bayesbg.isgri.simulate import simulate_isgri


@pytest.fixture(scope="session")
def small_table():
    """A raw table of ~3000 simulated pointings over orbits 100-160 (seed 3)."""
    table, _ = simulate_isgri(3, n_pointing=3000, orbit_min=100, orbit_max=160)
    return table


@pytest.fixture(scope="session")
def pipeline_run():
    """The pipeline on a full-size simulation (seed 5, no Stan; ~25 s): the raw table, the
    `PipelineResult` and the truth."""
    table, truth = simulate_isgri(5)
    return table, run_pipeline(table), truth
