"""Limits of Stan's data types that bayesbg's containers check before a fit starts."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["STAN_INT_MAX", "check_stan_int"]

STAN_INT_MAX = 2**31 - 1
"""Largest value of a Stan ``int`` (32-bit signed); counts above it cannot reach a program."""


def check_stan_int(name: str, values: ArrayLike) -> None:
    """Raise if any value exceeds `STAN_INT_MAX` (e.g. counts summed over a long observation).

    Raises
    ------
    ValueError
        Naming ``name``, the limit and the largest value found.
    """
    array = np.asarray(values)
    if array.size and array.max() > STAN_INT_MAX:
        raise ValueError(f"{name}: expected values <= {STAN_INT_MAX} (a Stan int), found "
                         f"{int(array.max())}; bin more finely")
