"""Seeds: every random draw of bayesbg comes from an explicit, checked seed.

:func:`check_seed` validates a seed (for CmdStan and the simulators: an integer in
[0, 2**32 - 1]); :func:`random_generator` turns a seed or an existing
`numpy.random.Generator` into a generator; :func:`seed_argument` is the ``type=`` of
every ``--seed`` command-line option.
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

__all__ = ["MAX_SEED", "check_seed", "random_generator", "seed_argument"]

MAX_SEED = 2**32 - 1
"""Largest seed CmdStan accepts (an unsigned 32-bit integer)."""


def check_seed(seed: Any, name: str = "seed") -> int:
    """Return ``seed`` as an int after checking it is an integer in [0, 2**32 - 1].

    Parameters
    ----------
    seed : int
        The seed.
    name : str
        Its name in messages. Default ``"seed"``.

    Returns
    -------
    seed : int

    Raises
    ------
    ValueError
        Naming ``name``, what was expected and what was found (None included: bayesbg
        has no unseeded runs).
    """
    if seed is None:
        raise ValueError(f"{name}: an explicit integer seed is required, found None")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise ValueError(f"{name}: expected an integer in [0, {MAX_SEED}], found {seed!r}")
    if not 0 <= int(seed) <= MAX_SEED:
        raise ValueError(f"{name}: expected an integer in [0, {MAX_SEED}], found {seed}")
    return int(seed)


def random_generator(rng: Any, name: str = "rng") -> np.random.Generator:
    """A `numpy.random.Generator` from a checked seed, or ``rng`` itself if it is one.

    Raises
    ------
    ValueError
        If ``rng`` is neither a Generator nor a valid seed (see :func:`check_seed`).
    """
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(check_seed(rng, name))


def seed_argument(text: str) -> int:
    """``argparse`` type of ``--seed``: an integer in [0, 2**32 - 1]."""
    try:
        return check_seed(int(text))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an integer in [0, {MAX_SEED}], found {text!r}") from None
