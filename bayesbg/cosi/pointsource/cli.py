"""``bayesbg cosi spectrum``: Band fit of a point source on cosipy files (docs/cosi_io.md)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from bayesbg.config.seeds import seed_argument

__all__ = ["register_spectrum"]

log = logging.getLogger(__name__)

_SUMMARY_TITLE = ("Posterior summary (photon_flux in ph cm-2 s-1 in the flux band, "
                  "flux_at_pivot in ph cm-2 s-1 keV-1, xp in keV; alpha, beta, bkg_norm "
                  "dimensionless)")


def register_spectrum(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common_parent: argparse.ArgumentParser,
    formatter: type[argparse.HelpFormatter],
) -> None:
    """Add ``spectrum`` to the ``bayesbg cosi`` subcommands."""
    command = commands.add_parser(
        "spectrum", parents=[common_parent], formatter_class=formatter,
        help="Band spectral fit of a point source on cosipy HDF5 files",
        description="Fit a Band spectrum (K at --pivot, alpha, beta, xp) and a background\n"
        "normalisation to cosipy binned data (histpy HDF5) through the point-source\n"
        "response built from a cosipy detector response and a MEGAlib .ori file:\n"
        "maximum likelihood, then (unless --optimize-only) NUTS with a run directory.\n"
        "Model: stan_models/cosi_point_source_spectrum.stan; see docs/cosi_io.md.",
        epilog="example:\n  D=$BAYESBG_COSI_DATA/cosipy-test\n"
        "  bayesbg cosi spectrum --data $D/test_spectral_fit_data.h5 "
        "--background $D/test_spectral_fit_background.h5 \\\n"
        "      --response $D/test_full_detector_response.h5 --ori $D/20280301_2s.ori "
        "--lon 50 --lat -45 --run-dir runs/cosipy-band",
    )
    command.add_argument("--data", type=Path, required=True, metavar="FILE",
                         help="binned data (histpy HDF5)")
    command.add_argument("--background", type=Path, required=True, metavar="FILE",
                         help="background model (histpy HDF5), counts for bkg_norm = 1")
    command.add_argument("--response", type=Path, required=True, metavar="FILE",
                         help="cosipy full detector response (.h5)")
    command.add_argument("--ori", type=Path, required=True, metavar="FILE",
                         help="MEGAlib orientation file (.ori)")
    command.add_argument("--lon", type=float, required=True, help="Galactic longitude, deg")
    command.add_argument("--lat", type=float, required=True, help="Galactic latitude, deg")
    command.add_argument("--pivot", type=float, default=500.0,
                         help="pivot energy of K, keV (default: 500)")
    command.add_argument("--seed", type=seed_argument, default=1, help="random seed (default: 1)")
    command.add_argument("--chains", type=int, default=4, help="NUTS chains (default: 4)")
    command.add_argument("--iter", type=int, default=1000,
                         help="warm-up and kept draws per chain (default: 1000)")
    command.add_argument("--optimize-only", action="store_true",
                         help="maximum likelihood only, no sampling")
    command.add_argument("--run-dir", type=Path, default=None, metavar="PATH",
                         help="run directory of the NUTS fit (default: none)")
    command.add_argument("--overwrite", action="store_true",
                         help="replace an existing run directory")
    command.add_argument("--no-report", action="store_true",
                         help="do not write report.html into the run directory")
    command.set_defaults(handler=_spectrum)


def _spectrum(args: argparse.Namespace) -> int:
    from bayesbg.config import SamplerConfig
    from bayesbg.cosi.pointsource.data import load_cosipy_fit_data
    from bayesbg.cosi.pointsource.fit import (
        DEFAULT_ADAPT_DELTA,
        fit_point_source_spectrum,
        maximum_likelihood_spectrum,
    )
    from bayesbg.cosi.pointsource.likelihood import cosipy_log_like
    from bayesbg.cosi.pointsource.program import BAND_PARAMETERS
    from bayesbg.stan import format_summary

    data = load_cosipy_fit_data(args.data, args.background, args.response, args.ori,
                                lon=args.lon, lat=args.lat, pivot=args.pivot)
    print(f"{data.counts.sum():.6g} counts in {int((data.counts > 0).sum())} populated bins; "
          f"background model {data.background.sum():.6g} counts; exposure "
          f"{data.response.duration:g} s, PsiChi in the {data.response.coordsys} frame.")
    mle = maximum_likelihood_spectrum(data, seed=args.seed)
    estimate = {name: float(mle.estimate[name]) for name in BAND_PARAMETERS}
    print("maximum likelihood: " + ", ".join(f"{k} = {v:.6g}" for k, v in estimate.items()))
    print(f"  ln L = {mle.log_likelihood:.6f} (full Poisson); "
          f"{cosipy_log_like(data, estimate):.6f} (cosipy's convention, no ln d!)")
    if args.optimize_only:
        return 0
    config = SamplerConfig(chains=args.chains, iter_warmup=args.iter, iter_sampling=args.iter,
                           adapt_delta=DEFAULT_ADAPT_DELTA)
    result = fit_point_source_spectrum(data, seed=args.seed, config=config,
                                       run_dir=args.run_dir, overwrite=args.overwrite)
    print(format_summary(result.summary, title=_SUMMARY_TITLE))
    print("")
    print(result.diagnostics.render())
    if result.run_dir is not None:
        print(f"Run directory: {result.run_dir}")
        if not args.no_report:
            from bayesbg.report import write_report

            print(f"Report: {write_report(result.run_dir)}")
    return 0
