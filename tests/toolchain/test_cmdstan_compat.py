"""CmdStan 2.35 behaviours that cmdstanpy (and its own test suite) rely on.

R dump data and init files, programs without parameters, the argument echo on stdout,
the profile CSV, the names of log_prob's gradient columns and exit status 1 for every
failure: each as CmdStan 2.35 does it (issue 19).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import cmdstanpy
import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.stan

NORMAL = {"N": 4, "y": [0.5, 1.5, 2.0, 0.25], "sigma": 1.5, "mu0": 1.0, "tau0": 2.0}
NORMAL_RDUMP = """N <- 4L
y <- c(0.5, 1.5, 2.0, 0.25)
sigma <- 1.5
mu0 <- 1
tau0 <- 2
"""
BB = {"n": 20, "y": 7, "a": 2.0, "b": 3.0}
PROFILE_COLUMNS = ["name", "thread_id", "total_time", "forward_time", "reverse_time",
                   "chain_stack", "no_chain_stack", "autodiff_calls", "no_autodiff_calls"]
NO_PARAMETERS_MESSAGE = (
    "Model contains no parameters, running fixed_param sampler, no updates to Markov chain"
)


def _run(model, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(model.exe_file), *args], capture_output=True, text=True)


def _json_file(path: Path, values: dict) -> Path:
    path.write_text(json.dumps(values))
    return path


def _regression_data() -> dict:
    rng = np.random.default_rng(19)
    x = rng.normal(size=(30, 3))
    y = 0.5 + x @ np.array([1.0, -2.0, 0.5]) + rng.normal(0, 0.7, size=30)
    return {"N": 30, "K": 3, "X": x.tolist(), "y": y.tolist()}


# --- R dump ---------------------------------------------------------------------


def test_rdump_data_and_inits_give_the_draws_of_json(test_model, tmp_path):
    model = test_model("normal_normal")
    (tmp_path / "normal.data.R").write_text(NORMAL_RDUMP)
    (tmp_path / "init.R").write_text("mu <- 0.75\n")
    runs = {}
    for kind, data, inits in [
        ("rdump", tmp_path / "normal.data.R", tmp_path / "init.R"),
        ("json", _json_file(tmp_path / "normal.json", NORMAL),
         _json_file(tmp_path / "init.json", {"mu": 0.75})),
    ]:
        runs[kind] = model.sample(data=str(data), inits=str(inits), chains=1, seed=21,
                                  iter_warmup=100, iter_sampling=100, show_progress=False)
    np.testing.assert_array_equal(runs["rdump"].stan_variable("mu"),
                                  runs["json"].stan_variable("mu"))
    # the log-likelihood of each observation uses y from the R dump
    np.testing.assert_array_equal(runs["rdump"].stan_variable("log_lik"),
                                  runs["json"].stan_variable("log_lik"))


def test_rdump_warning_and_bad_rdump_error(test_model, tmp_path):
    model = test_model("normal_normal")
    data = tmp_path / "normal.data.R"
    data.write_text(NORMAL_RDUMP)
    out = _run(model, "method=optimize", "data", f"file={data}",
               "output", f"file={tmp_path / 'o.csv'}")
    assert out.returncode == 0, out.stderr
    assert f"file '{data}' is being read as an 'RDump' file" in out.stderr
    bad = tmp_path / "bad.data.R"
    bad.write_text("N <- c(1, \n")
    out = _run(model, "method=optimize", "data", f"file={bad}",
               "output", f"file={tmp_path / 'o.csv'}")
    assert out.returncode == 1
    assert f"Error: cannot read data file '{bad}'" in out.stderr


# --- programs without parameters --------------------------------------------------


def test_program_without_parameters_runs_fixed_param_for_every_chain(test_model, tmp_path):
    model = test_model("no_parameters")
    data = _json_file(tmp_path / "data.json", {"N": 3, "rate": 4.0})
    out = _run(model, "method=sample", "num_samples=20", "adapt", "engaged=1",
               "num_chains=2", "data", f"file={data}", "output", f"file={tmp_path / 'out.csv'}")
    assert out.returncode == 0, out.stderr
    assert out.stdout.count(NO_PARAMETERS_MESSAGE) == 1
    for chain in (1, 2):
        draws = pd.read_csv(tmp_path / f"out_{chain}.csv", comment="#")
        assert list(draws.columns) == ["lp__", "accept_stat__", "counts.1", "counts.2",
                                       "counts.3"]
        assert len(draws) == 20 and (draws["lp__"] == 0).all()
    asked = _run(model, "method=sample", "num_samples=5", "algorithm=fixed_param",
                 "data", f"file={data}", "output", f"file={tmp_path / 'asked.csv'}")
    assert asked.returncode == 0 and NO_PARAMETERS_MESSAGE not in asked.stdout


def test_program_without_parameters_read_by_cmdstanpy_from_exe_only(test_model, tmp_path):
    # Without the Stan file cmdstanpy asks for NUTS and learns from the console
    # message that the CSV files have no adaptation block.
    model = cmdstanpy.CmdStanModel(exe_file=test_model("no_parameters").exe_file)
    fit = model.sample(data={"N": 2, "rate": 3.0}, chains=2, iter_sampling=50, seed=4,
                       show_progress=False, output_dir=tmp_path)
    assert fit.metric_type is None and fit.metric is None
    assert fit.stan_variable("counts").shape == (100, 2)


# --- argument echo ----------------------------------------------------------------


def test_argument_tree_echoed_on_stdout_as_in_the_csv(test_model, tmp_path):
    model = test_model("beta_binomial")
    data = _json_file(tmp_path / "bb.json", BB)
    csv = tmp_path / "out.csv"
    out = _run(model, "method=sample", "num_samples=10", "num_warmup=30", "adapt",
               "init_buffer=11", "random", "seed=3", "data", f"file={data}",
               "output", f"file={csv}")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    echo = lines[: lines.index("")]
    assert echo[:3] == ["method = sample (Default)", "  sample", "    num_samples = 10"]
    assert "      init_buffer = 11" in echo and "  seed = 3" in echo
    assert "    num_warmup = 30" in echo and "    save_warmup = false (Default)" in echo
    # the echo comes before anything the sampler prints
    assert lines.index("") < next(i for i, line in enumerate(lines) if "Gradient" in line)
    # and is the CSV's config block, line for line
    config = [line[2:] for line in csv.read_text().splitlines() if line.startswith("# ")]
    start = config.index(echo[0])
    assert config[start:start + len(echo)] == echo


# --- profiling --------------------------------------------------------------------


def test_profile_file_written_for_profile_blocks(test_model, tmp_path):
    model = test_model("profiled_regression")
    fit = model.sample(data=_regression_data(), chains=1, seed=8, iter_warmup=100,
                       iter_sampling=100, save_profile=True, show_progress=False,
                       output_dir=tmp_path)
    (profile_file,) = fit.runset.profile_files
    table = pd.read_csv(profile_file)
    assert list(table.columns) == PROFILE_COLUMNS
    assert sorted(table["name"]) == ["likelihood", "priors"]
    # both blocks run in every gradient evaluation: the same number of autodiff calls
    calls = table.set_index("name")["autodiff_calls"]
    assert calls["priors"] == calls["likelihood"] > fit.draws_pd()["n_leapfrog__"].sum()
    assert (table["total_time"] > 0).all()


def test_no_profile_file_without_profile_blocks(test_model, tmp_path):
    fit = test_model("beta_binomial").sample(data=BB, chains=1, iter_sampling=50,
                                             save_profile=True, show_progress=False,
                                             output_dir=tmp_path)
    assert not any(Path(f).exists() for f in fit.runset.profile_files)


# --- log_prob ---------------------------------------------------------------------


def test_log_prob_gradient_columns_named_after_unconstrained_parameters(test_model):
    data = _regression_data()
    alpha, beta, sigma = 0.3, np.array([0.8, -1.5, 0.2]), 0.9
    out = test_model("profiled_regression").log_prob(
        params={"alpha": alpha, "beta": beta.tolist(), "sigma": sigma}, data=data,
        jacobian=True, sig_figs=15)
    assert list(out.columns) == ["lp__", "g_alpha", "g_beta.1", "g_beta.2", "g_beta.3",
                                 "g_sigma"]
    # analytic gradient; sigma is unconstrained as log(sigma) (Jacobian term +1)
    x, y = np.array(data["X"]), np.array(data["y"])
    r = y - alpha - x @ beta
    expected = [r.sum() / sigma**2 - alpha / 25, *(x.T @ r / sigma**2 - beta / 25),
                -len(y) + (r @ r) / sigma**2 - sigma + 1]
    np.testing.assert_allclose(out.iloc[0, 1:].to_numpy(float), expected, rtol=1e-9)


# --- exit status ------------------------------------------------------------------


def test_every_failure_exits_with_status_1(test_model, tmp_path):
    model = test_model("beta_binomial")
    good = _json_file(tmp_path / "bb.json", BB)
    bad = _json_file(tmp_path / "bad.json", {**BB, "y": 25})
    output = ["output", f"file={tmp_path / 'o.csv'}"]
    failures = {
        "unknown argument": ["method=sample", "num_samplez=10"],
        "malformed value": ["method=sample", "num_samples=-3"],
        "missing data file": ["data", f"file={tmp_path / 'absent.json'}", *output],
        "data violate constraints": ["data", f"file={bad}", *output],
        "missing init file": ["data", f"file={good}", f"init={tmp_path / 'no.json'}", *output],
        "unwritable output": ["data", f"file={good}", "output",
                              f"file={tmp_path / 'no' / 'dir' / 'o.csv'}"],
        "no arguments": [],
    }
    for what, args in failures.items():
        out = _run(model, *args)
        assert out.returncode == 1, (what, out.returncode, out.stderr)
    ok = _run(model, "method=sample", "num_samples=10", "num_warmup=10", "data",
              f"file={good}", *output)
    assert ok.returncode == 0, ok.stderr
    assert _run(model, "help").returncode == 0
