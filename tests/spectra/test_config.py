"""The TOML configuration of a spectral fit."""

from __future__ import annotations

import pytest

from bayesbg.config import SamplerConfig
from bayesbg.spectra.config import SpectrumFitConfig


def test_config_rejects_unknown_keys(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[spectrum]\nmodel = "powerlaw"\nfixd = {}\n')
    with pytest.raises(ValueError, match="fixd"):
        SpectrumFitConfig.read(path)
    path.write_text('[spectrum]\nmodel = "powerlaw"\n[sampler]\nchains = 2\n')
    config = SpectrumFitConfig.read(path)
    assert config.model == "powerlaw" and config.sampler == SamplerConfig(chains=2)


def test_deduplicate_key_is_a_boolean(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[spectrum]\nmodel = "powerlaw"\ndeduplicate = true\n')
    assert SpectrumFitConfig.read(path).deduplicate is True
    assert SpectrumFitConfig().deduplicate is False
    path.write_text('[spectrum]\nmodel = "powerlaw"\ndeduplicate = "yes"\n')
    with pytest.raises(ValueError, match="deduplicate: expected true or false"):
        SpectrumFitConfig.read(path)
