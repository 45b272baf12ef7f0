"""Benchmark the PyPI-built CmdStan: setup, model compile times, gradient throughput.

Prints, and with ``--json FILE`` writes, the figures

- ``setup_first_s`` / ``setup_second_s``: ``bayesbg setup`` into an empty directory,
  then again (the second must do nothing);
- ``compile_small_cold_s`` / ``compile_small_warm_s``: a small program compiled
  without and with the precompiled header; ``compile_large_s``: bayesbg's largest
  Stan program, with the header;
- ``grad_per_s_driver`` / ``grad_per_s_pystan``: log-density gradient evaluations per
  second of the same program run by our driver and by PyStan (httpstan's own
  services, the same C++ library), measured in the same run; their ratio should be ~1.
  Both run one chain of NUTS (warmup and sampling, warmup saved) and divide the total
  number of leapfrog steps by the wall time of the call; the best of a few repeats.

Usage::

    python benchmarks/toolchain.py [--quick] [--json benchmarks/results/toolchain.json]

``--quick`` builds only the default flag set and runs shorter chains (a few minutes).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

import bayesbg
from bayesbg.toolchain import install

ROOT = Path(__file__).resolve().parents[1]

SMALL_PROGRAM = """
data { int<lower=0> N; array[N] int<lower=0, upper=1> y; }
parameters { real<lower=0, upper=1> theta; }
model { theta ~ beta(1, 1); y ~ bernoulli(theta); }
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


def _time_compile(cmdstanpy, stan_file: Path, cpp_options: dict | None = None) -> float:
    exe = stan_file.with_suffix("")
    if exe.exists():
        exe.unlink()
    start = time.perf_counter()
    cmdstanpy.CmdStanModel(stan_file=stan_file, cpp_options=cpp_options, force_compile=True)
    return time.perf_counter() - start


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


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="default flag set only, short runs")
    parser.add_argument("--json", type=Path, help="write the figures to this JSON file")
    args = parser.parse_args(argv)

    import cmdstanpy  # noqa: PLC0415

    work = Path(tempfile.mkdtemp(prefix="bayesbg-bench-"))
    results: dict[str, float | None | str | bool] = {}
    try:
        flag_sets = ["default"] if args.quick else list(install.FLAG_SETS)
        first = install.setup_cmdstan(work / "cmdstan", flag_sets=flag_sets, echo=False)
        second = install.setup_cmdstan(work / "cmdstan", flag_sets=flag_sets, echo=False)
        results["setup_first_s"] = first.seconds
        results["setup_second_s"] = second.seconds
        results["setup_second_built"] = second.built
        cmdstanpy.set_cmdstan_path(str(first.path))

        small = work / "small.stan"
        small.write_text(SMALL_PROGRAM)
        results["compile_small_cold_s"] = _time_compile(cmdstanpy, small, {"BAYESBG_NO_PCH": 1})
        results["compile_small_warm_s"] = _time_compile(cmdstanpy, small)
        large_source = _largest_program()
        large = work / large_source.name
        shutil.copy2(large_source, large)
        cmdstanpy_options = {"include-paths": [str(ROOT / "stan_models" / "functions")]}
        exe = large.with_suffix("")
        start = time.perf_counter()
        cmdstanpy.CmdStanModel(stan_file=large, stanc_options=cmdstanpy_options,
                               force_compile=True)
        results["compile_large_s"] = time.perf_counter() - start
        results["compile_large_program"] = large_source.name
        assert exe.exists()

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
    results["compile_warm_over_cold"] = (
        results["compile_small_warm_s"] / results["compile_small_cold_s"]
    )
    results["quick"] = args.quick
    results["machine"] = f"{platform.machine()} {os.cpu_count()} cores, {platform.platform()}"
    results["bayesbg_version"] = bayesbg.__version__

    width = max(len(k) for k in results)
    for key, value in results.items():
        shown = f"{value:.3f}" if isinstance(value, float) else str(value)
        print(f"{key:<{width}}  {shown}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        tmp = args.json.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(results, indent=2) + "\n")
        tmp.replace(args.json)
    return results


if __name__ == "__main__":
    main()
