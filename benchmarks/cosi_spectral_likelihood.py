"""Benchmark the forward-folded COSI spectral fit (issue #18): fused C++ pass against the
same model written plainly in Stan, and the wall time of a 4-chain fit.

Problem: the flight-like geometry (the 2016 day's orientation repeated, 1-h bins) with
the ten bands of the 2016 response (edges moved to the background file's), the full
Compton data space (30 phi x 1,145 FISBEL psi-chi bins per band), a Crab-like source
(bknpower of [COSI-PS] Table 2, the bright-source study's effective area) in every time
bin and the measured background at the flight's rate; 24 equidistant background blocks
per band (240 amplitudes). Full: 603 h; ``--quick``: 96 h.

Measured in one run, on one core (``--cpu``, every child inherits the affinity; CPU
seconds of the child processes, which a shared machine inflates less than wall time):

- gradient time of the fused program (``fused_likelihood = 1``) and of the plain one
  (``0``): CmdStan ``log_prob`` over R points near the posterior minus the same with one
  point, over R - 1 (data loading cancels);
- ESS per second of the fused program: one NUTS chain (warmup + draws, default 500 +
  500), the smallest bulk ESS over all parameters over the CPU time of the sampling phase;
- ESS per second of the plain program: at full scale from its gradient time and the fused
  run's leapfrog steps per effective draw (both programs have the same density and
  gradient, tests: 1e-9, so NUTS with the same adaptation takes the same trajectories), a
  short plain chain with the fused run's step size, metric and last draw checking the
  leapfrog steps per draw; ``--quick`` runs the plain NUTS chain in full as well;
- the wall time of ``fit_forward_folded`` with 4 chains (2 in parallel, 500 + 500,
  the maximum-likelihood start and the Laplace metric included) on the same problem: the
  issue's "under 10 minutes here"; with the leapfrog steps per draw and, for a failed
  diagnostic, its value and the parameter; with the CPU seconds of its child processes
  (CmdStan) and the load average, since a shared machine stretches the wall time
  (``wall_s_on_two_free_cores``: the CPU seconds over 2).

Usage::

    python benchmarks/cosi_spectral_likelihood.py [--quick] [--json FILE] [--cpu 0]

Writes ``benchmarks/results/cosi_spectral_likelihood.json`` (``--quick``:
``cosi_spectral_likelihood_quick.json``) unless ``--json`` is given.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from timing import say, timed

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
SCALES = {"full": {"n_time": 603, "warmup": 500, "draws": 500, "points_fused": 301,
                   "points_plain": 31, "plain_draws": 20},
          "quick": {"n_time": 96, "warmup": 300, "draws": 300, "points_fused": 301,
                    "points_plain": 31, "plain_draws": 300}}





def build_problem(n_time: int, seed: int):
    """The benchmark's ForwardFoldProblem and its truth (module docstring)."""
    from bayesbg.cosi.flight import (
        FlightGeometry,
        default_background_rate,
        flight_background_response,
        flight_timeline,
    )
    from bayesbg.cosi.io import (
        read_classic_background,
        read_classic_tracer,
        read_ori,
        sample_data_dir,
    )
    from bayesbg.cosi.model import equidistant_blocks
    from bayesbg.cosi.spectral import (
        DEFAULT_AREA_SCALE,
        EnergyResponse,
        ForwardFoldProblem,
        PhotonSpectrum,
        band_background_models,
        prepare_spectral_counts,
    )
    from bayesbg.cosi.spectral.flight import (
        flight_band_edges,
        simulate_source_observation,
        source_observation,
    )
    from bayesbg.cosi.spectral.tables import PAPER

    files = sample_data_dir() / "classic-2016"
    background = read_classic_background(files / "flight_bg_all_v1_fine_6deg.npz")
    response = EnergyResponse.read(files / "RMF_matrices_COSI2016_9dets_10ebins_6deg.npz",
                                   area_scale=0.2 * DEFAULT_AREA_SCALE)
    edges = flight_band_edges(background, response.measured_edges)
    timeline = flight_timeline(read_ori(files / "OP_160628_FullDay.ori"),
                               read_classic_tracer(files / "tracer.npz"), n_time=n_time)
    geometry = FlightGeometry.from_timeline(timeline, background, energy_edges=edges,
                                            substeps=30, altitude=33.0)
    crab = PAPER["crab"]
    observation = source_observation(geometry, response, lon=crab.position[0],
                                     lat=crab.position[1], pointing_cut=180.0)
    spectrum = PhotonSpectrum("bknpower", flux_band=(float(edges[0]), float(edges[-1])))
    flux = 9.44 / np.exp(spectrum.log_norm(1.0, crab.shape()))
    dataset, truth = simulate_source_observation(
        seed, observation, name="crab", spectrum=spectrum, photon_flux=flux,
        shape=crab.shape(), background_response=flight_background_response(background,
                                                                            geometry),
        mean_background_rate=default_background_rate(background, geometry))
    models = band_background_models(dataset, blocks=equidistant_blocks(n_time, 24),
                                    tracer="photo_event_rate")
    counts = prepare_spectral_counts(dataset, exposure=observation.exposure,
                                     patterns=observation.pattern, background_models=models,
                                     energy_true_edges=response.energy_edges)
    fit_spectrum = PhotonSpectrum("bknpower", fixed={"index1": 2.137, "break_energy": 43.0},
                                  flux_band=spectrum.flux_band)
    return ForwardFoldProblem(fit_spectrum, cosi=counts), {"photon_flux": flux,
                                                            "index2": 2.19}


