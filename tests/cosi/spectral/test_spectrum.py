"""Photon spectra of the forward fold: numpy twin against closed forms, validation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bayesbg.cosi.pointsource.spectrum import band
from bayesbg.cosi.spectral import PhotonSpectrum, ShapePrior, log_photon_shape, quadrature_nodes
from bayesbg.spectra.band_integrals import log_bknpower_integral, log_powerlaw_integral

EDGES = np.array([150.0, 220.0, 325.0, 480.0, 520.0, 765.0, 1120.0, 1650.0, 2350.0,
                  3450.0, 5000.0])


def _unit(spectrum: PhotonSpectrum, values: dict) -> np.ndarray:
    """Bin integrals for a normalisation of 1 at 1 keV."""
    return spectrum.bin_flux(EDGES, 1.0, values) * math.exp(-spectrum.log_norm(1.0, values))


@pytest.mark.parametrize("index", [-0.5, 1.0, 1.732, 2.0, 3.5])
def test_powerlaw_bins_match_the_closed_form(index):
    spectrum = PhotonSpectrum("powerlaw")
    exact = np.exp(log_powerlaw_integral(EDGES[:-1], EDGES[1:], index))
    np.testing.assert_allclose(_unit(spectrum, {"index": index}), exact, rtol=1e-7)


@pytest.mark.parametrize("break_energy", [43.0, 300.0, 700.0])
def test_bknpower_bins_match_the_closed_form(break_energy):
    spectrum = PhotonSpectrum("bknpower")
    values = {"index1": 1.5, "break_energy": break_energy, "index2": 2.6}
    exact = np.exp(log_bknpower_integral(EDGES[:-1], EDGES[1:], 1.5, break_energy, 2.6))
    # a kink inside a bin: error ~ step^2 |index2 - index1| / 12 of that bin
    np.testing.assert_allclose(_unit(spectrum, values), exact, rtol=5e-5)


def test_cutoffpl_and_band_match_quadrature():
    from scipy.integrate import quad

    cut = PhotonSpectrum("cutoffpl")
    values = {"index": 1.358, "ecut": 138.3}
    exact = [quad(lambda e: e**-1.358 * math.exp(-e / 138.3), a, b, epsrel=1e-12)[0]
             for a, b in zip(EDGES[:-1], EDGES[1:], strict=True)]
    # Simpson steps of 2 % in E: exact to 1e-5 where the spectrum matters; in the last
    # bins the cut-off falls by e^-0.6 per step (relative error 2e-4 of a flux 1e-12 of
    # the first bin's)
    computed = _unit(cut, values)
    np.testing.assert_allclose(computed[:7], exact[:7], rtol=1e-5)
    np.testing.assert_allclose(computed, exact, rtol=1e-3)
    spectrum = PhotonSpectrum("band", pivot=500.0)
    values = {"alpha": -1.1, "beta": -2.3, "xp": 450.0}
    flux = spectrum.bin_flux(EDGES, 1.0, values)
    k = math.exp(spectrum.log_norm(1.0, values))
    exact = [quad(lambda e: float(band(e, k, -1.1, -2.3, 450.0, 500.0)), a, b,
                  epsrel=1e-12)[0] for a, b in zip(EDGES[:-1], EDGES[1:], strict=True)]
    np.testing.assert_allclose(flux, exact, rtol=1e-6)


def test_photon_flux_is_the_flux_in_the_band():
    spectrum = PhotonSpectrum("powerlaw", flux_band=(325.0, 480.0))
    flux = spectrum.bin_flux([325.0, 480.0], 4.1e-3, {"index": 2.2})
    assert flux[0] == pytest.approx(4.1e-3, rel=1e-12)


def test_absorption_lowers_low_energies_only():
    spectrum = PhotonSpectrum("powerlaw", nh=0.3)
    edges = np.array([3.0, 4.0, 70.0, 79.0])
    ratio = spectrum.bin_flux(edges, 1.0, {"index": 2}) / \
        spectrum.bin_flux(edges, 1.0, {"index": 2}, absorbed=False)
    assert 0.95 < ratio[0] < 0.97 and ratio[-1] > 0.9999


def test_quadrature_steps_are_small_and_even():
    nodes = quadrature_nodes([150.0, 3.0], [220.0, 3.01])
    assert list(nodes.count) == [21, 3]  # ln(220/150)/0.02 -> 20 steps; a narrow bin 2
    assert np.exp(nodes.log_energy[0]) == pytest.approx(150.0)


def test_log_shape_is_continuous_at_the_breaks():
    below = log_photon_shape("bknpower", [42.999999], [2.1, 43.0, 2.2])
    above = log_photon_shape("bknpower", [43.000001], [2.1, 43.0, 2.2])
    assert below == pytest.approx(above, abs=1e-6)


def test_bad_spectra_raise():
    with pytest.raises(ValueError, match="kind"):
        PhotonSpectrum("broken")
    with pytest.raises(ValueError, match="ecut: not a parameter of powerlaw"):
        PhotonSpectrum("powerlaw", fixed={"ecut": 100.0})
    with pytest.raises(ValueError, match="flux_band"):
        PhotonSpectrum("powerlaw", flux_band=(500.0, 100.0))
    with pytest.raises(ValueError, match="bounds"):
        ShapePrior(2.0, 1.0, "normal", 0.0, 1.0)
    with pytest.raises(ValueError, match="nh"):
        PhotonSpectrum("powerlaw", nh=-1.0)
