"""Binning events into a CosiDataset: layouts, counts, tracer, the simulated 511 keV point
source recovered by Compton-cone back-projection, and the ``bayesbg cosi bin`` command."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from bayesbg.cli import main
from bayesbg.cosi import load_dataset
from bayesbg.cosi.io import (
    BinningConfig,
    bin_events,
    cone_backprojection,
    fisbel_grid,
    psi_chi_layout,
    read_ori,
)
from bayesbg.cosi.io.orientation import lonlat_to_vectors
from bayesbg.cosi.io.sample_data import sample_data_dir

DATA = sample_data_dir()
CLASSIC = DATA / "classic-2016"
STEM = "SRC9det_PS511keV_l-010_b-010_simOP_160628_FullDay"
COMPTON = CLASSIC / f"{STEM}_CE0000-1000keV_EHCstandard.tra.gz"
PHOTO = CLASSIC / f"{STEM}_PE0000-1000keV_EHCstandard.tra.gz"
ORI = CLASSIC / "OP_160628_FullDay.ori"
needs_data = pytest.mark.skipif(not COMPTON.exists(), reason="real COSI files not available")


def _separation(lon: float, lat: float, lon0: float, lat0: float) -> float:
    cosine = lonlat_to_vectors(lon, lat) @ lonlat_to_vectors(lon0, lat0)
    return float(np.degrees(np.arccos(np.clip(cosine, -1, 1))))


def test_fisbel_layouts_of_the_2016_analyses() -> None:
    six = fisbel_grid(int(4 * np.pi / np.radians(6.0) ** 2))
    assert six.n_bin == 1145                      # flight_bg_all_v1_fine_6deg.npz
    assert fisbel_grid(1650).n_bin == 1650        # [COSI-511], 5 deg
    assert psi_chi_layout("bayesbg", bin_size=6.0).n_bin == 1144   # not the 2016 layout
    cos_edges = np.cos(np.radians(six.psi_edges))
    area = 2 * np.pi * (cos_edges[:-1] - cos_edges[1:]) / six.n_chi
    np.testing.assert_allclose(area, 4 * np.pi / 1145, rtol=1e-12)  # equal area
    centres = six.centres
    np.testing.assert_array_equal(six.index(centres[:, 0], centres[:, 1]), np.arange(1145))
    healpix = psi_chi_layout("healpix", nside=4)
    centres = healpix.centres
    np.testing.assert_array_equal(healpix.index(centres[:, 0], centres[:, 1]), np.arange(192))


def test_config_rejects_unknown_keys_and_bad_values(tmp_path: Path) -> None:
    path = tmp_path / "bin.toml"
    path.write_text('[binning]\nframe = "galactic"\ntime_bins = 60\n')
    with pytest.raises(ValueError, match=r"bin.toml: binning.time_bins: unknown key"):
        BinningConfig.read(path)
    with pytest.raises(ValueError, match="frame"):
        BinningConfig(frame="local")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="phi_bin"):
        BinningConfig(phi_bin=7.0)
    with pytest.raises(ValueError, match="energy_edges"):
        BinningConfig(energy_edges=(520.0, 500.0))


def _line_energies(path: Path) -> np.ndarray:
    energies = []
    with gzip.open(path, "rt") as handle:
        for line in handle:
            if line.startswith("CE"):
                words = line.split()
                energies.append(float(words[1]) + float(words[3]))
    return np.array(energies)


@needs_data
def test_counts_energy_spectrum_and_photo_tracer() -> None:
    energy = _line_energies(COMPTON)
    edges = (0.0, 400.0, 500.0, 506.0, 516.0, 530.0, 2000.0)
    binned = bin_events([COMPTON, PHOTO], BinningConfig(energy_edges=edges, time_bin=1800.0),
                        orientation=read_ori(ORI))
    dataset = binned.dataset
    assert binned.summary["compton_binned"] == 340 and binned.summary["photo_counted"] == 8698
    assert dataset.counts.sum() == 340
    per_energy = dataset.counts_per_data_bin().reshape(len(edges) - 1, -1).sum(axis=1)
    np.testing.assert_array_equal(per_energy, np.histogram(energy, bins=edges)[0])
    assert dataset.n_psi_chi == 1145 and dataset.n_phi == 30
    rate = dataset.tracers["photo_event_rate"]
    assert np.sum(rate * dataset.time_exposure) == pytest.approx(8698)
    assert dataset.time_edges[0] == pytest.approx(read_ori(ORI).seconds[0])


@needs_data
@pytest.mark.parametrize("pointing", ["events", "orientation"])
def test_point_source_back_projection_peaks_at_the_source(pointing: str) -> None:
    config = BinningConfig(frame="galactic", energy_edges=(500.0, 520.0), pointing=pointing)
    binned = bin_events(COMPTON, config, orientation=read_ori(ORI))
    assert binned.summary["pointing"] == pointing
    lon, lat, image = cone_backprojection(binned.dataset, nside=32)
    peak = int(np.argmax(image))
    assert _separation(lon[peak], lat[peak], -10.0, -10.0) < 4.0
    # a clear peak: the image far from the source is well below the maximum
    far = lonlat_to_vectors(lon, lat) @ lonlat_to_vectors(-10.0, -10.0) < np.cos(np.radians(60))
    assert image[far].max() < 0.7 * image[peak]


@needs_data
def test_bin_command_writes_a_dataset(tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "bin.toml"
    config.write_text('[binning]\nframe = "galactic"\nenergy_edges = [500, 520]\n'
                      'psi_chi = "healpix"\nnside = 8\n')
    output = tmp_path / "cosi.nc"
    status = main(["cosi", "bin", str(COMPTON), "--ori", str(ORI), "--config",
                   str(config), "--output", str(output)])
    assert status == 0
    dataset = load_dataset(output)
    assert dataset.n_psi_chi == 768 and dataset.n_time == 25
    assert set(dataset.tracers) == {"compton_event_rate"}  # no photo events given
    with xr.open_dataset(output, engine="h5netcdf") as ds:
        assert ds.attrs["psi_chi_layout"] == "healpix"
        assert ds.attrs["psi_chi_frame"] == "galactic"
        assert ds.attrs["time_reference"] == "unix"
    assert main(["cosi", "bin", str(COMPTON), "--output", str(output)]) != 0
    assert "exists; pass --overwrite" in capsys.readouterr().err


@needs_data
def test_chunked_binning_equals_whole_file_binning() -> None:
    orientation = read_ori(ORI)
    small = bin_events(COMPTON, BinningConfig(chunk_size=37, frame="galactic"),
                       orientation=orientation).dataset
    whole = bin_events(COMPTON, BinningConfig(frame="galactic"),
                       orientation=orientation).dataset
    assert (small.counts.toarray() == whole.counts.toarray()).all()
    np.testing.assert_array_equal(small.time_edges, whole.time_edges)


def test_bin_help_shows_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["cosi", "bin", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "example" in out and "bayesbg cosi bin" in out and "--log-level" in out


def test_unsorted_events_without_a_time_range(tmp_path: Path) -> None:
    record = ("SE\nET CO\nTI {t}\nGX 0 0\nGZ 0 90\nCE 300 1 211 1\n"
              "CD 0 0 1 0 0 0 0 0 0 0 0 0\n")
    path = tmp_path / "unsorted.tra"
    path.write_text("".join(record.format(t=t) for t in (5000.0, 7300.0, 100.0)) + "EN\n")
    binned = bin_events(path, BinningConfig(time_bin=3600.0, chunk_size=2,
                                            energy_edges=(0.0, 1000.0)))
    dataset = binned.dataset
    # the first chunk starts the bins at 5000 s; the later event at 100 s shifts them back
    # by two bins: edges -2200, 1400, 5000, 8600
    np.testing.assert_array_equal(dataset.time_edges, [-2200.0, 1400.0, 5000.0, 8600.0])
    np.testing.assert_array_equal(dataset.counts_per_time(), [1, 0, 2])
    np.testing.assert_array_equal(dataset.tracers["compton_event_rate"] * 3600.0, [1, 0, 2])
