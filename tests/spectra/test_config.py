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
