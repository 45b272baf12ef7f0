"""The numpy twins agree with the Stan spectral functions: band integrals, component ratios
and the Crab (`bayesbg.spectra.crab_units.log_crab_photon_flux`, the one Python Crab)."""

from __future__ import annotations

import numpy as np
import pytest

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
