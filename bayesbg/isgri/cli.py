"""``bayesbg isgri run CONFIG`` and ``bayesbg isgri simulate``.

The TOML configuration of ``run`` is `bayesbg.isgri.config` (input table or simulation,
output, collimator shapes, point sources, spectral fits, samplers); ``--input`` and
``--output`` override the file's. An unknown key is an error. The output is a run
directory (written atomically, never replaced without --overwrite) with Table 1-3 and
the comparison with [ISGRI], the spectra, the longitude profile, the orbit lists, the
Crab calibration, figures and summary.json (`bayesbg.isgri.rundir`); report.html is
written into it unless --no-report.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from bayesbg.config.seeds import seed_argument

__all__ = ["register", "run_config"]

log = logging.getLogger(__name__)

def register(subparsers: Any, common_parent: argparse.ArgumentParser) -> None:
    """Add the ``isgri`` command group to the ``bayesbg`` parser.

    Parameters
    ----------
    subparsers : argparse subparsers action
        From ``parser.add_subparsers``.
    common_parent : `argparse.ArgumentParser`
        Parent parser with ``--log-level``.
    """
    isgri = subparsers.add_parser(
        "isgri", formatter_class=argparse.RawDescriptionHelpFormatter,
        help="INTEGRAL/ISGRI collimator-mode pipeline",
        description="ISGRI collimator mode: per-orbit background, Crab calibration,\n"
        "flux per field of view in sky regions.",
        epilog="examples:\n  bayesbg isgri simulate --seed 1 --output scw.fits\n"
        "  bayesbg isgri run isgri.toml",
    )
    commands = isgri.add_subparsers(dest="isgri_command", required=True, metavar="command")
    run = commands.add_parser(
        "run", parents=[common_parent], help="run the pipeline from a TOML configuration",
        formatter_class=argparse.RawDescriptionHelpFormatter, description=__doc__,
        epilog="examples:\n  bayesbg isgri run isgri.toml --overwrite\n"
        "  bayesbg isgri run analyses/isgri_galactic_background/paper.toml "
        "--input scw.fits --output runs/isgri-real",
    )
    run.add_argument("config", type=Path, help="TOML configuration file")
    run.add_argument("--input", type=Path, default=None, metavar="FILE",
                     help="pointing table instead of the file's input or simulation")
    run.add_argument("--output", type=Path, default=None, metavar="DIR",
                     help="run directory instead of the file's output")
    run.add_argument("--overwrite", action="store_true",
                     help="replace an existing run directory")
    run.add_argument("--no-report", action="store_true",
                     help="do not write report.html into the run directory")
    run.set_defaults(handler=_run)
    simulate = commands.add_parser(
        "simulate", parents=[common_parent], help="write a simulated full-size pointing table",
        epilog="example:\n  bayesbg isgri simulate --seed 1 --output scw.fits",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    simulate.add_argument("--seed", type=seed_argument, default=1, help="random seed (default: 1)")
    simulate.add_argument("--output", type=Path, required=True,
                          help="table file (.fits, .ecsv, .csv, .parquet)")
    simulate.add_argument("--spectrum", choices=("cutoffpl", "ipm"), default="cutoffpl",
                          help="injected Galactic spectrum: [ISGRI] Table 2 (cutoffpl, "
                          "default) or Table 3 (ipm)")
    simulate.add_argument("--overwrite", action="store_true", help="replace an existing file")
    simulate.set_defaults(handler=_simulate)


def run_config(path: str | Path, *, overwrite: bool = False, input: Path | None = None,  # noqa: A002
               output: Path | None = None) -> Path:
    """Run the pipeline as a configuration file says; write its run directory.

    Parameters
    ----------
    path : str or `~pathlib.Path`
        TOML configuration (`bayesbg.isgri.config`).
    overwrite : bool
        Replace an existing run directory. Default is False.
    input : `~pathlib.Path`, optional
        Pointing table in place of the file's ``input`` / ``simulate_seed``.
    output : `~pathlib.Path`, optional
        Run directory in place of the file's ``output``.

    Returns
    -------
    output : `~pathlib.Path`
        The run directory (`bayesbg.isgri.rundir.write_isgri_run_dir`).

    Raises
    ------
    ValueError
        On an invalid configuration.
    FileExistsError
        If the output directory holds a run and ``overwrite`` is False (checked first).
    """
    import dataclasses

    from bayesbg.isgri.analysis import run_isgri
    from bayesbg.isgri.config import IsgriRunConfig

    path = Path(path)
    config = IsgriRunConfig.read(path)
    if input is not None:
        config = dataclasses.replace(config, input=Path(input), simulate_seed=None)
    if output is not None:
        config = dataclasses.replace(config, output=Path(output))
    written = run_isgri(config, config_file=path, overwrite=overwrite)
    print(f"run directory: {written}")
    return written


def _run(args: argparse.Namespace) -> int:
    output = run_config(args.config, overwrite=args.overwrite, input=args.input,
                        output=args.output)
    if not args.no_report:
        from bayesbg.report import write_report

        print(f"report: {write_report(output)}")
    return 0


def _simulate(args: argparse.Namespace) -> int:
    from bayesbg.isgri.pointings import write_pointings
    from bayesbg.isgri.simulate import simulate_isgri

    table, _ = simulate_isgri(args.seed, galactic_spectrum=args.spectrum)
    write_pointings(table, args.output, overwrite=args.overwrite)
    print(f"wrote {table.n_pointing} pointings to {args.output}")
    return 0
