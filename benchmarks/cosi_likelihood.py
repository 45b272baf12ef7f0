"""Benchmark the COSI template fit: dense reference, fast Stan program, numpyro (issue #5).

One run measures, on the same simulated problem (``simulate_cosi``, one bulge template,
24 equidistant background blocks; full scale 603 h x 34,320 bins), one chain on one core
each:

- the dense reference ``benchmarks/cosi_dense_reference.stan`` (every bin);
- the fast program ``stan_models/cosi_template_fit.stan`` with the fused C++ likelihood
  (the default; ``fast``) and with the plain Stan expression (``plain``, the readable
  reference; gradient time only);
- the same model in numpyro (``benchmarks/cosi_likelihood_numpyro.py``, JAX on CPU,
  float64) when numpyro and jax are installed (the ``bench`` extra); else it says so and
  skips it;
- optionally (``--native``) the fast program built with ``CXXFLAGS=-march=native``
  (``cosi_fit_model(native=True)``).

Pinning: the benchmark sets its CPU affinity to one core (``--cpu``, default 0; the same
as running it under ``taskset -c 0``) and every measurement runs in a child process that
inherits it: CmdStan with ``STAN_NUM_THREADS=1`` (models compiled without threads), numpyro
with ``XLA_FLAGS=--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1``.

Times are CPU seconds of the child process (``getrusage``), which a loaded machine
inflates much less than wall time; wall-clock figures are kept alongside (``*_wall``).

- Gradient time (``grad_us_*``): CmdStan's ``log_prob`` method (cmdstanpy ``log_prob``,
  ``jacobian=True``) over a CSV of R parameter points near the posterior, minus the same
  with one point (data loading and the transformed data cancel), divided by R - 1. numpyro:
  CPU time of repeated calls of the jitted value-and-gradient of its potential.
- ESS per second (``ess_per_s_*``): NUTS 500 warmup + 500 draws (``--quick``: 300 + 300),
  the smallest bulk ESS over all parameters (arviz) divided by the CPU time of the sampling
  phase. For Stan that is the child's CPU time less the data-loading time (the one-point
  ``log_prob`` run), times the sampling share of Stan's own elapsed times; it includes the
  generated quantities. For numpyro it is the CPU time of a second sampling run that
  continues the first (so JIT compilation is excluded).
- Dense ESS/s: at ~1 s per gradient a full run takes hours, so ``ess_per_s_dense = 1 /
  (grad time dense x leapfrog steps per effective draw of the fast run)``. The two
  programs have the same log density and gradient (tests: 1e-8), so NUTS with the same
  step size and metric takes the same trajectories; a short dense run (``--dense-draws``
  draws, adaptation off, the fast run's step size, metric and last draw) checks the
  leapfrog steps per draw against the fast run's and gives a second gradient time
  (Stan's elapsed sampling time / leapfrog steps). ``--quick`` also runs the dense
  program's full NUTS and reports its directly measured ESS/s (``ess_per_s_dense_direct``).

Usage::

    python benchmarks/cosi_likelihood.py [--quick] [--json FILE] [--cpu 0] [--native]

Without ``--json`` the full run writes ``benchmarks/results/cosi_likelihood.json`` and
``--quick`` writes ``benchmarks/results/cosi_likelihood_quick.json``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from timing import say, timed

ROOT = Path(__file__).resolve().parents[1]
DENSE_PROGRAM = ROOT / "benchmarks" / "cosi_dense_reference.stan"
NUMPYRO_SCRIPT = ROOT / "benchmarks" / "cosi_likelihood_numpyro.py"
RESULTS = ROOT / "benchmarks" / "results"
XLA_FLAGS = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"

SCALES = {
    # n_time, bin_size (deg), warmup, draws, fast/plain/dense log_prob points, dense draws
    "full": {"n_time": 603, "bin_size": 6.0, "warmup": 500, "draws": 500,
             "points_fast": 3001, "points_plain": 301, "points_dense": 9, "dense_draws": 10},
    "quick": {"n_time": 96, "bin_size": 10.0, "warmup": 300, "draws": 300,
              "points_fast": 3001, "points_plain": 501, "points_dense": 41, "dense_draws": 20},
}





def simulate_problem(scale: str, seed: int):
    """The benchmark problem: one bulge template, 24 equidistant blocks."""
    from bayesbg.cosi import simulate_cosi
    from bayesbg.cosi.model import build_background_model, equidistant_blocks, prepare_fit_data

    settings = SCALES[scale]
    dataset, truth = simulate_cosi(seed, n_time=settings["n_time"],
                                   bin_size=settings["bin_size"])
    background = build_background_model(
        dataset, blocks=equidistant_blocks(dataset.n_time, 24), tracer="photo_event_rate")
    data = prepare_fit_data(dataset, background, flux_prior_mean=1e-3, flux_prior_sd=3e-3)
    return data, truth


def _write_json(path: Path, data: dict[str, Any]) -> Path:
    """Stan JSON, streamed row by row (the dense data have ~6e7 numbers)."""
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("{")
        for n, (name, value) in enumerate(data.items()):
            handle.write(("," if n else "") + f'\n"{name}": ')
            array = np.asarray(value)
            if array.ndim == 0:
                handle.write(repr(array.item()))
                continue
            _write_array(handle, array)
        handle.write("\n}\n")
    return path


def _write_array(handle, array: np.ndarray) -> None:
    if array.ndim == 1:
        handle.write("[" + ",".join(map(repr, array.tolist())) + "]")
        return
    handle.write("[")
    for i, row in enumerate(array):
        if i:
            handle.write(",")
        _write_array(handle, row)
    handle.write("]")


def _points(data, rng: np.random.Generator, n: int) -> np.ndarray:
    """Constrained parameter points near the posterior: flux 1e-3 (1 +- 5 %), A 1 +- 1 %."""
    flux = 1e-3 * (1 + 0.05 * rng.standard_normal((n, data.n_template)))
    amplitude = 1 + 0.01 * rng.standard_normal((n, data.n_block))
    return np.abs(np.concatenate([flux, amplitude], axis=1))


def _points_csv(path: Path, data, points: np.ndarray) -> Path:
    names = [f"flux.{k + 1}" for k in range(data.n_template)] + \
            [f"background_amplitude.{b + 1}" for b in range(data.n_block)]
    np.savetxt(path, points, delimiter=",", header=",".join(names), comments="", fmt="%.17g")
    return path


def stan_gradient_time(model, data_file: Path, data, points: np.ndarray,
                       work: Path, label: str) -> dict[str, float]:
    """CPU (and wall) seconds per gradient from ``log_prob`` over many points minus one."""
    one = _points_csv(work / f"{label}_one.csv", data, points[:1])
    many = _points_csv(work / f"{label}_many.csv", data, points)
    lp_one, cpu_one, wall_one = timed(
        lambda: model.log_prob(str(one), str(data_file), jacobian=True, sig_figs=18))
    lp_many, cpu_many, wall_many = timed(
        lambda: model.log_prob(str(many), str(data_file), jacobian=True, sig_figs=18))
    n = len(points) - 1
    return {
        "grad_s": (cpu_many - cpu_one) / n,
        "grad_s_wall": (wall_many - wall_one) / n,
        "load_cpu_s": cpu_one,
        "load_wall_s": wall_one,
        "lp": lp_many["lp__"].to_numpy(),
        "gradient": lp_many.to_numpy()[:, 1:],
    }


def _stan_elapsed(csv_file: str) -> tuple[float, float]:
    warmup = sampling = 0.0
    with open(csv_file, encoding="utf-8") as handle:
        for line in handle:
            if "Elapsed Time" in line or "seconds (Sampling)" in line:
                value = float(line.split(":")[-1].split()[0]) if "Elapsed" in line \
                    else float(line.strip("# \n").split()[0])
                if "(Warm-up)" in line:
                    warmup = value
                elif "(Sampling)" in line:
                    sampling = value
    return warmup, sampling


def _min_ess(draws: dict[str, np.ndarray]) -> tuple[float, float]:
    """Smallest bulk ESS over all scalar parameters, and the flux's (first template)."""
    import arviz as az

    ess = []
    flux_ess = np.nan
    for name, values in draws.items():
        values = np.asarray(values).reshape(len(values), -1)
        for j in range(values.shape[1]):
            e = float(az.ess(values[None, :, j], method="bulk"))
            ess.append(e)
            if name == "flux" and j == 0:
                flux_ess = e
    return float(min(ess)), float(flux_ess)


