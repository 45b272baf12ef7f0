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


@pytest.mark.stan
def test_doctor_and_compile_fail_on_a_missing_program(template_model, tmp_path, monkeypatch,
                                                      capsys):
    models = tmp_path / "stan_models"
    models.mkdir()
    from bayesbg.stan import stan_model_file

    (models / "template_fit.stan").write_text(stan_model_file("template_fit").read_text())
    (models / "functions").symlink_to(stan_model_file("template_fit").parent / "functions")
    monkeypatch.setenv("BAYESBG_STAN_MODELS", str(models))
    assert main(["doctor"]) == 1
    captured = capsys.readouterr()
    assert "template_fit.stan: compiles" in captured.out
    assert "cosi_template_fit.stan: MISSING" in captured.out
    assert "missing or failing" in captured.err
    assert main(["compile"]) == 1
    assert "spectral_fit: MISSING" in capsys.readouterr().out


def test_stan_models_env_must_be_a_directory(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("BAYESBG_STAN_MODELS", str(tmp_path / "nowhere"))
    assert main(["compile", "template_fit"]) == 1
    assert "BAYESBG_STAN_MODELS" in capsys.readouterr().err


@pytest.mark.stan
def test_console_shows_results_not_library_chatter(template_model, tmp_path, capfd):
    run_dir = tmp_path / "demo"
    assert main(["demo", "--seed", "5", "--run-dir", str(run_dir), "--no-report"]) == 0
    captured = capfd.readouterr()
    for chatter in ("cmdstanpy - INFO", "Chain [1] start processing", "FutureWarning"):
        assert chatter not in captured.out + captured.err
    log = (run_dir / "bayesbg.log").read_text()
    assert "cmdstanpy" in log and "sampling template_fit" in log
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["files"]["log"] == "bayesbg.log"
    assert summary["units"]["flux"] == "ph cm-2 s-1"


def test_sampler_warnings_print_as_one_line(capsys):
    import logging
    import warnings

    from bayesbg.cli import _configure_logging
    from bayesbg.stan import SamplerWarning

    saved = warnings.showwarning
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        _configure_logging("WARNING")
        warnings.warn("sampler diagnostics failed: r_hat = 1.02", SamplerWarning, stacklevel=1)
        warnings.warn("some library deprecation", FutureWarning, stacklevel=1)
    finally:
        warnings.showwarning = saved
        for handler in list(root.handlers):
            if handler not in handlers:
                root.removeHandler(handler)
        root.setLevel(level)
    err = capsys.readouterr().err
    assert "WARNING bayesbg: sampler diagnostics failed: r_hat = 1.02" in err
    assert "SamplerWarning" not in err and ".py:" not in err
    assert "some library deprecation" not in err
