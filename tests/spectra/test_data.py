"""The spectrum container and its ECSV file format."""

from __future__ import annotations

import astropy.units as u
import numpy as np
import pytest
from astropy.table import Table

from bayesbg.spectra.crab_units import crab_photon_flux
from bayesbg.spectra.data import SpectralData, read_spectrum, write_spectrum


def _data(**changes):
    fields = {"energy_min": [25.0, 30.0], "energy_max": [30.0, 40.0], "value": [100.0, 80.0],
              "error": [5.0, 6.0]}
    fields.update(changes)
    return SpectralData(**fields)


@pytest.mark.parametrize("field,value,match", [
    ("error", [5.0, 0.0], "error"),
    ("value", [np.nan, 1.0], "value"),
    ("energy_max", [30.0, 29.0], "energy_min"),
    ("value", [1.0], "value"),
    ("upper_limit", [True], "upper_limit"),
    ("dataset", [0, 2], "dataset"),
    ("systematic", -0.1, "systematic"),
])
def test_invalid_spectra_raise(field, value, match):
    with pytest.raises(ValueError, match=match):
        _data(**{field: value})


def test_dataset_names_must_match():
    with pytest.raises(ValueError, match="dataset_names"):
        _data(dataset=[0, 1], dataset_names=("a",))


def test_ecsv_round_trip_and_photon_flux_input(tmp_path):
    data = _data(upper_limit=[False, True], dataset=[0, 1], dataset_names=("a", "b"),
                 systematic=[0.0, 0.05])
    path = write_spectrum(data, tmp_path / "s.ecsv")
    back = read_spectrum(path)
    for name in ("energy_min", "energy_max", "value", "error", "upper_limit", "dataset",
                 "systematic"):
        np.testing.assert_allclose(getattr(back, name), getattr(data, name))
    assert back.dataset_names == ("a", "b")
    swapped = read_spectrum(path, reference="b")
    assert swapped.dataset_names == ("b", "a")
    np.testing.assert_array_equal(swapped.dataset, [1, 0])
    # photon fluxes are converted with the Crab spectrum
    table = Table()
    table["energy_min"] = [25.0] * u.keV
    table["energy_max"] = [60.0] * u.keV
    crab = crab_photon_flux(25 * u.keV, 60 * u.keV)
    table["value"] = [0.15 * crab.value] * crab.unit
    table["error"] = [0.01 * crab.value] * crab.unit
    converted = SpectralData.from_table(table)
    assert converted.value[0] == pytest.approx(150.0)
    assert converted.error[0] == pytest.approx(10.0)
    table["value"] = [0.15] * u.erg
    with pytest.raises(ValueError, match="value"):
        SpectralData.from_table(table)


def test_a_band_given_twice_is_an_error_naming_it():
    with pytest.raises(ValueError, match=r"band 25-30 keV of dataset 'data' is given 2 times"):
        _data(energy_min=[25.0, 25.0], energy_max=[30.0, 30.0])
    with pytest.raises(ValueError, match="bands 25-40 and 30-40 keV of dataset 'data' overlap"):
        _data(energy_min=[25.0, 30.0], energy_max=[40.0, 40.0])
    # the same band in two datasets (instruments) is fine
    both = _data(energy_min=[25.0, 25.0], energy_max=[30.0, 30.0], dataset=[0, 1])
    assert both.n_dataset == 2


def test_every_row_duplicated_is_refused_unless_deduplicated(tmp_path):
    data = _data()
    table = data.to_table()
    doubled = Table(np.concatenate([table.as_array(), table.as_array()]), meta=table.meta)
    for name in ("energy_min", "energy_max", "value", "error"):
        doubled[name].unit = table[name].unit
    path = tmp_path / "doubled.ecsv"
    doubled.write(path, format="ascii.ecsv")
    with pytest.raises(ValueError, match=r"doubled\.ecsv: energy_min, energy_max: band 25-30"):
        read_spectrum(path)
    back = read_spectrum(path, deduplicate=True)
    np.testing.assert_array_equal(back.error, data.error)
    # rows that share a band but differ are refused even when deduplicating
    doubled["value"][2] = 1.0
    doubled.write(path, format="ascii.ecsv", overwrite=True)
    with pytest.raises(ValueError, match="is given 2 times"):
        read_spectrum(path, deduplicate=True)


def test_cli_fit_of_a_doubled_spectrum_fails_naming_the_band(tmp_path, capsys):
    from bayesbg.cli import main

    data = _data()
    table = data.to_table()
    doubled = Table(np.concatenate([table.as_array(), table.as_array()]), meta=table.meta)
    for name in ("energy_min", "energy_max", "value", "error"):
        doubled[name].unit = table[name].unit
    path = tmp_path / "doubled.ecsv"
    doubled.write(path, format="ascii.ecsv")
    status = main(["spectrum", "fit", "--model", "powerlaw", "--data", str(path),
                   "--run-dir", str(tmp_path / "run")])
    assert status == 1
    assert "band 25-30 keV of dataset 'data' is given 2 times" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()
