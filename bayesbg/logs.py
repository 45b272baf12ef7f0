"""Logging: progress, results and real problems on the console; everything else in a log.

At the default level a user sees what bayesbg prints (progress, results) and warnings
that matter (sampler problems, bad input); the chatter of the libraries bayesbg drives
(cmdstanpy's per-chain INFO lines and its relay of Stan's warm-up messages, dask's
scheduler and worker lines) goes only to the *session log*: a file that records every
record at DEBUG level while a command runs, and that every run directory written in
the meantime receives as ``bayesbg.log``.

- :func:`start_session_log` (called by the command line) opens the session log;
  :func:`session_log_text` reads what it holds so far (None when there is none);
- :func:`library_chatter_to_log` is the context the run layer wraps around cmdstanpy
  calls: cmdstanpy's own console handler is raised to ERROR and its records are copied
  into the session log;
- :class:`LibraryChatterFilter` keeps the libraries' records below ERROR off a console
  handler (the command line installs it on its console);
- :func:`quiet_library_loggers` does the same, for good, for a worker process.
"""

from __future__ import annotations

import atexit
import logging
import os
import secrets
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

__all__ = [
    "LIBRARY_LOGGERS",
    "LibraryChatterFilter",
    "SessionLogHandler",
    "library_chatter_to_log",
    "quiet_library_loggers",
    "session_log_text",
    "start_session_log",
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


def start_session_log() -> Path:
    """Open the session log and return its path; a second call starts it afresh.

    The root logger's level becomes DEBUG so that the file receives everything; console
    handlers keep their own levels. The file is removed when the process exits. Each
    ``bayesbg`` command is one session: calling ``bayesbg.cli.main`` again in the same
    process empties the log first.

    Returns
    -------
    path : `~pathlib.Path`
    """
    existing = _session_handler()
    if existing is not None:
        existing.acquire()
        try:
            if existing.stream is not None:
                existing.stream.seek(0)
                existing.stream.truncate()
        finally:
            existing.release()
        return Path(existing.baseFilename)
    path = Path(tempfile.gettempdir()) / f"bayesbg-log-p{os.getpid()}-{secrets.token_hex(4)}"
    handler = SessionLogHandler(path, mode="w", encoding="utf-8", delay=False)
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter(_FORMAT))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    atexit.register(lambda: path.unlink(missing_ok=True))
    return path


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
