"""Run directories without posterior draws (write_analysis_run_dir) and extra files."""

from __future__ import annotations

import hashlib
import json

import matplotlib
import pytest

from bayesbg.stan import load_run, sha256_file, write_analysis_run_dir, write_run_dir

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

TABLE = {"title": "Fluxes", "columns": ["region", "flux"], "rows": [["GB", 1.5], ["L+20", 0.5]]}


def _figure(path):
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1], [0, 1])
    fig.savefig(path)
    plt.close(fig)


def _write(run_dir, tmp_path, **kwargs):
    data = tmp_path / "input.bin"
    if not data.exists():
        data.write_bytes(b"pointings\x00" * 1000)
    arguments = {
        "run_type": "test_analysis",
        "summary": {"tables": [TABLE], "figures": [{"file": "fig.png", "caption": "a line"}],
                    "checks": [{"name": "zero", "status": "warn", "detail": "1.9 sigma",
                                "advice": "look"}],
                    "key_result": "GB 1.5 mCrab"},
        "files": {"fig.png": _figure, "tables/flux.csv": b"region,flux\nGB,1.5\n"},
        "inputs": {"pointings": data},
        "config": {"method": "gaussian", "input": data, "band": (25.0, 60.0)},
        "seed": 3,
        "wall_time_s": 1.25,
    }
    arguments.update(kwargs)
    return write_analysis_run_dir(run_dir, **arguments)


def test_analysis_run_directory_contents_and_hashes(tmp_path):
    run_dir = _write(tmp_path / "runs" / "a", tmp_path)
    assert run_dir == tmp_path / "runs" / "a"
    assert sorted(p.name for p in run_dir.iterdir()) == ["fig.png", "summary.json", "tables"]
    assert (run_dir / "tables" / "flux.csv").read_bytes() == b"region,flux\nGB,1.5\n"
    assert (run_dir / "fig.png").read_bytes()[:4] == b"\x89PNG"
    assert not [p for p in run_dir.parent.iterdir() if p.name.startswith(".")]

    summary = json.loads((run_dir / "summary.json").read_text())
    expected = hashlib.sha256(b"pointings\x00" * 1000).hexdigest()
    assert summary["inputs_sha256"] == {"pointings": expected}
    assert sha256_file(tmp_path / "input.bin") == expected
    assert summary["run_type"] == "test_analysis" and summary["seed"] == 3
    assert summary["wall_time_s"] == 1.25
    assert set(summary["versions"]) >= {"bayesbg", "numpy", "astropy", "python"}
    assert "cmdstan" not in summary["versions"]
    assert summary["config"] == {"method": "gaussian", "input": str(tmp_path / "input.bin"),
                                 "band": [25.0, 60.0]}
    canonical = json.dumps(summary["config"], sort_keys=True, separators=(",", ":"))
    assert summary["config_sha256"] == hashlib.sha256(canonical.encode()).hexdigest()
    assert summary["files"]["extra"] == ["fig.png", "tables/flux.csv"]
    assert summary["tables"] == [TABLE] and summary["key_result"] == "GB 1.5 mCrab"

    run = load_run(run_dir)
    assert run.inference_data is None and run.config is None and not run.has_posterior
    assert run.run_type == "test_analysis" and run.summary == summary


def test_stan_versions_are_recorded_when_given(tmp_path):
    run_dir = _write(tmp_path / "s", tmp_path, stan_versions={"cmdstan": "2.35.0",
                                                              "stanc": "stanc3 v2.35.0"})
    versions = json.loads((run_dir / "summary.json").read_text())["versions"]
    assert versions["cmdstan"] == "2.35.0" and versions["stanc"] == "stanc3 v2.35.0"


def test_failure_while_writing_leaves_nothing_behind(tmp_path):
    def broken(path):
        path.write_bytes(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        _write(tmp_path / "runs" / "b", tmp_path, files={"fig.png": _figure, "x.txt": broken})
    assert list((tmp_path / "runs").iterdir()) == []

    with pytest.raises(ValueError, match="did not create"):
        _write(tmp_path / "runs" / "b", tmp_path, files={"fig.png": lambda path: None})
    assert list((tmp_path / "runs").iterdir()) == []


def test_existing_run_is_refused_unless_overwrite(tmp_path):
    run_dir = _write(tmp_path / "c", tmp_path, seed=1)
    before = (run_dir / "summary.json").read_bytes()
    with pytest.raises(FileExistsError, match="--overwrite") as info:
        _write(run_dir, tmp_path, seed=2)
    assert str(run_dir) in str(info.value)
    assert (run_dir / "summary.json").read_bytes() == before
    _write(run_dir, tmp_path, seed=2, files={"fig.png": _figure}, overwrite=True)
    assert json.loads((run_dir / "summary.json").read_text())["seed"] == 2
    assert not (run_dir / "tables").exists()  # replaced as a whole, not merged
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c", "input.bin"]


@pytest.mark.parametrize("change, match", [
    ({"run_type": ""}, "run_type"),
    ({"summary": {"seed": 1}}, "'seed' is set by write_analysis_run_dir"),
    ({"files": {"../escape.png": b""}}, "relative path inside"),
    ({"files": {"summary.json": b"{}"}}, "own files"),
    ({"files": {"fig.png": "not bytes"}}, "expected bytes or a callable"),
    ({"summary": {"figures": [{"file": "missing.png", "caption": ""}]}}, "not among"),
    ({"summary": {"checks": [{"name": "x", "status": "ok"}]}}, "status must be one of"),
    ({"summary": {"tables": [{"title": "t", "columns": ["a"], "rows": [[1, 2]]}]}},
     "needs 1 cells"),
    ({"summary": {"key_result": 3}}, "key_result"),
    ({"config": {"when": object()}}, "JSON-ready"),
])
def test_bad_arguments_raise_naming_the_field(tmp_path, change, match):
    with pytest.raises((ValueError, TypeError), match=match):
        _write(tmp_path / "d", tmp_path, **change)
    assert not (tmp_path / "d").exists()


def test_missing_input_file_raises(tmp_path):
    with pytest.raises(FileNotFoundError, match="inputs\\['pointings'\\]"):
        _write(tmp_path / "e", tmp_path, inputs={"pointings": tmp_path / "nope.fits"})


@pytest.mark.stan
def test_fit_run_directory_takes_extra_files_before_the_rename(small_fit, tmp_path):
    def text(path):
        path.write_text("table\n")

    run_dir = write_run_dir(
        tmp_path / "fit", inference_data=small_fit.inference_data, fit=small_fit.fit,
        diagnostics=small_fit.diagnostics, config=small_fit.config, seed=small_fit.seed,
        summary_table=small_fit.summary, inputs={}, files={"table.txt": text,
                                                           "figs/a.png": b"\x89PNG"},
    )
    assert (run_dir / "table.txt").read_text() == "table\n"
    assert (run_dir / "figs" / "a.png").read_bytes() == b"\x89PNG"
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["files"]["extra"] == ["figs/a.png", "table.txt"]
    run = load_run(run_dir)
    assert run.has_posterior and run.run_type == "fit"
    with pytest.raises(ValueError, match="own files"):
        write_run_dir(
            tmp_path / "fit2", inference_data=small_fit.inference_data, fit=small_fit.fit,
            diagnostics=small_fit.diagnostics, config=small_fit.config, seed=1,
            summary_table=small_fit.summary, inputs={}, files={"csv/x.csv": b""})
