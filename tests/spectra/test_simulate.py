"""Simulated ISGRI-like spectra: the 21 bands, the paper's error levels, unbiased values and
censoring at the threshold."""

from __future__ import annotations

import numpy as np
import pytest

from bayesbg.spectra.likelihood import predict_components, prepare
from bayesbg.spectra.simulate import REFERENCE_FITS, isgri_bands, isgri_errors, simulate_spectrum
from bayesbg.spectra.spectral_model import SpectralModel


def test_isgri_bands_and_errors():
    lo, hi = isgri_bands()
    assert lo.size == 21 and lo[0] == 25.0 and hi[-1] == pytest.approx(185.0)
    np.testing.assert_allclose(np.log(hi / lo), np.log(185 / 25) / 21)
    error = isgri_errors("GB", lo, hi)
    # 25-60 keV holds ~9.2 bands: error x sqrt(9.2) of the broad band's 3.1 mCrab
    assert error[0] == pytest.approx(3.1 * np.sqrt(np.log(60 / 25) / np.log(hi[0] / lo[0])))
    assert np.all(np.diff(error) > -1e-9)
    with pytest.raises(ValueError, match="region"):
        isgri_errors("Moon", lo, hi)


def test_simulation_is_unbiased_and_censors_at_threshold():
    ref = REFERENCE_FITS["GB"]
    model = SpectralModel.parse(ref["model"], fixed=ref["fixed"])
    template = simulate_spectrum(0, spectral_model=model, truth=ref["truth"])
    expected = predict_components(prepare(template, spectral_model=model),
                                  ref["truth"]).sum(axis=0)
    draws = np.array([simulate_spectrum(s, spectral_model=model, truth=ref["truth"]).value
                      for s in range(300)])
    error = isgri_errors("GB", *isgri_bands())
    z = (draws.mean(axis=0) - expected) / (error / np.sqrt(300))
    assert np.all(np.abs(z) < 4)
    assert np.std((draws - expected) / error) == pytest.approx(1.0, abs=0.05)
    data = simulate_spectrum(5, spectral_model=model, truth=ref["truth"], region="L+20",
                             upper_limit_sigma=2.0)
    np.testing.assert_allclose(data.value[data.upper_limit], 2 * data.error[data.upper_limit])
    assert np.all(data.value[~data.upper_limit] >= 2 * data.error[~data.upper_limit])
