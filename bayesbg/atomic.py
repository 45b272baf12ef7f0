"""Atomic writes: a file or directory appears complete or not at all.

Every output of bayesbg (datasets, tables, figures, run directories, scan points) is
written under a hidden temporary name beside its target,
``.<name>.partial-p<pid>-<random>``, and renamed into place when complete
(`os.replace`, atomic on one file system). On an error the temporary is removed; a
process killed while writing leaves it behind, and :func:`remove_stale_partials` (called
before each new write into the same directory) removes those whose process has ended.

Examples
--------
>>> import tempfile, pathlib
>>> target = pathlib.Path(tempfile.mkdtemp()) / "table.txt"
>>> with atomic_file(target) as partial:
...     _ = partial.write_text("complete\\n")
>>> target.read_text()
'complete\\n'
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = [
    "atomic_file",
    "process_alive",
    "check_writable_target",
    "partial_path",
    "remove_stale_partials",
    "staging_directory",
    "write_bytes_atomic",
    "write_text_atomic",
]

log = logging.getLogger(__name__)

_PARTIAL = re.compile(r"^\..+\.partial-p(?P<pid>\d+)-[0-9a-f]{8}(\.[A-Za-z0-9]+)?$")


def partial_path(target: str | Path, *, keep_suffix: bool = False) -> Path:
    """The hidden temporary name beside ``target`` for this process.

    Parameters
    ----------
    target : str or `~pathlib.Path`
        The final path.
    keep_suffix : bool
        Repeat the target's suffix at the end (``.x.partial-p1-ab12cd34.png``), for
        writers that choose the format by suffix (matplotlib). Default is False.

    Returns
    -------
    path : `~pathlib.Path`
    """
    target = Path(target)
    name = f".{target.name}.partial-p{os.getpid()}-{secrets.token_hex(4)}"
    return target.with_name(name + (target.suffix if keep_suffix else ""))


def process_alive(pid: int) -> bool:
    """Whether a process with this id runs (this one included)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def remove_stale_partials(directory: str | Path) -> list[Path]:
    """Remove temporaries of killed writers in ``directory`` (not those of live processes).

    Parameters
    ----------
    directory : str or `~pathlib.Path`
        Where to look (not recursively). A missing directory is fine.

    Returns
    -------
    removed : list of `~pathlib.Path`
    """
    directory = Path(directory)
    removed: list[Path] = []
    try:
        entries = list(directory.iterdir())
    except OSError:
        return removed
    for entry in entries:
        match = _PARTIAL.match(entry.name)
        if match is None or process_alive(int(match["pid"])):
            continue
        try:
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        except OSError as err:  # another cleaner got there first, or no permission
            log.debug("could not remove %s: %s", entry, err)
            continue
        log.info("removed %s, left by a writer that was killed", entry)
        removed.append(entry)
    return removed


def check_writable_target(path: str | Path, *, overwrite: bool, what: str = "file") -> Path:
    """Absolute ``path`` after checking that a write there may proceed.

    Parameters
    ----------
    path : str or `~pathlib.Path`
        The target.
    overwrite : bool
        Whether an existing file may be replaced.
    what : str
        What is written, for messages. Default ``"file"``.

    Returns
    -------
    target : `~pathlib.Path`

    Raises
    ------
    IsADirectoryError
        If ``path`` is a directory.
    FileExistsError
        If ``path`` exists and ``overwrite`` is False.
    """
    target = Path(path).expanduser().absolute()
    if target.is_dir():
        raise IsADirectoryError(f"{target}: is a directory; expected the path of a {what}")
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} exists; choose another path or pass overwrite=True "
                              "(--overwrite on the command line)")
    return target


def _prepare_parent(target: Path) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OSError(err.errno, f"cannot create {target.parent} for {target.name}: "
                      f"{err.strerror}") from None
    if not os.access(target.parent, os.W_OK | os.X_OK):
        raise PermissionError(f"cannot write {target}: {target.parent} is not writable")
    remove_stale_partials(target.parent)


@contextmanager
def atomic_file(path: str | Path, *, overwrite: bool = True,
                keep_suffix: bool = False) -> Iterator[Path]:
    """Context manager: write to the yielded temporary path; it becomes ``path`` on success.

    Parameters
    ----------
    path : str or `~pathlib.Path`
        The final file.
    overwrite : bool
        Replace an existing file. Default is True (callers that must not overwrite
        without the user's ``--overwrite`` pass their flag).
    keep_suffix : bool
        See :func:`partial_path`.

    Yields
    ------
    partial : `~pathlib.Path`
        Where to write. Renamed onto ``path`` when the block ends without an error;
        removed otherwise.
    """
    target = check_writable_target(path, overwrite=overwrite)
    _prepare_parent(target)
    partial = partial_path(target, keep_suffix=keep_suffix)
    try:
        yield partial
        os.replace(partial, target)
    except BaseException:
        if partial.is_dir():
            shutil.rmtree(partial, ignore_errors=True)
        else:
            partial.unlink(missing_ok=True)
        raise


def write_text_atomic(path: str | Path, text: str, *, overwrite: bool = True) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically (see :func:`atomic_file`).

    Returns
    -------
    path : `~pathlib.Path`
        The absolute path written.
    """
    with atomic_file(path, overwrite=overwrite) as partial:
        partial.write_text(text, encoding="utf-8")
    return Path(path).expanduser().absolute()


def write_bytes_atomic(path: str | Path, content: bytes, *, overwrite: bool = True) -> Path:
    """Write ``content`` to ``path`` atomically (see :func:`atomic_file`).

    Returns
    -------
    path : `~pathlib.Path`
        The absolute path written.
    """
    with atomic_file(path, overwrite=overwrite) as partial:
        partial.write_bytes(content)
    return Path(path).expanduser().absolute()


@contextmanager
def staging_directory(target: str | Path) -> Iterator[Path]:
    """Context manager: a new empty hidden directory beside ``target``, removed on error.

    The caller fills it and moves it into place (e.g. `os.rename`) inside the block;
    whatever is left at the staging path when the block ends with an error is removed.

    Yields
    ------
    staging : `~pathlib.Path`
    """
    target = Path(target).expanduser().absolute()
    _prepare_parent(target)
    staging = partial_path(target)
    try:
        staging.mkdir()
    except OSError as err:
        raise OSError(err.errno, f"cannot write {target}: {err.strerror}") from None
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
