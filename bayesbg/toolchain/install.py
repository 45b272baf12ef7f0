"""Build a CmdStan-compatible installation from the httpstan wheel.

`cmdstanpy.install_cmdstan` downloads CmdStan from GitHub, which machines that only
see a package mirror cannot reach.  The ``httpstan`` wheel on PyPI already carries
stanc3 and the complete Stan C++ library; only CmdStan's command-line driver is
missing.  bayesbg ships its own driver (``cmdstan_files/src/driver.cpp``) and a
makefile with CmdStan's interface, and this module lays them out as a directory
that cmdstanpy accepts as ``CMDSTAN``.

The installation lives under ``<root>/cmdstan-2.35.0-<key>`` where ``root`` is
``$BAYESBG_CMDSTAN`` or ``--dir`` (default ``~/.cache/bayesbg/cmdstan``) and
``key`` hashes the driver sources, the httpstan version and the compiler, so a
new driver or wheel builds a new directory.  The build happens in a temporary
sibling that is renamed into place only when complete.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

log = logging.getLogger(__name__)

__all__ = [
    "CMDSTAN_VERSION",
    "FLAG_SETS",
    "SetupResult",
    "cache_dir",
    "cmdstan_root",
    "httpstan_dir",
    "installation_key",
    "pypi_installation",
    "setup_cmdstan",
]

CMDSTAN_VERSION = "2.35.0"
HTTPSTAN_VERSION = "4.13.0"
#: Flag sets whose driver object and precompiled header `setup` builds up front:
#: cmdstanpy's default and ``STAN_THREADS`` (multi-chain in one process, reduce_sum).
FLAG_SETS: dict[str, list[str]] = {"default": [], "threads": ["STAN_THREADS=true"]}
_COMPLETE = ".bayesbg-complete.json"


def cache_dir() -> Path:
    """Root of bayesbg's caches: ``$BAYESBG_CACHE_DIR`` or ``~/.cache/bayesbg``."""
    env = os.environ.get("BAYESBG_CACHE_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "bayesbg"


def cmdstan_root() -> Path:
    """Directory holding PyPI-built installations: ``$BAYESBG_CMDSTAN`` or ``<cache>/cmdstan``."""
    env = os.environ.get("BAYESBG_CMDSTAN")
    return Path(env).expanduser() if env else cache_dir() / "cmdstan"


def httpstan_dir() -> Path:
    """Installed ``httpstan`` package directory (stanc, Stan headers, libtbb).

    Raises
    ------
    RuntimeError
        If httpstan is not installed or is not the expected version.
    """
    try:
        import httpstan  # noqa: PLC0415
    except ImportError as exc:  # pragma: no cover - a dependency of bayesbg
        raise RuntimeError(
            f"httpstan=={HTTPSTAN_VERSION} is not installed; it carries the Stan library: "
            f"pip install httpstan=={HTTPSTAN_VERSION}"
        ) from exc
    path = Path(httpstan.__file__).parent
    if not (path / "stanc").exists() or not (path / "include" / "stan").is_dir():
        raise RuntimeError(f"httpstan at {path} lacks stanc or include/stan; reinstall it")
    return path


def _source_files() -> dict[str, bytes]:
    """The driver sources and makefile shipped as package data."""
    base = resources.files("bayesbg.toolchain") / "cmdstan_files"
    files = {"makefile": (base / "makefile").read_bytes()}
    for entry in (base / "src").iterdir():
        if entry.name.endswith((".cpp", ".hpp")):
            files[f"src/{entry.name}"] = entry.read_bytes()
    return files


def _compiler_id() -> str:
    cxx = os.environ.get("CXX", "g++")
    try:
        out = subprocess.run([cxx, "--version"], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        raise RuntimeError(
            f"C++ compiler {cxx!r} not found: install g++ (Debian: apt-get install g++)"
        ) from exc
    return out.stdout.splitlines()[0]


def installation_key() -> str:
    """Hash of everything the installation is built from (sources, httpstan, compiler)."""
    digest = hashlib.sha256()
    for name, content in sorted(_source_files().items()):
        digest.update(name.encode() + b"\0" + content)
    httpstan_dir()  # fail early and clearly when the wheel is missing
    digest.update(f"httpstan={HTTPSTAN_VERSION}|{_compiler_id()}".encode())
    return digest.hexdigest()[:12]


def pypi_installation(root: Path | None = None) -> Path:
    """Path of the (possibly not yet built) installation for the current key."""
    return (root or cmdstan_root()) / f"cmdstan-{CMDSTAN_VERSION}-{installation_key()}"


def is_complete(path: Path) -> bool:
    """True if ``path`` is a finished bayesbg-built installation."""
    return (path / _COMPLETE).is_file() and (path / "makefile").is_file()


@dataclass(frozen=True)
class SetupResult:
    """Outcome of :func:`setup_cmdstan`."""

    path: Path  #: the CmdStan directory
    built: bool  #: False when an existing installation was reused
    seconds: float  #: wall time of the call, s
    source: str  #: "pypi" or "official"


@contextmanager
def _lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run_make(directory: Path, args: list[str], echo: bool) -> None:
    cmd = ["make", *args]
    log.info("running %s in %s", " ".join(cmd), directory)
    proc = subprocess.Popen(
        cmd, cwd=directory, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines: list[str] = []
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)
        if echo and (line.startswith("---") or line.startswith("bayesbg:")):
            print(line.rstrip(), flush=True)
    if proc.wait() != 0:
        tail = "".join(lines[-40:])
        raise RuntimeError(f"`{' '.join(cmd)}` failed in {directory}:\n{tail}")


def _lay_out(target: Path, httpstan: Path, key: str) -> None:
    (target / "bin").mkdir(parents=True)
    (target / "src").mkdir()
    variables = "\n".join(
        [
            "STAN_INCLUDE := stan/include",
            "STAN_LIB := stan/lib",
            f"HTTPSTAN_VERSION := {HTTPSTAN_VERSION}",
            f"BAYESBG_INSTALLATION_KEY := {key}",
        ]
    )
    for name, content in _source_files().items():
        if name == "makefile":
            content = content.replace(b"@SETUP_VARIABLES@", variables.encode())
        (target / name).write_bytes(content)
    # A private copy of the Stan library keeps the installation valid when the
    # virtual environment it came from is removed or moved (CI clones anew).
    shutil.copytree(httpstan / "include", target / "stan" / "include", symlinks=True)
    shutil.copytree(httpstan / "lib", target / "stan" / "lib", symlinks=True)
    shutil.copy2(httpstan / "stanc", target / "bin" / "stanc")
    os.chmod(target / "bin" / "stanc", 0o755)


def setup_cmdstan(
    directory: Path | None = None,
    *,
    official: bool = False,
    force: bool = False,
    flag_sets: list[str] | None = None,
    echo: bool = True,
) -> SetupResult:
    """Build (or find) bayesbg's CmdStan-compatible installation.

    Parameters
    ----------
    directory : Path, optional
        Root under which the versioned installation directory is created.
        Default is ``$BAYESBG_CMDSTAN`` or ``~/.cache/bayesbg/cmdstan``.
    official : bool
        Install the official CmdStan release with ``cmdstanpy.install_cmdstan``
        instead (needs access to GitHub); fails fast without it.
    force : bool
        Rebuild even if a complete installation exists.
    flag_sets : list of str, optional
        Which precompiled flag sets to build (keys of `FLAG_SETS`); default all.
    echo : bool
        Print progress lines.

    Returns
    -------
    SetupResult
        Where the installation is and whether anything was built.
    """
    start = time.perf_counter()
    if official:
        path = _install_official()
        return SetupResult(path, True, time.perf_counter() - start, "official")
    root = Path(directory).expanduser() if directory else cmdstan_root()
    target = pypi_installation(root)
    sets = flag_sets or list(FLAG_SETS)
    unknown = sorted(set(sets) - set(FLAG_SETS))
    if unknown:
        raise ValueError(f"flag_sets: unknown {unknown}, expected some of {sorted(FLAG_SETS)}")
    with _lock(root / ".setup.lock"):
        if is_complete(target) and not force:
            if echo:
                print(f"bayesbg CmdStan {CMDSTAN_VERSION} already set up at {target}; "
                      "nothing to do")
            return SetupResult(target, False, time.perf_counter() - start, "pypi")
        httpstan = httpstan_dir()
        free = shutil.disk_usage(root).free
        if free < 600e6:
            raise RuntimeError(
                f"only {free / 1e6:.0f} MB free under {root}; bayesbg setup needs about 600 MB "
                "(2.5 GB with precompiled headers)"
            )
        # Under the lock no other setup is building: leftovers are from killed runs.
        for stale in root.glob(".cmdstan-*.partial-*"):
            shutil.rmtree(stale, ignore_errors=True)
        partial = root / f".{target.name}.partial-{os.getpid()}"
        if echo:
            print(f"bayesbg setup: building CmdStan {CMDSTAN_VERSION} from httpstan "
                  f"{HTTPSTAN_VERSION} in {target} (a few minutes, once)", flush=True)
        try:
            _lay_out(partial, httpstan, target.name.rsplit("-", 1)[-1])
            _run_make(partial, ["build"], echo)
            for name in sets:
                if FLAG_SETS[name]:
                    _run_make(partial, ["build", *FLAG_SETS[name]], echo)
            record = {
                "cmdstan_version": CMDSTAN_VERSION,
                "httpstan_version": HTTPSTAN_VERSION,
                "httpstan_dir": str(httpstan),
                "compiler": _compiler_id(),
                "flag_sets": sets,
                "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "python": sys.executable,
            }
            (partial / _COMPLETE).write_text(json.dumps(record, indent=2))
            if target.exists():
                old = root / f".{target.name}.old-{os.getpid()}"
                target.rename(old)
                shutil.rmtree(old, ignore_errors=True)
            partial.rename(target)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
    seconds = time.perf_counter() - start
    if echo:
        print(f"bayesbg CmdStan ready at {target} ({seconds:.0f} s)")
    return SetupResult(target, True, seconds, "pypi")


def _install_official() -> Path:
    """Install real CmdStan through cmdstanpy, failing fast without internet."""
    import socket  # noqa: PLC0415

    import cmdstanpy  # noqa: PLC0415

    try:
        socket.create_connection(("github.com", 443), timeout=5).close()
    except OSError as exc:
        raise RuntimeError(
            "bayesbg setup --official needs access to github.com to download CmdStan, "
            f"which failed ({exc}); run `bayesbg setup` without --official to build "
            "CmdStan from PyPI packages instead"
        ) from exc
    if not cmdstanpy.install_cmdstan(version=CMDSTAN_VERSION, progress=True):
        raise RuntimeError("cmdstanpy.install_cmdstan failed; see the messages above")
    return Path(cmdstanpy.cmdstan_path())
