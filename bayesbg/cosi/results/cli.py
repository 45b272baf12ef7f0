"""``bayesbg cosi results CONFIG``: the results page of a [COSI-511] analysis."""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["register_results"]


def register_results(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common_parent: argparse.ArgumentParser,
    formatter: type[argparse.HelpFormatter],
) -> None:
    """Add ``results`` to the ``bayesbg cosi`` command group."""
    command = commands.add_parser(
        "results", parents=[common_parent], formatter_class=formatter,
        help="results page of a [COSI-511] analysis (Table 3, width, image, checks)",
        description="Reads the runs of the analysis a configuration describes (background\n"
        "scan, bulge fit, width scan, sky models, image; [results] table) and writes a\n"
        "run directory with results.html: Table 3 with the injected truth and pulls of a\n"
        "simulation, the width, the background variant and its time nodes, the predictive\n"
        "checks of the chosen model, the image, the MEGAlib check, the acceptance checks\n"
        "and links to every run directory. Exits 1 if a check fails.\n"
        "Keys: bayesbg/cosi/results/config.py, docs/cosi.md.",
        epilog="example:\n  bayesbg cosi results cosi.toml --overwrite",
    )
    command.add_argument("config", type=Path, metavar="CONFIG", help="TOML configuration")
    command.add_argument("--run-dir", type=Path, default=None, metavar="PATH",
                         help="run directory (default: [results] run_dir)")
    command.add_argument("--overwrite", action="store_true",
                         help="replace an existing run directory")
    command.add_argument("--no-report", action="store_true",
                         help="do not write report.html into the run directory")
    command.set_defaults(handler=_results)


def _results(args: argparse.Namespace) -> int:
    from bayesbg.cosi.results.page import RESULTS_FILE
    from bayesbg.cosi.results.run import run_results_config

    results, run_dir = run_results_config(args.config, run_dir=args.run_dir,
                                          overwrite=args.overwrite)
    for check in results["checks"]:
        print(f"{check['status']:4}  {check['name']}: {check['detail']}")
    print(f"Results page: {run_dir / RESULTS_FILE}")
    if not args.no_report:
        from bayesbg.report import write_report

        print(f"Report: {write_report(run_dir)}")
    return 0 if all(c["status"] == "pass" for c in results["checks"]) else 1
