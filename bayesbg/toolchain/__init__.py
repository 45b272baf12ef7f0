"""Stan toolchain: a CmdStan-compatible installation built from PyPI packages.

``bayesbg setup`` builds it (:func:`setup_cmdstan`), :func:`ensure_cmdstan` finds
it (or a real CmdStan) and points cmdstanpy at it, ``bayesbg doctor`` reports on
it (:func:`doctor_report`).
"""

from bayesbg.toolchain.doctor import DoctorReport, doctor_report
from bayesbg.toolchain.install import (
    CMDSTAN_VERSION,
    SetupResult,
    cache_dir,
    cmdstan_root,
    setup_cmdstan,
)
from bayesbg.toolchain.locate import (
    CmdStanLocation,
    CmdStanNotFoundError,
    ensure_cmdstan,
    find_cmdstan,
)

__all__ = [
    "CMDSTAN_VERSION",
    "CmdStanLocation",
    "CmdStanNotFoundError",
    "DoctorReport",
    "SetupResult",
    "cache_dir",
    "cmdstan_root",
    "doctor_report",
    "ensure_cmdstan",
    "find_cmdstan",
    "setup_cmdstan",
]
