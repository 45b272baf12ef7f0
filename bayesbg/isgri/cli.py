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
import tomllib
from pathlib import Path
from typing import Any

__all__ = ["register", "run_config"]

log = logging.getLogger(__name__)

#: Flux estimators of ``method``: the binned mixture by maximum likelihood (scipy) or by
#: NUTS (``stan_models/isgri_flux_mixture.stan``).
_METHODS = ("mixture-ml", "mixture-nuts")

_KEYS = {"input", "simulate_seed", "output", "method", "seed", "sampler"}


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
    simulate.add_argument("--seed", type=int, default=1, help="random seed (default: 1)")
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
        The run directory (`bayesbg.isgri.output.write_isgri_run_dir`).

    Raises
    ------
    ValueError
        On an invalid configuration.
    FileExistsError
        If the output directory holds a run and ``overwrite`` is False (checked first).
    """
    import dataclasses
    import time

    from bayesbg.config import SamplerConfig
    from bayesbg.isgri.fov_flux import flux_mixture_model
    from bayesbg.isgri.output import write_isgri_run_dir
    from bayesbg.isgri.pipeline import run_pipeline
    from bayesbg.isgri.scw import read_pointings
    from bayesbg.isgri.simulate import simulate_isgri
    from bayesbg.stan.rundir import check_run_dir

    started = time.perf_counter()
    path = Path(path)
    try:
        config = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise ValueError(f"config: invalid TOML in {path} ({err})") from err
    unknown = sorted(set(config) - _KEYS)
    if unknown:
        raise ValueError(f"{unknown[0]}: unknown key; expected one of {sorted(_KEYS)}")
    if ("input" in config) == ("simulate_seed" in config):
        raise ValueError("input: give exactly one of input and simulate_seed")
    method = config.get("method", "mixture-ml")
    if method not in _METHODS:
        raise ValueError(f"method: expected one of {list(_METHODS)}, found {method!r}"
                         + (" (renamed: 'gaussian' is now 'mixture-ml', 'mixture' is "
                            "'mixture-nuts')" if method in ("gaussian", "mixture") else ""))
    output = Path(config.get("output", "runs/isgri"))
    if not output.is_absolute():
        output = (path.parent / output).absolute()
    check_run_dir(output, overwrite=overwrite)
    inputs: dict[str, Path] = {"config": path}
    truth = None
    if "input" in config:
        source = Path(config["input"])
        source = source if source.is_absolute() else (path.parent / source).absolute()
        table = read_pointings(source)
        inputs["pointings"] = source
        seed = int(config.get("seed", 1)) if method == "mixture-nuts" else None
    else:
        seed = int(config["simulate_seed"])
        table, truth = simulate_isgri(seed)
    # 4 x (1000 + 1000): the wing weights mix slowly; 2 x (500 + 500) left R-hat at 1.012
    sampler = SamplerConfig.from_dict(config.get("sampler", {"chains": 4, "iter_warmup": 1000,
                                                             "iter_sampling": 1000}))
    model = flux_mixture_model() if method == "mixture-nuts" else None
    result = run_pipeline(table, model=model, sampler=sampler, seed=int(config.get("seed", 1)))
    print(result.screening.render())
    print(result.table.to_string(index=False, float_format=lambda x: f"{x:.4g}"))
    resolved = {**config, "method": method, "output": str(output)}
    if "input" in config:
        resolved["input"] = str(inputs["pointings"])
    if method == "mixture-nuts":
        resolved["sampler"] = dataclasses.asdict(sampler)
    written = write_isgri_run_dir(
        result, output, config=resolved, inputs=inputs, seed=seed, truth=truth,
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
    from bayesbg.isgri.scw import write_pointings
    from bayesbg.isgri.simulate import simulate_isgri

    table, _ = simulate_isgri(args.seed)
    write_pointings(table, args.output, overwrite=args.overwrite)
    print(f"wrote {table.n_pointing} pointings to {args.output}")
    return 0
