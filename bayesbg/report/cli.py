"""``bayesbg compare`` and ``bayesbg runs``."""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["register"]


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add the ``compare`` and ``runs`` subcommands."""
    compare = commands.add_parser(
        "compare", parents=[common], formatter_class=argparse.RawDescriptionHelpFormatter,
        help="compare fits of the same data by PSIS-LOO, WAIC, AIC and BIC",
        description="Rank run directories fitted to the same data by PSIS-LOO (with Pareto-k\n"
        "warnings, differences to the best with standard errors, stacking weights),\n"
        "WAIC, and AIC/BIC at the maximum likelihood. Writes comparison.csv, .json\n"
        "and .html (with the comparison plot) to --out. Refuses runs on different data.",
        epilog="example:\n  bayesbg compare runs/cutoffpl runs/cutoffpl+powerlaw --out runs/cmp",
    )
    compare.add_argument("run_dirs", nargs="+", type=Path, metavar="RUN_DIR")
    compare.add_argument("--out", type=Path, default=Path("comparison"), metavar="DIR",
                         help="where to write the tables and page (default: ./comparison)")
    compare.add_argument("--overwrite", action="store_true",
                         help="replace existing comparison files")
    compare.set_defaults(handler=_compare)

    runs = commands.add_parser(
        "runs", parents=[common], formatter_class=argparse.RawDescriptionHelpFormatter,
        help="list run directories with type, date, key result and diagnostics",
        description="List finished run directories below DIR (default ./runs), newest first.",
        epilog="example:\n  bayesbg runs runs/",
    )
    runs.add_argument("directory", nargs="?", type=Path, default=Path("runs"), metavar="DIR")
    runs.set_defaults(handler=_runs)


def _compare(args: argparse.Namespace) -> int:
    from bayesbg.report import compare_runs  # noqa: PLC0415

    result = compare_runs(args.run_dirs)
    print(result.to_text())
    for path in result.write(args.out, overwrite=args.overwrite):
        print(f"wrote {path}")
    return 0


def _runs(args: argparse.Namespace) -> int:
    from bayesbg.report import list_runs, runs_table  # noqa: PLC0415

    infos = list_runs(args.directory)
    if not infos:
        print(f"no finished runs below {args.directory}")
        return 0
    print(runs_table(infos).to_string(index=False))
    return 0
