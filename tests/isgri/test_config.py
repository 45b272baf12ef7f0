"""The TOML configuration of an ISGRI run."""

from __future__ import annotations

import pytest

from bayesbg.config import SamplerConfig
from bayesbg.isgri.config import IsgriRunConfig


def test_paths_are_relative_to_the_file_and_nuts_settings_are_kept(tmp_path):
    path = tmp_path / "isgri.toml"
    path.write_text('input = "scw.fits"\noutput = "runs/x"\nmethod = "mixture-nuts"\n'
                    "seed = 4\n[sampler]\nchains = 2\n")
    config = IsgriRunConfig.read(path)
    assert config.input == tmp_path / "scw.fits" and config.output == tmp_path / "runs" / "x"
    assert config.sampler == SamplerConfig(chains=2) and config.seed == 4
    assert config.to_dict()["sampler"]["chains"] == 2


def test_unknown_keys_and_invalid_choices_are_named(tmp_path):
    path = tmp_path / "isgri.toml"
    path.write_text("simulate_seed = 1\nbogus = 2\n")
    with pytest.raises(ValueError, match="bogus"):
        IsgriRunConfig.read(path)
    path.write_text('simulate_seed = 1\nmethod = "mixture"\n')
    with pytest.raises(ValueError, match="renamed 'mixture-nuts'"):
        IsgriRunConfig.read(path)
    with pytest.raises(ValueError, match="exactly one"):
        IsgriRunConfig()


def test_collimator_point_source_clip_band_and_fit_keys(tmp_path):
    path = tmp_path / "isgri.toml"
    path.write_text('simulate_seed = 2\nsimulate_spectrum = "ipm"\ndeduplicate = true\n'
                    'collimator = "tapered"\ncollimator_alternative = "flat"\n'
                    'clip_band = "168-185"\npoint_sources = ["Sco X-1"]\nspectral_fits = true\n'
                    '[spectral_sampler]\nchains = 2\n')
    config = IsgriRunConfig.read(path)
    assert config.collimator == "tapered" and config.collimator_alternative == "flat"
    assert config.clip_band.name == "168-185" and config.deduplicate
    assert [s.name for s in config.point_sources] == ["Sco X-1"]
    assert config.spectral_fits and config.spectral_sampler == SamplerConfig(chains=2)
    values = config.to_dict()
    assert values["point_sources"] == ["Sco X-1"] and values["simulate_spectrum"] == "ipm"
    defaults = IsgriRunConfig(simulate_seed=1)
    assert defaults.collimator == "flat" and defaults.collimator_alternative == "tapered"
    assert defaults.clip_band.name == "168.2-185" and not defaults.spectral_fits
    path.write_text('simulate_seed = 2\ncollimator_alternative = "none"\nclip_band = "none"\n')
    config = IsgriRunConfig.read(path)
    assert config.collimator_alternative is None and config.clip_band is None


@pytest.mark.parametrize("line,match", [
    ('collimator = "square"', "collimator: expected one of"),
    ('collimator_alternative = "flat"', "collimator_alternative: expected a shape other"),
    ('point_sources = ["Vela"]', "point_sources: expected names among"),
    ('point_sources = ["Crab"]', "the Crab is the calibration source"),
    ('clip_band = "high"', "clip_band"),
    ('simulate_spectrum = "bremss"', "simulate_spectrum: expected one of"),
    ("deduplicate = 1", "deduplicate: expected true or false"),
])
def test_bad_values_are_named(tmp_path, line, match):
    path = tmp_path / "isgri.toml"
    path.write_text(f"simulate_seed = 2\n{line}\n")
    with pytest.raises(ValueError, match=match):
        IsgriRunConfig.read(path)
