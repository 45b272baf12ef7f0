"""Spectral fits laid out like [ISGRI] Tables 2 and 3."""

from __future__ import annotations

from types import SimpleNamespace

import arviz as az
import numpy as np

from bayesbg.spectra.likelihood import ChiSquare
from bayesbg.spectra.spectral_model import SpectralModel
from bayesbg.spectra.tables import spectral_table


def _result(rng):
    model = SpectralModel.parse("cutoffpl+powerlaw", fixed={"cutoffpl.index": 0.0})
    draws = (1, 4000)
    flux = np.stack([rng.normal(10.0, 1.0, draws), rng.normal(5.0, 0.5, draws)], axis=-1)
    posterior = {"flux": flux, "flux_total": flux.sum(axis=-1),
                 "flux_fraction": flux / flux.sum(axis=-1, keepdims=True),
                 "cutoffpl.ecut": rng.normal(11.2, 0.4, draws),
                 "powerlaw.index": rng.normal(1.55, 0.05, draws)}
    return SimpleNamespace(
        spectral_model=model, inference_data=az.from_dict(posterior=posterior),
        data=SimpleNamespace(dataset_names=("ISGRI",)),
        chi_square=ChiSquare(chi2=18.0, dof=17),
        max_likelihood=None)


def test_fixed_parameters_quantiles_and_chi2_rows():
    table = spectral_table({"GB": _result(np.random.default_rng(1))})
    column = table["GB"]
    assert column["cutoffpl.index"] == "0 (fixed)"
    median, upper, lower = column["cutoffpl.ecut, keV"].split()
    assert abs(float(median) - 11.2) < 0.05 and upper.startswith("+") and lower.startswith("-")
    assert abs(float(upper) - 0.4) < 0.05
    assert column["F_total (30-80 keV)"].startswith("15.")
    assert column["chi2_red/dof"] == "1.06/17" and column["p-value"] == "0.389"
    assert "AIC (max. likelihood)" not in table.index
