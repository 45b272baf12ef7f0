"""Benchmark the PyPI-built CmdStan: setup, model compile times, gradient throughput.

Prints, and with ``--json FILE`` writes, the figures

- ``setup_first_s`` / ``setup_second_s``: ``bayesbg setup`` into an empty directory,
  then again (the second must do nothing); skipped with ``--cmdstan DIR``;
- ``compile_small_cold_s`` / ``compile_small_cold_cpu_s``: a cold compile of a small
  (bernoulli-like) program that was never compiled before, through
  ``cmdstanpy.CmdStanModel`` as users do, with the precompiled header (as real CmdStan
  2.35 compiles models): wall time, and CPU time (user + sys of all child processes,
  ``resource.getrusage(RUSAGE_CHILDREN)``), best of two fresh programs. Target: 12 s
  on an idle machine (real CmdStan 2.35 took 11.4 s for bernoulli on this machine kind);
- ``compile_small_breakdown``: where that time goes, each step run alone with the
  exact command ``make -n`` prints: ``stanc`` (Stan to C++), ``model_tu`` (the model's
  translation unit; ``pch_used`` from ``g++ -H``), ``model_tu_header_only`` (the same
  command on a file that only includes the model header: the share of ``model_tu`` that
  every program pays), ``link`` (with the driver object,
  libtbb and the SUNDIALS archives), ``link_without_sundials`` (what the archives cost),
  ``cmdstanpy_and_make`` (the rest, timed directly: cmdstanpy's ``stanc --info`` and
  ``<exe> info`` calls and a ``make`` with nothing to do) and ``sum_of_steps``;
- ``compile_user_header``: the model translation unit of a small ``--allow-undefined``
  program whose ``USER_HEADER`` starts with a standard include (``<ostream>``), and
  whether the precompiled header is used; ``without_model_header_first``: the same
  command without the makefile's ``-include stan/model/model_header.hpp`` ahead of the
  user header (the precompiled header then goes unused);
- ``compile_small_no_pch_s``: the small program without the precompiled header
  (``BAYESBG_NO_PCH=1``); ``compile_large_s``: bayesbg's largest Stan program (with its
  ``// bayesbg-user-header:`` C++ header if it names one), and ``compile_large_model_tu``
  its model translation unit alone, with ``pch_used``;
- ``model_cxxflags``: the flags models are compiled with (CmdStan 2.35 also uses -O3);
- ``grad_per_s_driver`` / ``grad_per_s_pystan``: log-density gradient evaluations per
  second of the same program run by our driver and by PyStan (httpstan's own
  services, the same C++ library), measured in the same run; their ratio should be ~1.
  Both run one chain of NUTS (warmup and sampling, warmup saved) and divide the total
  number of leapfrog steps by the wall time of the call; the best of a few repeats;
- ``load_average_start`` / ``load_average_end``: ``os.getloadavg()``; the machine has
  2 cores and is shared, so wall times above ~1 load are inflated (CPU times much less).

Usage::

    python benchmarks/toolchain.py [--quick] [--cmdstan DIR]
        [--json benchmarks/results/toolchain.json]

``--quick`` builds only the default flag set and runs shorter chains (a few minutes);
``--cmdstan DIR`` measures an existing installation instead of building one.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shlex
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

import bayesbg
from bayesbg.toolchain import install

ROOT = Path(__file__).resolve().parents[1]
TARGET_COLD_COMPILE_S = 12.0

SMALL_PROGRAM = """
data { int<lower=0> N; array[N] int<lower=0, upper=1> y; }
parameters { real<lower=0, upper=1> theta; }
model { theta ~ beta(1, 1); y ~ bernoulli(theta); }
"""

USER_HEADER_PROGRAM = """
functions { real twice(real x); }
data { real y; }
parameters { real mu; }
model { mu ~ normal(0, 10); y ~ normal(twice(mu), 1); }
"""

# A user header as CmdStan's documentation writes them: standard headers first.
USER_HEADER = """#include <ostream>
#include <stan/model/model_header.hpp>

