"""``bayesbg spectrum fit|compare|simulate``: argparse subcommands calling one library
function each (`fit_spectrum`, `compare_runs`, `simulate_spectrum`)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from bayesbg.config.seeds import seed_argument

__all__ = ["register"]

log = logging.getLogger(__name__)

def register(subparsers: Any, common_parent: argparse.ArgumentParser) -> None:
    """Add the ``spectrum`` command and its subcommands.

    Parameters
    ----------
    subparsers
        The object returned by ``ArgumentParser.add_subparsers``.
    common_parent : `argparse.ArgumentParser`
        Parent parser with the common options (``--log-level``).
    """
    raw = argparse.RawDescriptionHelpFormatter
    spectrum = subparsers.add_parser(
        "spectrum", parents=[common_parent], formatter_class=raw,
        help="fit, compare and simulate spectra in Crab units",
        description="Spectra in Crab units (docs/spectra.md): fit a model with Stan,\n"
        "compare fitted models (PSIS-LOO, AIC, BIC), simulate ISGRI-like spectra.",
        epilog="examples:\n"
        "  bayesbg spectrum simulate --region GB --seed 1 --output gb.ecsv\n"
        "  bayesbg spectrum fit --model cutoffpl+powerlaw --data gb.ecsv \\\n"
        "      --fix cutoffpl.index=0 --fix powerlaw.index=1.55 --run-dir runs/gb-2c\n"
        "  bayesbg spectrum compare runs/gb-1c runs/gb-2c",
    )
    commands = spectrum.add_subparsers(dest="spectrum_command", required=True,
                                       metavar="subcommand")

    fit = commands.add_parser(
        "fit", parents=[common_parent], formatter_class=raw,
        help="fit a spectral model, write a run directory",
        description="Fit a sum of components (powerlaw, cutoffpl, bknpower, expcutoff,\n"
        "ipm) to band values in mCrab with NUTS; print the table of parameters,\n"
        "component fluxes (30-80 keV by default), chi2 at the posterior median, AIC/BIC.",
        epilog="example:\n  bayesbg spectrum fit --model cutoffpl+powerlaw --data gb.ecsv "
        "\\\n      --fix cutoffpl.index=0 --fix powerlaw.index=1.55 --seed 3 "
        "--run-dir runs/gb",
    )
    fit.add_argument("--model", default=None,
                     help="components joined by '+', e.g. cutoffpl+powerlaw")
    fit.add_argument("--data", type=Path, required=True, metavar="FILE",
                     help="spectrum as ECSV (docs/spectra.md)")
    fit.add_argument("--fix", action="append", default=[], metavar="NAME=VALUE",
                     help="fix a shape parameter, e.g. powerlaw.index=1.55 (repeatable)")
    fit.add_argument("--systematic", type=float, default=None, metavar="FRACTION",
                     help="fractional systematic error for every dataset (default: file)")
    fit.add_argument("--deduplicate", action="store_true",
                     help="drop spectrum rows that repeat another exactly (default: a band "
                     "given twice is an error)")
    fit.add_argument("--config", type=Path, default=None, metavar="FILE",
                     help="TOML with [spectrum] (model, fixed, priors, ...) and [sampler]")
    fit.add_argument("--seed", type=seed_argument, default=1, help="random seed (default: 1)")
    fit.add_argument("--run-dir", type=Path, default=None, metavar="PATH",
                     help="run directory (default: runs/spectrum-<model>-<seed>)")
    fit.add_argument("--overwrite", action="store_true",
                     help="replace an existing run directory")
    fit.add_argument("--no-report", action="store_true",
                     help="do not write report.html into the run directory")
    fit.set_defaults(handler=_fit)

    compare = commands.add_parser(
        "compare", parents=[common_parent], formatter_class=raw,
        help="compare fitted spectral models by PSIS-LOO, AIC and BIC",
        description="Compare run directories of fits to the same spectrum: PSIS-LOO\n"
        "(warns about Pareto k > 0.7), AIC and BIC at the maximum likelihood.",
        epilog="example:\n  bayesbg spectrum compare runs/gb-1c runs/gb-2c",
    )
    compare.add_argument("runs", nargs="+", type=Path, metavar="RUN",
                         help="run directories written by `bayesbg spectrum fit`")
    compare.set_defaults(handler=_compare)

    simulate = commands.add_parser(
        "simulate", parents=[common_parent], formatter_class=raw,
        help="simulate a spectrum in the ISGRI 21 bands (25-185 keV)",
        description="Simulate an ISGRI-like spectrum with the [ISGRI] error levels, by\n"
        "default from the [ISGRI] Table 2 / 3 fit of a region, and write it as ECSV.",
        epilog="examples:\n  bayesbg spectrum simulate --region GB --seed 1 --output gb.ecsv\n"
        "  bayesbg spectrum simulate --reference GB-IPM --region GB --output ipm.ecsv\n"
        "  bayesbg spectrum simulate --model cutoffpl --fix cutoffpl.index=0 \\\n"
        "      --set cutoffpl.ecut=13 --set cutoffpl.flux=11 --output one.ecsv",
    )
    simulate.add_argument("--reference", default=None,
                          help="an [ISGRI] reference fit: GB, L+20, L-20, GB-IPM, "
                          "L+20-IPM, L-20-IPM (default: the region)")
    simulate.add_argument("--region", default="GB",
                          help="error levels: GB, L+20, L-20, 3C273/Coma")
    simulate.add_argument("--model", default=None, help="model instead of a reference fit")
    simulate.add_argument("--fix", action="append", default=[], metavar="NAME=VALUE",
                          help="fixed shape parameter of --model")
    simulate.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                          help="true value (fluxes in 1e-10 erg s-1 cm-2)")
    simulate.add_argument("--upper-limit-sigma", type=float, default=None, metavar="K",
                          help="report bands below K sigma as upper limits")
    simulate.add_argument("--seed", type=seed_argument, default=1, help="random seed (default: 1)")
    simulate.add_argument("--output", type=Path, required=True, metavar="FILE",
                          help="ECSV file to write")
    simulate.add_argument("--overwrite", action="store_true", help="replace the file")
    simulate.set_defaults(handler=_simulate)


def _assignments(items: list[str], option: str) -> dict[str, float]:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep:
            raise ValueError(f"{option}: expected NAME=NUMBER, found {item!r}")
    return out


def _fit(args: argparse.Namespace) -> int:
    from bayesbg.spectra import SpectralModel, fit_spectrum, read_spectrum
    from bayesbg.spectra.config import SpectrumFitConfig

    settings = SpectrumFitConfig.read(args.config) if args.config else SpectrumFitConfig()
    expression = args.model or settings.model
    if not expression:
        raise ValueError("--model: give a model (e.g. cutoffpl+powerlaw) or [spectrum] model")
    fixed = {**settings.fixed, **_assignments(args.fix, "--fix")}
    spectral_model = SpectralModel.parse(
        expression, fixed=fixed, priors=settings.priors,
        flux_prior_scale=settings.flux_prior_scale, flux_band=settings.flux_band,
        cross_norm_prior_sd=settings.cross_norm_prior_sd)
    data = read_spectrum(args.data, reference=settings.reference,
                         deduplicate=args.deduplicate or settings.deduplicate)
    systematic = args.systematic if args.systematic is not None else settings.systematic
    if systematic is not None:
        data = data.with_systematic(systematic)
    config = settings.sampler
    run_dir = args.run_dir or Path("runs") / f"spectrum-{expression}-{args.seed}"
    result = fit_spectrum(data, spectral_model=spectral_model, seed=args.seed, config=config,
                          run_dir=run_dir, overwrite=args.overwrite)
    print(result.table().to_string())
    print()
    print(result.diagnostics.render())
    print(f"run directory: {result.run_dir}")
    if not args.no_report and result.run_dir is not None:
        from bayesbg.report import write_report

        print(f"report: {write_report(result.run_dir)}")
    return 0


def _compare(args: argparse.Namespace) -> int:
    import pandas as pd

    from bayesbg.spectra import compare_runs

    table = compare_runs(args.runs)
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(table.round(3).to_string())
    return 0


def _simulate(args: argparse.Namespace) -> int:
    from bayesbg.spectra import REFERENCE_FITS, SpectralModel, simulate_spectrum, write_spectrum

    if args.model:
        spectral_model = SpectralModel.parse(args.model, fixed=_assignments(args.fix, "--fix"))
        truth = _assignments(args.set, "--set")
    else:
        name = args.reference or args.region
        if name not in REFERENCE_FITS:
            raise ValueError(f"--reference: expected one of {sorted(REFERENCE_FITS)}, "
                             f"found {name!r}")
        reference = REFERENCE_FITS[name]
        spectral_model = SpectralModel.parse(str(reference["model"]), fixed=reference["fixed"])
        truth = {**reference["truth"], **_assignments(args.set, "--set")}
    data = simulate_spectrum(args.seed, spectral_model=spectral_model, truth=truth,
                             region=args.region, upper_limit_sigma=args.upper_limit_sigma)
    path = write_spectrum(data, args.output, overwrite=args.overwrite)
    print(f"wrote {data.n_band} bands ({int(data.upper_limit.sum())} upper limits) to {path}")
    return 0
