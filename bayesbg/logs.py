"""Logging: progress, results and real problems on the console; everything else in a log.

At the default level a user sees what bayesbg prints (progress, results) and warnings
that matter (sampler problems, bad input); the chatter of the libraries bayesbg drives
(cmdstanpy's per-chain INFO lines and its relay of Stan's warm-up messages, dask's
scheduler and worker lines) goes only to the *session log*: a file that records every
record at DEBUG level while a command runs, and that every run directory written in
the meantime receives as ``bayesbg.log``.

- :func:`session_log` (around every command of the command line) keeps the session log;
  :func:`session_log_text` reads what it holds so far (None outside one);
- :func:`library_chatter_to_log` is the context the run layer wraps around cmdstanpy
  calls: cmdstanpy's own console handler is raised to ERROR and its records are copied
  into the session log;
- :class:`LibraryChatterFilter` keeps the libraries' records below ERROR off a console
  handler (the command line installs it on its console);
- :func:`quiet_library_loggers` does the same, for good, for a worker process.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from bayesbg.atomic import process_alive

__all__ = [
    "LIBRARY_LOGGERS",
    "LibraryChatterFilter",
    "SessionLogHandler",
    "library_chatter_to_log",
    "quiet_library_loggers",
    "session_log",
    "session_log_text",
]

LIBRARY_LOGGERS = ("cmdstanpy", "distributed", "bokeh", "tornado")
"""Loggers of libraries bayesbg drives, whose INFO lines are chatter."""

_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class SessionLogHandler(logging.FileHandler):
    """The session log: every record, DEBUG and up, in a temporary file of this process."""


def _session_handler() -> SessionLogHandler | None:
    for handler in logging.getLogger().handlers:
        if isinstance(handler, SessionLogHandler):
            return handler
    return None


class _LibraryDebugFilter(logging.Filter):
    """Keep DEBUG records of bayesbg and cmdstanpy; other libraries' from INFO up.

    matplotlib alone writes hundreds of kilobytes of font-search DEBUG lines per figure
    run, which would bury what a session log is read for.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.INFO or record.name.split(".")[0] in (
            "bayesbg", "cmdstanpy", "__main__")


@contextmanager
def session_log() -> Iterator[Path]:
    """Context manager: a session log for the block (one ``bayesbg`` command).

    Every record of bayesbg and cmdstanpy, DEBUG and up, and other libraries' records
    from INFO up go to a temporary file of this process while the block
    runs (the root logger's level is lowered to DEBUG for it; console handlers keep their
    own levels); run directories written meanwhile receive it as ``bayesbg.log``. The
    handler is removed, the root level restored and the file deleted afterwards.

    Yields
    ------
    path : `~pathlib.Path`
    """
    root_dir = Path(tempfile.gettempdir())
    for stale in root_dir.glob("bayesbg-log-p*-*"):  # of processes that were killed
        match = re.fullmatch(r"bayesbg-log-p(\d+)-[0-9a-f]{8}", stale.name)
        if match and not process_alive(int(match[1])):
            stale.unlink(missing_ok=True)
    path = root_dir / f"bayesbg-log-p{os.getpid()}-{secrets.token_hex(4)}"
    handler = SessionLogHandler(path, mode="w", encoding="utf-8", delay=False)
    handler.setLevel(logging.DEBUG)
    handler.addFilter(_LibraryDebugFilter())
    handler.setFormatter(logging.Formatter(_FORMAT))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield path
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        handler.close()
        path.unlink(missing_ok=True)


def session_log_text() -> str | None:
    """What the session log holds so far, or None without a session log."""
    handler = _session_handler()
    if handler is None:
        return None
    handler.flush()
    try:
        return Path(handler.baseFilename).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def _console_handlers(logger: logging.Logger) -> list[logging.Handler]:
    return [h for h in logger.handlers
            if isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler)]


@contextmanager
def library_chatter_to_log(names: Sequence[str] = ("cmdstanpy",)) -> Iterator[None]:
    """Within the block, the named libraries log to the session log, not the console.

    Their own console handlers are raised to ERROR (cmdstanpy installs one at INFO)
    unless bayesbg's console shows DEBUG; records still reach the session log. Levels
    and handlers are restored afterwards.
    """
    session = _session_handler()
    debugging = logging.getLogger("bayesbg").getEffectiveLevel() <= logging.DEBUG and any(
        h.level <= logging.DEBUG for h in _console_handlers(logging.getLogger()))
    saved: list[tuple[logging.Handler, int]] = []
    added: list[logging.Logger] = []
    for name in names:
        logger = logging.getLogger(name)
        if not debugging:
            for handler in _console_handlers(logger):
                saved.append((handler, handler.level))
                handler.setLevel(max(handler.level, logging.ERROR))
        if session is not None and not logger.propagate and session not in logger.handlers:
            logger.addHandler(session)
            added.append(logger)
    try:
        yield
    finally:
        for handler, level in saved:
            handler.setLevel(level)
        for logger in added:
            logger.removeHandler(session)


def quiet_library_loggers(names: Sequence[str] = LIBRARY_LOGGERS) -> None:
    """For a process that only computes (a Dask worker): the named libraries print errors only.

    Each named logger gets one console handler at ERROR and stops propagating, so that a
    library which adds its own INFO handler when it finds none (cmdstanpy does) finds
    this one; existing console handlers are raised to ERROR.
    """
    for name in names:
        logger = logging.getLogger(name)
        consoles = _console_handlers(logger)
        for handler in consoles:
            handler.setLevel(max(handler.level, logging.ERROR))
        if not consoles:
            handler = logging.StreamHandler()
            handler.setLevel(logging.ERROR)
            handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
            logger.addHandler(handler)
        logger.propagate = False


class LibraryChatterFilter(logging.Filter):
    """For console handlers: drop records of `LIBRARY_LOGGERS` below ERROR.

    The session log, which has no such filter, keeps them.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR:
            return True
        name = record.name
        return not any(name == lib or name.startswith(lib + ".") for lib in LIBRARY_LOGGERS)
