"""add_to_run_dir: a later stage (checks, figures) adds to a finished run directory."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bayesbg.stan import add_to_run_dir, load_run, write_analysis_run_dir, write_run_dir

CHECK = {"name": "zero", "status": "pass", "detail": "0.3 sigma", "advice": ""}


def _analysis_run(run_dir):
    return write_analysis_run_dir(
        run_dir, run_type="test_analysis",
        summary={"checks": [CHECK], "figures": [{"file": "a.png", "caption": "first"}]},
        files={"a.png": b"\x89PNG a"}, inputs={}, config={}, seed=1)


def test_files_and_entries_are_added_and_replaced_by_name(tmp_path):
    run_dir = _analysis_run(tmp_path / "run")
    later = {"name": "later", "status": "warn", "detail": "2 of 40 outside", "advice": "look"}
    written = add_to_run_dir(
        run_dir, files={"b.png": b"\x89PNG b", "sub/c.txt": lambda path: path.write_text("c")},
        summary={"checks": [later], "figures": [{"file": "b.png", "caption": "second"}],
                 "my_check": {"value": np.float64(0.25), "bins": np.arange(3)}})
    assert written == run_dir
    assert (run_dir / "b.png").read_bytes() == b"\x89PNG b"
    assert (run_dir / "sub" / "c.txt").read_text() == "c"
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["checks"] == [CHECK, later]
    assert [f["file"] for f in summary["figures"]] == ["a.png", "b.png"]
    assert summary["my_check"] == {"value": 0.25, "bins": [0, 1, 2]}
    assert summary["files"]["extra"] == ["a.png", "b.png", "sub/c.txt"]
    assert summary["run_type"] == "test_analysis" and summary["seed"] == 1
    assert not [p for p in run_dir.rglob(".*")]  # no temporaries left

    # running the stage again replaces its entries and files
    add_to_run_dir(run_dir, files={"b.png": b"\x89PNG again"},
                   summary={"checks": [{**later, "status": "pass"}],
                            "figures": [{"file": "b.png", "caption": "again"}]})
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["checks"] == [CHECK, {**later, "status": "pass"}]
    assert summary["figures"][1] == {"file": "b.png", "caption": "again"}
    assert (run_dir / "b.png").read_bytes() == b"\x89PNG again"
    assert summary["files"]["extra"] == ["a.png", "b.png", "sub/c.txt"]


@pytest.mark.parametrize("change, match", [
    ({"summary": {"seed": 2}}, "'seed' is set by the run layer"),
    ({"summary": {"parameters": {}}}, "'parameters' is set by the run layer"),
    ({"files": {"posterior.nc": b""}}, "own files"),
    ({"files": {"../x.png": b""}}, "relative path inside"),
    ({"summary": {"figures": [{"file": "missing.png", "caption": ""}]}}, "not among"),
    ({"summary": {"checks": [{"name": "x", "status": "ok"}]}}, "status must be one of"),
    ({"summary": {"when": object()}}, "JSON-ready"),
])
def test_bad_additions_raise_and_write_nothing(tmp_path, change, match):
    run_dir = _analysis_run(tmp_path / "run")
    before = {p.name: p.read_bytes() for p in run_dir.iterdir()}
    with pytest.raises((ValueError, TypeError), match=match):
        add_to_run_dir(run_dir, **change)
    assert {p.name: p.read_bytes() for p in run_dir.iterdir()} == before


def test_only_finished_runs_take_additions(tmp_path):
    (tmp_path / "half").mkdir()
    with pytest.raises(FileNotFoundError, match="not a finished run"):
        add_to_run_dir(tmp_path / "half", summary={"x": 1})


@pytest.mark.stan
def test_a_fit_lists_added_files_as_extra(small_fit, tmp_path):
    run_dir = write_run_dir(
        tmp_path / "fit", inference_data=small_fit.inference_data, fit=small_fit.fit,
        diagnostics=small_fit.diagnostics, config=small_fit.config, seed=small_fit.seed,
        summary_table=small_fit.summary, inputs={}, files={"table.txt": b"t\n"})
    before = json.loads((run_dir / "summary.json").read_text())
    add_to_run_dir(run_dir, files={"check.png": b"\x89PNG"},
                   summary={"checks": [CHECK],
                            "figures": [{"file": "check.png", "caption": "a check"}]})
    run = load_run(run_dir)
    assert run.has_posterior
    assert run.summary["files"]["extra"] == ["check.png", "table.txt"]
    assert run.summary["parameters"] == before["parameters"]
    assert run.summary["checks"] == [CHECK]