def _points_csv(path: Path, problem, points: list[dict]) -> Path:
    names = ["photon_flux", *[f"shape_free.{i + 1}" for i in
                              range(len(points[0]["shape_free"]))],
             *[f"log_background_amplitude.{i + 1}" for i in
               range(len(points[0]["log_background_amplitude"]))]]
    rows = [[p["photon_flux"], *p["shape_free"], *p["log_background_amplitude"]]
            for p in points]
    np.savetxt(path, np.asarray(rows), delimiter=",", header=",".join(names), comments="",
               fmt="%.17g")
    return path


def gradient_time(model, data_file: Path, problem, points: list[dict], work: Path,
                  label: str) -> dict[str, float]:
    one = _points_csv(work / f"{label}_one.csv", problem, points[:1])
    many = _points_csv(work / f"{label}_many.csv", problem, points)
    _, cpu_one, wall_one = timed(lambda: model.log_prob(str(one), str(data_file)))
    _, cpu_many, wall_many = timed(lambda: model.log_prob(str(many), str(data_file)))
    n = len(points) - 1
    return {"grad_s": (cpu_many - cpu_one) / n, "grad_s_wall": (wall_many - wall_one) / n,
            "load_cpu_s": cpu_one}


def _elapsed(csv_file: str) -> tuple[float, float]:
    warmup = sampling = 0.0
    with open(csv_file, encoding="utf-8") as handle:
        for line in handle:
            if "(Warm-up)" in line:
                warmup = float(line.split(":")[-1].split()[0])
            elif "(Sampling)" in line:
                sampling = float(line.strip("# \n").split()[0])
    return warmup, sampling


