"""Benchmark: the ISGRI pipeline over a full-size simulated table, and its mixture fit.

Simulates ~148,000 raw (~131,000 screened) pointings in the 24 bands of the pipeline
(25-60, 60-80, 80-200 keV and the 21 logarithmic bands of 25-185 keV), then

1. times the pipeline without Stan (screening, background model in 24 bands, the Crab
   calibration with the default and the alternative collimator, per-pointing fluxes, the
   maximum-likelihood mixture with its error budget for Table 1, the 4 x 21 narrow-band
   spectra, the 11 x 3 longitude bins and the 24 bands of Sco X-1, each refitted under
   the alternative calibration) and, in a second run, its peak memory (tracemalloc,
   Python allocations incl. numpy): keys ``pointings``, ``bands``, ``groups``,
   ``seconds``, ``peak_mem_mb``; ``max_rss_mb`` is the process's resident-set
   high-water mark after the first run (simulation with its truth, table and pipeline
   together; Linux ``ru_maxrss``), an upper bound of the pipeline's own memory;
2. unless ``--no-mixture``, times the Stan mixture fit of every region x band of
   Table 1 (12 groups, one run, the default 2 chains x 500 + 500 iterations, binned
   likelihood): ``mixture_seconds`` (the whole `fit_flux_mixture` call);
3. measures, in the same run and with the same short NUTS settings (1 chain, 150 + 150
   iterations, same data, seed and inits), the sampling wall time of the binned program
   and of the per-pointing program it replaced
   (``benchmarks/isgri_mixture_pointwise_reference.stan``): ``mixture_short_binned_s``,
   ``mixture_short_pointwise_s`` and their ratio ``mixture_speedup``;
   ``mixture_pointwise_estimate_s`` = ``mixture_seconds * mixture_speedup`` estimates
   the full fit by the old program (not run: tens of minutes on 2 cores). The reference
   chain stops at ``--timeout`` seconds (``mixture_short_pointwise_finished`` false):
   the ratio is then a lower bound.

Writes ``benchmarks/results/isgri_pipeline.json`` or the file given with ``--json``.
The machine's load (other processes) is recorded as ``load_average``; the ratio is
robust to it, the absolute times are not.

Usage::

    .venv/bin/python benchmarks/isgri_pipeline.py [--quick] [--no-mixture] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
import tracemalloc
from pathlib import Path

from bayesbg.atomic import write_text_atomic
from bayesbg.isgri import (
    PAPER_REGIONS,
    SCO_X1,
    FluxGroups,
    fit_flux_mixture,
    flux_mixture_model,
    run_pipeline,
    simulate_isgri,
)
from bayesbg.isgri.fit import mixture_initial_values
from bayesbg.stan import compile_model

HERE = Path(__file__).resolve().parent
RESULT = HERE / "results" / "isgri_pipeline.json"
REFERENCE = HERE / "isgri_mixture_pointwise_reference.stan"


def _groups(result) -> FluxGroups:
    values = {}
    for region in PAPER_REGIONS:
        inside = region.contains(result.pointings.l, result.pointings.b)
        for k, band in enumerate(result.bands):
            values[f"{region.name} {band.name}"] = result.flux[inside, k]
    return FluxGroups.from_mapping(values)


def _pointwise_data(groups: FluxGroups, binned: dict) -> dict:
    keep = ("G", "flux_min", "flux_max", "mu_prior_mean", "mu_prior_sd", "sigma_prior_sd",
            "weight_prior")
    return {"N": int(groups.flux.size), "flux": groups.flux,
            "group_start": groups.group_start + 1, "group_size": groups.group_size,
            **{key: binned[key] for key in keep}}


def _short_run(model, data: dict, inits: list, iterations: int,
               timeout: float | None = None) -> tuple[float, bool]:
    """Wall time of one short chain, and whether it finished before ``timeout``."""
    start = time.perf_counter()
    try:
        model.sample(data=data, seed=1, chains=1, iter_warmup=iterations,
                     iter_sampling=iterations, inits=inits[0], show_progress=False,
                     timeout=timeout)
    except TimeoutError:
        return time.perf_counter() - start, False
    return time.perf_counter() - start, True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the pointings")
    parser.add_argument("--no-mixture", action="store_true", help="skip the Stan timings")
    parser.add_argument("--json", type=Path, default=RESULT, help=f"output (default {RESULT})")
    parser.add_argument("--timeout", type=float, default=1200.0,
                        help="time limit of the per-pointing reference chain, s (default "
                        "1200); when hit, the speed-up is a lower bound")
    args = parser.parse_args()
    n_raw = 14_840 if args.quick else 148_400
    table, _ = simulate_isgri(1, n_pointing=n_raw)
    start = time.perf_counter()
    result = run_pipeline(table, point_sources=(SCO_X1,))
    seconds = time.perf_counter() - start
    # high-water mark of the whole process so far (simulation, its truth and one
    # pipeline run): an upper bound of what the pipeline needs on top of the table
    max_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tracemalloc.start()  # a second run for the memory: tracing slows numpy code ~5x
    run_pipeline(table, point_sources=(SCO_X1,))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    groups = (len(result.table) + len(result.spectra) + len(result.profile)
              + sum(len(source.table) for source in result.point_sources))
    record = {"pointings": int(result.screening.table.n_pointing),
              "raw_pointings": int(table.n_pointing), "bands": len(table.bands),
              "groups": groups, "seconds": round(seconds, 3),
              "peak_mem_mb": round(peak / 2**20, 1), "max_rss_mb": round(max_rss_mb, 1)}
    print(f"ISGRI pipeline: {record['pointings']} screened pointings in {record['bands']} "
          f"bands, {groups} region x band groups (each fitted twice: default and "
          f"alternative collimator) in {seconds:.2f} s, peak memory "
          f"{record['peak_mem_mb']} MB (process high-water mark with the simulation "
          f"{record['max_rss_mb']} MB)")
    if not args.no_mixture:
        groups = _groups(result)
        binned_model, reference = flux_mixture_model(), compile_model(REFERENCE)
        start = time.perf_counter()
        fit = fit_flux_mixture(groups, seed=1, model=binned_model)
        record["mixture_seconds"] = round(time.perf_counter() - start, 2)
        record["mixture_groups"] = groups.n_group
        record["mixture_pointings"] = int(groups.flux.size)
        record["mixture_max_r_hat"] = round(float(fit.table["r_hat"].max()), 3)
        binned = groups.to_stan_data()
        record["mixture_bins"] = int(binned["K"])
        inits = mixture_initial_values(binned, chains=1, seed=1)
        iterations = 50 if args.quick else 150
        short_binned, _ = _short_run(binned_model, binned, inits, iterations)
        short_pointwise, finished = _short_run(reference, _pointwise_data(groups, binned),
                                               inits, iterations, timeout=args.timeout)
        record["mixture_short_iterations"] = iterations
        record["mixture_short_binned_s"] = round(short_binned, 2)
        record["mixture_short_pointwise_s"] = round(short_pointwise, 2)
        record["mixture_short_pointwise_finished"] = finished
        # a lower bound when the reference hit the time limit
        record["mixture_speedup"] = round(short_pointwise / short_binned, 1)
        record["mixture_pointwise_estimate_s"] = round(
            record["mixture_seconds"] * record["mixture_speedup"], 0)
        print(f"mixture fit (binned, {groups.n_group} groups, {record['mixture_pointings']} "
              f"pointings in {record['mixture_bins']} bins, 2 chains x 500 + 500): "
              f"{record['mixture_seconds']:.1f} s, max R-hat {record['mixture_max_r_hat']}")
        print(f"same data, 1 chain x {iterations} + {iterations}: binned {short_binned:.1f} s, "
              f"per-pointing reference {short_pointwise:.1f} s, ratio "
              f"{'' if finished else '>= '}{record['mixture_speedup']:.1f}; full "
              f"per-pointing fit estimated at {'' if finished else '>= '}"
              f"{record['mixture_pointwise_estimate_s']:.0f} s")
    record["load_average"] = round(os.getloadavg()[0], 1)
    record["cpu_count"] = os.cpu_count()
    args.json.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(args.json, json.dumps(record, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
