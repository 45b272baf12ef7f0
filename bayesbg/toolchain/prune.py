"""Remove cache entries that nothing uses any more: old CmdStan builds and their models.

Every change of the driver sources, the httpstan wheel or the compiler builds a new
``cmdstan-2.35.0-<key>`` directory (about 1.8 GB: a private copy of the Stan library and
two precompiled headers) and leaves the old one behind; compiled models record the
installation they were built with and are useless once it is gone. :func:`prune_cache`
removes

- finished installations under the CmdStan root other than the ones to keep (by default
  the one the current sources build, see
  :func:`bayesbg.toolchain.install.pypi_installation`, and the one cmdstanpy uses now);
- partial builds (``.partial-<pid>``) whose process has ended;
- compiled models built against an installation that no longer exists, and models whose
  compilation never finished and is not running.

Nothing outside the bayesbg cache is touched (an official CmdStan in ``~/.cmdstan`` or
``$CMDSTAN`` is never removed).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bayesbg.atomic import process_alive
from bayesbg.toolchain.install import cache_dir, cmdstan_root, pypi_installation

__all__ = ["PruneReport", "prune_cache"]

log = logging.getLogger(__name__)

_COMPLETE = ".bayesbg-complete.json"


@dataclass
class PruneReport:
    """What :func:`prune_cache` removed (or would remove with ``dry_run``)."""

    removed: list[Path] = field(default_factory=list)  #: directories removed
    kept: list[Path] = field(default_factory=list)  #: installations kept
    freed_bytes: int = 0  #: disk space of the removed directories, bytes
    dry_run: bool = False  #: True when nothing was actually deleted

    def describe(self) -> str:
        """A few lines for the command line."""
        verb = "would remove" if self.dry_run else "removed"
        lines = [f"kept {path}" for path in self.kept]
        lines += [f"{verb} {path}" for path in self.removed]
        lines.append(f"{verb} {len(self.removed)} entries, {self.freed_bytes / 1e9:.2f} GB")
        return "\n".join(lines)


def prune_cache(
    *,
    root: str | Path | None = None,
    models: str | Path | None = None,
    keep: Iterable[str | Path] | None = None,
    dry_run: bool = False,
) -> PruneReport:
    """Remove unused CmdStan builds and compiled models from the bayesbg cache.

    Parameters
    ----------
    root : path, optional
        Directory of PyPI-built installations; default
        :func:`bayesbg.toolchain.install.cmdstan_root`.
    models : path, optional
        Model cache directory; default ``<cache>/models``.
    keep : iterable of path, optional
        Installations to keep. Default: the installation the current sources build and
        the one cmdstanpy currently points at (if any).
    dry_run : bool
        Report what would be removed without deleting anything.

    Returns
    -------
    report : `PruneReport`
    """
    root = Path(root).expanduser() if root is not None else cmdstan_root()
    models = Path(models).expanduser() if models is not None else cache_dir() / "models"
    keep_paths = {Path(p).expanduser().resolve() for p in (keep or _default_keep(root))}
    report = PruneReport(dry_run=dry_run)

    present: set[Path] = set()
    if root.is_dir():
        for entry in sorted(root.iterdir()):
            if not entry.is_dir():
                continue
            resolved = entry.resolve()
            if ".partial-" in entry.name:
                pid = entry.name.rsplit("-", 1)[-1]
                if not (pid.isdigit() and process_alive(int(pid))):
                    _remove(entry, report)
                continue
            if not entry.name.startswith("cmdstan-") or not (entry / _COMPLETE).is_file():
                continue
            if resolved in keep_paths:
                report.kept.append(entry)
                present.add(resolved)
            else:
                _remove(entry, report)
    for path in keep_paths:
        if path.is_dir():
            present.add(path)

    if models.is_dir():
        for entry in sorted(models.iterdir()):
            if not entry.is_dir():
                continue
            built_with = _model_installation(entry)
            if built_with is None:
                if not _locked(models / f"{entry.name}.lock"):
                    _remove(entry, report)  # unfinished and nobody compiling it
            elif built_with.is_relative_to(root.resolve()):
                if built_with not in present:  # its PyPI build is (being) removed
                    _remove(entry, report)
            elif not built_with.is_dir():  # an official CmdStan that is gone
                _remove(entry, report)
    return report


def _default_keep(root: Path) -> list[Path]:
    keep = [pypi_installation(root)]
    try:
        import cmdstanpy  # noqa: PLC0415

        current = cmdstanpy.cmdstan_path()
    except (ImportError, ValueError, RuntimeError):
        current = None
    if current:
        keep.append(Path(current))
    return keep


def _model_installation(entry: Path) -> Path | None:
    """The CmdStan directory a cached model was built with, None if unfinished."""
    try:
        material = json.loads((entry / "key.json").read_text())
    except (OSError, ValueError):
        return None
    cmdstan = str(material.get("cmdstan", ""))
    _, _, path = cmdstan.partition("@")
    return Path(path).resolve() if path else None


def _locked(lock_file: Path) -> bool:
    """True if another process holds ``lock_file`` (a compilation in progress)."""
    if not lock_file.exists():
        return False
    with open(lock_file, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
    return False


def _size(path: Path) -> int:
    total = 0
    for dirpath, _, filenames in os.walk(path):
        for name in filenames:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_size
            except OSError:
                pass
    return total


def _remove(path: Path, report: PruneReport) -> None:
    report.freed_bytes += _size(path)
    report.removed.append(path)
    if not report.dry_run:
        log.info("removing %s", path)
        shutil.rmtree(path, ignore_errors=True)
