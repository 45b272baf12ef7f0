"""Tests of the bayesbg command line (bayesbg.cli.main, python -m bayesbg)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bayesbg.cli import main


@pytest.mark.parametrize("argv", [["--help"], ["setup", "--help"], ["demo", "--help"],
                                  ["doctor", "--help"], ["compile", "--help"]])
def test_help_shows_an_example(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "example" in out and "bayesbg" in out
    if argv[0] != "--help":
        assert "--log-level" in out


def test_python_dash_m_works():
    run = subprocess.run([sys.executable, "-m", "bayesbg", "demo", "--help"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "--run-dir" in run.stdout and "--overwrite" in run.stdout


def test_missing_subcommand_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as info:
        main([])
    assert info.value.code == 2


def test_demo_without_cmdstan_exits_nonzero_with_setup_hint(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("BAYESBG_CMDSTAN", "/nonexistent")
    monkeypatch.delenv("CMDSTAN", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("BAYESBG_CACHE_DIR", str(tmp_path / "cache"))
    status = main(["demo", "--run-dir", str(tmp_path / "run")])
    assert status == 1
    assert "bayesbg setup" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


@pytest.mark.stan
def test_doctor_runs(template_model, capsys):
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "CmdStan" in out and "template_fit.stan: compiles" in out


@pytest.mark.stan
def test_compile_reports_cached_executables(template_model, capsys):
    assert main(["compile", "template_fit"]) == 0
    assert capsys.readouterr().out.strip() == f"template_fit: {template_model.exe_file}"
    assert main(["compile", "no_such_model"]) == 1
    assert "no_such_model.stan" in capsys.readouterr().err


@pytest.mark.stan
def test_demo_fits_writes_run_dir_and_refuses_to_overwrite(template_model, tmp_path, capsys):
    run_dir = tmp_path / "demo"
    assert main(["demo", "--seed", "3", "--run-dir", str(run_dir)]) == 0
    out = capsys.readouterr().out
    for text in ("flux[point_source]", "background_amplitude[3]", "truth", "R-hat",
                 "Sampler diagnostics", str(run_dir)):
        assert text in out
    assert json.loads((run_dir / "summary.json").read_text())["seed"] == 3

    assert main(["demo", "--seed", "3", "--run-dir", str(run_dir)]) == 1
    err = capsys.readouterr().err
    assert "--overwrite" in err and str(run_dir) in err
    assert main(["demo", "--seed", "4", "--run-dir", str(run_dir), "--overwrite"]) == 0
    assert json.loads((run_dir / "summary.json").read_text())["seed"] == 4
