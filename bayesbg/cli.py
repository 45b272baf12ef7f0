"""The ``bayesbg`` command: subcommands that each call one library function.

``bayesbg setup`` builds the Stan toolchain, ``bayesbg doctor`` reports on it,
``bayesbg compile`` fills the model cache, ``bayesbg demo`` simulates and fits a small
dataset. Exit status 0 on success,
1 on an error (printed to stderr), 2 on a usage error.
"""

from __future__ import annotations

import argparse
import logging
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bayesbg import __version__
from bayesbg.config.seeds import seed_argument
from bayesbg.logs import LibraryChatterFilter, start_session_log

__all__ = ["build_parser", "main"]

log = logging.getLogger(__name__)

_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``bayesbg`` command line.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; default ``sys.argv[1:]``.

    Returns
    -------
    status : int
        Exit status: 0 success, 1 error, 2 usage error.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args.log_level)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except KeyboardInterrupt:
        print(f"bayesbg {args.command}: interrupted", file=sys.stderr)
        return 130
    except (RuntimeError, OSError, ValueError) as err:
        # CmdStanNotFoundError and StanRunError are RuntimeErrors, FileExistsError an OSError
        log.debug("bayesbg %s failed", args.command, exc_info=True)
        print(f"bayesbg {args.command}: error: {err}", file=sys.stderr)
        return 1


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with all subcommands.

    Returns
    -------
    parser : `argparse.ArgumentParser`
    """
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--log-level", default="WARNING", type=str.upper, choices=_LOG_LEVELS,
        help="logging threshold (default: WARNING)",
    )
    parser = argparse.ArgumentParser(
        prog="bayesbg",
        description="Bayesian analysis of background-dominated hard-X-ray and soft-gamma-ray\n"
        "data (COSI, INTEGRAL/ISGRI) with Stan.",
        epilog="examples:\n  bayesbg setup\n  bayesbg doctor\n  bayesbg compile\n"
        "  bayesbg demo --seed 3\n\n"
        "Run `bayesbg <command> --help` for a command's options.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"bayesbg {__version__}")
    parser.set_defaults(log_level="WARNING")
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")

    setup = commands.add_parser(
        "setup", parents=[common], formatter_class=argparse.RawDescriptionHelpFormatter,
        help="build the CmdStan toolchain from PyPI packages",
        description="Build a CmdStan-compatible installation from the httpstan wheel\n"
        "(or install the official CmdStan with --official), used by every fit.",
        epilog="example:\n  bayesbg setup\n  bayesbg setup --dir /opt/bayesbg-cmdstan --force",
    )
    setup.add_argument("--dir", type=Path, default=None, metavar="PATH",
                       help="where to build (default: $BAYESBG_CMDSTAN or the bayesbg cache)")
    setup.add_argument("--official", action="store_true",
                       help="install the official CmdStan with cmdstanpy (needs GitHub access)")
    setup.add_argument("--force", action="store_true", help="rebuild even if one exists")
    setup.set_defaults(handler=_setup)

    prune = commands.add_parser(
        "prune", parents=[common], formatter_class=argparse.RawDescriptionHelpFormatter,
        help="remove unused CmdStan builds and compiled models from the cache",
        description="Remove old PyPI-built CmdStan directories (about 1.8 GB each), partial\n"
        "builds whose process has ended, and compiled models whose CmdStan is gone.\n"
        "Keeps the build of the current sources and the one cmdstanpy uses now.",
        epilog="example:\n  bayesbg prune --dry-run\n  bayesbg prune",
    )
    prune.add_argument("--dir", type=Path, default=None, metavar="PATH",
                       help="CmdStan build directory (default: $BAYESBG_CMDSTAN or the cache)")
    prune.add_argument("--dry-run", action="store_true",
                       help="list what would be removed, remove nothing")
    prune.set_defaults(handler=_prune)

    doctor = commands.add_parser(
        "doctor", parents=[common], formatter_class=argparse.RawDescriptionHelpFormatter,
        help="report which CmdStan is used and whether models compile",
        description="Report on the Stan toolchain: which CmdStan is used and why,\n"
        "versions, and whether bayesbg's Stan programs compile.",
        epilog="example:\n  bayesbg doctor",
    )
    doctor.set_defaults(handler=_doctor)

    compile_ = commands.add_parser(
        "compile", parents=[common], formatter_class=argparse.RawDescriptionHelpFormatter,
        help="compile bayesbg's Stan programs into the model cache",
        description="Compile Stan programs of stan_models/ into the model cache\n"
        "($BAYESBG_CACHE_DIR/models); unchanged programs are not recompiled.",
        epilog="example:\n  bayesbg compile\n  bayesbg compile template_fit --threads",
    )
    compile_.add_argument("models", nargs="*", metavar="MODEL",
                          help="program names without .stan (default: all in stan_models/)")
    compile_.add_argument("--threads", action="store_true",
                          help="compile with STAN_THREADS (for reduce_sum)")
    compile_.set_defaults(handler=_compile)

    demo = commands.add_parser(
        "demo", parents=[common], formatter_class=argparse.RawDescriptionHelpFormatter,
        help="simulate a small dataset with known truth, fit it, print a summary",
        description="Simulate 300 bins with 2 sky templates and 3 background blocks, fit\n"
        "them with NUTS, print the posterior summary against the truth and the sampler\n"
        "diagnostics, and write a run directory (summary.json, posterior.nc, config, CSVs).",
        epilog="example:\n  bayesbg demo --seed 3 --run-dir runs/demo-3 --overwrite",
    )
    demo.add_argument("--seed", type=seed_argument, default=1, help="random seed (default: 1)")
    demo.add_argument("--run-dir", type=Path, default=None, metavar="PATH",
                      help="run directory to write (default: runs/demo-<seed>)")
    demo.add_argument("--overwrite", action="store_true",
                      help="replace an existing run directory")
    demo.add_argument("--no-report", action="store_true",
                      help="do not write report.html into the run directory")
    demo.set_defaults(handler=_demo)

    from bayesbg.report.cli import register as register_report  # noqa: PLC0415

    register_report(commands, common)
    from bayesbg.spectra.cli import register as register_spectrum  # noqa: PLC0415

    register_spectrum(commands, common)
    from bayesbg.cosi.cli import register as register_cosi  # noqa: PLC0415

    register_cosi(commands, common)
    from bayesbg.isgri.cli import register as register_isgri  # noqa: PLC0415

    register_isgri(commands, common)
    return parser


def _setup(args: argparse.Namespace) -> int:
    from bayesbg.toolchain import setup_cmdstan

    result = setup_cmdstan(args.dir, official=args.official, force=args.force)
    if result.built:
        print(f"CmdStan ready at {result.path}")
    return 0


def _prune(args: argparse.Namespace) -> int:
    from bayesbg.toolchain.prune import prune_cache

    print(prune_cache(root=args.dir, dry_run=args.dry_run).describe())
    return 0


def _doctor(args: argparse.Namespace) -> int:
    from bayesbg.stan import check_programs, stan_models_dir
    from bayesbg.toolchain import doctor_report

    report = doctor_report()
    print(report.render())
    if not report.ok:
        print("Stan models: not checked (no CmdStan)")
        return 1
    statuses = check_programs()
    print(f"Stan models in {stan_models_dir()}:")
    for status in statuses:
        print(f"  {status.name}.stan: {status.detail}")
    failed = [s.name for s in statuses if not s.ok]
    if failed:
        print(f"bayesbg doctor: {len(failed)} program(s) missing or failing: "
              f"{', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def _compile(args: argparse.Namespace) -> int:
    from bayesbg.stan import check_programs, compile_model, stan_model_file

    if args.models:
        for name in args.models:
            model = compile_model(stan_model_file(name), threads=args.threads)
            print(f"{name}: {model.exe_file}")
        return 0
    statuses = check_programs(threads=args.threads)
    for status in statuses:
        print(f"{status.name}: {status.detail}")
    failed = [s.name for s in statuses if not s.ok]
    if failed:
        print(f"bayesbg compile: {len(failed)} program(s) missing or failing: "
              f"{', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def _demo(args: argparse.Namespace) -> int:
    from bayesbg.demo import run_demo

    result = run_demo(seed=args.seed, run_dir=args.run_dir, overwrite=args.overwrite)
    if not args.no_report and result.run_dir is not None:
        from bayesbg.report import write_report

        print(f"Report: {write_report(result.run_dir)}")
    return 0


def _configure_logging(level: str) -> None:
    """Console at ``level`` for bayesbg; the session log gets everything (`bayesbg.logs`).

    Warnings: a `~bayesbg.stan.SamplerWarning` prints as one line on the console;
    other warnings (libraries' deprecations and the like) go to the session log only,
    or to the console too at DEBUG.
    """
    console = logging.StreamHandler()
    console.setLevel(getattr(logging, level))
    console.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    if level != "DEBUG":
        console.addFilter(LibraryChatterFilter())
    root = logging.getLogger()
    for handler in list(root.handlers):
        if type(handler) is logging.StreamHandler:
            root.removeHandler(handler)
    root.addHandler(console)
    start_session_log()
    warnings.showwarning = _show_warning


def _show_warning(message: Warning | str, category: type[Warning], filename: str,
                  lineno: int, file: Any = None, line: str | None = None) -> None:
    from bayesbg.stan import SamplerWarning

    if issubclass(category, SamplerWarning):
        logging.getLogger("bayesbg").warning("%s", message)
    else:
        logging.getLogger("py.warnings").info("%s:%s: %s: %s", filename, lineno,
                                              category.__name__, message)
