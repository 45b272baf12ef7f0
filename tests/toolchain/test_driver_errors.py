"""Bad input to a model built by the PyPI toolchain: a clear message, never a crash."""

from __future__ import annotations

import json
import subprocess

import pytest

pytestmark = pytest.mark.stan

GOOD = {"n": 20, "y": 7, "a": 2.0, "b": 3.0}


def _run(model, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(model.exe_file), *args], capture_output=True, text=True)


def test_missing_data_field(test_model):
    model = test_model("beta_binomial")
    with pytest.raises(RuntimeError, match=r"variable does not exist.*variable name=b"):
        model.sample(data={"n": 20, "y": 7, "a": 2.0}, chains=1, show_progress=False)


def test_wrong_dimension(test_model):
    model = test_model("normal_normal")
    data = {"N": 3, "y": [1.0, 2.0, 3.0, 4.0], "sigma": 1.0, "mu0": 0.0, "tau0": 1.0}
    with pytest.raises(RuntimeError, match=r"y"):
        model.sample(data=data, chains=1, show_progress=False)
    console = _console_of_failed_sample(model, data)
    assert "mismatch in dimension" in console or "dims" in console


def test_constraint_violation(test_model):
    model = test_model("beta_binomial")
    with pytest.raises(RuntimeError, match=r"y is 25, but must be less than or equal to 20"):
        model.sample(data={**GOOD, "y": 25}, chains=1, show_progress=False)


def test_nan_in_data(test_model):
    model = test_model("normal_normal")
    data = {"N": 2, "y": [1.0, float("nan")], "sigma": 1.0, "mu0": 0.0, "tau0": 1.0}
    with pytest.raises(RuntimeError, match=r"(?i)nan|initialization failed"):
        model.sample(data=data, chains=1, show_progress=False)


def test_bad_init_file(test_model, tmp_path):
    model = test_model("beta_binomial")
    bad = tmp_path / "init.json"
    bad.write_text("{ not json")
    with pytest.raises(RuntimeError, match=r"cannot read init file"):
        model.sample(data=GOOD, chains=1, inits=str(bad), show_progress=False)
    outside = tmp_path / "outside.json"
    outside.write_text(json.dumps({"theta": 1.5}))
    with pytest.raises(RuntimeError, match=r"(?i)bounded variable is 1.5"):
        model.sample(data=GOOD, chains=1, inits=str(outside), show_progress=False)


def test_unknown_argument_is_one_line_error(test_model, tmp_path):
    model = test_model("beta_binomial")
    out = _run(model, "method=sample", "num_samplez=10", "output", f"file={tmp_path}/o.csv")
    assert out.returncode != 0
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "num_samplez=10" in lines[0]


def test_malformed_values_are_refused(test_model):
    model = test_model("beta_binomial")
    for args, fragment in [
        (["method=sample", "num_samples=-3"], "non-negative integer"),
        (["method=sample", "adapt", "delta=abc"], "real number"),
        (["method=optimize", "algorithm=simplex"], "expected one of bfgs, lbfgs, newton"),
        (["method=sample", "save_warmup=maybe"], "boolean"),
    ]:
        out = _run(model, *args)
        assert out.returncode == 1, args
        assert fragment in out.stderr, (args, out.stderr)


def test_missing_data_file(test_model, tmp_path):
    out = _run(test_model("beta_binomial"), "data", f"file={tmp_path}/absent.json")
    assert out.returncode != 0 and "cannot open data file" in out.stderr


def test_info_and_help(test_model):
    model = test_model("beta_binomial")
    info = model.exe_info()
    assert info["stan_version_minor"] == "35" and info["STAN_THREADS"] == "false"
    assert test_model("beta_binomial", threads=True).exe_info()["STAN_THREADS"] == "true"
    text = _run(model, "help-all").stdout
    for word in ("num_samples", "max_depth", "pathfinder", "laplace", "fitted_params", "sig_figs"):
        assert word in text


def _console_of_failed_sample(model, data) -> str:
    try:
        model.sample(data=data, chains=1, show_progress=False)
    except RuntimeError as exc:
        return str(exc)
    raise AssertionError("sampling should have failed")
