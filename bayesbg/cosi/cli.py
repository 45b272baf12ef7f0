"""``bayesbg cosi ...`` subcommands: simulate, fit, optimize, scan-background, scan-template,
sky-models, results, bin, deconvolve, spectrum, bright-sources."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from bayesbg.config.seeds import seed_argument
from bayesbg.cosi.pointsource.cli import register_spectrum
from bayesbg.cosi.results.cli import register_results
from bayesbg.cosi.skymodels.cli import register_sky_models
from bayesbg.cosi.spectral.cli import register_bright_sources

__all__ = ["register"]

log = logging.getLogger(__name__)

_SUMMARY_TITLE = "Posterior summary (flux in ph cm-2 s-1, background amplitudes dimensionless)"


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
        help="COSI binned template fitting (simulate, fit, optimize, scans, imaging)",
        description="COSI binned Compton-data-space template fitting "
        "(docs/equations.md section 1).",
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
    simulate.add_argument("--seed", type=seed_argument, default=1, help="random seed (default: 1)")
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
        ("fit", "sample the posterior with NUTS, check the fit, write a run directory", _fit),
        ("optimize", "maximum-likelihood fit: print ln L, AIC, BIC and the fluxes", _optimize),
    ):
        command = commands.add_parser(
            name, parents=[common_parent], formatter_class=formatter, help=help_text,
            description=f"COSI template fit from a TOML configuration: {help_text}.\n"
            "See bayesbg/cosi/config.py for the configuration keys.",
            epilog=f"example:\n  bayesbg cosi {name} cosi.toml",
        )
        command.add_argument("config", type=Path, metavar="CONFIG", help="TOML configuration")
        command.add_argument("--seed", type=seed_argument, default=None,
                             help="override the configuration's seed")
        if name == "fit":
            command.add_argument("--run-dir", type=Path, default=None, metavar="PATH",
                                 help="run directory (default: the config's run_dir or "
                                 "runs/<config stem>)")
            command.add_argument("--overwrite", action="store_true",
                                 help="replace an existing run directory")
            command.add_argument("--no-report", action="store_true",
                                 help="do not write report.html into the run directory")
            command.add_argument("--native", action="store_true", default=None,
                                 help="use the program built with -march=native (no faster "
                                 "than the default build's run-time AVX2 path; the first "
                                 "build takes a few minutes more; the binary "
                                 "runs only on CPUs like this one); also `native = true` "
                                 "in the configuration")
        command.set_defaults(handler=handler)
    _register_scans(commands, common_parent, formatter)
    _register_bin(commands, common_parent, formatter)
    _register_deconvolve(commands, common_parent, formatter)
    register_spectrum(commands, common_parent, formatter)
    register_sky_models(commands, common_parent, formatter)
    register_results(commands, common_parent, formatter)
    register_bright_sources(commands, common_parent, formatter)


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
    from bayesbg.cosi.checks import check_cosi_fit
    from bayesbg.cosi.fit import run_fit_config
    from bayesbg.stan import format_summary

    result = run_fit_config(args.config, run_dir=args.run_dir, overwrite=args.overwrite,
                            seed=args.seed, native=args.native)
    check_cosi_fit(result)
    print(format_summary(result.summary, title=_SUMMARY_TITLE))
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


def _register_scans(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common_parent: argparse.ArgumentParser,
    formatter: type[argparse.HelpFormatter],
) -> None:
    """``scan-background`` and ``scan-template`` (bayesbg.cosi.scan.run)."""
    for name, help_text, details, handler in (
        ("scan-background",
         "maximum-likelihood fits over background variants; select the minimum AIC",
         "Fits every variant of the [scan_background] table (node scheme x number of\n"
         "nodes / altitude step / Bayesian-block sigma x tracer) by maximum likelihood and\n"
         "writes a run directory: the AIC/BIC/ln L/flux table, the figure of delta AIC\n"
         "against the number of parameters coloured by the fitted flux, the selected variant.",
         _scan_background),
        ("scan-template",
         "likelihood profile over the widths of a Gaussian sky template",
         "Builds a Gaussian template for every (sigma_l, sigma_b) of the [scan_template]\n"
         "grid, fits it with all background amplitudes by maximum likelihood and writes a\n"
         "run directory: the table, the map of -2 delta ln L with contours, the best width\n"
         "and its flux, and the symmetric-width (sigma_l = sigma_b) profile.",
         _scan_template),
    ):
        command = commands.add_parser(
            name, parents=[common_parent], formatter_class=formatter, help=help_text,
            description=f"{details}\nFits run on Dask (a local cluster unless --scheduler);\n"
            "finished points are kept beside the run directory, so an interrupted scan\n"
            "resumes where it stopped. Keys: bayesbg/cosi/scan/config.py, docs/cosi.md.",
            epilog=f"example:\n  bayesbg cosi {name} cosi.toml --workers 4\n"
            f"  bayesbg cosi {name} cosi.toml --scheduler tcp://10.0.0.5:8786",
        )
        command.add_argument("config", type=Path, metavar="CONFIG", help="TOML configuration")
        command.add_argument("--run-dir", type=Path, default=None, metavar="PATH",
                             help=f"run directory (default: <config run_dir>-{name})")
        command.add_argument("--seed", type=seed_argument, default=None,
                             help="override the configuration's seed")
        command.add_argument("--workers", type=int, default=2, metavar="N",
                             help="workers of the local Dask cluster (default: 2)")
        command.add_argument("--scheduler", default=None, metavar="ADDRESS",
                             help="address of a running Dask scheduler instead of a local "
                             "cluster")
        command.add_argument("--threads", action="store_true",
                             help="local workers as threads of this process (quicker start "
                             "for small scans)")
        command.add_argument("--overwrite", action="store_true",
                             help="start over: delete finished points and an existing run "
                             "directory first")
        command.add_argument("--no-report", action="store_true",
                             help="do not write report.html into the run directory")
        command.set_defaults(handler=handler)


def _scan_kwargs(args: argparse.Namespace) -> dict[str, object]:
    return {"run_dir": args.run_dir, "overwrite": args.overwrite, "seed": args.seed,
            "scheduler": args.scheduler, "workers": args.workers,
            "processes": not args.threads}


def _scan_report(args: argparse.Namespace, run_dir: Path) -> None:
    print(f"Run directory: {run_dir}")
    if not args.no_report:
        from bayesbg.report import write_report

        print(f"Report: {write_report(run_dir)}")


def _scan_background(args: argparse.Namespace) -> int:
    from bayesbg.cosi.scan.run import run_scan_background_config

    result, run_dir = run_scan_background_config(args.config, **_scan_kwargs(args))
    columns = ["key", "n_block", "n_parameters", "log_likelihood", "aic", "bic", "delta_aic",
               *(f"flux_{name}" for name in result.template_names)]
    print(result.table[columns].to_string(index=False, float_format=lambda v: f"{v:.6g}"))
    failed = result.table.loc[result.table["error"] != ""]
    for row in failed.itertuples():
        print(f"failed: {row.key}: {row.error}")
    best = result.selected_row
    print(f"Selected (minimum AIC): {result.selected.key}, {int(best['n_block'])} blocks, "
          f"AIC {best['aic']:.2f}; {len(result.fitted)} of {len(result.table)} variants "
          "fitted in this run")
    _scan_report(args, run_dir)
    return 0


def _scan_template(args: argparse.Namespace) -> int:
    from bayesbg.cosi.scan.run import run_scan_template_config

    result, run_dir = run_scan_template_config(args.config, **_scan_kwargs(args))
    print(result.table[["sigma_l", "sigma_b", "log_likelihood", "delta",
                        f"flux_{result.template}"]].to_string(
        index=False, float_format=lambda v: f"{v:.6g}"))
    print(f"Best width: sigma_l = {result.best[0]:g} deg, sigma_b = {result.best[1]:g} deg; "
          f"flux of {result.template} there {result.best_flux:.4g} ph cm-2 s-1; "
          f"{len(result.fitted)} of {len(result.table)} points fitted in this run")
    _scan_report(args, run_dir)
    return 0


def _register_bin(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common_parent: argparse.ArgumentParser,
    formatter: type[argparse.HelpFormatter],
) -> None:
    """``bin``: MEGAlib events into a dataset file (bayesbg.cosi.io.binning)."""
    command = commands.add_parser(
        "bin", parents=[common_parent], formatter_class=formatter,
        help="bin MEGAlib .tra/.tra.gz events into a COSI dataset file",
        description="Stream MEGAlib event files (Compton and photo events) and bin the\n"
        "Compton events over time x energy x phi x (psi, chi) into a dataset file\n"
        "(docs/formats.md); photo events give the photo_event_rate tracer. Binning keys\n"
        "(TOML, [binning] table): time_bin, time_start, time_stop, energy_edges, phi_bin,\n"
        "psi_chi (fisbel|bayesbg|healpix), psi_chi_bin, nside, frame (instrument|galactic),\n"
        "pointing (auto|events|orientation), photo_energy_min/max, on_error (raise|skip).\n"
        "See docs/cosi_io.md.",
        epilog="example:\n  bayesbg cosi bin run_CE.tra.gz run_PE.tra.gz --ori flight.ori "
        "--config binning.toml --output cosi_511.nc",
    )
    command.add_argument("events", type=Path, nargs="+", metavar="EVENTS",
                         help=".tra or .tra.gz event files")
    command.add_argument("--ori", type=Path, default=None, metavar="FILE",
                         help="MEGAlib orientation file (.ori)")
    command.add_argument("--config", type=Path, default=None, metavar="FILE",
                         help="binning configuration (TOML); default: 1 h, 500-520 keV, "
                         "6 deg FISBEL, instrument frame")
    command.add_argument("--output", type=Path, required=True, metavar="FILE",
                         help="dataset file to write (netCDF4/HDF5)")
    command.add_argument("--overwrite", action="store_true", help="replace the output file")
    command.set_defaults(handler=_bin)


def _bin(args: argparse.Namespace) -> int:
    from bayesbg.cosi.io.binning import BinningConfig, bin_events, write_binned
    from bayesbg.cosi.io.orientation import read_ori

    if args.output.exists() and not args.overwrite:
        raise FileExistsError(f"{args.output} exists; pass --overwrite to replace it")
    config = BinningConfig.read(args.config) if args.config else BinningConfig()
    orientation = read_ori(args.ori) if args.ori else None
    binned = bin_events(args.events, config, orientation=orientation)
    path = write_binned(binned, args.output, overwrite=args.overwrite)
    s, dataset = binned.summary, binned.dataset
    print(f"Binned {s['compton_binned']} of {s['compton_read']} Compton events "
          f"({s['outside_time']} outside the time range, {s['outside_energy']} outside the "
          f"energy bins, {s['outside_phi']} outside phi; {s['malformed']} malformed records "
          f"skipped); {s['photo_counted']} of {s['photo_read']} photo events counted.")
    print(f"{dataset.n_time} time bins x {dataset.n_energy} energy x {dataset.n_phi} phi x "
          f"{dataset.n_psi_chi} psi-chi ({s['psi_chi_layout']}, {s['frame']} frame), "
          f"{dataset.n_nonzero} populated bins.")
    print(f"Wrote {path}")
    return 0


def _register_deconvolve(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common_parent: argparse.ArgumentParser,
    formatter: type[argparse.HelpFormatter],
) -> None:
    """``deconvolve``: modified Richardson-Lucy imaging (bayesbg.cosi.imaging)."""
    command = commands.add_parser(
        "deconvolve", parents=[common_parent], formatter_class=formatter,
        help="image the sky by modified Richardson-Lucy deconvolution",
        description="Reconstruct a HEALPix sky image from binned COSI data without a sky\n"
        "model ([COSI-511] 4.1, [COSI-PS] 4.3): accelerated Richardson-Lucy with Gaussian\n"
        "smoothing of the update and the background amplitudes re-fitted every iteration.\n"
        "Writes a run directory: maps (Mollweide and zoom) of the iteration chosen from\n"
        "the TS curve, the TS curve, region flux, history and a HEALPix FITS image cube.\n"
        "Keys: bayesbg/cosi/imaging/config.py, docs/imaging.md.",
        epilog="example:\n  bayesbg cosi simulate --output crab.nc --seed 3 --n-time 48 "
        "--bin-size 15 --sky point --flux 4.5e-3 --source-lon 184.56 --source-lat -5.78\n"
        "  bayesbg cosi deconvolve crab.toml --run-dir runs/crab-image",
    )
    command.add_argument("config", type=Path, metavar="CONFIG", help="TOML configuration")
    command.add_argument("--run-dir", type=Path, default=None, metavar="PATH",
                         help="run directory (default: the config's run_dir or "
                         "runs/<config stem>)")
    command.add_argument("--overwrite", action="store_true",
                         help="replace an existing run directory")
    command.add_argument("--no-report", action="store_true",
                         help="do not write report.html into the run directory")
    command.set_defaults(handler=_deconvolve)


def _deconvolve(args: argparse.Namespace) -> int:
    from bayesbg.cosi.imaging.run import run_deconvolve_config

    run = run_deconvolve_config(args.config, run_dir=args.run_dir, overwrite=args.overwrite)
    result, choice, region = run.result, run.choice, run.region
    k = choice.iteration
    print(f"Richardson-Lucy: {result.n_iter} iterations in {result.seconds[-1]:.1f} s; "
          f"TS {result.ts[-1]:.1f} at the last.")
    print(f"Chosen iteration {k} (first curvature maximum of TS(k)); curvature maxima "
          f"{list(choice.curvature_maxima)}, inflection points "
          f"{list(choice.inflection_points)}.")
    print(f"At iteration {k}: TS {result.ts[k]:.1f}, total flux {result.flux[k]:.4g} "
          f"ph cm-2 s-1; {region.description}: {region.flux:.4g} ph cm-2 s-1 at "
          f"(l, b) = ({region.centre[0]:.2f}, {region.centre[1]:.2f}) deg.")
    if run.reference is not None:
        reached = result.iterations_to_reach(float(run.reference.ts[-1]))
        print(f"Classic RL reaches TS {run.reference.ts[-1]:.1f} in {run.reference.n_iter} "
              f"iterations; the modified RL in {reached}.")
    print(f"Run directory: {run.run_dir}")
    if not args.no_report and run.run_dir is not None:
        from bayesbg.report import write_report

        print(f"Report: {write_report(run.run_dir)}")
    return 0
