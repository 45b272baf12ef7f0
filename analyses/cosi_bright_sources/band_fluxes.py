"""The band fluxes of [COSI-PS] section 5 at the paper's exposure, without the spectral fits.

The full study (``bayesbg cosi bright-sources bright_sources.toml``) takes hours on a
shared machine; this measures its step 4 alone at the full exposure: per source the
flight-like simulation of the study (same seeds, the paper's observation time), then the
template fit of the paper's band with the 60-deg imaging cut, the injected spectral shape
as the fiducial (the study uses the joint fit's median shape, which NuSTAR pins to the
injected one). Writes ``band_fluxes.json`` beside this file (or ``--json FILE``).

``--seeds N [N ...]`` repeats the measurement over several realizations and adds, per
source, the calibration of the band flux over them: mean and sd of
``z = (mean - truth) / sd`` (0 and 1 for an unbiased flux with calibrated errors), how
many beyond 2, and the spread of the significance (``band_fluxes_seeds.json``).

Usage::

    .venv/bin/python analyses/cosi_bright_sources/band_fluxes.py [--sources crab cena]
        [--days N] [--seed N | --seeds N [N ...]] [--json FILE] [--overwrite]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent


def measure(name: str, settings: Any) -> dict:
    """One source's band flux at ``settings`` (its seed and days): the template fit of the
    paper's band, the injected shape as fiducial, against the injected flux."""
    from bayesbg.cosi.spectral import PhotonSpectrum
    from bayesbg.cosi.spectral.study import paper_band_flux, simulate_source
    from bayesbg.stan import SamplerWarning

    start = time.perf_counter()
    sim = simulate_source(name, settings)
    source = sim.source
    fiducial = PhotonSpectrum(source.kind, fixed=source.shape(), nh=source.nh)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplerWarning)
        flux, truth, imaging_time = paper_band_flux(sim, settings, fiducial)
    z = (flux.mean - truth) / flux.sd
    print(f"{name}, seed {settings.seed}: {flux.energy_min:g}-{flux.energy_max:g} keV, "
          f"{sim.days} days ({imaging_time / 1e3:.0f} ks in the imaging cut): "
          f"{flux.mean:.3g} +- {flux.sd:.2g} ph cm-2 s-1, {flux.significance:.1f} sigma; "
          f"truth {truth:.3g} ({z:+.2f} sd); paper {source.band_flux[0]:.2g} +- "
          f"{source.band_flux[1]:.1g}, {source.significance:g} sigma "
          f"({time.perf_counter() - start:.0f} s)", flush=True)
    return {**flux.to_dict(), "truth": truth, "z": z, "days": sim.days,
            "observation_time_s": sim.observation.observation_time,
            "imaging_time_s": imaging_time, "paper_band_keV": list(source.band),
            "paper_flux": list(source.band_flux), "paper_significance": source.significance,
            "seconds": time.perf_counter() - start}


def _write(path: Path, record: dict) -> None:
    from bayesbg.atomic import atomic_file

    with atomic_file(path, overwrite=True) as partial:
        partial.write_text(json.dumps(record, indent=1, default=float) + "\n",
                           encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Run the band fluxes (module docstring); returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=HERE / "bright_sources.toml")
    from bayesbg.cosi.spectral.tables import PAPER

    parser.add_argument("--sources", nargs="+", default=None, choices=sorted(PAPER))
    parser.add_argument("--days", type=int, default=None,
                        help="repeated days (default: the paper's observation time)")
    seeds = parser.add_mutually_exclusive_group()
    seeds.add_argument("--seed", type=int, default=None,
                       help="seed (default: the configuration's)")
    seeds.add_argument("--seeds", type=int, nargs="+", default=None,
                       help="several seeds: the band flux's calibration over them")
    parser.add_argument("--json", type=Path, default=None,
                        help="output (default band_fluxes.json, with --seeds "
                             "band_fluxes_seeds.json, beside this file)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an existing --json file")
    args = parser.parse_args(argv)
    if args.seeds is not None and len(set(args.seeds)) != len(args.seeds):
        parser.error(f"--seeds: expected distinct seeds, found {args.seeds}")
    if args.json is None:
        args.json = HERE / ("band_fluxes_seeds.json" if args.seeds else "band_fluxes.json")
    if args.json.exists() and not args.overwrite:
        parser.error(f"--json: {args.json} exists; pass --overwrite to replace it")

    from bayesbg.cosi.spectral.config import StudyConfig

    config = StudyConfig.read(args.config)
    names = args.sources or config.sources
    if args.seeds is None:
        settings = replace(config.settings, days=args.days,
                           seed=config.settings.seed if args.seed is None else args.seed)
        record: dict = {"settings": settings.to_dict(), "fiducial": "the injected shape",
                        "sources": {}}
        for name in names:
            record["sources"][name] = measure(name, settings)
            _write(args.json, record)
    else:
        record = {"settings": replace(config.settings, days=args.days).to_dict(),
                  "fiducial": "the injected shape", "seeds": {}, "calibration": {}}
        for seed in args.seeds:
            settings = replace(config.settings, days=args.days, seed=seed)
            record["seeds"][str(seed)] = {name: measure(name, settings) for name in names}
            _write(args.json, record)
        for name in names:
            z = np.array([record["seeds"][str(seed)][name]["z"] for seed in args.seeds])
            significance = np.array([record["seeds"][str(seed)][name]["significance"]
                                     for seed in args.seeds])
            record["calibration"][name] = {
                "n_seeds": len(args.seeds), "z_mean": float(z.mean()),
                "z_sd": float(z.std(ddof=1)) if z.size > 1 else float("nan"),
                "z_mean_error": float(1 / np.sqrt(z.size)),
                "beyond_2": int(np.sum(np.abs(z) > 2)),
                "significance_median": float(np.median(significance)),
                "significance_range": [float(significance.min()), float(significance.max())]}
            c = record["calibration"][name]
            print(f"{name} over {z.size} seeds: z mean {c['z_mean']:+.2f} (+- "
                  f"{c['z_mean_error']:.2f} if calibrated), sd {c['z_sd']:.2f}, beyond 2: "
                  f"{c['beyond_2']}; significance median {c['significance_median']:.1f}, "
                  f"{c['significance_range'][0]:.1f}-{c['significance_range'][1]:.1f}",
                  flush=True)
        _write(args.json, record)
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
