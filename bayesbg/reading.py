"""Reading files: one place that says which file could not be read, and why.

:func:`readable_file` checks a path before a reader opens it (missing, a directory);
:func:`reading` turns what a library raises while parsing (h5py, netCDF, astropy, numpy,
pandas: truncated files, wrong formats) into one `ValueError` that names the file and
what it was expected to be. Errors a bayesbg reader raises itself about the content
(naming a field) pass through unchanged.

Examples
--------
>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> try:
...     readable_file(folder, what="a COSI dataset file")
... except IsADirectoryError as err:
...     print(str(err).split(": ", 1)[1])
is a directory; expected a COSI dataset file
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["ContentError", "readable_file", "reading"]


class ContentError(ValueError):
    """A file was read but its content is not what a bayesbg reader accepts (field named)."""


def readable_file(path: str | Path, *, what: str) -> Path:
    """``path`` as a `~pathlib.Path`, after checking it is an existing regular file.

    Parameters
    ----------
    path : str or `~pathlib.Path`
        The file.
    what : str
        What it should be, for messages (``"a COSI dataset file"``).

    Returns
    -------
    path : `~pathlib.Path`

    Raises
    ------
    FileNotFoundError
        ``<path> does not exist; expected <what>``.
    IsADirectoryError
        ``<path>: is a directory; expected <what>``.
    """
    path = Path(path).expanduser()
    if path.is_dir():
        raise IsADirectoryError(f"{path}: is a directory; expected {what}")
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist; expected {what}")
    return path


@contextmanager
def reading(path: str | Path, *, what: str) -> Iterator[None]:
    """Context manager: a library's parse error becomes ``ValueError`` naming the file.

    `ContentError` (a bayesbg reader's own message about a field) and `FileNotFoundError`
    pass through; any other `OSError`, `ValueError`, `KeyError`, `TypeError`,
    `IndexError` or `EOFError` becomes ``<path>: cannot be read as <what> (<reason>)``.
    """
    try:
        yield
    except (ContentError, FileNotFoundError, IsADirectoryError):
        raise
    except (OSError, ValueError, KeyError, TypeError, IndexError, EOFError) as err:
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ValueError(f"{path}: cannot be read as {what} ({reason})") from err
