"""``bayesbg isgri run CONFIG`` and ``bayesbg isgri simulate``.

The TOML configuration of ``run``::

    input = "scw.fits"          # pointing table (FITS, ECSV, CSV, Parquet); or:
    simulate_seed = 1           # simulate a full-size table instead
    output = "runs/isgri"       # the run directory (relative to this file)
    method = "mixture-ml"       # or "mixture-nuts" (Stan fit of every region x band)
    seed = 1                    # seed of the mixture fit
    [sampler]                   # optional, SamplerConfig fields (default 4 chains x
    chains = 4                  # 1000 warm-up + 1000 draws)

An unknown key is an error. The output is a run directory (written atomically, never
replaced without --overwrite): flux_table.csv, four PNG figures and summary.json (the
flux and screening tables, checks, key result, input hashes, versions); report.html is
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
        epilog="example:\n  bayesbg isgri run isgri.toml --overwrite",
    )
    run.add_argument("config", type=Path, help="TOML configuration file")
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
    simulate.add_argument("--overwrite", action="store_true", help="replace an existing file")
    simulate.set_defaults(handler=_simulate)


def run_config(path: str | Path, *, overwrite: bool = False) -> Path:
    """Run the pipeline as a configuration file says; write its run directory.

    Parameters
    ----------
    path : str or `~pathlib.Path`
        TOML configuration (module docstring).
    overwrite : bool
        Replace an existing run directory. Default is False.

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
    import time

    from bayesbg.isgri.config import IsgriRunConfig
    from bayesbg.isgri.fit import flux_mixture_model
    from bayesbg.isgri.pipeline import run_pipeline
    from bayesbg.isgri.pointings import read_pointings
    from bayesbg.isgri.rundir import write_isgri_run_dir
    from bayesbg.isgri.simulate import simulate_isgri
    from bayesbg.stan.rundir import check_run_dir

    started = time.perf_counter()
    path = Path(path)
    config = IsgriRunConfig.read(path)
    check_run_dir(config.output, overwrite=overwrite)
    inputs: dict[str, Path] = {"config": path}
    truth = None
    if config.input is not None:
        table = read_pointings(config.input)
        inputs["pointings"] = config.input
        seed = config.seed if config.method == "mixture-nuts" else None
    else:
        seed = config.simulate_seed
        table, truth = simulate_isgri(seed)
    model = flux_mixture_model() if config.method == "mixture-nuts" else None
    result = run_pipeline(table, seed=config.seed, config=config.sampler, model=model)
    print(result.screening.render())
    print(result.table.to_string(index=False, float_format=lambda x: f"{x:.4g}"))
    written = write_isgri_run_dir(
        result, config.output, config=config.to_dict(), inputs=inputs, seed=seed, truth=truth,
        overwrite=overwrite, wall_time_s=time.perf_counter() - started,
    )
    print(f"run directory: {written}")
    return written


def _run(args: argparse.Namespace) -> int:
    output = run_config(args.config, overwrite=args.overwrite)
    if not args.no_report:
        from bayesbg.report import write_report

        print(f"report: {write_report(output)}")
    return 0


def _simulate(args: argparse.Namespace) -> int:
    from bayesbg.isgri.pointings import write_pointings
    from bayesbg.isgri.simulate import simulate_isgri

    table, _ = simulate_isgri(args.seed)
    write_pointings(table, args.output, overwrite=args.overwrite)
    print(f"wrote {table.n_pointing} pointings to {args.output}")
    return 0
