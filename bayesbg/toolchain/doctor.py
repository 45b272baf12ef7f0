"""``bayesbg doctor``: which CmdStan is used and why, and whether the models compile."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from bayesbg.toolchain.install import cache_dir, cmdstan_root
from bayesbg.toolchain.locate import CmdStanNotFoundError, find_cmdstan

__all__ = ["doctor_report", "default_models_dir"]


def default_models_dir() -> Path | None:
    """``stan_models/`` of a source checkout, if bayesbg runs from one."""
    candidate = Path(__file__).resolve().parents[2] / "stan_models"
    return candidate if candidate.is_dir() else None


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


def doctor_report(stan_models_dir: Path | None = None, *, compile_models: bool = True) -> str:
    """Text report on the Stan toolchain.

    Parameters
    ----------
    stan_models_dir : Path, optional
        Directory of Stan programs to try compiling; default the checkout's ``stan_models``.
    compile_models : bool
        Compile (or find in the cache) each program and report the outcome.

    Returns
    -------
    str
        Lines of ``key: value`` for people to read.
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
    models_dir = stan_models_dir or default_models_dir()
    if models_dir is None:
        lines.append("Stan models: no stan_models/ directory found")
    elif location is None or not compile_models:
        lines.append(f"Stan models in {models_dir}: not checked")
    else:
        from bayesbg.stan import compile_model  # noqa: PLC0415

        lines.append(f"Stan models in {models_dir}:")
        for stan_file in sorted(models_dir.glob("*.stan")):
            try:
                compile_model(stan_file)
                status = "compiles"
            except Exception as exc:  # noqa: BLE001 - report any failure
                message = str(exc).strip().splitlines()
                status = f"FAILS: {message[-1] if message else type(exc).__name__}"
            lines.append(f"  {stan_file.name}: {status}")
    return "\n".join(lines)
