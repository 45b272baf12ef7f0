"""``bayesbg cosi sky-models CONFIG``: the models of [COSI-511] Table 3 (bayesbg.cosi.skymodels)."""

from __future__ import annotations

import argparse
from pathlib import Path

from bayesbg.config.seeds import seed_argument

__all__ = ["register_sky_models"]


def register_sky_models(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common_parent: argparse.ArgumentParser,
    formatter: type[argparse.HelpFormatter],
) -> None:
    """Add ``sky-models`` to the ``bayesbg cosi`` command group."""
    command = commands.add_parser(
        "sky-models", parents=[common_parent], formatter_class=formatter,
        help="fit and compare the sky models of [COSI-511] Table 3 (bulge, + disks)",
        description="Fits every model of the [sky_models] table (e.g. bulge alone, bulge +\n"
        "thin disk, bulge + thick disk) by maximum likelihood and NUTS on the same data\n"
        "and background model, the bulge at the width the template scan fitted; runs the\n"
        "predictive checks of each fit; compares them by PSIS-LOO, AIC and BIC; writes\n"
        "one run directory per model and one with Table 3 (fluxes of bulge, disk and\n"
        "total with 68 % intervals, disk upper limits as posterior quantiles beside the\n"
        "prior's). Keys: bayesbg/cosi/skymodels/config.py, docs/cosi.md.",
        epilog="example:\n  bayesbg cosi sky-models cosi.toml --overwrite",
    )
    command.add_argument("config", type=Path, metavar="CONFIG", help="TOML configuration")
    command.add_argument("--run-dir", type=Path, default=None, metavar="PATH",
                         help="Table 3's run directory (default: [sky_models] run_dir); "
                         "the models' fits go beside it")
    command.add_argument("--seed", type=seed_argument, default=None,
                         help="override the configuration's seed")
    command.add_argument("--overwrite", action="store_true",
                         help="replace existing run directories")
    command.add_argument("--no-report", action="store_true",
                         help="do not write report.html into the run directories")
    command.set_defaults(handler=_sky_models)


def _sky_models(args: argparse.Namespace) -> int:
    from bayesbg.cosi.skymodels.run import run_sky_models_config

    run = run_sky_models_config(args.config, run_dir=args.run_dir, overwrite=args.overwrite,
                                seed=args.seed, report=not args.no_report)
    columns = [c for c in ("model", "bulge", "disk", "total", "disk_limit", "elpd_loo", "se",
                           "dAIC", "dBIC") if c in run.table.columns]
    print("Fluxes in 1e-3 ph cm-2 s-1: posterior median (+- to the 68 % interval); disk "
          "limit in ph cm-2 s-1")
    print(run.table[columns].to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    if run.width is not None:
        print(f"Bulge width: {run.width['best']:.2f} deg")
    print(f"Chosen model: {run.chosen}")
    print(f"Run directory: {run.run_dir}")
    if not args.no_report:
        from bayesbg.report import write_report

        print(f"Report: {write_report(run.run_dir)}")
    return 0
