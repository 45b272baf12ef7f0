"""The intermediate-polar model: white-dwarf relations, the band table against direct
integration."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate

from bayesbg.spectra.band_integrals import ipm_log_ratio
from bayesbg.spectra.ipm import (
    ipm_band_table,
    ipm_photon_spectrum,
    shock_temperature,
    white_dwarf_radius,
)
from bayesbg.spectra.simulate import isgri_bands


def test_white_dwarf_relations():
    # Nauenberg: R ~ 0.0112 Rsun x 1.0 at 0.7 Msun; shock temperature ~28 keV
    # (docs/equations.md section 4)
    assert white_dwarf_radius(0.7) == pytest.approx(7.8e8, rel=0.02)
    assert float(shock_temperature(0.7)) == pytest.approx(28.5, abs=0.3)
    kt = shock_temperature(np.linspace(0.3, 1.35, 20))
    assert np.all(np.diff(kt) > 0)
    with pytest.raises(ValueError, match="mass"):
        white_dwarf_radius(1.5)


def _quad(f, a, b):
    value, _ = integrate.quad(f, a, b, epsabs=0.0, epsrel=1e-12, limit=200,
                              points=None)
    return value


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
