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
