"""Where CmdStan's files of a run go while the process lives: one directory per run.

cmdstanpy writes the data JSON and the output CSVs under its own temporary directory,
made at import and removed at a normal exit; a killed process leaves it (several MB per
fit) in the system's temporary directory, with nothing to say whose it was. bayesbg
passes its own directories instead: ``<tmp>/bayesbg-cmdstan-p<pid>-<random>``, one per
run, removed when the process exits, and those of processes that no longer run are
removed the next time a run starts (never those of a live process).

cmdstanpy still writes the initial values and inverse metrics given as dictionaries
(a few KB to MB per run) into its own directory. Each workspace therefore records that
directory's path (`LIBRARY_TMPDIR_RECORD`); when the workspace of a killed process is
removed, the directory it names goes too, if it is a ``tmp*`` directory of the same
temporary root.
"""

from __future__ import annotations

import atexit
import logging
import os
import re
import secrets
import shutil
import tempfile
from pathlib import Path

from bayesbg.atomic import process_alive

__all__ = ["LIBRARY_TMPDIR_RECORD", "WORKSPACE_PREFIX", "new_workspace",
           "remove_stale_workspaces"]

log = logging.getLogger(__name__)

WORKSPACE_PREFIX = "bayesbg-cmdstan-"
_NAME = re.compile(rf"^{re.escape(WORKSPACE_PREFIX)}p(?P<pid>\d+)-[0-9a-f]{{8}}$")
_OWN: list[Path] = []

LIBRARY_TMPDIR_RECORD = "cmdstanpy-tmpdir.txt"
"""File in each workspace naming cmdstanpy's temporary directory of the process."""


def _library_tmpdir() -> Path | None:
    import cmdstanpy

    path = getattr(cmdstanpy, "_TMPDIR", None)  # made by cmdstanpy at import
    return Path(path) if path else None


def _remove_recorded_tmpdir(workspace: Path, root: Path) -> Path | None:
    """Remove the cmdstanpy directory a dead process's workspace names, if it is safe:
    a ``tmp*`` directory directly in ``root`` and not this process's own."""
    try:
        recorded = Path((workspace / LIBRARY_TMPDIR_RECORD).read_text().strip())
    except (OSError, ValueError):
        return None
    if (recorded.parent.resolve() != root.resolve() or not recorded.name.startswith("tmp")
            or not recorded.is_dir() or recorded == _library_tmpdir()):
        return None
    shutil.rmtree(recorded, ignore_errors=True)
    return None if recorded.exists() else recorded


def remove_stale_workspaces(root: str | Path | None = None) -> list[Path]:
    """Remove run directories left by processes that no longer run.

    Parameters
    ----------
    root : str or `~pathlib.Path`, optional
        Where to look; default the system's temporary directory.

    Returns
    -------
    removed : list of `~pathlib.Path`
        The workspaces removed and, before each, the cmdstanpy directory it named when
        that was removed too.
    """
    root = Path(root) if root is not None else Path(tempfile.gettempdir())
    removed = []
    try:
        entries = list(root.iterdir())
    except OSError:
        return removed
    for entry in entries:
        match = _NAME.match(entry.name)
        if match is None or int(match["pid"]) == os.getpid() or process_alive(int(match["pid"])):
            continue
        library = _remove_recorded_tmpdir(entry, root)
        if library is not None:
            log.info("removed %s, cmdstanpy's directory of a killed process", library)
            removed.append(library)
        shutil.rmtree(entry, ignore_errors=True)
        if not entry.exists():
            log.info("removed %s, left by a killed process", entry)
            removed.append(entry)
    return removed


def _remove_own() -> None:
    for path in _OWN:
        shutil.rmtree(path, ignore_errors=True)


atexit.register(_remove_own)


def new_workspace() -> Path:
    """A new, empty directory for one CmdStan run (removed at exit).

    Returns
    -------
    path : `~pathlib.Path`
    """
    root = Path(tempfile.gettempdir())
    remove_stale_workspaces(root)
    path = root / f"{WORKSPACE_PREFIX}p{os.getpid()}-{secrets.token_hex(4)}"
    path.mkdir(mode=0o700)
    _OWN.append(path)
    library = _library_tmpdir()
    if library is not None:
        (path / LIBRARY_TMPDIR_RECORD).write_text(f"{library}\n")
    return path
