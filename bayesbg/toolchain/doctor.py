"""``bayesbg doctor``: which CmdStan is used and why, and whether the models compile."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bayesbg.toolchain.install import cache_dir, cmdstan_root
from bayesbg.toolchain.locate import CmdStanNotFoundError, find_cmdstan

__all__ = ["DoctorReport", "doctor_report"]


def _first_line(cmd: list[str], cwd: Path | None = None) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unavailable ({exc})"
    text = (out.stdout or out.stderr).strip().splitlines()
    return text[0] if text else "unavailable"


def _makefile_version(path: Path) -> str:
    match = re.search(r"^CMDSTAN_VERSION\s*:=\s*(\S+)", (path / "makefile").read_text(), re.M)
    return match.group(1) if match else "unknown"


@dataclass(frozen=True)
class DoctorReport:
    """What ``bayesbg doctor`` found about the toolchain.

    Attributes
    ----------
    lines : tuple of str
        ``key: value`` lines for people to read.
    cmdstan : `~pathlib.Path` or None
        The CmdStan directory in use, None if none was found.
    """

    lines: tuple[str, ...]
    cmdstan: Path | None

    @property
    def ok(self) -> bool:
        """Whether a CmdStan was found."""
        return self.cmdstan is not None

    def render(self) -> str:
        """The report as text."""
        return "\n".join(self.lines)


def doctor_report() -> DoctorReport:
    """Report on the Stan toolchain: which CmdStan is used and why, compiler, threads, cache.

    Whether bayesbg's Stan programs compile is checked a floor up
    (`bayesbg.stan.check_programs`), so that the toolchain knows nothing of the run layer.

    Returns
    -------
    report : `DoctorReport`
    """
    lines = ["bayesbg doctor"]
    try:
        location = find_cmdstan()
    except CmdStanNotFoundError as exc:
        lines += ["CmdStan: NOT FOUND", f"  {exc}"]
        location = None
    if location is not None:
        lines += [
            f"CmdStan: {location.path}",
            f"  chosen because: {location.reason}",
            "  order of preference: $CMDSTAN, ~/.cmdstan/cmdstan-*, bayesbg's PyPI build",
            f"  CmdStan version (makefile): {_makefile_version(location.path)}",
            f"  stanc: {_first_line([str(location.path / 'bin' / 'stanc'), '--version'])}",
        ]
    cxx = os.environ.get("CXX", "g++")
    lines.append(f"C++ compiler: {_first_line([cxx, '--version'])}")
    try:
        threads = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        threads = os.cpu_count() or 1
    lines.append(f"threads available: {threads}")
    lines += [
        f"cache: {cache_dir()} (BAYESBG_CACHE_DIR)",
        f"  PyPI-built CmdStan root: {cmdstan_root()} (BAYESBG_CMDSTAN)",
        f"  compiled models: {cache_dir() / 'models'}",
    ]
    return DoctorReport(tuple(lines), None if location is None else location.path)
