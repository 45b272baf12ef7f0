"""The run's data products: spectra in the format of `bayesbg.spectra`, orbit lists, the
Crab calibration tables."""

from __future__ import annotations

import numpy as np
import pytest

from bayesbg.isgri.bands import NARROW_BANDS
from bayesbg.isgri.model.background import REGIME_NAMES
from bayesbg.isgri.products import (
    collimator_scale,
    crab_scatter_table,
    crab_table,
    orbit_table,
    region_spectrum,
    spectrum_table,
    to_ecsv,
)
from bayesbg.spectra import read_spectrum


def test_region_spectrum_is_an_ecsv_spectrum_with_two_sigma_upper_limits(pipeline_run,
                                                                          tmp_path):
    _, result, _ = pipeline_run
    data = region_spectrum(result, "L+20")
    assert data.n_band == 21 and data.dataset_names == ("ISGRI",)
    np.testing.assert_allclose(data.energy_min, [b.energy_min for b in NARROW_BANDS])
    rows = result.spectra[result.spectra["region"] == "L+20"]
    measured, error = rows["flux"].to_numpy(), rows["error_random"].to_numpy()
    limit = measured < 2 * error
    assert limit.any() and not limit.all()
    np.testing.assert_array_equal(data.upper_limit, limit)
    np.testing.assert_allclose(data.value[limit], 2 * error[limit])
    np.testing.assert_allclose(data.value[~limit], measured[~limit])
    np.testing.assert_allclose(data.error, error)
    path = tmp_path / "L+20.ecsv"
    path.write_bytes(to_ecsv(spectrum_table(result, "L+20")))
    back = read_spectrum(path)
    np.testing.assert_allclose(back.value, data.value)
    np.testing.assert_array_equal(back.upper_limit, data.upper_limit)
    text = path.read_text()
    assert "collimator_scale" in text and "error_collimator" in text and "measured" in text
    # the collimator scale: the tapered calibration reads ~4 % lower
    assert 0.94 < collimator_scale(result, "L+20") < 0.98
    sco = region_spectrum(result, "Sco X-1")
    assert sco.n_band == 21 and sco.value[0] > 400
    with pytest.raises(ValueError, match="no spectrum of 'Mars'"):
        region_spectrum(result, "Mars")


def test_orbit_table_lists_every_orbit_and_what_happened_to_it(pipeline_run):
    _, result, _ = pipeline_run
    table = orbit_table(result)
    model = result.background
    assert set(table["regime"]) <= set(REGIME_NAMES.values())
    assert np.all(np.diff(table["orbit"]) > 0)
    assert sorted(table["orbit"][table["slope_rejected"]]) == sorted(model.slope_rejected)
    assert sorted(table["orbit"][table["clipped"]]) == sorted(model.clipped)
    assert sorted(table["orbit"][table["crab_calibration"]]) == sorted(result.crab.orbit)
    assert np.all(table["n_crab"][table["crab_calibration"]] >= 10)
    assert np.all(table["regime"][table["slope_rejected"]] == "excluded")
    assert table["n_pointings"].sum() == result.screening.table.n_pointing


def test_crab_tables_per_orbit_and_band(pipeline_run):
    _, result, _ = pipeline_run
    per_orbit = crab_table(result)
    assert len(per_orbit) == result.crab.orbit.size
    np.testing.assert_allclose(per_orbit["residual_25_60"].value,
                               result.crab.residual[:, 0])
    scatter = crab_scatter_table(result)
    assert len(scatter) == 24
    np.testing.assert_allclose(scatter["scatter"].value, result.crab.systematic)
    assert scatter["paper"][0] == 37.0
    # P / P_alt: the flat response's Crab rate is lower than the tapered one's by ~4 %
    assert np.all((scatter["mean_ratio"] > 0.94) & (scatter["mean_ratio"] < 0.98))
