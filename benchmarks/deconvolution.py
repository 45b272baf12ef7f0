"""Benchmark of modified against classic Richardson-Lucy, and of the response application.

1. A Crab-like point source (4.5e-3 ph cm-2 s-1 at (l, b) = (184.56, -5.78) deg) on the
   COSI simulator. Classic Richardson-Lucy (lambda = 1, no smoothing, background fixed at
   the background-only fit lowered by 5 %) runs ``--plain-iterations`` (100) iterations;
   the modified algorithm (maximum-likelihood acceleration, 10 deg smoothing, background
   re-fitted every iteration) runs until it reaches the same TS. Printed and stored:
   iterations and seconds each needs.
2. Seconds per iteration of the modified algorithm with the response applied as a dense
   matrix, a scipy.sparse matrix and matrix-free (detector response x pointing), on a
   problem small enough for the dense matrix; the response sizes (non-zeros, bytes) and
   the peak memory of the process.
3. (full run only) The [COSI-511]-size problem, 603 h x 30 x 1,144 bins and an nside-16
   image: matrix-free response size, one forward and one back projection, peak memory.

Usage::

    python benchmarks/deconvolution.py [--quick] [--json FILE]

Without ``--json`` the full run writes ``benchmarks/results/deconvolution.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import time
from pathlib import Path

import numpy as np

from bayesbg.cosi import InstrumentSettings, simulate_cosi
from bayesbg.cosi.imaging import (
    DeconvolutionSettings,
    build_imaging_response,
    classic_settings,
    richardson_lucy,
)
from bayesbg.cosi.model import build_background_model, equidistant_blocks
from bayesbg.cosi.pointing import balloon_pointing

CRAB = (184.56, -5.78)
RESULTS = Path(__file__).resolve().parent / "results" / "deconvolution.json"


def _problem(seed: int, *, n_time: int, bin_size: float, nside: int, instrument_nside: int,
             n_blocks: int):
    instrument = InstrumentSettings(instrument_nside=instrument_nside)
    dataset, _ = simulate_cosi(seed, n_time=n_time, bin_size=bin_size, instrument=instrument,
                               sky="point", flux=4.5e-3, source_lon=CRAB[0],
                               source_lat=CRAB[1], n_change_points=min(3, n_time // 4 - 1))
    start = time.perf_counter()
    response = build_imaging_response(dataset, balloon_pointing(seed, n_time=n_time),
                                      nside=nside, instrument=instrument)
    built = time.perf_counter() - start
    background = build_background_model(dataset, blocks=equidistant_blocks(n_time, n_blocks),
                                        tracer="photo_event_rate")
    return dataset, response, background, built


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small problem, 30 plain iterations")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = parser.parse_args(argv)

    if args.quick:
        race = {"n_time": 48, "bin_size": 15.0, "nside": 8, "instrument_nside": 8,
                "n_blocks": 4}
        timing = dict(race)
        plain_iterations, max_accel = 30, 20
    else:
        race = {"n_time": 603, "bin_size": 10.0, "nside": 16, "instrument_nside": 8,
                "n_blocks": 24}
        timing = {"n_time": 96, "bin_size": 15.0, "nside": 8, "instrument_nside": 8,
                  "n_blocks": 8}
        plain_iterations, max_accel = 100, 40
    settings = DeconvolutionSettings(iterations=max_accel, smoothing_fwhm=10.0,
                                     background_perturbation=0.05, show_progress=False)

    # 1. classic against modified Richardson-Lucy
    dataset, response, background, built = _problem(3, **race)
    print(f"race problem: {dataset.n_time} h x {dataset.n_data_bin} data bins "
          f"({dataset.n_nonzero} populated), {response.n_pixel} pixels; matrix-free "
          f"response {response.detector.nnz} + {response.exposure.nnz} non-zeros, built in "
          f"{built:.1f} s")
    plain = richardson_lucy(dataset, response, background,
                            settings=classic_settings(plain_iterations, settings))
    target = float(plain.ts[-1])
    accel = richardson_lucy(dataset, response, background, settings=settings)
    iters_accel = accel.iterations_to_reach(target)
    s_plain = float(plain.seconds[-1])
    s_accel = None if iters_accel is None else float(accel.seconds[iters_accel])
    print(f"classic RL: TS {target:.1f} after {plain_iterations} iterations, {s_plain:.1f} s")
    if iters_accel is None:
        print(f"modified RL: TS {accel.ts[-1]:.1f} after {accel.n_iter} iterations; target "
              "not reached")
    else:
        print(f"modified RL: reaches it after {iters_accel} iterations, {s_accel:.1f} s "
              f"(ratio: {plain_iterations / iters_accel:.1f}x fewer iterations, "
              f"{s_plain / s_accel:.1f}x less time)")
    race_rss = _rss_mb()

    # 2. seconds per iteration: dense, sparse, matrix-free
    small, free, small_background, _ = _problem(5, **timing)
    as_sparse = free.to_matrix()
    as_dense = free.to_matrix(dense=True)
    per_iter = {}
    few = DeconvolutionSettings(iterations=5, smoothing_fwhm=10.0,
                                background_perturbation=0.05, show_progress=False)
    for name, operator in (("dense", as_dense), ("sparse", as_sparse), ("matrix_free", free)):
        run = richardson_lucy(small, operator, small_background, settings=few)
        per_iter[name] = float(run.seconds[-1] / run.n_iter)
    print(f"timing problem: {small.n_time} h x {small.n_data_bin} bins ({small.n_nonzero} "
          f"populated), {free.n_pixel} pixels; matrix {as_sparse.matrix.nnz} non-zeros "
          f"(sparse {as_sparse.nbytes / 1e6:.0f} MB, dense {as_dense.nbytes / 1e6:.0f} MB)")
    for name, value in per_iter.items():
        print(f"  {name:12s} {value:.3f} s per iteration "
              f"({value / per_iter['dense']:.2f} x dense)")

    # 3. full scale ([COSI-511] design): one forward and one back projection, matrix-free
    full = None
    if not args.quick:
        big, big_response, _, big_built = _problem(
            7, n_time=603, bin_size=6.0, nside=16, instrument_nside=16, n_blocks=24)
        image = np.full(big_response.n_pixel, 1e-6)
        start = time.perf_counter()
        expected = big_response.forward(image)
        s_forward = time.perf_counter() - start
        start = time.perf_counter()
        big_response.back(np.divide(big.counts.data, expected, out=np.zeros_like(expected),
                                    where=expected > 0))
        s_back = time.perf_counter() - start
        full = {"n_time": 603, "n_data_bin": big.n_data_bin, "n_populated": big.n_nonzero,
                "n_pixel": big_response.n_pixel,
                "detector_nnz": int(big_response.detector.nnz),
                "exposure_nnz": int(big_response.exposure.nnz),
                "response_build_s": round(big_built, 1), "s_forward": round(s_forward, 2),
                "s_back": round(s_back, 2), "peak_rss_mb": round(_rss_mb(), 1)}
        print(f"full scale: {big.n_time} h x {big.n_data_bin} bins ({big.n_nonzero} "
              f"populated), {big_response.n_pixel} pixels; detector {full['detector_nnz']} + "
              f"exposure {full['exposure_nnz']} non-zeros; forward {s_forward:.1f} s, back "
              f"{s_back:.1f} s; peak memory {full['peak_rss_mb']:.0f} MB")

    figures = {
        "iters_plain": plain_iterations,
        "iters_accel": iters_accel,
        "s_plain": round(s_plain, 3),
        "s_accel": None if s_accel is None else round(s_accel, 3),
        "ts_target": round(target, 2),
        "ts_accel_final": round(float(accel.ts[-1]), 2),
        "s_per_iter_dense": round(per_iter["dense"], 4),
        "s_per_iter_sparse": round(per_iter["sparse"], 4),
        "s_per_iter_matrix_free": round(per_iter["matrix_free"], 4),
        "race_problem": {**race, "n_data_bin": dataset.n_data_bin,
                         "n_populated": dataset.n_nonzero, "n_pixel": response.n_pixel,
                         "detector_nnz": int(response.detector.nnz),
                         "exposure_nnz": int(response.exposure.nnz),
                         "response_build_s": round(built, 2),
                         "s_per_iter_plain": round(s_plain / plain_iterations, 3),
                         "s_per_iter_accel": round(float(accel.seconds[-1] / accel.n_iter), 3),
                         "peak_rss_mb": round(race_rss, 1)},
        "timing_problem": {**timing, "n_populated": small.n_nonzero,
                           "matrix_nnz": int(as_sparse.matrix.nnz),
                           "sparse_mb": round(as_sparse.nbytes / 1e6, 1),
                           "dense_mb": round(as_dense.nbytes / 1e6, 1)},
        "full_scale": full,
        "peak_rss_mb": round(_rss_mb(), 1),
        "quick": args.quick,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_average_1min": round(os.getloadavg()[0], 2)},
    }
    path = args.json or (None if args.quick else RESULTS)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.partial")
        partial.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
        os.replace(partial, path)
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
