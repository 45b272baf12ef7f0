"""``bayesbg cosi ...`` subcommands: simulate, fit, optimize."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

__all__ = ["register"]

log = logging.getLogger(__name__)


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    common_parent: argparse.ArgumentParser,
) -> None:
    """Add the ``cosi`` command group to the ``bayesbg`` parser.

    Parameters
    ----------
    subparsers : argparse subparsers action
        From ``parser.add_subparsers()`` of the top-level parser.
    common_parent : `argparse.ArgumentParser`
        Parent parser with the shared options (``--log-level``).
    """
    formatter = argparse.RawDescriptionHelpFormatter
    group = subparsers.add_parser(
        "cosi", parents=[common_parent], formatter_class=formatter,
        help="COSI binned template fitting (simulate, fit, optimize)",
        description="COSI binned Compton-data-space template fitting (DOMAIN.md section 1).",
        epilog="examples:\n  bayesbg cosi simulate --output cosi_sim.nc --seed 1\n"
        "  bayesbg cosi fit cosi.toml --run-dir runs/cosi-1\n"
        "  bayesbg cosi optimize cosi.toml",
    )
    commands = group.add_subparsers(dest="cosi_command", required=True, metavar="command")

    simulate = commands.add_parser(
        "simulate", parents=[common_parent], formatter_class=formatter,
        help="simulate COSI balloon data with known truth into a dataset file",
        description="Simulate binned COSI 511 keV data of the [COSI-511] design: one-hour\n"
        "bins, phi x (psi, chi) data space, a Galactic-centre bulge or a point source seen\n"
        "through a toy Compton response, and a background ~100x the sky that follows a\n"
        "tracer, rises in night-time altitude drops and has change points the tracer misses.",
        epilog="example:\n  bayesbg cosi simulate --output cosi_sim.nc --seed 1 --n-time 603",
    )
    simulate.add_argument("--output", type=Path, required=True, metavar="FILE",
                          help="dataset file to write (netCDF4/HDF5)")
    simulate.add_argument("--seed", type=int, default=1, help="random seed (default: 1)")
    simulate.add_argument("--n-time", type=int, default=603,
                          help="one-hour time bins (default: 603)")
    simulate.add_argument("--bin-size", type=float, default=6.0,
                          help="phi and (psi, chi) bin size, deg: 6 (30 x 1,144, default) "
                          "or 5 (36 x 1,652)")
    simulate.add_argument("--sky", choices=("bulge", "point"), default="bulge",
                          help="sky model (default: bulge)")
    simulate.add_argument("--flux", type=float, default=1e-3,
                          help="true flux, ph cm-2 s-1 (default: 1e-3)")
    simulate.add_argument("--sigma", type=float, default=10.0,
                          help="bulge width, deg (default: 10)")
    simulate.add_argument("--source-lon", type=float, default=0.0,
                          help="Galactic longitude of the source, deg (default: 0)")
    simulate.add_argument("--source-lat", type=float, default=0.0,
                          help="Galactic latitude of the source, deg (default: 0)")
    simulate.add_argument("--change-points", type=int, default=3,
                          help="background jumps missed by the tracers (default: 3)")
    simulate.add_argument("--overwrite", action="store_true", help="replace the output file")
    simulate.set_defaults(handler=_simulate)

    for name, help_text, handler in (
        ("fit", "sample the posterior with NUTS and write a run directory", _fit),
        ("optimize", "maximum-likelihood fit: print ln L, AIC, BIC and the fluxes", _optimize),
    ):
        command = commands.add_parser(
            name, parents=[common_parent], formatter_class=formatter, help=help_text,
            description=f"COSI template fit from a TOML configuration: {help_text}.\n"
            "See bayesbg/cosi/config.py for the configuration keys.",
            epilog=f"example:\n  bayesbg cosi {name} cosi.toml",
        )
        command.add_argument("config", type=Path, metavar="CONFIG", help="TOML configuration")
        command.add_argument("--seed", type=int, default=None,
                             help="override the configuration's seed")
        if name == "fit":
            command.add_argument("--run-dir", type=Path, default=None, metavar="PATH",
                                 help="run directory (default: the config's run_dir or "
                                 "runs/<config stem>)")
            command.add_argument("--overwrite", action="store_true",
                                 help="replace an existing run directory")
            command.add_argument("--no-report", action="store_true",
                                 help="do not write report.html into the run directory")
        command.set_defaults(handler=handler)


def _simulate(args: argparse.Namespace) -> int:
    from bayesbg.cosi.simulate import simulate_cosi

    if args.output.exists() and not args.overwrite:
        raise FileExistsError(f"{args.output} exists; pass --overwrite to replace it")
    dataset, truth = simulate_cosi(
        args.seed, n_time=args.n_time, bin_size=args.bin_size, sky=args.sky, flux=args.flux,
        sigma=args.sigma, source_lon=args.source_lon, source_lat=args.source_lat,
        n_change_points=args.change_points,
    )
    path = dataset.write(args.output, overwrite=args.overwrite)
    print(f"Simulated {dataset.n_time} time bins x {dataset.n_data_bin} data-space bins "
          f"({dataset.n_phi} phi x {dataset.n_psi_chi} psi-chi), {dataset.n_nonzero} "
          f"populated, {int(dataset.counts.data.sum())} counts.")
    print(f"Truth: {truth['template']} flux {truth['flux'][0]:.3g} ph cm-2 s-1, "
          f"{truth['sky_counts'].sum():.0f} sky and {truth['background_counts'].sum():.0f} "
          f"background counts expected; change points at time bins "
          f"{list(map(int, truth['change_points']))}.")
    print(f"Wrote {path}")
    return 0


def _fit(args: argparse.Namespace) -> int:
    from bayesbg.cosi.fit import run_fit_config
    from bayesbg.demo import format_summary

    result = run_fit_config(args.config, run_dir=args.run_dir, overwrite=args.overwrite,
                            seed=args.seed)
    print(format_summary(result.summary))
    print("")
    print(result.diagnostics.render())
    print("")
    print(f"Run directory: {result.run_dir}")
    if not args.no_report and result.run_dir is not None:
        from bayesbg.report import write_report

        print(f"Report: {write_report(result.run_dir)}")
    return 0


def _optimize(args: argparse.Namespace) -> int:
    from bayesbg.cosi.config import CosiFitConfig
    from bayesbg.cosi.fit import fit_data_from_config, maximum_likelihood

    config = CosiFitConfig.read(args.config)
    data = fit_data_from_config(config)
    result = maximum_likelihood(data, seed=config.seed if args.seed is None else args.seed)
    print(f"maximum likelihood: ln L = {result.log_likelihood:.3f}, "
          f"AIC = {result.aic:.3f}, BIC = {result.bic:.3f}, "
          f"{result.n_parameters} parameters ({data.n_template} templates, "
          f"{data.n_block} background blocks)")
    flux = result.estimate["flux"].reshape(-1)
    for name, value in zip(data.template_names, flux, strict=True):
        print(f"  flux[{name}] = {value:.4g} ph cm-2 s-1")
    return 0