def stan_nuts(model, data_file: Path, *, warmup: int, draws: int, seed: int,
              load_cpu_s: float, work: Path, label: str, inits: dict | None = None,
              step_size: float | None = None, metric: np.ndarray | None = None
              ) -> dict[str, Any]:
    """One NUTS chain; ESS and the CPU time of its sampling phase."""
    kwargs: dict[str, Any] = {}
    if step_size is not None:  # continuation with a given adaptation
        kwargs.update(adapt_engaged=False, step_size=step_size,
                      inv_metric={"inv_metric": np.asarray(metric).tolist()})
    fit, cpu, wall = timed(lambda: model.sample(
        data=str(data_file), chains=1, seed=seed, iter_warmup=warmup, iter_sampling=draws,
        inits=inits, show_progress=False, output_dir=str(work / label), **kwargs))
    warm_s, samp_s = _stan_elapsed(fit.runset.csv_files[0])
    share = samp_s / (warm_s + samp_s) if warm_s + samp_s > 0 else 1.0
    sampling_cpu = max(cpu - load_cpu_s, 0.0) * share
    parameters = {name: fit.stan_variable(name) for name in ("flux", "background_amplitude")}
    leapfrogs = int(fit.method_variables()["n_leapfrog__"].sum())
    result = {
        "fit": fit,
        "sampling_cpu_s": sampling_cpu,
        "sampling_wall_s": samp_s,
        "warmup_wall_s": warm_s,
        "leapfrog_steps": leapfrogs,
        "draws": draws,
    }
    if draws >= 50:
        result["ess"], result["ess_flux"] = _min_ess(parameters)
    return result


