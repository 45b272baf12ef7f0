"""[ISGRI] Tables 2, 3 and Appendix C recovered from the spectra the pipeline measured on
full-size simulations (fixed seeds)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from bayesbg.isgri.bands import BROAD_BANDS
from bayesbg.isgri.paper_fits import GALACTIC_REGIONS, fit_paper_spectra
from bayesbg.isgri.paper_tables import spectral_comparison, spectral_summary

pytestmark = pytest.mark.stan


def _check_recovered(fits, key, regions):
    worst = 0.0
    for name in regions:
        fit = fits.fits[(name, key)]
        truth = fits.truth[(name, key)]
        quantities = fits.quantities(name, key)
        for label, value in truth.items():
            if label not in quantities:
                continue  # fixed in the fit
            q = quantities[label]
            pull = (q.median - value) / np.hypot(q.sd, q.systematic)
            print(f"{name:8s} {label:16s} {q.median:8.3f} +{q.upper - q.median:.3f} "
                  f"-{q.median - q.lower:.3f} (syst {q.systematic:.3f})  injected "
                  f"{value:8.3f}  pull {pull:+.2f}")
            worst = max(worst, abs(pull))
            assert abs(pull) < 2, (name, label)
        chi2 = fit.chi_square
        low, high = stats.chi2.ppf([0.005, 0.995], chi2.dof)
        print(f"{name:8s} chi2_red {chi2.reduced:.2f}/{chi2.dof} (p = {chi2.p_value:.3f})")
        assert low <= chi2.chi2 <= high
        assert fit.diagnostics.passed, fit.diagnostics.to_dict()
    return worst


def test_table2_recovered_from_the_pipelines_spectra(paper_fits):
    assert set(paper_fits.truth) >= {(r, "table2") for r in GALACTIC_REGIONS}
    _check_recovered(paper_fits, "table2", GALACTIC_REGIONS)
    table = spectral_comparison(paper_fits, "table2")
    gb = table[(table["spectrum"] == "GB") & (table["quantity"] == "cutoffpl.ecut")][0]
    assert gb["paper"] == 11.2 and gb["injected"] == 11.2
    summary = spectral_summary(paper_fits, "table2", table)
    assert summary["columns"][-2:] == ["injected", "pull"]
    assert any(row[1] == "chi2_red/dof" and row[2] == "0.89/18" for row in summary["rows"])


def test_appendix_c_point_source_recovered(paper_fits, pipeline_run):
    _, result, truth = pipeline_run
    _check_recovered(paper_fits, "point_source", ["Sco X-1"])
    q = paper_fits.quantities("Sco X-1", "point_source")
    assert abs(q["expcutoff.ecut"].median - 3.9) < 2 * q["expcutoff.ecut"].sd
    assert abs(q["powerlaw.index"].median - 2.5) < 2 * q["powerlaw.index"].sd
    row = result.point_sources[0].table.iloc[0]
    injected = truth.injected_flux(result.point_sources[0].fluxes.pointings.scw_id,
                                   result.background_ids, bands=BROAD_BANDS[:1])[0]
    assert abs(row["flux"] - injected) < 2 * row["error"]


def test_table3_recovered_from_an_ipm_simulation(ipm_run):
    result, truth = ipm_run
    fits = fit_paper_spectra(result, seed=31, truth=truth, models=("table3",),
                             point_sources=False)
    assert set(fits.fits) == {(r, "table3") for r in GALACTIC_REGIONS}
    assert truth.spectrum.name == "ipm"
    _check_recovered(fits, "table3", GALACTIC_REGIONS)
    q = fits.quantities("GB", "table3")["ipm.mass"]
    assert q.upper - q.lower < 0.3
