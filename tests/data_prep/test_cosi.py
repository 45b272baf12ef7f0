"""data_prep/cosi: the scripts are deterministic and record their inputs' SHA-256."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import h5py
import pytest

from bayesbg.cosi import load_dataset
from bayesbg.cosi.flight import load_flight_geometry, read_truth
from bayesbg.cosi.io.sample_data import sample_data_dir

SCRIPTS = Path(__file__).resolve().parents[2] / "data_prep" / "cosi"
CLASSIC = sample_data_dir() / "classic-2016"
needs_files = pytest.mark.skipif(not (CLASSIC / "OP_160628_FullDay.ori").exists(),
                                 reason="real COSI 2016 files not available")


def _run(script: str, out: Path, *args: str) -> None:
    subprocess.run([sys.executable, str(SCRIPTS / script), "--output-dir", str(out), *args],
                   check=True, capture_output=True, text=True, timeout=900)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@needs_files
def test_flight_data_is_byte_for_byte_deterministic(tmp_path):
    args = ("--hours", "24", "--substeps", "4", "--change-points", "8", "--factors", "1.2")
    _run("flight_data.py", tmp_path / "a", *args)
    _run("flight_data.py", tmp_path / "b", *args)
    for name in ("cosi_511_flight.nc", "cosi_511_flight_geometry.nc"):
        assert _digest(tmp_path / "a" / name) == _digest(tmp_path / "b" / name), name
    dataset = load_dataset(tmp_path / "a" / "cosi_511_flight.nc")
    assert set(dataset.template_names) == {"bulge", "thin_disk", "thick_disk"}
    assert dataset.n_time == 24 and dataset.n_data_bin == 34350
    truth = read_truth(tmp_path / "a" / "cosi_511_flight.nc")
    assert truth["flux"] == {"bulge": 1e-3, "thick_disk": 2e-4}
    assert truth["change_points"] == [8]
    with h5py.File(tmp_path / "a" / "cosi_511_flight.nc") as handle:
        provenance = json.loads(handle.attrs["provenance"])
    assert provenance["inputs"]["orientation"]["sha256"].startswith("b918e036")
    assert provenance["arguments"]["hours"] == 24
    geometry = load_flight_geometry(tmp_path / "a" / "cosi_511_flight_geometry.nc")
    assert geometry.provenance["inputs"]["background"]["sha256"].startswith("70858d12")


@needs_files
def test_megalib_point_source_is_byte_for_byte_deterministic(tmp_path):
    _run("megalib_point_source.py", tmp_path / "a")
    _run("megalib_point_source.py", tmp_path / "b")
    for name in ("megalib_point_source.nc", "megalib_point_source_geometry.nc",
                 "megalib_point_source_binned.nc"):
        assert _digest(tmp_path / "a" / name) == _digest(tmp_path / "b" / name), name
    events = load_dataset(tmp_path / "a" / "megalib_point_source.nc")
    assert events.counts.sum() == 182 and events.template_names == ("point_source",)
    assert "photo_event_rate" in events.tracers


def test_a_changed_input_is_refused(tmp_path):
    fake = tmp_path / "classic"
    fake.mkdir()
    for name in ("OP_160628_FullDay.ori", "tracer.npz", "flight_bg_all_v1_fine_6deg.npz"):
        (fake / name).write_bytes(b"not the file")
    result = subprocess.run([sys.executable, str(SCRIPTS / "flight_data.py"), "--output-dir",
                             str(tmp_path / "out"), "--data", str(fake)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert "error: orientation:" in result.stderr and "expected b918e036" in result.stderr
    assert "Traceback" not in result.stderr