def run_numpyro(problem: Path, result: Path, *, warmup: int, draws: int, seed: int
                ) -> dict[str, Any]:
    env = {**os.environ, "XLA_FLAGS": XLA_FLAGS, "OMP_NUM_THREADS": "1",
           "JAX_PLATFORMS": "cpu"}
    command = [sys.executable, str(NUMPYRO_SCRIPT), str(problem), str(result),
               "--warmup", str(warmup), "--samples", str(draws), "--seed", str(seed)]
    subprocess.run(command, env=env, check=True)
    return json.loads(result.read_text())


def _numpyro_problem(path: Path, data, points: np.ndarray) -> Path:
    background_total = np.bincount(data.time_block - 1, weights=data.background_per_time,
                                   minlength=data.n_block)
    np.savez(path, counts=data.counts.astype(np.float64), sky=data.sky_response,
             background=data.background, bin_block=data.time_block[data.time] - 1,
             sky_total=data.sky_per_time.sum(axis=0), background_total=background_total,
             flux_prior_mean=data.flux_prior_mean, flux_prior_sd=data.flux_prior_sd,
             background_prior_sd=np.array(data.background_prior_sd), points=points)
    return path


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="96 h x 7,416 bins, 300 + 300 draws (a few minutes)")
    parser.add_argument("--json", type=Path, help="write the figures to this JSON file")
    parser.add_argument("--cpu", type=int, default=0, help="core to pin to (default 0)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--native", action="store_true",
                        help="also the fast program built with CXXFLAGS=-march=native")
    parser.add_argument("--dense-draws", type=int, default=None,
                        help="draws of the short dense check run")
    args = parser.parse_args(argv)
    scale = "quick" if args.quick else "full"
    settings = SCALES[scale]
    output = args.json or RESULTS / ("cosi_likelihood_quick.json" if args.quick
                                     else "cosi_likelihood.json")

    os.sched_setaffinity(0, {args.cpu})  # inherited by every child: taskset -c CPU
    os.environ["STAN_NUM_THREADS"] = "1"
    from bayesbg.cosi.model import cosi_fit_model
    from bayesbg.stan import compile_model

    load_before = os.getloadavg()
    say(f"cosi likelihood benchmark ({scale}), pinned to CPU {args.cpu}; "
         f"load average {load_before[0]:.2f}")
    start = time.perf_counter()
    data, _ = simulate_problem(scale, args.seed)
    n_bins = data.dataset.n_data_bin
    say(f"problem: {data.n_time} h x {n_bins} bins, {data.n_nonzero} populated, "
         f"{data.n_block} blocks, {data.n_template} template "
         f"(simulated in {time.perf_counter() - start:.0f} s)")
    rng = np.random.default_rng(args.seed)
    points = _points(data, rng, max(settings["points_fast"], settings["points_plain"]))

    models = {"fast": cosi_fit_model(), "dense": compile_model(DENSE_PROGRAM)}
    if args.native:
        models["native"] = cosi_fit_model(native=True)  # CXXFLAGS=-march=native
    results: dict[str, Any] = {
        "scale": scale, "hours": data.n_time, "bins": n_bins, "nonzero": data.n_nonzero,
        "blocks": data.n_block, "templates": data.n_template,
        "pinning": f"sched_setaffinity CPU {args.cpu} (= taskset -c {args.cpu}) inherited by "
                   "each child process; STAN_NUM_THREADS=1, models without threads; numpyro "
                   f"XLA_FLAGS='{XLA_FLAGS}'",
        "timing": "CPU s of the child process (getrusage); *_wall: wall clock",
        "machine": {"cpus": os.cpu_count(), "processor": platform.processor(),
                    "load_average_start": load_before},
    }

    with tempfile.TemporaryDirectory(prefix="cosi-bench-") as tmp:
        work = Path(tmp)
        files = {
            "fast": _write_json(work / "fast.json", data.to_stan_data()),
            "plain": _write_json(work / "plain.json", data.to_stan_data(fused=False)),
        }
        files["native"] = files["fast"]
        say("writing the dense data ...")
        files["dense"] = _write_json(
            work / "dense.json", data.to_dense_stan_data(max_bins=10**8))

        grads: dict[str, dict[str, Any]] = {}
        for label, model_name, n in [("fast", "fast", settings["points_fast"]),
                                     ("plain", "fast", settings["points_plain"]),
                                     ("native", "native", settings["points_fast"]),
                                     ("dense", "dense", settings["points_dense"])]:
            if model_name not in models:
                continue
            grads[label] = stan_gradient_time(models[model_name], files[label], data,
                                              points[:n], work, label)
            say(f"gradient {label}: {1e3 * grads[label]['grad_s']:.3f} ms CPU "
                 f"({1e3 * grads[label]['grad_s_wall']:.3f} ms wall; "
                 f"loading {grads[label]['load_cpu_s']:.1f} s)")
        # Same log density and gradient at the same points (first points of each run).
        n_check = settings["points_dense"]
        for label in ("plain", "dense", "native"):
            if label in grads:
                results[f"max_rel_diff_lp_{label}_vs_fast"] = float(np.max(np.abs(
                    grads[label]["lp"][:n_check] / grads["fast"]["lp"][:n_check] - 1)))
                results[f"max_rel_diff_grad_{label}_vs_fast"] = float(np.max(
                    np.abs(grads[label]["gradient"][:n_check] - grads["fast"]["gradient"][:n_check])
                    / np.maximum(np.abs(grads["fast"]["gradient"][:n_check]), 1e-300)))

        # NUTS, fast program (and native build).
        nuts: dict[str, dict[str, Any]] = {}
        for label in ("fast", "native"):
            if label not in models:
                continue
            nuts[label] = stan_nuts(models[label], files[label], warmup=settings["warmup"],
                                    draws=settings["draws"], seed=args.seed,
                                    load_cpu_s=grads[label]["load_cpu_s"], work=work,
                                    label=f"nuts_{label}")
            say(f"NUTS {label}: ESS {nuts[label]['ess']:.0f} (min bulk), "
                 f"{nuts[label]['leapfrog_steps']} leapfrog steps, sampling "
                 f"{nuts[label]['sampling_cpu_s']:.1f} s CPU "
                 f"({nuts[label]['sampling_wall_s']:.1f} s wall)")
        fast_fit = nuts["fast"]["fit"]
        step_size = float(fast_fit.step_size[0])
        metric = np.asarray(fast_fit.inv_metric[0])
        last = {name: fast_fit.stan_variable(name)[-1].tolist()
                for name in ("flux", "background_amplitude")}

        # Dense: short check run with the fast run's adaptation.
        dense_draws = args.dense_draws or settings["dense_draws"]
        dense_check = stan_nuts(models["dense"], files["dense"], warmup=0, draws=dense_draws,
                                seed=args.seed + 1, load_cpu_s=grads["dense"]["load_cpu_s"],
                                work=work, label="nuts_dense_check", inits=last,
                                step_size=step_size, metric=metric)
        say(f"dense check run: {dense_check['leapfrog_steps'] / dense_draws:.2f} leapfrog "
             f"steps per draw (fast: {nuts['fast']['leapfrog_steps'] / settings['draws']:.2f})")
        dense_direct = None
        if args.quick:
            dense_direct = stan_nuts(models["dense"], files["dense"],
                                     warmup=settings["warmup"], draws=settings["draws"],
                                     seed=args.seed, load_cpu_s=grads["dense"]["load_cpu_s"],
                                     work=work, label="nuts_dense")
            say(f"NUTS dense (direct): ESS {dense_direct['ess']:.0f}, sampling "
                 f"{dense_direct['sampling_cpu_s']:.1f} s CPU")

        # numpyro
        have_numpyro = all(importlib.util.find_spec(name) is not None
                           for name in ("numpyro", "jax"))
        numpyro = None
        if have_numpyro:
            say("numpyro ...")
            problem = _numpyro_problem(work / "problem.npz", data, points[:2])
            numpyro = run_numpyro(problem, work / "numpyro.json", warmup=settings["warmup"],
                                  draws=settings["draws"], seed=args.seed)
            numpyro["ess"], numpyro["ess_flux"] = _min_ess(
                {"flux": np.asarray(numpyro["flux"]),
                 "background_amplitude": np.asarray(numpyro["background_amplitude"])})
            say(f"numpyro: gradient {1e3 * numpyro['grad_cpu_s']:.3f} ms CPU, ESS "
                 f"{numpyro['ess']:.0f}, sampling {numpyro['sampling_cpu_s']:.1f} s CPU")
            # Same posterior: log-density differences between two points agree.
            stan_diff = grads["fast"]["lp"][0] - grads["fast"]["lp"][1]
            numpyro_diff = numpyro["log_density"][0] - numpyro["log_density"][1]
            results["lp_difference_stan_vs_numpyro"] = [float(stan_diff), float(numpyro_diff)]
        else:
            say("numpyro/jax not installed (pip install -e '.[bench]'): numpyro skipped")

    fast = nuts["fast"]
    leapfrogs_per_ess = fast["leapfrog_steps"] / fast["ess"]
    # Dense gradient: Stan's own timing of the check run's sampling phase over its
    # leapfrog steps (one pinned process; wall = CPU when the core is not shared). The
    # log_prob difference used for the other programs is kept as *_log_prob, but at full
    # scale it differences two loads of ~60 s of dense data whose times vary by several
    # seconds, against ~9 s of gradients, and can come out wrong (even negative).
    dense_gradient_s = dense_check["sampling_wall_s"] / dense_check["leapfrog_steps"]
    results.update({
        "grad_us_dense": 1e6 * dense_gradient_s,
        "grad_us_dense_method": "check run: Stan's sampling time / leapfrog steps",
        "grad_us_dense_log_prob": 1e6 * grads["dense"]["grad_s"],
        "grad_us_fast": 1e6 * grads["fast"]["grad_s"],
        "grad_us_plain": 1e6 * grads["plain"]["grad_s"],
        "grad_us_numpyro": 1e6 * numpyro["grad_cpu_s"] if numpyro else None,
        "grad_us_dense_log_prob_wall": 1e6 * grads["dense"]["grad_s_wall"],
        "grad_us_fast_wall": 1e6 * grads["fast"]["grad_s_wall"],
        "grad_us_plain_wall": 1e6 * grads["plain"]["grad_s_wall"],
        "grad_us_numpyro_wall": 1e6 * numpyro["grad_s"] if numpyro else None,
        "ess_fast": fast["ess"], "ess_flux_fast": fast["ess_flux"],
        "draws": settings["draws"], "warmup": settings["warmup"],
        "leapfrog_per_draw_fast": fast["leapfrog_steps"] / settings["draws"],
        "leapfrog_per_draw_dense_check": dense_check["leapfrog_steps"] / dense_draws,
        "leapfrog_per_ess_fast": leapfrogs_per_ess,
        "sampling_cpu_s_fast": fast["sampling_cpu_s"],
        "sampling_wall_s_fast": fast["sampling_wall_s"],
        "ess_per_s_fast": fast["ess"] / fast["sampling_cpu_s"],
        "ess_per_s_fast_wall": fast["ess"] / fast["sampling_wall_s"],
        # sampling CPU time not spent in gradients: generated quantities, sampler, output
        "non_gradient_share_fast":
            1.0 - fast["leapfrog_steps"] * grads["fast"]["grad_s"] / fast["sampling_cpu_s"],
        "ess_per_s_dense": 1.0 / (dense_gradient_s * leapfrogs_per_ess),
        "ess_per_s_dense_method": "1 / (grad_us_dense x leapfrog_per_ess_fast)",
    })
    if dense_direct is not None:
        results["ess_per_s_dense_direct"] = dense_direct["ess"] / dense_direct["sampling_cpu_s"]
        results["ess_dense_direct"] = dense_direct["ess"]
    if numpyro:
        results.update({
            "ess_numpyro": numpyro["ess"], "ess_flux_numpyro": numpyro["ess_flux"],
            "leapfrog_per_draw_numpyro": numpyro["leapfrog_steps"] / settings["draws"],
            "sampling_cpu_s_numpyro": numpyro["sampling_cpu_s"],
            "ess_per_s_numpyro": numpyro["ess"] / numpyro["sampling_cpu_s"],
            "ess_per_s_numpyro_wall": numpyro["ess"] / numpyro["sampling_wall_s"],
            "numpyro_version": importlib.metadata.version("numpyro"),
        })
    else:
        results.update({"ess_per_s_numpyro": None, "ess_per_s_numpyro_wall": None})
    if "native" in nuts:
        results.update({
            "grad_us_native": 1e6 * grads["native"]["grad_s"],
            "ess_native": nuts["native"]["ess"],
            "ess_per_s_native": nuts["native"]["ess"] / nuts["native"]["sampling_cpu_s"],
            "sampling_cpu_s_native": nuts["native"]["sampling_cpu_s"],
            "non_gradient_share_native": 1.0 - nuts["native"]["leapfrog_steps"]
            * grads["native"]["grad_s"] / nuts["native"]["sampling_cpu_s"],
        })
    results["ratio_ess_per_s"] = results["ess_per_s_fast"] / results["ess_per_s_dense"]
    results["ratio_grad_dense_vs_fast"] = results["grad_us_dense"] / results["grad_us_fast"]
    results["ratio_grad_plain_vs_fast"] = results["grad_us_plain"] / results["grad_us_fast"]
    if numpyro:
        results["ratio_vs_numpyro"] = results["ess_per_s_fast"] / results["ess_per_s_numpyro"]
        results["ratio_vs_numpyro_wall"] = \
            results["ess_per_s_fast_wall"] / results["ess_per_s_numpyro_wall"]
        results["ratio_grad_numpyro_vs_fast"] = \
            results["grad_us_numpyro"] / results["grad_us_fast"]
        if "ess_per_s_native" in results:
            results["ratio_vs_numpyro_native"] = \
                results["ess_per_s_native"] / results["ess_per_s_numpyro"]
    else:
        results["ratio_vs_numpyro"] = None
    results["machine"]["load_average_end"] = os.getloadavg()
    results["total_wall_s"] = time.perf_counter() - start

    say("\n" + _table(results))
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    partial.write_text(json.dumps(results, indent=2) + "\n")
    os.replace(partial, output)
    say(f"written {output}")
    return results


