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
