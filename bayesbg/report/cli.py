"""``bayesbg compare``, ``bayesbg report`` and ``bayesbg runs``."""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["register"]


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add the ``compare``, ``report`` and ``runs`` subcommands."""
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

    report = commands.add_parser(
        "report", parents=[common], formatter_class=argparse.RawDescriptionHelpFormatter,
        help="write a self-contained HTML report of a run directory",
        description="Render RUN_DIR/report.html: what was run, posterior summary (with the\n"
        "truth for simulated data), sampler checks with pass/fail and advice, trace,\n"
        "rank and pair plots, and the run's own tables and figures. Runs without\n"
        "posterior draws (ISGRI runs, scans): key result, checks (pass/warn/fail with\n"
        "advice), tables, figures, inputs' hashes. Figures are embedded.",
        epilog="examples:\n  bayesbg report runs/demo-1 --open\n  bayesbg report runs/isgri",
    )
    report.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    report.add_argument("--open", action="store_true", help="open the page in a browser")
    report.set_defaults(handler=_report)

    runs = commands.add_parser(
        "runs", parents=[common], formatter_class=argparse.RawDescriptionHelpFormatter,
        help="list run directories with type, date, key result and status",
        description="List finished run directories below DIR (default ./runs), newest first:\n"
        "type, date, key result, and status (sampler diagnostics and the run's checks).",
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


def _report(args: argparse.Namespace) -> int:
    from bayesbg.report import write_report  # noqa: PLC0415

    path = write_report(args.run_dir)
    print(f"wrote {path}")
    if args.open:
        import webbrowser  # noqa: PLC0415

        webbrowser.open(path.resolve().as_uri())
    return 0


def _runs(args: argparse.Namespace) -> int:
    from bayesbg.report import list_runs, runs_table  # noqa: PLC0415

    infos = list_runs(args.directory)
    if not infos:
        print(f"no finished runs below {args.directory}")
        return 0
    print(runs_table(infos).to_string(index=False))
    return 0