def _table(r: dict[str, Any]) -> str:
    def f(value: Any, digits: int = 1) -> str:
        return "-" if value is None else f"{value:,.{digits}f}"

    lines = [
        f"{r['hours']} h x {r['bins']:,} bins, {r['nonzero']:,} populated, {r['blocks']} "
        f"blocks; one core; CPU time (load average {r['machine']['load_average_start'][0]:.1f}"
        f" -> {r['machine']['load_average_end'][0]:.1f})",
        f"{'program':<10} {'grad (us)':>12} {'ESS/s':>10}",
        f"{'dense':<10} {f(r['grad_us_dense'], 0):>12} {f(r['ess_per_s_dense'], 3):>10}",
        f"{'plain':<10} {f(r['grad_us_plain'], 0):>12} {'':>10}",
        f"{'fast':<10} {f(r['grad_us_fast'], 0):>12} {f(r['ess_per_s_fast'], 2):>10}",
        f"{'numpyro':<10} {f(r['grad_us_numpyro'], 0):>12} {f(r['ess_per_s_numpyro'], 2):>10}",
    ]
    if "grad_us_native" in r:
        lines.append(f"{'native':<10} {f(r['grad_us_native'], 0):>12} "
                     f"{f(r['ess_per_s_native'], 2):>10}")
    lines.append(f"ESS/s fast / dense = {f(r['ratio_ess_per_s'], 0)}; fast / numpyro = "
                 f"{f(r['ratio_vs_numpyro'], 2)}; native / numpyro = "
                 f"{f(r.get('ratio_vs_numpyro_native'), 2)}; gradient dense / fast = "
                 f"{f(r['ratio_grad_dense_vs_fast'], 0)}, plain / fast = "
                 f"{f(r['ratio_grad_plain_vs_fast'], 2)}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
