"""Band integrals of the spectral shapes agree with numerical integration and stay finite
for steep cut-offs and indices."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate

from bayesbg.spectra.band_integrals import (
    band_quadrature,
    log_bknpower_integral,
    log_cutoffpl_integral,
    log_expcutoff_integral,
    log_powerlaw_integral,
)
from bayesbg.spectra.models import component_log_ratio
from bayesbg.spectra.simulate import isgri_bands

# bands: the ISGRI 21, two wide ones and a COSI-like one up to 5 MeV
LO, HI = isgri_bands()
LO = np.concatenate([LO, [20.0, 30.0, 480.0]])
HI = np.concatenate([HI, [500.0, 80.0, 5000.0]])
BKN = np.array([[2.137, 43.0, 2.19], [1.0, 100.0, 2.0], [2.0, 25.0, 1.0], [0.0, 500.0, 3.0],
                [1.5, 10.0, 2.5], [2.0, 2000.0, 2.4], [1.0, 60.0, 1.0], [2.0, 30.0, 2.0],
                [-1.0, 150.0, 4.0], [2.4, 80.0, 1.6]])


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
