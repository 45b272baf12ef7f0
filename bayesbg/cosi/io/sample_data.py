"""Where the real public COSI sample files are (``$BAYESBG_COSI_DATA``).

A few real files of the COSI team (the 2016 balloon flight's orientation, a simulated
point source along it, the measured background response, the energy redistribution
matrices, cosipy's test files) are used by tests, benchmarks, ``data_prep/cosi`` and the
analyses. They are not part of bayesbg: their licences are their owners'. Point
``$BAYESBG_COSI_DATA`` at a directory holding ``classic-2016/`` and ``cosipy-test/``;
without it, :func:`sample_data_dir` looks for a folder ``shared/data/cosi`` in the
directories above the installed package (the layout of the project's own machines).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["sample_data_dir"]

_SEARCHED = Path("shared") / "data" / "cosi"


def sample_data_dir() -> Path:
    """Directory of the real COSI sample files.

    Returns
    -------
    path : `~pathlib.Path`
        ``$BAYESBG_COSI_DATA`` if set; else the first ``shared/data/cosi`` found in a
        directory above this package; else ``shared/data/cosi`` in the current
        directory. The directory may not exist; callers check for the files they need.
    """
    env = os.environ.get("BAYESBG_COSI_DATA")
    if env:
        return Path(env).expanduser()
    for ancestor in Path(__file__).resolve().parents:
        if (ancestor / _SEARCHED).is_dir():
            return ancestor / _SEARCHED
    return Path.cwd() / _SEARCHED
