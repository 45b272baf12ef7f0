"""The COSI fit configuration: [background] from_scan takes the scan's selected variant."""

from __future__ import annotations

import json

import pytest

from bayesbg.cosi import CosiFitConfig
from bayesbg.cosi.config import read_scan_selection
from bayesbg.stan import sha256_file

FIT_TOML = """
seed = 3
run_dir = "runs/fit"

[data]
dataset = "sim.nc"

[background]
from_scan = "runs/fit-scan-background"
"""


def _scan(tmp_path, dataset, selected, run_type="cosi_scan_background"):
    scan = tmp_path / "runs" / "fit-scan-background"
    scan.mkdir(parents=True)
    (scan / "summary.json").write_text(json.dumps({
        "run_type": run_type, "selected": selected,
        "inputs_sha256": {"dataset": sha256_file(dataset)}}))
    return scan


def test_from_scan_takes_the_selected_variant(tmp_path):
    dataset = tmp_path / "sim.nc"
    dataset.write_bytes(b"data")
    (tmp_path / "cosi.toml").write_text(FIT_TOML)
    config = CosiFitConfig.read(tmp_path / "cosi.toml")
    assert config.from_scan == tmp_path / "runs" / "fit-scan-background"
    # read lazily: the scan may run after the file is read
    with pytest.raises(FileNotFoundError, match="scan-background.*first"):
        config.resolved()
    _scan(tmp_path, dataset, {"scheme": "equidistant", "setting": 8.0,
                              "tracer": "shield_rate", "detrend": False, "key": "x"})
    resolved = config.resolved()
    assert (resolved.scheme, resolved.n_blocks, resolved.tracer, resolved.detrend) == \
        ("equidistant", 8, "shield_rate", False)
    assert resolved.scan_selection["key"] == "x"
    assert resolved.to_dict()["scan_selection"]["tracer"] == "shield_rate"
    assert resolved.resolved() is resolved
    # another dataset than the scan's is refused
    dataset.write_bytes(b"other data")
    with pytest.raises(ValueError, match="another dataset"):
        config.resolved()


def test_from_scan_bayesian_blocks_and_errors(tmp_path):
    dataset = tmp_path / "sim.nc"
    dataset.write_bytes(b"data")
    scan = _scan(tmp_path, dataset, {"scheme": "bayesian_blocks", "setting": 2.5,
                                     "tracer": "photo_event_rate", "detrend": True})
    selected = read_scan_selection(scan, dataset=dataset)
    assert selected["run_dir"] == str(scan)
    config = CosiFitConfig.from_toml(FIT_TOML, base=tmp_path).resolved()
    assert (config.scheme, config.sigma) == ("bayesian_blocks", 2.5)
    with pytest.raises(ValueError, match=r"background\.from_scan: .*remove tracer"):
        CosiFitConfig.from_toml(FIT_TOML + 'tracer = "shield_rate"\n')
    other = tmp_path / "other"
    other.mkdir()
    (other / "summary.json").write_text(json.dumps({"run_type": "cosi_scan_template"}))
    with pytest.raises(ValueError, match="not a background scan"):
        read_scan_selection(other)
