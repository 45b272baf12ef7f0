"""Posterior predictive checks of COSI fits per time bin ([COSI-511] eq. 12, DOMAIN.md 1).

The fit's generated quantities hold, per posterior draw, replicated counts per time bin
``counts_time_rep[t] ~ Poisson(sum_c m[t, c])``. Against the observed counts per time bin
this gives z-scores ``(d[t] - mean(d_rep[t])) / sd(d_rep[t])`` and the fraction of time
bins outside the central 99 % predictive band, about 1 % for an adequate model. A
one-sided binomial test says whether the number outside is clearly more than expected.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import arviz as az
import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

__all__ = ["TimePredictiveCheck", "time_predictive_check"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class TimePredictiveCheck:
    """Per-time-bin posterior predictive check; see :func:`time_predictive_check`.

    Attributes
    ----------
    observed : `numpy.ndarray`, shape (n_time,)
        Observed counts per time bin.
    mean, sd : `numpy.ndarray`, shape (n_time,)
        Mean and standard deviation of the replicated counts.
    lower, upper : `numpy.ndarray`, shape (n_time,)
        Central predictive band at ``level``, counts.
    z_scores : `numpy.ndarray`, shape (n_time,)
        ``(observed - mean) / sd``.
    outside : `numpy.ndarray` of bool, shape (n_time,)
        Time bins outside the band.
    level : float
        Band probability.
    p_value : float
        One-sided binomial probability of at least this many bins outside when each is
        outside with probability ``1 - level``.
    """

    observed: NDArray[np.float64]
    mean: NDArray[np.float64]
    sd: NDArray[np.float64]
    lower: NDArray[np.float64]
    upper: NDArray[np.float64]
    z_scores: NDArray[np.float64]
    outside: NDArray[np.bool_]
    level: float
    p_value: float

    @property
    def fraction_outside(self) -> float:
        """Fraction of time bins outside the predictive band (about ``1 - level`` if adequate)."""
        return float(self.outside.mean())

    def flagged(self, *, alpha: float = 1e-3) -> bool:
        """Whether clearly more bins than expected fall outside (``p_value < alpha``).

        Parameters
        ----------
        alpha : float
            Test level. Default is 1e-3.
        """
        return self.p_value < alpha


def time_predictive_check(
    idata: az.InferenceData | None = None,
    *,
    observed: ArrayLike | None = None,
    replicates: ArrayLike | None = None,
    level: float = 0.99,
) -> TimePredictiveCheck:
    """Compare observed counts per time bin with their posterior predictive distribution.

    Parameters
    ----------
    idata : `arviz.InferenceData`, optional
        From `bayesbg.cosi.fit_cosi` (``observed_data.counts_time``,
        ``posterior_predictive.counts_time_rep``).
    observed : array_like, shape (n_time,), optional
        Observed counts per time bin (instead of ``idata``).
    replicates : array_like, shape (n_draw, n_time), optional
        Replicated counts per draw and time bin (instead of ``idata``).
    level : float
        Probability of the central predictive band. Default is 0.99.

    Returns
    -------
    check : `TimePredictiveCheck`

    Raises
    ------
    ValueError
        If neither ``idata`` nor both arrays are given, or the shapes differ.
    """
    if not 0 < level < 1:
        raise ValueError(f"level: expected a probability in (0, 1), found {level}")
    if idata is not None:
        observed_values = np.asarray(idata.observed_data["counts_time"].values, dtype=float)
        draws = idata.posterior_predictive["counts_time_rep"].values
        replicate_values = np.asarray(draws, dtype=float).reshape(-1, draws.shape[-1])
    elif observed is not None and replicates is not None:
        observed_values = np.asarray(observed, dtype=float)
        replicate_values = np.asarray(replicates, dtype=float)
    else:
        raise ValueError("idata: give an InferenceData, or both observed and replicates")
    if replicate_values.ndim != 2 or replicate_values.shape[1] != observed_values.size:
        raise ValueError(
            f"replicates: expected shape (n_draw, {observed_values.size}), found "
            f"{replicate_values.shape}"
        )
    tail = 0.5 * (1 - level)
    lower, upper = np.quantile(replicate_values, [tail, 1 - tail], axis=0)
    mean = replicate_values.mean(axis=0)
    sd = replicate_values.std(axis=0, ddof=1)
    z_scores = (observed_values - mean) / np.where(sd > 0, sd, np.nan)
    outside = (observed_values < lower) | (observed_values > upper)
    p_value = float(stats.binom.sf(int(outside.sum()) - 1, outside.size, 1 - level))
    check = TimePredictiveCheck(observed=observed_values, mean=mean, sd=sd, lower=lower,
                                upper=upper, z_scores=z_scores, outside=outside,
                                level=level, p_value=p_value)
    log.info("predictive check: %d of %d time bins outside the %.0f %% band (p = %.3g)",
             int(outside.sum()), outside.size, 100 * level, p_value)
    return check
