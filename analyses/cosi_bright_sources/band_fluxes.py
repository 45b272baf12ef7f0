"""The band fluxes of [COSI-PS] section 5 at the paper's exposure, without the spectral fits.

The full study (``bayesbg cosi bright-sources bright_sources.toml``) takes hours on a
shared machine; this measures its step 4 alone at the full exposure: per source the
flight-like simulation of the study (same seeds, the paper's observation time), then the
template fit of the paper's band with the 60-deg imaging cut, the injected spectral shape
as the fiducial (the study uses the joint fit's median shape, which NuSTAR pins to the
injected one). Writes ``band_fluxes.json`` beside this file (or ``--json FILE``).

Usage::

    .venv/bin/python analyses/cosi_bright_sources/band_fluxes.py [--sources crab cena]
        [--days N] [--seed N] [--json FILE] [--overwrite]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    """Run the band fluxes (module docstring); returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=HERE / "bright_sources.toml")
    from bayesbg.cosi.spectral.tables import PAPER

    parser.add_argument("--sources", nargs="+", default=None, choices=sorted(PAPER))
    parser.add_argument("--days", type=int, default=None,
                        help="repeated days (default: the paper's observation time)")
    parser.add_argument("--seed", type=int, default=None,
                        help="seed (default: the configuration's)")
    parser.add_argument("--json", type=Path, default=HERE / "band_fluxes.json")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an existing --json file")
    args = parser.parse_args(argv)
    if args.json.exists() and not args.overwrite:
        parser.error(f"--json: {args.json} exists; pass --overwrite to replace it")

    from bayesbg.atomic import atomic_file
    from bayesbg.cosi.spectral import PhotonSpectrum
    from bayesbg.cosi.spectral.config import StudyConfig
    from bayesbg.cosi.spectral.study import paper_band_flux, simulate_source
    from bayesbg.stan import SamplerWarning

    config = StudyConfig.read(args.config)
    settings = replace(config.settings, days=args.days,
                       seed=config.settings.seed if args.seed is None else args.seed)
    record: dict = {"settings": settings.to_dict(), "fiducial": "the injected shape",
                    "sources": {}}
    for name in args.sources or config.sources:
        start = time.perf_counter()
        sim = simulate_source(name, settings)
        source = sim.source
        fiducial = PhotonSpectrum(source.kind, fixed=source.shape(), nh=source.nh)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SamplerWarning)
            flux, truth, imaging_time = paper_band_flux(sim, settings, fiducial)
        z = (flux.mean - truth) / flux.sd
        record["sources"][name] = {
            **flux.to_dict(), "truth": truth, "z": z, "days": sim.days,
            "observation_time_s": sim.observation.observation_time,
            "imaging_time_s": imaging_time, "paper_band_keV": list(source.band),
            "paper_flux": list(source.band_flux), "paper_significance": source.significance,
            "seconds": time.perf_counter() - start}
        print(f"{name}: {flux.energy_min:g}-{flux.energy_max:g} keV, {sim.days} days "
              f"({imaging_time / 1e3:.0f} ks in the imaging cut): {flux.mean:.3g} +- "
              f"{flux.sd:.2g} ph cm-2 s-1, {flux.significance:.1f} sigma; truth {truth:.3g} "
              f"({z:+.2f} sd); paper {source.band_flux[0]:.2g} +- {source.band_flux[1]:.1g}, "
              f"{source.significance:g} sigma ({time.perf_counter() - start:.0f} s)",
              flush=True)
        with atomic_file(args.json, overwrite=True) as partial:
            partial.write_text(json.dumps(record, indent=1, default=float) + "\n",
                               encoding="utf-8")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
