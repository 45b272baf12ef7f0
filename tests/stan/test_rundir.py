"""Tests of run directories (bayesbg.stan.write_run_dir, check_run_dir, load_run)."""

from __future__ import annotations

import hashlib
import json
import re
import warnings

import cmdstanpy
import numpy as np
import pytest

from bayesbg.config import SamplerConfig
from bayesbg.stan import SamplerWarning, check_run_dir, load_run, sha256_stan_data
from bayesbg.template_fit import fit_templates, simulate_template_data

QUICK = SamplerConfig(chains=2, parallel_chains=2, iter_warmup=150, iter_sampling=100)


def test_empty_or_missing_directory_is_accepted(tmp_path):
    assert check_run_dir(tmp_path / "new") == tmp_path / "new"
    (tmp_path / "empty").mkdir()
    assert check_run_dir(tmp_path / "empty") == tmp_path / "empty"


def test_directory_with_files_is_refused_naming_path_and_overwrite(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="--overwrite") as info:
        check_run_dir(tmp_path / "run")
    assert str(tmp_path / "run") in str(info.value)
    assert check_run_dir(tmp_path / "run", overwrite=True) == tmp_path / "run"


def test_stan_data_hash_is_canonical():
    data = {"N": 2, "y": np.array([1, 2]), "x": np.array([[0.5, 1.0]])}
    same = {"x": [[0.5, 1.0]], "y": [1, 2], "N": np.int64(2)}
    assert sha256_stan_data(data) == sha256_stan_data(same)
    assert sha256_stan_data(data) != sha256_stan_data({**same, "N": 3})
    assert sha256_stan_data({"y": np.array([1, 2], dtype=np.int32)}) == \
        sha256_stan_data({"y": [1, 2]})
    # Stan's int and real differ, and so do shapes and names holding the same numbers
    assert sha256_stan_data({"N": 3}) != sha256_stan_data({"N": 3.0})
    assert sha256_stan_data({"x": [[1.0, 2.0]]}) != sha256_stan_data({"x": [1.0, 2.0]})
    assert sha256_stan_data({"a": [1.0], "b": [2.0]}) != \
        sha256_stan_data({"a": [2.0], "b": [1.0]})
    assert sha256_stan_data({"x": [1.0, -0.0]}) != sha256_stan_data({"x": [1.0, 1e-300]})
    # ragged arrays (arrays of arrays of different lengths) are hashed as JSON
    assert sha256_stan_data({"r": [[1], [2, 3]]}) != sha256_stan_data({"r": [[1, 2], [3]]})


def _fit(template_model, run_dir, *, overwrite=False, seed=21):
    data, truth = simulate_template_data(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplerWarning)
        return fit_templates(data, seed=seed, config=QUICK, run_dir=run_dir,
                             overwrite=overwrite, truth=truth, model=template_model)


@pytest.mark.stan
def test_run_directory_contents(template_model, tmp_path):
    run_dir = tmp_path / "runs" / "first"
    result = _fit(template_model, run_dir)
    assert result.run_dir == run_dir
    assert sorted(p.name for p in run_dir.iterdir()) == [
        "config.toml", "csv", "posterior.nc", "summary.json"]
    assert not [p for p in run_dir.parent.iterdir() if p.name.startswith(".")]

    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["seed"] == 21
    assert set(summary["versions"]) >= {"bayesbg", "cmdstan", "stanc", "cmdstanpy", "arviz"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", summary["versions"]["cmdstan"])
    assert summary["versions"]["stanc"].startswith("stanc3")
    config_text = (run_dir / "config.toml").read_text()
    assert summary["config_sha256"] == hashlib.sha256(config_text.encode()).hexdigest()
    assert SamplerConfig.from_toml(config_text) == QUICK
    data, _ = simulate_template_data(21)
    assert summary["inputs_sha256"]["stan_data"] == sha256_stan_data(data.to_stan_data())
    assert set(summary["inputs_sha256"]) >= {"template_fit.stan", "template_fit.stanfunctions"}
    flux = summary["parameters"]["flux[template_1]"]
    assert set(flux) == {"truth", "mean", "sd", "q5", "q50", "q95", "r_hat", "ess_bulk",
                         "ess_tail"}
    assert flux["q5"] < flux["q50"] < flux["q95"]
    assert set(summary["diagnostics"]["checks"]) == {
        "r_hat", "ess_bulk", "ess_tail", "divergences", "treedepth", "ebfmi"}

    csv_files = sorted((run_dir / "csv").glob("*.csv"))
    assert len(csv_files) == QUICK.chains
    reread = cmdstanpy.from_csv([str(p) for p in csv_files])
    np.testing.assert_allclose(reread.stan_variable("flux"), result.fit.stan_variable("flux"))

    run = load_run(run_dir)
    assert run.config == QUICK
    assert set(run.inference_data.groups()) >= {
        "posterior", "log_likelihood", "posterior_predictive", "observed_data",
        "constant_data", "sample_stats"}
    np.testing.assert_allclose(run.inference_data.posterior["flux"].values,
                               result.inference_data.posterior["flux"].values)


@pytest.mark.stan
def test_existing_run_is_not_overwritten(template_model, tmp_path):
    run_dir = tmp_path / "run"
    _fit(template_model, run_dir, seed=21)
    before = (run_dir / "summary.json").read_bytes()
    with pytest.raises(FileExistsError, match="--overwrite") as info:
        _fit(template_model, run_dir, seed=22)
    assert str(run_dir) in str(info.value)
    assert (run_dir / "summary.json").read_bytes() == before

    _fit(template_model, run_dir, seed=22, overwrite=True)
    assert json.loads((run_dir / "summary.json").read_text())["seed"] == 22
    assert [p.name for p in tmp_path.iterdir()] == ["run"]
