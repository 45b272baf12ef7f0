"""OGIP PHA/RMF/ARF files: write and read back, errors naming the file."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits

from bayesbg.spectra.ogip import OgipSpectrum, read_arf, read_ogip_spectrum, write_ogip_spectrum


def _spectrum(poisson: bool) -> OgipSpectrum:
    rng = np.random.default_rng(3)
    edges = np.geomspace(3.0, 80.0, 41)
    channels = np.geomspace(3.0, 79.0, 21)
    response = np.zeros((20, 40))
    for j in range(40):
        k = min(19, j // 2)
        response[k, j] = 300.0
        if k + 1 < 20:
            response[k + 1, j] = 30.0
    common = dict(name="NuSTAR FPMA", channel_energy_min=channels[:-1],
                  channel_energy_max=channels[1:], energy_true_edges=edges,
                  response=response, exposure=1400.0)
    if poisson:
        return OgipSpectrum(counts=rng.poisson(50, 20), background=np.full(20, 0.5), **common)
    return OgipSpectrum(rate=rng.normal(1.0, 0.1, 20), rate_error=np.full(20, 0.1),
                        systematic=0.02, **common)


@pytest.mark.parametrize("poisson", [True, False])
def test_write_and_read_back(tmp_path, poisson):
    spectrum = _spectrum(poisson)
    path = write_ogip_spectrum(spectrum, tmp_path / "fpma.pha")
    back = read_ogip_spectrum(path)
    assert back.name == "NuSTAR FPMA"
    assert back.poisson == poisson
    np.testing.assert_allclose(back.response, spectrum.response)
    np.testing.assert_allclose(back.energy_true_edges, spectrum.energy_true_edges)
    np.testing.assert_allclose(back.channel_energy_min, spectrum.channel_energy_min)
    assert back.exposure == spectrum.exposure
    if poisson:
        np.testing.assert_array_equal(back.counts, spectrum.counts)
        np.testing.assert_allclose(back.background, spectrum.background)
    else:
        np.testing.assert_allclose(back.rate, spectrum.rate)
        assert back.systematic == pytest.approx(0.02)


def test_arf_multiplies_the_rmf(tmp_path):
    spectrum = _spectrum(True)
    path = write_ogip_spectrum(spectrum, tmp_path / "a.pha")
    area = np.linspace(1.0, 2.0, 40)
    edges = spectrum.energy_true_edges
    arf = fits.BinTableHDU.from_columns([
        fits.Column("ENERG_LO", "D", array=edges[:-1]),
        fits.Column("ENERG_HI", "D", array=edges[1:]),
        fits.Column("SPECRESP", "D", array=area)])
    arf.header["EXTNAME"] = "SPECRESP"
    fits.HDUList([fits.PrimaryHDU(), arf]).writeto(tmp_path / "a.arf")
    with fits.open(path, mode="update") as hdul:
        hdul["SPECTRUM"].header["ANCRFILE"] = "a.arf"
    np.testing.assert_allclose(read_arf(tmp_path / "a.arf")[0], area)
    np.testing.assert_allclose(read_ogip_spectrum(path).response,
                               spectrum.response * area[None, :])


def test_good_channels_select_an_energy_range():
    spectrum = _spectrum(True)
    inside = spectrum.good_channels(10.0, 50.0)
    assert np.all(spectrum.channel_energy_min[inside] >= 10.0)
    assert np.all(spectrum.channel_energy_max[inside] <= 50.0)


def test_missing_response_names_the_file(tmp_path):
    path = write_ogip_spectrum(_spectrum(True), tmp_path / "b.pha")
    (tmp_path / "b.rmf").unlink()
    with pytest.raises(FileNotFoundError):
        read_ogip_spectrum(path)
    with fits.open(path, mode="update") as hdul:
        hdul["SPECTRUM"].header["RESPFILE"] = "NONE"
    with pytest.raises(ValueError, match="b.pha: RESPFILE"):
        read_ogip_spectrum(path)


def test_bad_fields_raise():
    good = _spectrum(True)
    with pytest.raises(ValueError, match="counts"):
        OgipSpectrum(**{**vars(good), "counts": -good.counts})
    with pytest.raises(ValueError, match="response"):
        OgipSpectrum(**{**vars(good), "response": good.response[:, :5]})
    with pytest.raises(ValueError, match="exposure"):
        OgipSpectrum(**{**vars(good), "exposure": 0.0})
