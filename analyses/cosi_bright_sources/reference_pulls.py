"""Are the joint fits' pulls those of the other instruments? Refit and calibrate them.

The joint fits of the full study (``bayesbg cosi bright-sources``) combine COSI with toy
NuSTAR, Swift-BAT and IBIS spectra that pin the shape far more tightly than COSI does.
This script measures, per source, the part those spectra play:

1. ``--refit``: the study's own realization (its seed and settings, ``--quick`` for the
   quick run's), the other instruments fitted alone by maximum likelihood, their pulls
   ``(estimate - truth) / sd`` (sd of the Laplace approximation);
2. ``--realizations N``: the same fit of N fresh realizations of those spectra: mean and
   sd of each parameter's pulls, how many beyond 2 and 3 (a calibrated fit: 0, 1, 4.6 %
   and 0.27 %), and a Kolmogorov-Smirnov p-value against N(0, 1).

Each fit also gives the joint check the study applies to its tables
(`bayesbg.cosi.spectral.tables.truth_tail_probability`: the posterior mass, here of the
Laplace draws, farther from the centre than the truth; photon indices as they are, the
other parameters as logarithms). Over fresh realizations it should be uniform: the
fraction below 0.0455 (truth outside the joint 2-sigma region) near 4.55 %.

Writes ``reference_pulls.json`` beside this file (or ``--json FILE``; an existing file
only with ``--overwrite``). About 1 s per
realization; the refit simulates the source first (20-60 s at full exposure).

Usage::

    .venv/bin/python analyses/cosi_bright_sources/reference_pulls.py [--sources cena cygx1]
        [--realizations 400] [--refit] [--quick] [--json FILE] [--overwrite]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import cmdstanpy
import numpy as np

HERE = Path(__file__).resolve().parent
LAPLACE_DRAWS = 300


def instrument_pulls(name: str, rng: np.random.Generator, seed: int,
                     model: cmdstanpy.CmdStanModel) -> dict:
    """Pulls of one realization of a source's other instruments, fitted alone."""
    from bayesbg.cosi.spectral.reference_fit import fit_reference_spectra

    fit = fit_reference_spectra(name, rng, seed=seed, model=model, draws=LAPLACE_DRAWS)
    pulls = {n: {"estimate": float(e), "truth": float(t), "sd": float(s), "pull": float(p)}
             for n, e, t, s, p in zip(fit.names, fit.estimate, fit.truth, fit.sd, fit.pulls,
                                      strict=True)}
    return {"pulls": pulls, "joint_tail": fit.joint_tail}


def main(argv: list[str] | None = None) -> int:
    """Refit and calibrate (module docstring); returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=HERE / "bright_sources.toml")
    from bayesbg.cosi.spectral.tables import PAPER

    parser.add_argument("--sources", nargs="+", default=None, choices=sorted(PAPER))
    parser.add_argument("--realizations", type=int, default=400,
                        help="fresh realizations per source (0: none)")
    parser.add_argument("--refit", action="store_true",
                        help="also refit the study's own realization")
    parser.add_argument("--quick", action="store_true",
                        help="the quick run's realization (with --refit)")
    parser.add_argument("--json", type=Path, default=HERE / "reference_pulls.json")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an existing --json file")
    args = parser.parse_args(argv)
    if args.realizations < 0:
        parser.error(f"--realizations: expected a count >= 0, found {args.realizations}")
    if args.json.exists() and not args.overwrite:
        parser.error(f"--json: {args.json} exists; pass --overwrite to replace it")

    import logging

    from scipy import stats

    from bayesbg.atomic import atomic_file
    from bayesbg.cosi.spectral import forward_fold_model
    from bayesbg.cosi.spectral.config import StudyConfig, quick_settings
    from bayesbg.cosi.spectral.study import simulate_source
    from bayesbg.cosi.spectral.tables import TWO_SIGMA_TAIL
    from bayesbg.logs import quiet_library_loggers

    logging.getLogger("bayesbg").setLevel(logging.WARNING)
    quiet_library_loggers()
    config = StudyConfig.read(args.config)
    settings = quick_settings(config.settings) if args.quick else config.settings
    model = forward_fold_model()
    record: dict = {"seed": settings.seed, "quick": args.quick,
                    "realizations": args.realizations, "sources": {}}
    for name in args.sources or config.sources:
        start = time.perf_counter()
        entry: dict = {}
        if args.refit:
            sim = simulate_source(name, settings)
            own = instrument_pulls(name, sim.rng, settings.seed, model)
            entry["study_realization"] = own["pulls"]
            entry["study_realization_joint_tail"] = own["joint_tail"]
            print(f"{name}, the study's realization (seed {settings.seed}"
                  f"{', quick' if args.quick else ''}): " + ", ".join(
                      f"{k} {v['pull']:+.2f}" for k, v in own["pulls"].items())
                  + f"; joint tail p {own['joint_tail']:.3f}", flush=True)
        pulls: dict[str, list[float]] = {}
        tails: list[float] = []
        for r in range(args.realizations):
            rng = np.random.default_rng([settings.seed, 0x5EF, r])
            one = instrument_pulls(name, rng, r + 1, model)
            tails.append(one["joint_tail"])
            for k, v in one["pulls"].items():
                pulls.setdefault(k, []).append(v["pull"])
        entry["fresh_realizations"] = {
            k: {"mean": float(np.mean(v)), "sd": float(np.std(v, ddof=1)),
                "beyond_2": int(np.sum(np.abs(v) > 2)), "beyond_3": int(np.sum(np.abs(v) > 3)),
                "ks_pvalue": float(stats.kstest(v, "norm").pvalue)}
            for k, v in pulls.items()} if args.realizations > 1 else {}
        if args.realizations > 1:
            entry["joint_tail"] = {
                "outside_two_sigma": int(np.sum(np.array(tails) <= TWO_SIGMA_TAIL)),
                "expected": args.realizations * TWO_SIGMA_TAIL,
                "ks_pvalue_uniform": float(stats.kstest(tails, "uniform").pvalue)}
            print(f"  {name} joint check: truth outside the 2-sigma region in "
                  f"{entry['joint_tail']['outside_two_sigma']} of {args.realizations} "
                  f"({entry['joint_tail']['expected']:.1f} expected; KS p against uniform "
                  f"{entry['joint_tail']['ks_pvalue_uniform']:.2f})", flush=True)
        entry["seconds"] = time.perf_counter() - start
        for k, v in entry["fresh_realizations"].items():
            print(f"  {name} {k}: pulls mean {v['mean']:+.3f}, sd {v['sd']:.3f}, beyond 2: "
                  f"{v['beyond_2']}, beyond 3: {v['beyond_3']} of {args.realizations} "
                  f"(KS p {v['ks_pvalue']:.2f})", flush=True)
        record["sources"][name] = entry
        with atomic_file(args.json, overwrite=True) as partial:
            partial.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
