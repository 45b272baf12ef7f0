"""Fixtures of the ISGRI tests: a small simulated pointing table, the pipeline on full-size
simulations (Galactic spectrum of [ISGRI] Table 2, and of Table 3), the spectral fits."""

from __future__ import annotations

import pytest

from bayesbg.isgri.pipeline import run_pipeline
from bayesbg.isgri.simulate import simulate_isgri
from bayesbg.isgri.sky import SCO_X1


@pytest.fixture(scope="session")
def small_table():
    """A raw table of ~3000 simulated pointings over orbits 100-160 (seed 3)."""
    table, _ = simulate_isgri(3, n_pointing=3000, orbit_min=100, orbit_max=160)
    return table


@pytest.fixture(scope="session")
def pipeline_run():
    """The pipeline on a full-size simulation (seed 5, Table-2 spectrum, Sco X-1; no Stan;
    ~40 s): the raw table, the `PipelineResult` and the truth."""
    table, truth = simulate_isgri(5)
    return table, run_pipeline(table, point_sources=(SCO_X1,)), truth


@pytest.fixture(scope="session")
def ipm_run():
    """The pipeline on a full-size simulation whose Galactic spectrum is [ISGRI] Table 3's
    IPM + powerlaw (seed 6): the `PipelineResult` and the truth."""
    table, truth = simulate_isgri(6, galactic_spectrum="ipm")
    return run_pipeline(table, point_sources=(SCO_X1,)), truth


@pytest.fixture(scope="session")
def paper_fits(pipeline_run):
    """Tables 2 and 3 of GB, L+20, L-20 and Appendix C fitted to the spectra of
    `pipeline_run` (the simulation injects the Table-2 model: Table 3 has no truth)."""
    from bayesbg.isgri.paper_fits import fit_paper_spectra
    from bayesbg.spectra import spectral_fit_model
    from bayesbg.toolchain import CmdStanNotFoundError

    _, result, truth = pipeline_run
    try:
        model = spectral_fit_model()
    except CmdStanNotFoundError as err:
        pytest.fail(f"Stan tests need CmdStan (deselect them with -m 'not stan'): {err}")
    return fit_paper_spectra(result, seed=21, model=model, truth=truth)
