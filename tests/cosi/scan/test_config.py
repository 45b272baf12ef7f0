"""The [scan_background] and [scan_template] tables of the COSI configuration file."""

from __future__ import annotations

import pytest

from bayesbg.cosi import CosiFitConfig, InstrumentSettings
from bayesbg.cosi.scan import ScanConfig

SCAN_TOML = """
[data]
dataset = "sim.nc"

[scan_background]
tracers = ["photo_event_rate", "shield_rate"]
n_blocks = [1, 2, 4]
sigma = [2.0, 5.0]

[scan_template]
sigma_l = [6.0, 8.0, 10.0]
sigma_b = [6.0, 8.0]
simulation_seed = 7
instrument_nside = 4
"""


def test_scan_tables_parse_and_errors_name_the_key():
    config = ScanConfig.from_toml(SCAN_TOML)
    assert config.fit.dataset.name == "sim.nc"
    assert config.background.n_blocks == (1, 2, 4)
    assert config.background.tracers == ("photo_event_rate", "shield_rate")
    assert config.template.sigma_b == (6.0, 8.0)
    assert config.template.instrument == InstrumentSettings(instrument_nside=4)
    assert config.template.to_dict()["instrument_nside"] == 4
    for old, new, key in (
        ("n_blocks = [1, 2, 4]", "n_blocks = [1, 0]", "scan_background.n_blocks"),
        ("sigma = [2.0, 5.0]", "sigma = [2.0, 5.0]\nnodes = 3", "scan_background.nodes"),
        ("sigma_b = [6.0, 8.0]", "sigma_b = [8.0, 6.0]", "scan_template.sigma_b"),
        ("simulation_seed = 7", "", "scan_template.simulation_seed"),
        ("sigma_l = [6.0, 8.0, 10.0]", "sigma_l = 6.0", "scan_template.sigma_l"),
        ("instrument_nside = 4", "instrument_nside = 0", "scan_template.instrument_nside"),
    ):
        with pytest.raises(ValueError, match=key.replace(".", r"\.")):
            ScanConfig.from_toml(SCAN_TOML.replace(old, new))
    with pytest.raises(ValueError, match="instrument_nside: expected a power of 2"):
        ScanConfig.from_toml(SCAN_TOML.replace("instrument_nside = 4", "instrument_nside = 6"))
    # the fit reads the same file and leaves the scan tables to the scans
    assert CosiFitConfig.from_toml(SCAN_TOML).dataset.name == "sim.nc"
    assert ScanConfig.from_toml("[data]\ndataset = 'sim.nc'\n").template is None
