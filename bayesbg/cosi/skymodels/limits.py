"""Posterior intervals, upper limits and their prior dependence ([COSI-511] 4.2.2).

A flux not detected is reported as a posterior quantile (:func:`upper_limit`, e.g. the
one-sided 2 sigma quantile 0.97725). How much of it is prior: the same quantile of the
flux prior alone, a normal truncated at 0 (:func:`truncated_normal_quantile`), as
[COSI-511] compares its limits with "the 99.85 % percentile of the chosen prior". A
limit well below the prior's quantile is set by the likelihood.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

__all__ = [
    "ONE_SIDED_2_SIGMA",
    "ONE_SIDED_3_SIGMA",
    "FluxInterval",
    "flux_interval",
    "truncated_normal_quantile",
    "upper_limit",
]

ONE_SIDED_2_SIGMA = float(stats.norm.cdf(2.0))
"""0.97725: the one-sided 2 sigma quantile."""
ONE_SIDED_3_SIGMA = float(stats.norm.cdf(3.0))
"""0.99865: the one-sided 3 sigma quantile."""


@dataclass(frozen=True)
class FluxInterval:
    """Posterior summary of a flux, ph cm-2 s-1.

    Attributes
    ----------
    median, mean, sd : float
    lower, upper : float
        Central 68.3 % interval (the 15.87 and 84.13 % quantiles).
    """

    median: float
    mean: float
    sd: float
    lower: float
    upper: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return asdict(self)


def flux_interval(draws: ArrayLike) -> FluxInterval:
    """Median, mean, sd and central 68.3 % interval of posterior draws.

    Examples
    --------
    >>> result = flux_interval(np.random.default_rng(1).normal(1.0, 0.1, 100_000))
    >>> round(result.median, 2), round(result.lower, 2), round(result.upper, 2)
    (1.0, 0.9, 1.1)
    """
    values = np.asarray(draws, dtype=np.float64).ravel()
    if values.size < 2 or not np.all(np.isfinite(values)):
        raise ValueError("draws: expected at least two finite posterior draws")
    low, median, high = np.quantile(values, [stats.norm.cdf(-1.0), 0.5, stats.norm.cdf(1.0)])
    return FluxInterval(median=float(median), mean=float(values.mean()),
                        sd=float(values.std(ddof=1)), lower=float(low), upper=float(high))


def upper_limit(draws: ArrayLike, quantile: float = ONE_SIDED_2_SIGMA) -> float:
    """The ``quantile`` of posterior draws (a one-sided upper limit), their unit.

    Examples
    --------
    >>> round(upper_limit(np.random.default_rng(1).normal(0.0, 1.0, 200_000)), 2)
    2.0
    """
    values = np.asarray(draws, dtype=np.float64).ravel()
    if not 0.5 < quantile < 1.0:
        raise ValueError(f"quantile: expected a one-sided upper quantile in (0.5, 1), "
                         f"found {quantile!r}")
    if values.size < 2 or not np.all(np.isfinite(values)):
        raise ValueError("draws: expected at least two finite posterior draws")
    return float(np.quantile(values, quantile))


def truncated_normal_quantile(mean: float, sd: float, quantile: float) -> float:
    """Quantile of a normal ``N(mean, sd)`` truncated at 0 (the fit's flux prior).

    Examples
    --------
    >>> round(truncated_normal_quantile(0.0, 1.0, 0.5), 4)
    0.6745
    """
    if not sd > 0 or not 0 < quantile < 1:
        raise ValueError(f"sd, quantile: expected sd > 0 and 0 < quantile < 1, found "
                         f"{sd!r}, {quantile!r}")
    lower = (0.0 - mean) / sd
    return float(stats.truncnorm.ppf(quantile, lower, np.inf, loc=mean, scale=sd))
