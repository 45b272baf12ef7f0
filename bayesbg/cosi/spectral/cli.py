"""``bayesbg cosi bright-sources``: the [COSI-PS] bright-source study on flight-like
simulations (docs/cosi_spectral.md)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

__all__ = ["register_bright_sources"]

log = logging.getLogger(__name__)


def register_bright_sources(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common_parent: argparse.ArgumentParser,
    formatter: type[argparse.HelpFormatter],
) -> None:
    """Add ``bright-sources`` to the ``bayesbg cosi`` subcommands."""
    command = commands.add_parser(
        "bright-sources", parents=[common_parent], formatter_class=formatter,
        help="Crab, Cyg X-1 and Cen A end to end on flight-like simulations ([COSI-PS])",
        description="Simulate the three sources of [COSI-PS] over the 2016 flight's\n"
        "orientation with the paper's spectra and exposure, plus toy NuSTAR, Swift-BAT and\n"
        "IBIS spectra; fit them (forward-folded COSI-only, two-step, joint); write a run\n"
        "directory with the paper's Tables 2-4 layout and report.html.",
        epilog="example:\n  bayesbg cosi bright-sources "
        "analyses/cosi_bright_sources/bright_sources.toml --quick --overwrite")
    command.add_argument("config", type=Path, help="TOML configuration")
    command.add_argument("--quick", action="store_true",
                         help="two days per source, short chains (minutes, not an hour)")
    command.add_argument("--output", type=Path, default=None, metavar="DIR",
                         help="run directory (default: the configuration's output)")
    command.add_argument("--overwrite", action="store_true",
                         help="replace an existing run directory")
    command.set_defaults(handler=_bright_sources)


def _bright_sources(args: argparse.Namespace) -> int:
    import time
    import warnings

    from bayesbg.atomic import check_writable_target
    from bayesbg.cosi.spectral.config import StudyConfig, quick_settings
    from bayesbg.cosi.spectral.results import write_study_run_dir
    from bayesbg.cosi.spectral.study import run_source
    from bayesbg.stan import SamplerWarning

    config = StudyConfig.read(args.config)
    settings = quick_settings(config.settings) if args.quick else config.settings
    output = args.output or (config.output.with_name(config.output.name + "_quick")
                             if args.quick else config.output)
    check_writable_target(output, overwrite=args.overwrite)
    start = time.perf_counter()
    outcomes = []
    for name in config.sources:
        print(f"{name}: simulating and fitting ...", flush=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SamplerWarning)
            outcomes.append(run_source(name, settings))
        band = outcomes[-1].report_band
        print(f"  band flux {band.energy_min:g}-{band.energy_max:g} keV: {band.mean:.3g} +- "
              f"{band.sd:.2g} ph cm-2 s-1 ({band.significance:.1f} sigma); truth "
              f"{outcomes[-1].report_band_truth:.3g}", flush=True)
    target = write_study_run_dir(outcomes, settings, output, overwrite=args.overwrite,
                                 wall_time_s=time.perf_counter() - start,
                                 inputs={"config": args.config})
    print(f"Run directory: {target}\nReport: {target / 'report.html'}")
    return 0
