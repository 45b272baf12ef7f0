"""The longitude profile: the injected profile recovered with honest errors, and the
stellar-mass model scaled to it."""

from __future__ import annotations

import numpy as np

from bayesbg.isgri.profile import fit_longitude_profile


def test_profile_recovers_the_injected_values_within_two_errors(pipeline_run):
    _, result, truth = pipeline_run
    fit = fit_longitude_profile(result, truth=truth)
    table = fit.table
    assert set(table["band"]) == {"25-60", "60-80", "80-200"}
    measured = np.isfinite(table["flux"])
    assert measured.sum() >= 30
    pulls = table.loc[measured, "pull"].to_numpy()
    share = np.mean(np.abs(pulls) < 2)
    print(f"{share:.0%} of {pulls.size} bin x band values within 2 errors; mean pull "
          f"{pulls.mean():+.2f}; largest {np.abs(pulls).max():.2f}")
    print(fit.bands.to_string())
    assert share >= 0.9
    # the central 25-60 keV bins are no longer low
    central = table[(table["band"] == "25-60") & (np.abs(table["l_center"]) < 10)]
    assert np.all(np.abs(central["flux"] - central["injected"]) < 2 * central["error"])
    # the scaled model follows the 25-60 keV profile; chi2 and dof are reported
    first = fit.bands.iloc[0]
    assert first["band"] == "25-60" and first["dof"] == measured[table["band"] == "25-60"].sum() - 1
    assert first["scale"] > 0 and np.isfinite(first["chi2"])
    rows = table[table["band"] == "25-60"]
    np.testing.assert_allclose(rows["model"], first["scale"] * rows["model_mass"])
