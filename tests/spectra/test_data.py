"""Containers, file format, Crab units, model specifications, simulator, IPM."""

from __future__ import annotations

import astropy.units as u
import numpy as np
import pytest
from astropy.table import Table

from bayesbg.spectra import (
    REFERENCE_FITS,
    SpectralData,
    SpectralModel,
    crab_energy_flux,
    crab_photon_flux,
    isgri_bands,
    isgri_errors,
    mcrab_to_photon_flux,
    photon_flux_to_mcrab,
    predict_components,
    prepare,
    read_spectrum,
    shock_temperature,
    simulate_spectrum,
    write_spectrum,
)
from bayesbg.spectra.data import MCRAB
from bayesbg.spectra.ipm import white_dwarf_radius


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


def test_crab_units():
    assert crab_photon_flux(25 * u.keV, 60 * u.keV).to_value("cm-2 s-1") == pytest.approx(
        10 / 1.1 * (25**-1.1 - 60**-1.1), rel=1e-12)
    assert crab_energy_flux(30 * u.keV, 80 * u.keV).to_value("erg s-1 cm-2") == pytest.approx(
        100 * (30**-0.1 - 80**-0.1) * 1.602176634e-9, rel=1e-10)
    # the same band in MeV
    assert crab_photon_flux(0.025 * u.MeV, 0.06 * u.MeV).to_value("cm-2 s-1") == \
        pytest.approx(crab_photon_flux(25 * u.keV, 60 * u.keV).to_value("cm-2 s-1"))
    flux = mcrab_to_photon_flux([150.0], [25.0] * u.keV, [60.0] * u.keV)
    assert photon_flux_to_mcrab(flux, [25.0] * u.keV, [60.0] * u.keV) == pytest.approx([150.0])


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
    assert MCRAB.to_string() == "mCrab"


def test_model_parse():
    model = SpectralModel.parse("cutoffpl+powerlaw+powerlaw",
                                fixed={"cutoffpl.index": 0, "powerlaw_2.index": 1.55})
    assert model.component_names == ("cutoffpl", "powerlaw", "powerlaw_2")
    assert model.free_shape_names == ("cutoffpl.ecut", "powerlaw.index")
    stan = model.stan_components()
    assert stan["P"] == 2
    np.testing.assert_array_equal(stan["shape_free"], [[0, 1, 0], [2, 0, 0], [0, 0, 0]])
    assert stan["shape_fixed"][2, 0] == 1.55
    with pytest.raises(ValueError, match="unknown component"):
        SpectralModel.parse("cutoffpl+blackbody")
    with pytest.raises(ValueError, match="fixed"):
        SpectralModel.parse("powerlaw", fixed={"powerlaw.ecut": 1.0})
    with pytest.raises(ValueError, match="priors"):
        SpectralModel.parse("powerlaw", priors={"powerlaw.index": {"mean": 1.0}})
    with pytest.raises(ValueError, match="lower"):
        SpectralModel.parse("powerlaw", priors={"powerlaw.index": {"lower": 7.0}})


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
    expected = predict_components(prepare(simulate_spectrum(0, model=model,
                                                             truth=ref["truth"]), model),
                                  ref["truth"]).sum(axis=0)
    draws = np.array([simulate_spectrum(s, model=model, truth=ref["truth"]).value
                      for s in range(300)])
    error = isgri_errors("GB", *isgri_bands())
    z = (draws.mean(axis=0) - expected) / (error / np.sqrt(300))
    assert np.all(np.abs(z) < 4)
    assert np.std((draws - expected) / error) == pytest.approx(1.0, abs=0.05)
    data = simulate_spectrum(5, model=model, truth=ref["truth"], region="L+20",
                             upper_limit_sigma=2.0)
    np.testing.assert_allclose(data.value[data.upper_limit], 2 * data.error[data.upper_limit])
    assert np.all(data.value[~data.upper_limit] >= 2 * data.error[~data.upper_limit])


def test_white_dwarf_relations():
    # Nauenberg: R ~ 0.0112 Rsun x 1.0 at 0.7 Msun; shock temperature ~28 keV (DOMAIN.md 4)
    assert white_dwarf_radius(0.7) == pytest.approx(7.8e8, rel=0.02)
    assert float(shock_temperature(0.7)) == pytest.approx(28.5, abs=0.3)
    kt = shock_temperature(np.linspace(0.3, 1.35, 20))
    assert np.all(np.diff(kt) > 0)
    with pytest.raises(ValueError, match="mass"):
        white_dwarf_radius(1.5)
