"""Benchmark: the ISGRI pipeline without Stan sampling over a full-size simulated table.

Simulates ~148,000 raw (~131,000 screened) pointings, then times screening, background
model, Crab calibration, per-pointing fluxes and the Table-1 estimates; prints the time
and the peak memory (tracemalloc, Python allocations incl. numpy) and writes
``benchmarks/results/isgri_pipeline.json`` (keys ``pointings``, ``seconds``,
``peak_mem_mb``) or the file given with ``--json``.

Usage::

    .venv/bin/python benchmarks/isgri_pipeline.py [--quick] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import time
import tracemalloc
from pathlib import Path

from bayesbg.isgri import run_pipeline, simulate_isgri

RESULT = Path(__file__).resolve().parent / "results" / "isgri_pipeline.json"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the pointings")
    parser.add_argument("--json", type=Path, default=RESULT, help=f"output (default {RESULT})")
    args = parser.parse_args()
    n_raw = 14_840 if args.quick else 148_400
    table, _ = simulate_isgri(1, n_pointing=n_raw)
    tracemalloc.start()
    start = time.perf_counter()
    result = run_pipeline(table)
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    record = {"pointings": int(result.screening.table.n_pointing),
              "raw_pointings": int(table.n_pointing), "seconds": round(seconds, 3),
              "peak_mem_mb": round(peak / 2**20, 1)}
    print(f"ISGRI pipeline: {record['pointings']} screened pointings in {seconds:.2f} s, "
          f"peak memory {record['peak_mem_mb']} MB")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
