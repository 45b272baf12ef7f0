"""Where bayesbg's Stan programs are: the package's own, or a directory the user names.

The programs live at the repository's top level, ``stan_models/`` (with their
``#include``\\ d functions and C++ headers in ``stan_models/functions/``), and are shipped
inside the wheel as ``bayesbg/stan_models`` (``setup.py`` copies them at build time).
:func:`stan_models_dir` finds them, in this order:

1. ``$BAYESBG_STAN_MODELS``, if set (an error if it is not a directory): for developing
   a program without reinstalling, or for a site's modified copies;
2. ``bayesbg/stan_models`` beside the installed package (a wheel or sdist install);
3. ``stan_models/`` of the source checkout the package runs from (editable install).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["PROGRAMS", "program_names", "stan_model_file", "stan_models_dir"]

PROGRAMS = (
    "cosi_point_source_spectrum",
    "cosi_template_fit",
    "isgri_flux_mixture",
    "spectral_fit",
    "template_fit",
)
"""The Stan programs bayesbg's fits run (file names without ``.stan``)."""

_PACKAGE = Path(__file__).resolve().parents[1]


def stan_models_dir() -> Path:
    """Directory of bayesbg's Stan programs (see the module docstring for the order).

    Returns
    -------
    path : `~pathlib.Path`

    Raises
    ------
    NotADirectoryError
        If ``$BAYESBG_STAN_MODELS`` is set to something that is not a directory.
    """
    env = os.environ.get("BAYESBG_STAN_MODELS")
    if env:
        path = Path(env).expanduser()
        if not path.is_dir():
            raise NotADirectoryError(f"BAYESBG_STAN_MODELS={env}: not a directory of Stan "
                                     "programs")
        return path
    installed = _PACKAGE / "stan_models"
    if installed.is_dir():
        return installed
    return _PACKAGE.parent / "stan_models"


def stan_model_file(name: str) -> Path:
    """Path of one of bayesbg's Stan programs (in :func:`stan_models_dir`).

    Parameters
    ----------
    name : str
        Program name without ``.stan``, e.g. ``"template_fit"``.

    Returns
    -------
    path : `~pathlib.Path`

    Raises
    ------
    FileNotFoundError
        If the program does not exist (the message names the path).
    """
    path = stan_models_dir() / f"{name}.stan"
    if not path.is_file():
        raise FileNotFoundError(
            f"Stan program {name!r} not found: {path} does not exist (programs are looked "
            "up in $BAYESBG_STAN_MODELS, the installed package's bayesbg/stan_models, or "
            "the source checkout's stan_models/)")
    return path


def program_names(directory: Path | None = None) -> list[str]:
    """`PROGRAMS` plus any other ``*.stan`` file in ``directory``, sorted.

    Parameters
    ----------
    directory : `~pathlib.Path`, optional
        Default :func:`stan_models_dir`.

    Returns
    -------
    names : list of str
    """
    directory = stan_models_dir() if directory is None else Path(directory)
    return sorted(set(PROGRAMS) | {p.stem for p in directory.glob("*.stan")})
