"""``bayesbg cosi deconvolve CONFIG``: configuration, run directory, FITS cube, figures."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bayesbg.cli import main
from bayesbg.cosi import InstrumentSettings, simulate_cosi
from bayesbg.cosi.imaging import DeconvolveConfig, read_healpix_fits, run_deconvolve_config
from bayesbg.cosi.io.orientation import read_ori
from bayesbg.cosi.io.sample_data import sample_data_dir

ORI = sample_data_dir() / "classic-2016" / "OP_160628_FullDay.ori"
needs_ori = pytest.mark.skipif(not ORI.is_file(), reason=f"{ORI} not available")

CONFIG = """
run_dir = "runs/crab"
[data]
dataset = "crab.nc"
[pointing]
balloon_seed = 3
[response]
nside = 8
instrument_nside = 8
application = "{application}"
[background]
scheme = "equidistant"
n_blocks = 2
[deconvolution]
iterations = 8
smoothing_fwhm = 15.0
background_perturbation = 0.05
reference_iterations = 10
[output]
source = [184.56, -5.78]
source_name = "Crab"
iterations = [2]
"""


@pytest.fixture(scope="module")
def crab_files(tmp_path_factory):
    directory = tmp_path_factory.mktemp("deconvolve")
    dataset, _ = simulate_cosi(3, n_time=24, bin_size=15.0, sky="point",
                               instrument=InstrumentSettings(instrument_nside=8),
                               flux=4.5e-3, source_lon=184.56, source_lat=-5.78,
                               n_change_points=0)
    dataset.write(directory / "crab.nc")
    return directory


def test_deconvolve_command_writes_a_complete_run_directory(crab_files, capsys):
    config = crab_files / "crab.toml"
    config.write_text(CONFIG.format(application="matrix_free"), encoding="utf-8")
    run_dir = crab_files / "runs" / "cli"
    assert main(["cosi", "deconvolve", str(config), "--run-dir", str(run_dir),
                 "--no-report"]) == 0
    out = capsys.readouterr().out
    assert "Chosen iteration" in out and "Classic RL reaches" in out
    for name in ("summary.json", "image_cube.fits", "imaging_map.png", "imaging_ts.png",
                 "history.csv"):
        assert (run_dir / name).is_file(), name
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["run_type"] == "cosi_deconvolution"
    assert summary["checks"][0]["status"] == "pass"
    assert len(summary["ts"]) == 9
    chosen = summary["chosen_iteration"]
    maps = read_healpix_fits(str(run_dir / "image_cube.fits"))
    assert {f"ITER_{chosen}", "ITER_2", "ITER_8", "SENSITIVITY", "MASK"} <= set(maps)
    assert maps[f"ITER_{chosen}"].size == 768
    assert np.isclose(maps[f"ITER_{chosen}"].sum(), summary["flux"][chosen])
    # an existing run is kept unless --overwrite: a message and a non-zero exit
    assert main(["cosi", "deconvolve", str(config), "--run-dir", str(run_dir),
                 "--no-report"]) != 0
    assert "already exists" in capsys.readouterr().err


def test_dense_and_sparse_applications_give_the_matrix_free_image(crab_files):
    from bayesbg.cosi.imaging import run_deconvolve_config

    images = {}
    for application in ("matrix_free", "sparse"):
        config = DeconvolveConfig.from_toml(
            CONFIG.format(application=application).replace("reference_iterations = 10",
                                                           "reference_iterations = 0"),
            base=crab_files)
        run = run_deconvolve_config(config, run_dir=crab_files / "runs" / application)
        images[application] = run.result.images[-1]
    assert np.allclose(images["sparse"], images["matrix_free"], rtol=1e-6, atol=1e-12)


def test_config_rejects_unknown_keys_and_bad_values(crab_files):
    text = CONFIG.format(application="matrix_free")
    with pytest.raises(ValueError, match="speed"):
        DeconvolveConfig.from_toml(text + "speed = 1\n", base=crab_files)
    with pytest.raises(ValueError, match="application"):
        DeconvolveConfig.from_toml(CONFIG.format(application="gpu"), base=crab_files)
    with pytest.raises(ValueError, match="pointing"):
        DeconvolveConfig.from_toml(text.replace("balloon_seed = 3", ""), base=crab_files)
    with pytest.raises(ValueError, match="iterations"):
        DeconvolveConfig.from_toml(text.replace("iterations = 8", "iterations = 0"),
                                   base=crab_files)


@needs_ori
def test_deconvolve_config_takes_an_orientation_file(tmp_path):
    orientation = read_ori(ORI)
    dataset, _ = simulate_cosi(8, n_time=6, bin_size=20.0, sky="point",
                               instrument=InstrumentSettings(instrument_nside=8),
                               flux=4.5e-3, source_lon=330.0, source_lat=30.0,
                               n_change_points=0)
    dataset.write(tmp_path / "sim.nc")
    text = f"""
[data]
dataset = "sim.nc"
[pointing]
orientation = "{ORI}"
altitude = 33.0
time_offset = {float(orientation.seconds[0]) + 600.0!r}
[response]
nside = 8
instrument_nside = 8
[background]
scheme = "equidistant"
n_blocks = 2
[deconvolution]
iterations = 3
"""
    config = DeconvolveConfig.from_toml(text, base=tmp_path)
    assert config.orientation_file == ORI and config.substeps is None
    assert config.to_dict()["pointing"]["altitude"] == 33.0
    run = run_deconvolve_config(config, run_dir=tmp_path / "run")
    assert np.all(np.isfinite(run.result.images[-1])) and run.result.images[-1].sum() > 0
    with pytest.raises(ValueError, match="exactly one"):
        DeconvolveConfig.from_toml(text.replace("[pointing]", "[pointing]\nballoon_seed = 8"),
                                   base=tmp_path)