def nuts_chain(model, data_file: Path, *, warmup: int, draws: int, seed: int, inits: dict,
               load_cpu_s: float, work: Path, label: str, **kwargs: Any) -> dict[str, Any]:
    import arviz as az

    fit, cpu, wall = timed(lambda: model.sample(
        data=str(data_file), chains=1, seed=seed, iter_warmup=warmup, iter_sampling=draws,
        inits=inits, show_progress=False, output_dir=str(work / label), **kwargs))
    warm_s, samp_s = _elapsed(fit.runset.csv_files[0])
    share = samp_s / (warm_s + samp_s) if warm_s + samp_s > 0 else 1.0
    leapfrogs = int(fit.method_variables()["n_leapfrog__"].sum())
    ess = []
    for name in ("photon_flux", "shape_free", "background_amplitude"):
        values = np.asarray(fit.stan_variable(name)).reshape(draws, -1)
        ess += [float(az.ess(values[None, :, j], method="bulk"))
                for j in range(values.shape[1])]
    return {"fit": fit, "sampling_cpu_s": max(cpu - load_cpu_s, 0.0) * share,
            "sampling_wall_s": samp_s, "leapfrog_steps": leapfrogs, "draws": draws,
            "ess": float(min(ess)) if draws >= 50 else float("nan")}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="96 h (minutes)")
    parser.add_argument("--json", type=Path, default=None, help="output file")
    parser.add_argument("--cpu", type=int, default=0, help="core to pin to (default 0)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    scale = "quick" if args.quick else "full"
    settings = SCALES[scale]
    output = args.json or RESULTS / ("cosi_spectral_likelihood_quick.json" if args.quick
                                     else "cosi_spectral_likelihood.json")
    logging.getLogger("cmdstanpy").setLevel(logging.ERROR)
    warnings.simplefilter("ignore")
    from cmdstanpy import write_stan_json

    from bayesbg.config import SamplerConfig
    from bayesbg.cosi.spectral import fit_forward_folded, forward_fold_model
    from bayesbg.cosi.spectral.fit import maximum_likelihood_forward_folded

    start = time.perf_counter()
    problem, truth = build_problem(settings["n_time"], args.seed)
    build_s = time.perf_counter() - start
    counts = problem.cosi
    say(f"problem: {counts.n_band} bands x {counts.n_time} h x "
         f"{counts.n_nonzero:,} populated bins, {counts.n_amplitude} amplitudes "
         f"({build_s:.0f} s to simulate)")
    model = forward_fold_model()
    record: dict[str, Any] = {
        "scale": scale, "machine": platform.node(), "python": platform.python_version(),
        "load_average_start": os.getloadavg(), "n_time": counts.n_time,
        "n_band": counts.n_band, "n_populated": counts.n_nonzero,
        "n_amplitudes": counts.n_amplitude, "n_data_bins": counts.n_time * counts.n_band
        * int(problem.cosi.data_bin.max(initial=0) + 1), "build_s": build_s,
    }

    # -- 4 chains, the wall-time target (before pinning: 2 chains in parallel) --
    config = SamplerConfig(chains=4, parallel_chains=2, iter_warmup=500, iter_sampling=500)
    load_start = os.getloadavg()
    result, cpu_s, wall_s = timed(lambda: fit_forward_folded(problem, seed=args.seed,
                                                              config=config, model=model))
    record["four_chain_fit"] = {
        "wall_s": wall_s, "cpu_s": cpu_s, "wall_s_on_two_free_cores": cpu_s / 2,
        "load_average_start": load_start, "load_average_end": os.getloadavg(),
        "config": "4 chains x (500 + 500), 2 parallel",
        "diagnostics_passed": bool(result.diagnostics.passed),
        "diagnostics_failed": [{"check": c.name, "value": c.value, "threshold": c.threshold,
                                "where": c.where}
                               for c in result.diagnostics.checks if not c.passed],
        "leapfrog_per_draw": float(result.fit.method_variables()["n_leapfrog__"].mean()),
        "summary": json.loads(result.summary.reset_index().to_json(orient="records")),
        "truth": truth}
    say(f"4-chain fit: {record['four_chain_fit']['wall_s']:.0f} s wall, diagnostics "
         f"{'passed' if result.diagnostics.passed else 'FAILED'}")

    os.sched_setaffinity(0, {args.cpu})
    os.environ["STAN_NUM_THREADS"] = "1"
    rng = np.random.default_rng(args.seed)
    ml = maximum_likelihood_forward_folded(problem, seed=args.seed, model=model)
    centre = {"photon_flux": float(ml.estimate["photon_flux"]),
              "shape_free": np.atleast_1d(ml.estimate["shape_free"]).tolist(),
              "cross_norm_free": [],
              "log_background_amplitude": np.log(np.atleast_1d(
                  ml.estimate["background_amplitude"])).tolist()}

    def jittered(n: int) -> list[dict]:
        return [{**centre,
                 "photon_flux": centre["photon_flux"] * (1 + 0.01 * rng.standard_normal()),
                 "log_background_amplitude": (
                     np.asarray(centre["log_background_amplitude"])
                     + 0.002 * rng.standard_normal(counts.n_amplitude)).tolist()}
                for _ in range(n)]

    with tempfile.TemporaryDirectory(prefix="bayesbg-bench-") as tmp:
        work = Path(tmp)
        files = {}
        for label, fused in (("fused", True), ("plain", False)):
            files[label] = work / f"{label}.json"
            write_stan_json(str(files[label]), problem.to_stan_data(fused=fused))
        grads = {label: gradient_time(model, files[label], problem,
                                      jittered(settings[f"points_{label}"]), work, label)
                 for label in ("fused", "plain")}
        say(f"gradient: fused {1e3 * grads['fused']['grad_s']:.2f} ms, plain "
             f"{1e3 * grads['plain']['grad_s']:.2f} ms (CPU)")
        fused = nuts_chain(model, files["fused"], warmup=settings["warmup"],
                           draws=settings["draws"], seed=args.seed, inits=centre,
                           load_cpu_s=grads["fused"]["load_cpu_s"], work=work, label="nuts")
        ess_fused = fused["ess"] / fused["sampling_cpu_s"]
        steps_per_ess = fused["leapfrog_steps"] / fused["ess"]
        last = fused["fit"]
        draw = {name: np.atleast_1d(last.stan_variable(name)[-1]).tolist()
                for name in ("shape_free", "log_background_amplitude")}
        draw["photon_flux"] = float(last.stan_variable("photon_flux")[-1])
        draw["cross_norm_free"] = []
        check = nuts_chain(
            model, files["plain"], warmup=0, draws=settings["plain_draws"], seed=args.seed,
            inits=draw, load_cpu_s=grads["plain"]["load_cpu_s"], work=work,
            label="plain_check", adapt_engaged=False,
            step_size=float(last.step_size[0]),
            inv_metric=np.asarray(last.inv_metric[0]))
    record.update({
        "grad_ms_fused": 1e3 * grads["fused"]["grad_s"],
        "grad_ms_plain": 1e3 * grads["plain"]["grad_s"],
        "grad_ms_fused_wall": 1e3 * grads["fused"]["grad_s_wall"],
        "grad_ms_plain_wall": 1e3 * grads["plain"]["grad_s_wall"],
        "ratio_gradient_plain_over_fused": grads["plain"]["grad_s"] / grads["fused"]["grad_s"],
        "fused_chain": {k: v for k, v in fused.items() if k != "fit"},
        "ess_per_s_fused": ess_fused,
        "leapfrog_per_draw_fused": fused["leapfrog_steps"] / fused["draws"],
        "leapfrog_per_draw_plain_check": check["leapfrog_steps"] / check["draws"],
        "ess_per_s_plain_derived": 1.0 / (grads["plain"]["grad_s"] * steps_per_ess),
        "load_average_end": os.getloadavg(),
    })
    record["ratio_ess_per_s"] = ess_fused / record["ess_per_s_plain_derived"]
    if args.quick:
        record["plain_chain"] = {k: v for k, v in check.items() if k != "fit"}
        record["ess_per_s_plain_direct"] = check["ess"] / check["sampling_cpu_s"] \
            if check["sampling_cpu_s"] > 0 else float("nan")
    say(f"ESS/s: fused {ess_fused:.2f}, plain {record['ess_per_s_plain_derived']:.3f} "
         f"(derived), ratio {record['ratio_ess_per_s']:.1f}")
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_suffix(".json.partial")
    partial.write_text(json.dumps(record, indent=2, default=float) + "\n", encoding="utf-8")
    os.replace(partial, output)
    say(f"wrote {output}")
    return record


if __name__ == "__main__":
    main(sys.argv[1:])
