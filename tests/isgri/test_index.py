"""The pointing table from a ScW index and rate tables (`bayesbg.isgri.index`) and the
script that chains it (``data_prep/isgri/build_pointing_table.py``)."""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bayesbg.isgri.index import (
    build_pointing_table,
    pointings_from_index,
    read_rate_table,
    read_scw_index,
    write_index_files,
)
from bayesbg.isgri.pointings import read_pointings
from bayesbg.isgri.simulate import orbit_times

SCRIPT = Path(__file__).resolve().parents[2] / "data_prep" / "isgri" / "build_pointing_table.py"


@pytest.fixture(autouse=True)
def _root_handlers_restored():
    """The script's ``main`` configures logging as a script should; undo it after each test
    (a handler left on pytest's closed capture stream would fail later tests' logging)."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in root.handlers:
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)


def _script():
    spec = importlib.util.spec_from_file_location("build_pointing_table", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _files(table, directory, fmt):
    start, end = orbit_times(np.unique(table.orbit))
    return write_index_files(table, directory, revolution_start=start, revolution_end=end,
                             fmt=fmt)


def _assert_same(back, table):
    np.testing.assert_array_equal(back.scw_id, table.scw_id)
    np.testing.assert_array_equal(back.orbit, table.orbit)
    np.testing.assert_array_equal(back.mode, table.mode)
    assert back.bands == table.bands
    np.testing.assert_allclose(back.phase, table.phase, atol=1e-9)
    np.testing.assert_allclose(back.time, table.time, rtol=0, atol=1e-8)
    dl = (back.l - table.l + 180.0) % 360.0 - 180.0
    assert np.max(np.abs(dl)) < 1e-8 and np.max(np.abs(back.b - table.b)) < 1e-8
    np.testing.assert_allclose(back.crab_offset, table.crab_offset, atol=1e-7)
    np.testing.assert_allclose(back.exposure, table.exposure, rtol=1e-12)
    np.testing.assert_allclose(back.rate, table.rate, rtol=1e-12)
    np.testing.assert_allclose(back.rate_error, table.rate_error, rtol=1e-12)


@pytest.mark.parametrize("fmt", ["fits", "csv"])
def test_index_and_rate_files_give_the_simulated_table_back(small_table, tmp_path, fmt):
    paths = _files(small_table, tmp_path, fmt)
    assert len(paths["rates"]) == 24
    back = build_pointing_table(paths["index"], paths["rates"],
                                revolutions_path=paths["revolutions"])
    _assert_same(back, small_table)


def test_script_writes_the_same_table_deterministically(small_table, tmp_path):
    script = _script()
    paths = _files(small_table, tmp_path / "in", "fits")
    out = tmp_path / "scw.fits"
    argv = ["--index", str(paths["index"]), "--rates", *map(str, paths["rates"]),
            "--revolutions", str(paths["revolutions"]), "--output", str(out)]
    assert script.main(argv) == 0
    _assert_same(read_pointings(out), small_table)
    assert script.main(argv) == 1  # exists, no --overwrite
    first = out.read_bytes()
    assert script.main([*argv, "--overwrite"]) == 0
    assert out.read_bytes() == first
    with pytest.raises(SystemExit) as stop:
        script.parse_args(["--help"])
    assert stop.value.code == 0


def test_errors_name_the_file_and_the_column(small_table, tmp_path, capsys):
    script = _script()
    paths = _files(small_table.select(np.arange(200)), tmp_path, "csv")
    index = pd.read_csv(paths["index"], dtype={"SWID": str})
    index.drop(columns="RA_SCX").to_csv(paths["index"], index=False)
    status = script.main(["--index", str(paths["index"]), "--rates", str(paths["rates"][0]),
                          "--output", str(tmp_path / "out.fits")])
    assert status == 1
    error = capsys.readouterr().err
    assert "scw_index.csv: column RA_SCX missing" in error and "Traceback" not in error
    index["RA_SCX"] = index["RA_SCX"].astype(object)
    index.loc[3, "RA_SCX"] = "n/a"
    index.to_csv(paths["index"], index=False)
    with pytest.raises(ValueError, match=r"scw_index\.csv: column RA_SCX: expected finite "
                                         r"numbers, found 'n/a' in row 3"):
        read_scw_index(paths["index"])
    rates = pd.read_csv(paths["rates"][0], dtype={"SWID": str})
    pd.concat([rates, rates.iloc[:2]]).to_csv(paths["rates"][0], index=False)
    with pytest.raises(ValueError, match=r"isgri_rate_25_60\.csv: column SWID: 2 ScW ids occur"):
        read_rate_table(paths["rates"][0])


def test_phase_without_revolutions_spans_the_observed_revolution(small_table, tmp_path):
    paths = _files(small_table.select(np.arange(300)), tmp_path, "csv")
    index = read_scw_index(paths["index"])
    band, rates = read_rate_table(paths["rates"][0])
    assert band.name == "25-60"
    table = pointings_from_index(index, {band: rates})
    for orbit in np.unique(table.orbit):
        phase = table.phase[table.orbit == orbit]
        assert phase.min() > 0 and phase.max() < 1
    with pytest.raises(ValueError, match="exposure"):
        pointings_from_index(index, {band: rates.drop(columns="exposure")})
    unknown = pd.concat([rates, rates.iloc[:1].assign(swid="999999990010")])
    unknown.attrs["path"] = "rates.csv"
    with pytest.raises(ValueError, match="rates.csv: column SWID: 1 ScW ids are not pointings"):
        pointings_from_index(index, {band: unknown})
