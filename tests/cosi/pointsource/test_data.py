"""Fit data of the Band point-source fit from cosipy's test files, and cosipy's ln L.

Known values come from cosipy's published spectral-fit test
(tests/spectral_fits/test_spectral_fitting.py in cositools/cosipy): its log-likelihood at
its best-fit parameters.
"""

from __future__ import annotations

import numpy as np
import pytest

from bayesbg.cosi.io.sample_data import sample_data_dir
from bayesbg.cosi.pointsource.data import SpectrumFitData, load_cosipy_fit_data
from bayesbg.cosi.pointsource.likelihood import cosipy_log_like

DATA_DIR = sample_data_dir() / "cosipy-test"
pytestmark = pytest.mark.skipif(not (DATA_DIR / "test_spectral_fit_data.h5").is_file(),
                                reason=f"cosipy test files not found in {DATA_DIR}")

# cosipy's test (older version): best fit and its log-likelihood
COSIPY_BEST = {"K": 1.0761685423819567, "alpha": -1.0986905318048805,
               "beta": -2.2992600319562753, "xp": 449.8988239195967, "bkg_norm": 1.0}
COSIPY_BEST_LOG_LIKE = 337.17196587486285
# cosipy's test (newer version, a local maximum): values and log-likelihood
COSIPY_LOCAL = {"K": 1.0522695866399103, "alpha": 2.6276132958523926,
                "beta": -2.909795888815157, "xp": 18.19702619330248, "bkg_norm": 2.3908438191547012}
COSIPY_LOCAL_LOG_LIKE = 213.14242014103897


@pytest.fixture(scope="module")
def fit_data() -> SpectrumFitData:
    return load_cosipy_fit_data(
        DATA_DIR / "test_spectral_fit_data.h5", DATA_DIR / "test_spectral_fit_background.h5",
        DATA_DIR / "test_full_detector_response.h5", DATA_DIR / "20280301_2s.ori",
        lon=50.0, lat=-45.0)


def test_log_likelihood_matches_cosipy_published_values(fit_data: SpectrumFitData) -> None:
    """Our response and folding give cosipy's own ln L at its two published fits."""
    assert cosipy_log_like(fit_data, COSIPY_BEST) == pytest.approx(COSIPY_BEST_LOG_LIKE,
                                                                   abs=1e-3)
    assert cosipy_log_like(fit_data, COSIPY_LOCAL) == pytest.approx(COSIPY_LOCAL_LOG_LIKE,
                                                                    abs=1e-3)


def test_fit_data_layout_and_validation(fit_data: SpectrumFitData) -> None:
    stan = fit_data.to_stan_data()
    assert (stan["E"], stan["M"]) == (10, 10)
    assert stan["N"] == np.count_nonzero(fit_data.counts)
    assert np.sum(stan["counts"]) == pytest.approx(1611.7874174482213)
    assert np.asarray(stan["response_total"]).shape == (10, 10)
    assert fit_data.response.duration == pytest.approx(2.0)
    with pytest.raises(ValueError, match="counts: expected shape"):
        SpectrumFitData(fit_data.counts[:5], fit_data.background, fit_data.response)
    with pytest.raises(ValueError, match="n_sub"):
        SpectrumFitData(fit_data.counts, fit_data.background, fit_data.response, n_sub=3)
    with pytest.raises(ValueError, match="beta_bounds"):
        SpectrumFitData(fit_data.counts, fit_data.background, fit_data.response,
                        beta_bounds=(-5.0, -1.0))