namespace {name}_model_namespace {{
template <typename T>
T twice(const T& x, std::ostream* pstream__) {{
  return 2 * x;
}}
}}
"""

# Gradient-heavy program for the throughput comparison.
GRADIENT_PROGRAM = """
data { int<lower=1> N; int<lower=1> K; matrix[N, K] X; array[N] int<lower=0> y; }
parameters { real alpha; vector[K] beta; }
model {
  alpha ~ normal(0, 2);
  beta ~ normal(0, 1);
  y ~ poisson_log_glm(X, alpha, beta);
}
"""


def _gradient_data(rng: np.random.Generator) -> dict:
    n, k = 20000, 10
    x = rng.normal(size=(n, k)) / np.sqrt(k)
    y = rng.poisson(np.exp(0.3 + x @ rng.normal(0, 0.5, size=k)))
    return {"N": n, "K": k, "X": x.tolist(), "y": y.tolist()}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(function, *args, **kwargs) -> tuple[object, float, float]:
    """Result, wall time and CPU time of the child processes (s) of one call."""
    cpu, start = _children_cpu(), time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - start, _children_cpu() - cpu


def _compile(cmdstanpy, stan_file: Path, **options) -> tuple[float, float]:
    """Wall and CPU time of compiling `stan_file` through cmdstanpy, as users do."""
    stan_file.with_suffix("").unlink(missing_ok=True)
    _, wall, cpu = _timed(cmdstanpy.CmdStanModel, stan_file=stan_file, force_compile=True,
                          **options)
    return wall, cpu


def _make_steps(cmdstan: Path, exe: Path, make_args: list[str]) -> dict[str, str]:
    """The shell commands `make` would run to build `exe`, by step (``make -n``)."""
    out = subprocess.run(["make", "-n", *make_args, str(exe)], cwd=cmdstan, check=True,
                         capture_output=True, text=True).stdout.replace("\\\n", " ")
    steps: dict[str, str] = {}
    for line in (line.strip() for line in out.splitlines()):
        if line.startswith("bin/stanc"):
            steps["stanc"] = line
        elif " -c " in line and line.endswith(f"{exe}.o"):
            steps["model_tu"] = line
        elif "driver.o" in line and line.endswith(f"-o {exe}"):
            steps["link"] = line
    missing = {"stanc", "model_tu", "link"} - set(steps)
    if missing:
        raise RuntimeError(f"`make -n {exe}` printed no {sorted(missing)} command:\n{out}")
    return steps


def _run_step(cmdstan: Path, command: str) -> dict:
    proc, wall, cpu = _timed(subprocess.run, ["bash", "-c", command], cwd=cmdstan,
                             capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{command}\nfailed:\n{proc.stderr[-3000:]}")
    return {"wall_s": round(wall, 3), "cpu_s": round(cpu, 3), "stderr": proc.stderr}


def _model_tu(cmdstan: Path, command: str) -> dict:
    """Time the model translation unit; ``-H`` lists a used precompiled header as ``! x.gch``."""
    step = _run_step(cmdstan, command.replace(" -c ", " -H -c ", 1))
    lines = step.pop("stderr").splitlines()
    step["pch_used"] = any(line.startswith("! ") and line.endswith(".gch") for line in lines)
    step["invalid_pch_warnings"] = [line for line in lines if "gch" in line and "warning" in line]
    return step


def _compile_breakdown(cmdstan: Path, work: Path) -> dict:
    """Run the make steps of a new small program one by one, timing each."""
    stan_file = work / "small_steps.stan"
    stan_file.write_text(SMALL_PROGRAM)
    exe = stan_file.with_suffix("")
    steps = _make_steps(cmdstan, exe, [])
    breakdown = {"stanc": _run_step(cmdstan, steps["stanc"])}
    breakdown["model_tu"] = _model_tu(cmdstan, steps["model_tu"])
    # The same command on a file that only includes the model header: the part of
    # every model's compile that does not depend on the program (g++ writes the
    # precompiled header before instantiating the templates its inline functions
    # use, so each translation unit instantiates and compiles them again).
    header_only = work / "header_only.hpp"
    header_only.write_text("#include <stan/model/model_header.hpp>\n")
    command = steps["model_tu"].replace(f"{exe}.hpp", str(header_only))
    breakdown["model_tu_header_only"] = _model_tu(
        cmdstan, command.replace(f"{exe}.o", str(header_only.with_suffix(".o"))))
    breakdown["link"] = _run_step(cmdstan, steps["link"])
    words = shlex.split(steps["link"])
    plain = shlex.join(w for w in words if not Path(w).name.startswith("libsundials_"))
    breakdown["link_without_sundials"] = _run_step(cmdstan, plain)
    # What cmdstanpy does besides make's commands: `stanc --info` (includes and
    # parameters), make itself (start-up, flag-set hash, up-to-date checks: a
    # `make` with nothing to do) and the executable's `info` (build options).
    overhead = [
        _run_step(cmdstan, shlex.join(["bin/stanc", "--info", str(stan_file)])),
        _run_step(cmdstan, shlex.join(["make", str(exe)])),
        _run_step(cmdstan, shlex.join([str(exe), "info"])),
    ]
    breakdown["cmdstanpy_and_make"] = {
        key: round(sum(step[key] for step in overhead), 3) for key in ("wall_s", "cpu_s")}
    for step in breakdown.values():
        step.pop("stderr", None)
    made = ("stanc", "model_tu", "link", "cmdstanpy_and_make")
    breakdown["sum_of_steps"] = {
        key: round(sum(breakdown[k][key] for k in made), 3) for key in ("wall_s", "cpu_s")}
    return breakdown


def _user_header_compile(cmdstan: Path, work: Path) -> dict:
    name = "user_header_program"
    stan_file = work / f"{name}.stan"
    stan_file.write_text(USER_HEADER_PROGRAM)
    header = work / "user_header.hpp"
    header.write_text(USER_HEADER.format(name=name))
    exe = stan_file.with_suffix("")
    steps = _make_steps(cmdstan, exe, ["STANCFLAGS+=--allow-undefined",
                                       f"USER_HEADER={header}"])
    _run_step(cmdstan, steps["stanc"])
    result = _model_tu(cmdstan, steps["model_tu"])
    _run_step(cmdstan, steps["link"])
    # The same without the makefile's `-include stan/model/model_header.hpp` before the
    # user header (bayesbg before issue 19): the .gch cannot serve a later include.
    forced = "-include stan/model/model_header.hpp "
    if forced in steps["model_tu"]:
        result["without_model_header_first"] = _model_tu(
            cmdstan, steps["model_tu"].replace(forced, ""))
    return result


def _largest_program() -> Path:
    programs = sorted((ROOT / "stan_models").glob("*.stan"), key=lambda p: p.stat().st_size)
    if not programs:
        raise SystemExit("no Stan programs in stan_models/")
    return programs[-1]


def _driver_rate(model, data_file: Path, iterations: int, seed: int) -> float:
    start = time.perf_counter()
    fit = model.sample(
        data=str(data_file), chains=1, seed=seed, iter_warmup=iterations,
        iter_sampling=iterations, save_warmup=True, max_treedepth=6, show_progress=False,
    )
    elapsed = time.perf_counter() - start
    gradients = fit.draws(inc_warmup=True)[:, :, fit.column_names.index("n_leapfrog__")].sum()
    return float(gradients / elapsed)


def _pystan_rate(stan, data: dict, iterations: int, seed: int) -> float:
    # httpstan caches fits by their arguments: a new seed per repeat forces a real run.
    posterior = stan.build(GRADIENT_PROGRAM, data=data, random_seed=seed)
    start = time.perf_counter()
    fit = posterior.sample(num_chains=1, num_warmup=iterations, num_samples=iterations,
                           save_warmup=True, max_depth=6)
    elapsed = time.perf_counter() - start
    return float(np.sum(fit["n_leapfrog__"])) / elapsed


def _gradient_rates(cmdstanpy, work: Path, data: dict, iterations: int, repeats: int
                    ) -> tuple[float, float | None]:
    """Best-of-`repeats` gradient rates, driver and PyStan runs interleaved so that
    load from other processes affects both alike."""
    stan_file = work / "gradient.stan"
    stan_file.write_text(GRADIENT_PROGRAM)
    model = cmdstanpy.CmdStanModel(stan_file=stan_file)
    data_file = work / "gradient.json"
    data_file.write_text(json.dumps(data))
    try:
        import stan  # noqa: PLC0415  (PyStan 3, optional)
    except ImportError:
        print("PyStan not installed: `pip install pystan==3.10.0` to compare; skipping")
        stan = None
    driver, pystan = [], []
    for repeat in range(repeats):
        driver.append(_driver_rate(model, data_file, iterations, seed=100 + repeat))
        if stan is not None:
            pystan.append(_pystan_rate(stan, data, iterations, seed=100 + repeat))
    return max(driver), (max(pystan) if pystan else None)


def _compile_figures(cmdstanpy, cmdstan: Path, work: Path) -> dict:
    results: dict = {}
    # Cold compiles: programs never compiled before (a new name each time).
    colds = []
    for k in range(2):
        program = work / f"small_{k}.stan"
        program.write_text(SMALL_PROGRAM)
        colds.append(_compile(cmdstanpy, program))
    best = min(colds)
    results["compile_small_cold_s"] = round(best[0], 3)
    results["compile_small_cold_cpu_s"] = round(best[1], 3)
    results["compile_small_cold_runs"] = [[round(w, 3), round(c, 3)] for w, c in colds]
    # The target is for an idle machine, where wall time is about CPU time.
    results["compile_small_cold_target_s"] = TARGET_COLD_COMPILE_S
    results["compile_small_cold_wall_within_target"] = best[0] <= TARGET_COLD_COMPILE_S
    results["compile_small_cold_cpu_within_target"] = best[1] <= TARGET_COLD_COMPILE_S
    results["compile_small_breakdown"] = _compile_breakdown(cmdstan, work)
    results["compile_user_header"] = _user_header_compile(cmdstan, work)
    no_pch = work / "small_no_pch.stan"
    no_pch.write_text(SMALL_PROGRAM)
    wall, cpu = _compile(cmdstanpy, no_pch, cpp_options={"BAYESBG_NO_PCH": 1})
    results["compile_small_no_pch_s"] = round(wall, 3)
    results["compile_small_no_pch_cpu_s"] = round(cpu, 3)
    flags = subprocess.run(["make", "print-CXXFLAGS_STAN"], cwd=cmdstan, check=True,
                           capture_output=True, text=True).stdout.strip()
    results["model_cxxflags"] = flags.split(" = ", 1)[-1]

    large_source = _largest_program()
    large = work / large_source.name
    shutil.copy2(large_source, large)
    functions = ROOT / "stan_models" / "functions"
    stanc: dict = {"include-paths": [str(functions)]}
    extra: dict = {}
    header = re.search(r"bayesbg-user-header:\s*(\S+)", large.read_text())
    if header:  # its C++ functions come from a user header (--allow-undefined)
        stanc["allow-undefined"] = True
        extra["user_header"] = str(functions / header.group(1))
    wall, cpu = _compile(cmdstanpy, large, stanc_options=stanc, **extra)
    results["compile_large_s"] = round(wall, 3)
    results["compile_large_cpu_s"] = round(cpu, 3)
    results["compile_large_program"] = large_source.name
    results["compile_large_user_header"] = header.group(1) if header else None
    make_args = [f"STANCFLAGS+=--include-paths={functions}"]
    if header:
        make_args += ["STANCFLAGS+=--allow-undefined", f"USER_HEADER={extra['user_header']}"]
    large.with_suffix("").unlink(missing_ok=True)
    steps = _make_steps(cmdstan, large.with_suffix(""), make_args)
    _run_step(cmdstan, steps["stanc"])
    results["compile_large_model_tu"] = _model_tu(cmdstan, steps["model_tu"])
    return results


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="default flag set only, short runs")
    parser.add_argument("--cmdstan", type=Path, help="measure this installation, no setup")
    parser.add_argument("--json", type=Path, help="write the figures to this JSON file")
    args = parser.parse_args(argv)

    import cmdstanpy  # noqa: PLC0415

    work = Path(tempfile.mkdtemp(prefix="bayesbg-bench-"))
    results: dict = {"load_average_start": [round(x, 2) for x in os.getloadavg()]}
    try:
        if args.cmdstan:
            cmdstan = args.cmdstan.expanduser().resolve()
        else:
            flag_sets = ["default"] if args.quick else list(install.FLAG_SETS)
            first = install.setup_cmdstan(work / "cmdstan", flag_sets=flag_sets, echo=False)
            second = install.setup_cmdstan(work / "cmdstan", flag_sets=flag_sets, echo=False)
            results["setup_first_s"] = first.seconds
            results["setup_second_s"] = second.seconds
            results["setup_second_built"] = second.built
            cmdstan = first.path
        cmdstanpy.set_cmdstan_path(str(cmdstan))
        results.update(_compile_figures(cmdstanpy, cmdstan, work))

        data = _gradient_data(np.random.default_rng(0))
        iterations, repeats = (200, 2) if args.quick else (400, 3)
        driver_rate, pystan_rate = _gradient_rates(cmdstanpy, work, data, iterations, repeats)
        results["grad_per_s_driver"] = driver_rate
        results["grad_per_s_pystan"] = pystan_rate
    finally:
        shutil.rmtree(work, ignore_errors=True)

    ratio = None
    if results.get("grad_per_s_pystan"):
        ratio = results["grad_per_s_driver"] / results["grad_per_s_pystan"]
    results["grad_ratio_driver_over_pystan"] = ratio
    results["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    results["quick"] = args.quick
    results["machine"] = f"{platform.machine()} {os.cpu_count()} cores, {platform.platform()}"
    results["bayesbg_version"] = bayesbg.__version__
    results["date"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")

    width = max(len(k) for k in results)
    for key, value in results.items():
        shown = f"{value:.3f}" if isinstance(value, float) else json.dumps(value)
        print(f"{key:<{width}}  {shown}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        tmp = args.json.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(results, indent=2) + "\n")
        tmp.replace(args.json)
    return results


if __name__ == "__main__":
    main()
