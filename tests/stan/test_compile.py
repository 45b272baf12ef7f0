"""Tests of the compile cache (bayesbg.stan.compile_model)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cmdstanpy
import pytest

from bayesbg.stan import StanRunError, compile_model, model_cache_key, sample, stan_model_file
from bayesbg.template_fit import simulate_template_data
from bayesbg.toolchain import CmdStanNotFoundError

PROGRAM = """\
functions {
  #include helper.stanfunctions
}
data {
  int<lower=0> N; // trials
  array[N] int<lower=0, upper=1> y; // outcomes
}
parameters {
  real<lower=0, upper=1> theta; // success probability
}
model {
  theta ~ beta(1, 1);
  y ~ bernoulli(twice(theta) / 2);
}
"""
HELPER = "real twice(real x) {\n  return 2 * x;\n}\n"


@pytest.fixture()
def program(tmp_path: Path) -> Path:
    (tmp_path / "functions").mkdir()
    (tmp_path / "functions" / "helper.stanfunctions").write_text(HELPER)
    stan_file = tmp_path / "coin.stan"
    stan_file.write_text(PROGRAM)
    return stan_file


def test_key_is_stable_for_unchanged_inputs(program):
    assert model_cache_key(program) == model_cache_key(program)


def test_key_changes_with_program_includes_options_and_cmdstan(program, tmp_path):
    cmdstans = {}
    for name, version in (("a", "2.35.0"), ("b", "2.35.0"), ("c", "2.36.0")):
        cmdstans[name] = tmp_path / f"cmdstan-{name}"
        cmdstans[name].mkdir()
        (cmdstans[name] / "makefile").write_text(f"CMDSTAN_VERSION := {version}\n")
    cmdstan = cmdstans["a"]
    base = model_cache_key(program, cmdstan=cmdstan)
    keys = {
        "threads": model_cache_key(program, threads=True, cmdstan=cmdstan),
        "cpp": model_cache_key(program, cpp_options={"STAN_NO_RANGE_CHECKS": True},
                               cmdstan=cmdstan),
        "stanc": model_cache_key(program, stanc_options={"O1": True}, cmdstan=cmdstan),
        "other installation": model_cache_key(program, cmdstan=cmdstans["b"]),
        "other version": model_cache_key(program, cmdstan=cmdstans["c"]),
    }
    program.write_text(PROGRAM + "// a comment\n")
    keys["program"] = model_cache_key(program, cmdstan=cmdstan)
    program.write_text(PROGRAM)
    (program.parent / "functions" / "helper.stanfunctions").write_text(HELPER + "\n")
    keys["include"] = model_cache_key(program, cmdstan=cmdstan)
    assert all(key != base for key in keys.values()), keys
    assert len(set(keys.values())) == len(keys)
    (program.parent / "functions" / "helper.stanfunctions").write_text(HELPER)
    assert model_cache_key(program, cmdstan=cmdstan) == base


def test_threads_flag_equals_explicit_cpp_option(program):
    assert model_cache_key(program, threads=True) == model_cache_key(
        program, cpp_options={"STAN_THREADS": True}
    )
    assert model_cache_key(program, cpp_options={"STAN_THREADS": False}) == model_cache_key(
        program
    )


def test_missing_include_names_the_file(program):
    (program.parent / "functions" / "helper.stanfunctions").unlink()
    with pytest.raises(FileNotFoundError, match="helper.stanfunctions"):
        model_cache_key(program)


def test_missing_program_names_the_path():
    with pytest.raises(FileNotFoundError, match="no_such_model.stan"):
        stan_model_file("no_such_model")


def test_missing_cmdstan_gives_the_actionable_error(monkeypatch, tmp_path):
    monkeypatch.setenv("BAYESBG_CMDSTAN", "/nonexistent")
    monkeypatch.delenv("CMDSTAN", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("BAYESBG_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.raises(CmdStanNotFoundError, match="bayesbg setup"):
        compile_model(stan_model_file("template_fit"))


@pytest.mark.stan
def test_compiled_model_lives_in_the_cache_under_its_key(template_model):
    exe = Path(template_model.exe_file)
    key_file = exe.parent / "key.json"
    recorded = json.loads(key_file.read_text())
    assert recorded["key"] == model_cache_key(stan_model_file("template_fit"),
                                              cmdstan=cmdstanpy.cmdstan_path())
    assert exe.parent.name == recorded["key"][:20]
    assert (exe.parent / "include" / "template_fit.stanfunctions").is_file()


@pytest.mark.stan
def test_unchanged_model_is_not_recompiled_in_a_new_process(template_model):
    exe = Path(template_model.exe_file)
    before = exe.stat().st_mtime_ns
    script = textwrap.dedent("""
        import logging
        logging.basicConfig(level=logging.INFO)
        from bayesbg.stan import compile_model, stan_model_file
        print(compile_model(stan_model_file("template_fit")).exe_file)
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True, timeout=120)
    assert run.stdout.strip() == str(exe)
    assert "compiling" not in run.stderr
    assert exe.stat().st_mtime_ns == before


@pytest.mark.stan
@pytest.mark.slow
def test_two_processes_compile_a_new_model_once(program, tmp_path):
    """Both processes get the model; the lock makes the second wait and reuse it."""
    cache = tmp_path / "cache"
    script = textwrap.dedent(f"""
        import logging
        logging.basicConfig(level=logging.INFO)
        from bayesbg.stan import compile_model
        print(compile_model({str(program)!r}, cache={str(cache)!r}).exe_file)
    """)

    def run(_: int) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                              check=True, timeout=600, env=os.environ.copy())

    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(run, range(2)))
    assert runs[0].stdout == runs[1].stdout
    compiles = sum(r.stderr.count("bayesbg.stan.compile:compiling") for r in runs)
    assert compiles == 1, [r.stderr for r in runs]


@pytest.mark.stan
@pytest.mark.slow
def test_threaded_model_samples_with_threads_per_chain(template_model):
    model = compile_model(stan_model_file("template_fit"), threads=True)
    assert model.exe_file != template_model.exe_file
    assert model.exe_info().get("STAN_THREADS", "").lower() == "true"
    data, _ = simulate_template_data(1)
    fit = sample(model, data.to_stan_data(), seed=1, chains=2, parallel_chains=1,
                 threads_per_chain=2, iter_warmup=100, iter_sampling=50)
    assert fit.stan_variable("flux").shape == (100, 2)


@pytest.mark.stan
def test_compile_failure_is_a_stan_run_error(template_model, tmp_path):
    bad = tmp_path / "broken.stan"
    bad.write_text("parameters {\n  real theta\n}\nmodel {\n  theta ~ normal(0, 1);\n}\n")
    with pytest.raises(StanRunError, match="compiling broken.stan") as info:
        compile_model(bad, cache=tmp_path / "cache")
    assert "make" in info.value.command
    assert "broken.stan" in info.value.console_tail
    # nothing marked finished: a fixed program compiles under its own key
    assert not list((tmp_path / "cache" / "models").glob("*/key.json"))
