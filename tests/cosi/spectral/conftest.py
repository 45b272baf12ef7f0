"""Fixtures of the forward-folded spectral fit: the 2016 energy response, a small toy
multi-band problem (toy pointing, 15-deg bins), the compiled program."""

from __future__ import annotations

import cmdstanpy
import numpy as np
import pytest

from bayesbg.cosi.exposure import InstrumentSettings, simulated_observation
from bayesbg.cosi.io.sample_data import sample_data_dir
from bayesbg.cosi.model import equidistant_blocks
from bayesbg.cosi.spectral import (
    EnergyResponse,
    PhotonSpectrum,
    band_background_models,
    forward_fold_model,
    prepare_spectral_counts,
    simulate_point_source_bands,
    toy_patterns,
)
from bayesbg.toolchain import CmdStanNotFoundError

RMF = sample_data_dir() / "classic-2016" / "RMF_matrices_COSI2016_9dets_10ebins_6deg.npz"
needs_rmf = pytest.mark.skipif(not RMF.is_file(), reason=f"{RMF} not found")
TRUTH = {"index": 1.4, "ecut": 300.0}
FLUX = 0.05  # ph cm-2 s-1 in 150-5000 keV


@pytest.fixture(scope="session")
def energy_response() -> EnergyResponse:
    if not RMF.is_file():
        pytest.skip(f"{RMF} not found")
    return EnergyResponse.read(RMF)


def toy_problem(energy_response: EnergyResponse, seed: int, *, n_time: int = 24,
                flux: float = FLUX, background_scale: float = 100.0,
                spectral_shape: dict[str, float] | None = None):
    """A cutoffpl point source at (0, -60) over a toy pointing, 10 bands, toy background
    (``spectral_shape``: index and ecut, default `TRUTH`)."""
    observation = simulated_observation(3, n_time=n_time, bin_size=15.0,
                                        instrument=InstrumentSettings(instrument_nside=8))
    exposure = energy_response.exposure(observation.pointing, 0.0, -60.0, n_time=n_time)
    edges = energy_response.measured_edges
    patterns = toy_patterns(observation, 0.0, -60.0, np.sqrt(edges[:-1] * edges[1:]))
    n_spatial = (len(observation.phi_edges) - 1) * len(observation.psi_chi_centres)
    rng = np.random.default_rng(100 + seed)
    shape = rng.lognormal(0, 0.5, (10, n_spatial))
    shape /= shape.sum(axis=1, keepdims=True)
    levels = np.array([2, 7, 13, 6, 14, 14, 12, 6, 1.5, 0.1]) * background_scale
    counts = np.outer(levels, 1 + 0.2 * np.sin(np.arange(n_time) / 5))
    spectrum = PhotonSpectrum("cutoffpl")
    dataset, truth = simulate_point_source_bands(
        seed, spectrum=spectrum, photon_flux=flux, shape=spectral_shape or TRUTH,
        exposure=exposure, energy_response=energy_response, patterns=patterns,
        background_response=shape, background_counts=counts,
        time_edges=3600.0 * np.arange(n_time + 1),
        phi_edges=observation.phi_edges, psi_chi_centres=observation.psi_chi_centres)
    models = band_background_models(dataset, blocks=equidistant_blocks(n_time, 2),
                                    tracer="photo_event_rate", responses=list(shape))
    data = prepare_spectral_counts(dataset, exposure=exposure, patterns=patterns,
                                   background_models=models,
                                   energy_true_edges=energy_response.energy_edges)
    return {"dataset": dataset, "truth": truth, "counts": data, "exposure": exposure,
            "patterns": patterns, "models": models, "spectrum": spectrum}


@pytest.fixture(scope="session")
def toy(energy_response):
    return toy_problem(energy_response, 2)


@pytest.fixture(scope="session")
def spectral_model() -> cmdstanpy.CmdStanModel:
    try:
        return forward_fold_model()
    except CmdStanNotFoundError as err:
        pytest.fail(f"Stan tests need CmdStan (deselect them with -m 'not stan'): {err}")
