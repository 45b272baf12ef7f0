"""Find the CmdStan installation bayesbg runs, in a fixed order of preference.

1. ``$CMDSTAN``, if it names a valid CmdStan directory;
2. a real CmdStan in cmdstanpy's default location (``~/.cmdstan/cmdstan-*``);
3. bayesbg's PyPI-built installation (see :mod:`bayesbg.toolchain.install`).
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

from bayesbg.toolchain.install import cmdstan_root, is_complete, pypi_installation

log = logging.getLogger(__name__)

__all__ = ["CmdStanLocation", "CmdStanNotFoundError", "ensure_cmdstan", "find_cmdstan"]


class CmdStanNotFoundError(RuntimeError):
    """No usable CmdStan installation; the message says how to get one."""


@dataclass(frozen=True)
class CmdStanLocation:
    """Where CmdStan is and why that one was chosen."""

    path: Path  #: CmdStan directory (holds ``makefile`` and ``bin/stanc``)
    source: str  #: "CMDSTAN", "cmdstanpy-default" or "bayesbg-pypi"
    reason: str  #: one sentence for ``bayesbg doctor``


def _valid(path: Path) -> bool:
    return (path / "makefile").is_file() and (path / "bin" / "stanc").is_file()


def _version(path: Path) -> tuple[int, ...]:
    match = re.search(r"cmdstan-(\d+)\.(\d+)(?:\.(\d+))?$", path.name)
    return tuple(int(g or 0) for g in match.groups()) if match else (0,)


def find_cmdstan() -> CmdStanLocation:
    """Locate CmdStan without building anything.

    Returns
    -------
    CmdStanLocation

    Raises
    ------
    CmdStanNotFoundError
        If none of the three places holds a valid installation.
    """
    env = os.environ.get("CMDSTAN")
    tried = []
    if env:
        path = Path(env).expanduser()
        if _valid(path):
            if is_complete(path):  # cmdstanpy.set_cmdstan_path exports $CMDSTAN too
                return CmdStanLocation(
                    path, "bayesbg-pypi", f"$CMDSTAN names a bayesbg PyPI build ({path})"
                )
            return CmdStanLocation(path, "CMDSTAN", f"$CMDSTAN is set to {path}")
        tried.append(f"$CMDSTAN={env} (no makefile or bin/stanc there)")
    default_root = Path.home() / ".cmdstan"
    candidates = sorted(
        (p for p in default_root.glob("cmdstan-*") if _valid(p)), key=_version, reverse=True
    )
    if candidates:
        return CmdStanLocation(
            candidates[0], "cmdstanpy-default", f"official CmdStan found in {default_root}"
        )
    tried.append(f"{default_root}/cmdstan-* (none)")
    try:
        built = pypi_installation()
    except RuntimeError as exc:
        tried.append(f"bayesbg's PyPI build ({exc})")
    else:
        if is_complete(built):
            return CmdStanLocation(
                built, "bayesbg-pypi", "built by `bayesbg setup` from the httpstan wheel"
            )
        tried.append(f"{built} (not built yet)")
    raise CmdStanNotFoundError(
        "No CmdStan installation found. Run `bayesbg setup` (or `make test` / `make demo`, "
        "which run it) to build one from PyPI packages in a few minutes; or set CMDSTAN to an "
        f"existing CmdStan directory. Looked in: {'; '.join(tried)}. "
        f"Build location: {cmdstan_root()} (override with BAYESBG_CMDSTAN)."
    )


def ensure_cmdstan() -> Path:
    """Find CmdStan and point cmdstanpy at it.

    Returns
    -------
    Path
        The CmdStan directory now used by cmdstanpy.

    Raises
    ------
    CmdStanNotFoundError
        With the command that installs one.
    """
    import cmdstanpy  # noqa: PLC0415

    location = find_cmdstan()
    cmdstanpy.set_cmdstan_path(str(location.path))
    log.debug("using CmdStan at %s (%s)", location.path, location.reason)
    return location.path
