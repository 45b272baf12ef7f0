"""Where the real public COSI sample files are: ``$BAYESBG_COSI_DATA`` or ``../shared/data/cosi``.

The project keeps a few real files of the COSI team (the 2016 balloon flight's orientation,
a simulated point source along it, the measured background response, cosipy's test files)
outside the repository, in ``shared/data/cosi`` beside the checkout; tests, benchmarks and
examples find them through :func:`sample_data_dir`.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["sample_data_dir"]


def sample_data_dir() -> Path:
    """Directory of the real COSI sample files.

    Returns
    -------
    path : `~pathlib.Path`
        ``$BAYESBG_COSI_DATA`` if set, else ``shared/data/cosi`` beside the repository that
        holds this package (``<repo>/../shared/data/cosi``). The directory may not exist;
        callers check for the files they need.
    """
    env = os.environ.get("BAYESBG_COSI_DATA")
    if env:
        return Path(env).expanduser()
    return Path(__file__).resolve().parents[3].parent / "shared" / "data" / "cosi"
