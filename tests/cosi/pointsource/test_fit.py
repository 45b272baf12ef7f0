"""Band point-source fits (maximum likelihood and NUTS) on cosipy's spectral-fit test
files, and recovery of known parameters from data simulated with the same response.

cosipy's published result on these files (tests/spectral_fits/test_spectral_fitting.py
in cositools/cosipy, older version): K = 1.0762, alpha = -1.0987, beta = -2.2993,
xp = 449.90 keV, bkg = 1.0, ln L = 337.17197 (cosipy's convention).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import cmdstanpy
import numpy as np
import pytest

from bayesbg.config import SamplerConfig
from bayesbg.cosi.io.sample_data import sample_data_dir
from bayesbg.cosi.pointsource import (
    BAND_PARAMETERS,
    SpectrumFitData,
    cosipy_log_like,
    expected_counts,
    fit_point_source_spectrum,
    load_cosipy_fit_data,
    maximum_likelihood_spectrum,
    point_source_spectrum_model,
)
from bayesbg.stan import SamplerWarning
from bayesbg.toolchain import CmdStanNotFoundError

DATA_DIR = sample_data_dir() / "cosipy-test"
pytestmark = [
    pytest.mark.stan,
    pytest.mark.skipif(not (DATA_DIR / "test_spectral_fit_data.h5").is_file(),
                       reason=f"cosipy test files not found in {DATA_DIR}"),
]

COSIPY_BEST = {"K": 1.0761685423819567, "alpha": -1.0986905318048805,
               "beta": -2.2992600319562753, "xp": 449.8988239195967, "bkg_norm": 1.0}
COSIPY_BEST_LOG_LIKE = 337.17196587486285
SHORT = SamplerConfig(chains=2, parallel_chains=2, iter_warmup=300, iter_sampling=300,
                      adapt_delta=0.95)


@pytest.fixture(scope="module")
def model() -> cmdstanpy.CmdStanModel:
    try:
        return point_source_spectrum_model()
    except CmdStanNotFoundError as err:
        pytest.fail(f"Stan tests need CmdStan (deselect them with -m 'not stan'): {err}")


@pytest.fixture(scope="module")
def fit_data() -> SpectrumFitData:
    return load_cosipy_fit_data(
        DATA_DIR / "test_spectral_fit_data.h5", DATA_DIR / "test_spectral_fit_background.h5",
        DATA_DIR / "test_full_detector_response.h5", DATA_DIR / "20280301_2s.ori",
        lon=50.0, lat=-45.0)


def test_maximum_likelihood_reproduces_cosipy(fit_data: SpectrumFitData,
                                              model: cmdstanpy.CmdStanModel) -> None:
    result = maximum_likelihood_spectrum(fit_data, seed=1, model=model)
    estimate = {name: float(result.estimate[name]) for name in BAND_PARAMETERS}
    print("ML:", estimate, "cosipy ln L:", cosipy_log_like(fit_data, estimate))
    tolerance = {"K": 0.01, "alpha": 0.01, "beta": 0.005, "xp": 1.0, "bkg_norm": 0.005}
    for name in BAND_PARAMETERS:
        assert estimate[name] == pytest.approx(COSIPY_BEST[name], abs=tolerance[name]), name
    # at least as high as cosipy's own maximum (to the optimiser's precision)
    assert cosipy_log_like(fit_data, estimate) > COSIPY_BEST_LOG_LIKE - 1e-5
    # Stan's full ln L differs from cosipy's by the constant -sum lgamma(d + 1)
    from scipy.special import gammaln
    assert result.log_likelihood == pytest.approx(
        cosipy_log_like(fit_data, estimate) - gammaln(fit_data.counts + 1).sum(), abs=1e-3)


def test_nuts_on_cosipy_files(fit_data: SpectrumFitData, model: cmdstanpy.CmdStanModel,
                              tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplerWarning)
        result = fit_point_source_spectrum(fit_data, seed=3, config=SHORT, model=model,
                                           run_dir=tmp_path / "run")
    print(result.summary.to_string())
    summary = result.summary
    assert result.diagnostics.checks  # computed
    assert int(result.inference_data.sample_stats.diverging.sum()) <= 3
    for name in ("alpha", "beta", "bkg_norm"):
        assert summary.loc[name, "q5"] < COSIPY_BEST[name] < summary.loc[name, "q95"], name
    assert summary.loc["xp", "q5"] < 450.0 < summary.loc["xp", "q95"]
    written = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert written["derived"]["K"]["q5"] < 1.07 < written["derived"]["K"]["q95"]
    assert float(summary["r_hat"].max()) < 1.1
    assert written["maximum_likelihood"]["alpha"] == pytest.approx(-1.1, abs=0.02)
    # the summarised amplitudes are well behaved: sd below the mean, mean near the median
    # (K, not summarised, has a heavy tail where xp falls below the data's range)
    for name in ("photon_flux", "flux_at_pivot"):
        assert summary.loc[name, "sd"] < summary.loc[name, "mean"], name
        assert summary.loc[name, "mean"] == pytest.approx(summary.loc[name, "q50"], rel=0.3)
    ml_flux = written["maximum_likelihood"]["photon_flux"]
    assert summary.loc["photon_flux", "q5"] < ml_flux < summary.loc["photon_flux", "q95"]


def test_simulated_band_parameters_are_recovered(fit_data: SpectrumFitData,
                                                 model: cmdstanpy.CmdStanModel) -> None:
    """Poisson data from the response with known Band parameters (about 30000 counts)."""
    truth = {"K": 20.0, "alpha": -0.8, "beta": -2.6, "xp": 600.0, "bkg_norm": 1.0}
    background = 10.0 * fit_data.background
    template = SpectrumFitData(fit_data.counts, background, fit_data.response)
    source, bkg = expected_counts(template, truth)
    counts = np.random.default_rng(20261123).poisson(source + bkg).astype(float)
    simulated = SpectrumFitData(counts, background, fit_data.response)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplerWarning)
        result = fit_point_source_spectrum(simulated, seed=4, config=SHORT, model=model,
                                           truth=truth)
    print(result.summary.to_string())
    posterior = result.inference_data.posterior
    for name, value in truth.items():
        draws = posterior[name].values.ravel()
        z = (draws.mean() - value) / draws.std()
        assert abs(z) < 3.0, f"{name}: posterior mean {draws.mean():.4g} is {z:.2f} sd from {value}"


def test_cli_spectrum_optimize_only(capsys: pytest.CaptureFixture[str],
                                    model: cmdstanpy.CmdStanModel) -> None:
    from bayesbg.cli import main

    files = ["--data", DATA_DIR / "test_spectral_fit_data.h5",
             "--background", DATA_DIR / "test_spectral_fit_background.h5",
             "--response", DATA_DIR / "test_full_detector_response.h5",
             "--ori", DATA_DIR / "20280301_2s.ori"]
    code = main(["cosi", "spectrum", *map(str, files), "--lon", "50", "--lat", "-45",
                 "--optimize-only"])
    out = capsys.readouterr().out
    assert code == 0
    assert "alpha = -1.1" in out and "xp = 450" in out
    assert "337.17" in out
