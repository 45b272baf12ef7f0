"""Numpy twins agree with the Stan spectral functions; band integrals agree with quad."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate

from bayesbg.spectra import ipm_band_table, isgri_bands
from bayesbg.spectra.band_integrals import (
    band_quadrature,
    ipm_log_ratio,
    log_bknpower_integral,
    log_cutoffpl_integral,
    log_expcutoff_integral,
    log_expm1_ratio,
    log_powerlaw_integral,
)
from bayesbg.spectra.crab_units import log_crab_photon_flux
from bayesbg.spectra.ipm import ipm_photon_spectrum
from bayesbg.spectra.models import component_log_ratio

# bands: the ISGRI 21, two wide ones and a COSI-like one up to 5 MeV
LO, HI = isgri_bands()
LO = np.concatenate([LO, [20.0, 30.0, 480.0]])
HI = np.concatenate([HI, [500.0, 80.0, 5000.0]])
T = np.array([-800.0, -30.0, -1.0, -1e-3, -1e-4, -9.99e-5, -1e-9, 0.0, 1e-9, 9.99e-5, 1e-4,
              1e-3, 1.0, 30.0, 700.0])
INDEX = np.array([-2.0, 0.0, 1.0 - 1e-6, 1.0, 1.0 + 1e-6, 1.55, 2.0, 2.1, 3.0, 5.5])
ECUT = np.array([0.05, 0.5, 3.93, 11.2, 30.0, 138.0, 1e3, 1e4, 2.0, 60.0])
CPL = np.array([[0.0, 11.2, 0], [0.0, 0.5, 0], [1.0, 3.93, 0], [1.358, 138.3, 0],
                [2.0, 1e4, 0], [-1.0, 30.0, 0], [2.5, 0.8, 0], [1.0, 60.0, 0],
                [0.5, 5.0, 0], [3.0, 200.0, 0]])
BKN = np.array([[2.137, 43.0, 2.19], [1.0, 100.0, 2.0], [2.0, 25.0, 1.0], [0.0, 500.0, 3.0],
                [1.5, 10.0, 2.5], [2.0, 2000.0, 2.4], [1.0, 60.0, 1.0], [2.0, 30.0, 2.0],
                [-1.0, 150.0, 4.0], [2.4, 80.0, 1.6]])
MASS = np.array([0.3, 0.31, 0.5, 0.7, 0.7375, 0.8, 1.0, 1.2, 1.34, 1.35])
FLUX_BAND = (30.0, 80.0)


@pytest.fixture(scope="module")
def inputs():
    quadrature = band_quadrature(LO, HI)
    reference = band_quadrature([FLUX_BAND[0]], [FLUX_BAND[1]])
    ipm = ipm_band_table(LO, HI, flux_band=FLUX_BAND)
    data = {
        "N": LO.size, "energy_min": LO, "energy_max": HI,
        "M": quadrature.node_log_energy.size, "node_log_energy": quadrature.node_log_energy,
        "node_log_weight": quadrature.node_log_weight, "node_start": quadrature.node_start,
        "node_count": quadrature.node_count, "flux_band": np.array(FLUX_BAND),
        "M_ref": reference.node_log_energy.size, "ref_log_energy": reference.node_log_energy,
        "ref_log_weight": reference.node_log_weight,
        "T": T.size, "t": T,
        "S": INDEX.size, "shape_cpl": CPL, "shape_bkn": BKN, "index": INDEX, "ecut": ECUT,
        "mass": MASS, "G": ipm.mass.size, "ipm_mass": ipm.mass, "ipm_table": ipm.table,
        "ipm_table_d2": ipm.table_d2,
    }
    return data, quadrature, reference, ipm


@pytest.fixture(scope="module")
def stan_values(functions_model, inputs):
    data = inputs[0]
    fit = functions_model.sample(data=data, fixed_param=True, chains=1, iter_sampling=1,
                                 iter_warmup=0, adapt_engaged=False, seed=1, sig_figs=18,
                                 show_progress=False)
    return {name: np.asarray(value)[0] for name, value in fit.stan_variables().items()}


def _close(stan, numpy, name):
    stan, numpy = np.asarray(stan), np.asarray(numpy)
    assert np.all(np.isfinite(numpy)) and np.all(np.isfinite(stan)), name
    # ln values: an absolute difference of 1e-8 is 1e-8 relative on the integral
    worst = float(np.max(np.abs(stan - numpy)))
    assert worst <= 1e-8, f"{name}: largest difference of ln values {worst:.2e}"


@pytest.mark.stan
def test_expm1_ratio_agrees(stan_values):
    _close(stan_values["expm1_ratio"], log_expm1_ratio(T), "log_expm1_ratio")


@pytest.mark.stan
def test_closed_form_integrals_agree(stan_values):
    _close(stan_values["powerlaw"],
           np.array([log_powerlaw_integral(LO, HI, g) for g in INDEX]), "powerlaw")
    _close(stan_values["bknpower"],
           np.array([log_bknpower_integral(LO, HI, *p) for p in BKN]), "bknpower")
    _close(stan_values["expcutoff0"],
           np.array([log_expcutoff_integral(LO, HI, e, 0) for e in ECUT]), "expcutoff0")
    _close(stan_values["expcutoff1"],
           np.array([log_expcutoff_integral(LO, HI, e, 1) for e in ECUT]), "expcutoff1")
    _close(stan_values["crab"], log_crab_photon_flux(LO, HI), "crab")


@pytest.mark.stan
def test_quadrature_and_ipm_agree(stan_values, inputs):
    _, quadrature, reference, ipm = inputs
    cutoffpl = np.array([[log_cutoffpl_integral(*quadrature.band(j), p[0], p[1])
                          for j in range(LO.size)] for p in CPL])
    _close(stan_values["cutoffpl"], cutoffpl, "cutoffpl")
    _close(stan_values["ipm"], np.array([ipm_log_ratio(m, ipm.mass, ipm.table, ipm.table_d2)
                                         for m in MASS]), "ipm")


@pytest.mark.stan
def test_component_ratios_agree(stan_values, inputs):
    _, quadrature, reference, ipm = inputs
    shapes = [[[g] for g in INDEX], CPL, BKN, [[e] for e in ECUT], [[m] for m in MASS]]
    for code in range(1, 6):
        expected = np.array([component_log_ratio(code, s, LO, HI, quadrature, FLUX_BAND,
                                                 reference, ipm) for s in shapes[code - 1]])
        _close(stan_values["ratio"][code - 1], expected, f"component type {code}")


def _quad(f, a, b):
    value, _ = integrate.quad(f, a, b, epsabs=0.0, epsrel=1e-12, limit=200,
                              points=None)
    return value


@pytest.mark.parametrize("index", [0.0, 1.0 - 1e-7, 1.0, 1.0 + 1e-7, 1.55, 2.0, 2.1, 3.5])
def test_powerlaw_integral_matches_quad(index):
    got = np.exp(log_powerlaw_integral(LO, HI, index))
    want = [_quad(lambda e: e**-index, a, b) for a, b in zip(LO, HI, strict=True)]
    np.testing.assert_allclose(got, want, rtol=1e-6)
    # energy flux: index - 1, the index-2 case of the energy integral
    got = np.exp(log_powerlaw_integral(LO, HI, index - 1))
    want = [_quad(lambda e: e ** (1 - index), a, b) for a, b in zip(LO, HI, strict=True)]
    np.testing.assert_allclose(got, want, rtol=1e-6)


@pytest.mark.parametrize("shape", BKN.tolist())
def test_bknpower_integral_matches_quad(shape):
    g1, eb, g2 = shape

    def f(e):
        return e**-g1 if e <= eb else eb ** (g2 - g1) * e**-g2

    got = np.exp(log_bknpower_integral(LO, HI, g1, eb, g2))
    want = [integrate.quad(f, a, b, points=[eb] if a < eb < b else None, epsrel=1e-12,
                           epsabs=0.0, limit=200)[0] for a, b in zip(LO, HI, strict=True)]
    np.testing.assert_allclose(got, want, rtol=1e-6)


@pytest.mark.parametrize("ecut", [0.5, 3.93, 11.2, 138.0, 1e4])
def test_exponential_integrals_match_quad(ecut):
    for moment in (0, 1):
        got = log_expcutoff_integral(LO, HI, ecut, moment)
        want = [_quad(lambda e, m=moment, a=a: e**m * np.exp(-(e - a) / ecut), a, b)
                for a, b in zip(LO, HI, strict=True)]
        # compare ln values, the quad integrand is scaled by exp(a / ecut) to stay finite
        np.testing.assert_allclose(got + LO / ecut, np.log(want), rtol=0, atol=1e-6)


@pytest.mark.parametrize("index,ecut", [(0.0, 11.2), (0.0, 3.93), (1.358, 138.3),
                                        (1.0, 30.0), (2.0, 5.0), (-1.0, 60.0)])
def test_cutoffpl_quadrature_matches_quad(index, ecut):
    quadrature = band_quadrature(LO, HI)
    got = np.array([log_cutoffpl_integral(*quadrature.band(j), index, ecut)
                    for j in range(LO.size)])
    want = [_quad(lambda e, a=a: e**-index * np.exp(-(e - a) / ecut), a, b)
            for a, b in zip(LO, HI, strict=True)]
    np.testing.assert_allclose(got + LO / ecut, np.log(want), rtol=0, atol=1e-6)


def test_tiny_cutoffs_and_steep_indices_stay_finite():
    quadrature = band_quadrature(LO, HI)
    reference = band_quadrature([30.0], [80.0])
    for shape in ([0.0, 0.05], [4.0, 0.01], [1.0, 1e-3]):
        ratio = component_log_ratio(2, shape, LO, HI, quadrature, (30.0, 80.0), reference)
        assert not np.any(np.isnan(ratio)), shape
    for ecut in (1e-3, 0.01):
        ratio = component_log_ratio(4, [ecut], LO, HI, quadrature, (30.0, 80.0), reference)
        assert not np.any(np.isnan(ratio)), ecut
    for index in (1.0, 2.0, 6.0, -3.0):
        assert np.all(np.isfinite(component_log_ratio(1, [index], LO, HI, quadrature,
                                                      (30.0, 80.0), reference)))


def test_ipm_table_matches_direct_integration():
    lo, hi = isgri_bands()
    table = ipm_band_table(lo, hi)
    for mass in (0.45, 0.7, 1.1):
        reference = _quad(lambda e, m=mass: e * ipm_photon_spectrum(np.array([e]), m)[0],
                          30.0, 80.0)
        want = [math.log(_quad(lambda e, m=mass: ipm_photon_spectrum(np.array([e]), m)[0],
                               a, b) / reference) for a, b in zip(lo, hi, strict=True)]
        got = ipm_log_ratio(mass, table.mass, table.table, table.table_d2)
        # the spline in mass interpolates between grid points: 1e-4 in ln
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-4)
        if mass == 0.7:  # a grid point: exact up to the band quadrature
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)
