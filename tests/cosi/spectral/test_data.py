"""Multi-band counts by segment, instruments' channels, the two-step response."""

from __future__ import annotations

import numpy as np
import pytest

from bayesbg.cosi.spectral import (
    FIDUCIAL,
    BandFlux,
    InstrumentData,
    band_flux_dataset,
    band_templates,
    prepare_spectral_counts,
)
from bayesbg.spectra.data import SpectralData

from .conftest import needs_rmf

pytestmark = needs_rmf


def test_segments_hold_every_count_in_band_major_order(toy):
    data, dataset = toy["counts"], toy["dataset"]
    assert data.counts.sum() == dataset.counts.sum()
    assert data.n_segment == 10 * dataset.n_time
    assert np.all(np.diff(data.segment_start) >= 0)
    segment = data.bin_segment()
    assert np.all(np.diff(segment) >= 0)
    per_band = np.bincount(data.segment_band[segment], weights=data.counts, minlength=10)
    n_spatial = dataset.n_phi * dataset.n_psi_chi
    expected = dataset.counts_per_data_bin().reshape(10, n_spatial).sum(axis=1)
    np.testing.assert_array_equal(per_band, expected)
    # each amplitude's background total is its band's counts in the block
    assert data.background_total.sum() == pytest.approx(dataset.counts.sum())
    # patterns sum to 1 where the source is in view, else 0 (below the horizon)
    exposed = data.pattern_total > 0.5
    np.testing.assert_allclose(data.pattern_total[exposed], 1.0)
    assert np.all(data.pattern_total[~exposed] == 0) and exposed.any() and not exposed.all()


def test_numpy_likelihood_is_highest_near_the_truth(toy):
    data, truth = toy["counts"], toy["truth"]
    ones = np.ones(data.n_amplitude)
    best = data.log_likelihood(truth["bin_flux"], ones)
    assert best > data.log_likelihood(1.3 * truth["bin_flux"], ones)
    assert best > data.log_likelihood(0.7 * truth["bin_flux"], ones)


def test_mismatched_inputs_raise(toy):
    dataset = toy["dataset"]
    with pytest.raises(ValueError, match="exposure"):
        prepare_spectral_counts(dataset, exposure=toy["exposure"][:, :5],
                                patterns=toy["patterns"], background_models=toy["models"],
                                energy_true_edges=np.geomspace(150, 5000, 11))
    with pytest.raises(ValueError, match="background_models"):
        prepare_spectral_counts(dataset, exposure=toy["exposure"], patterns=toy["patterns"],
                                background_models=toy["models"][:3],
                                energy_true_edges=np.geomspace(150, 5000, 11))


def test_band_flux_response_returns_the_fiducial_flux(toy, energy_response):
    """For the fiducial shape, M @ F gives the flux in each band exactly."""
    edges = energy_response.measured_edges
    fluxes = [BandFlux(float(a), float(b), 1.0, 0.1, 0, 1, 2, 1.0, 9.0, True)
              for a, b in zip(edges[:-1], edges[1:], strict=True)]
    bands = band_flux_dataset(fluxes, exposure=toy["exposure"],
                              energy_true_edges=energy_response.energy_edges,
                              energy_edges=edges)
    fiducial = FIDUCIAL.bin_flux(energy_response.energy_edges, 0.02, {})
    np.testing.assert_allclose(bands.predict(fiducial),
                               FIDUCIAL.bin_flux(edges, 0.02, {}), rtol=1e-12)
    scale = band_templates(toy["exposure"], energy_response.energy_edges, edges)
    assert scale.shape == (10, toy["dataset"].n_time) and np.all(scale >= 0)


def test_ecsv_spectrum_becomes_gaussian_channels():
    data = SpectralData(energy_min=[20.0, 40.0], energy_max=[40.0, 80.0],
                        value=[1000.0, 900.0], error=[10.0, 20.0], dataset=[0, 0],
                        dataset_names=("ISGRI",))
    channels = InstrumentData.from_spectral_data(data)
    assert channels.likelihood == "gauss" and channels.unit == "mCrab"
    from bayesbg.spectra.crab_units import crab_photon_flux_kev

    crab = crab_photon_flux_kev(np.array([20.0, 40.0]), np.array([40.0, 80.0]))
    np.testing.assert_allclose(channels.predict(crab), [1000.0, 1000.0])


def test_bad_instrument_data_raise():
    with pytest.raises(ValueError, match="X: value: expected counts"):
        InstrumentData("X", [1.0], [2.0], [[1.0]], "poisson", [0.5], [1.0], [2.0])
    with pytest.raises(ValueError, match="X: likelihood"):
        InstrumentData("X", [1.0], [2.0], [[1.0]], "cash", [1.0], [1.0], [2.0])
    with pytest.raises(ValueError, match="X: error"):
        InstrumentData("X", [1.0], [2.0], [[1.0]], "gauss", [1.0], [1.0], [2.0])
