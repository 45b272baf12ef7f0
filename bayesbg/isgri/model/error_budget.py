"""The error terms a region's flux shares across pointings: background model and Crab
calibration ([ISGRI] Appendix A, B; docs/isgri.md, "Error model").

The statistical error of a region's flux treats the pointings as independent. Two error
sources are shared by many pointings and add to it in quadrature:

- the background model, one per orbit: its error is fully correlated between the
  pointings of an orbit and independent between orbits (`orbit_correlated_variance`);
- the Crab calibration, shared by every pointing
  (`bayesbg.isgri.model.crab.CrabCalibration.flux_variance`).

`systematic_variance` returns both for one region and band.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from bayesbg.isgri.model.crab import CrabCalibration

__all__ = ["orbit_correlated_variance", "systematic_variance"]


def orbit_correlated_variance(orbit: ArrayLike, error: ArrayLike) -> float:
    """Variance of a mean over pointings whose errors are shared within an orbit.

    ``sum_o (sum_{i in o} e_i / N)**2``: the errors ``e_i`` of the pointings of one orbit
    are taken as fully correlated (one background model per orbit) and those of different
    orbits as independent (the anchors shared by neighbouring interpolated orbits are
    neglected). For equal errors this is ``e**2 sum_o (n_o / N)**2``.

    Parameters
    ----------
    orbit : array_like of int, shape (N,)
        Orbit of each pointing.
    error : array_like, shape (N,)
        Its 1-sigma error, any unit (e.g. the background model error in mCrab).

    Returns
    -------
    variance : float
        Of the mean, in the unit of ``error`` squared.
    """
    orbit = np.asarray(orbit)
    error = np.asarray(error, dtype=float)
    if orbit.shape != error.shape or orbit.ndim != 1:
        raise ValueError(f"error: expected the shape of orbit {orbit.shape}, found "
                         f"{error.shape}")
    if orbit.size == 0:
        return 0.0
    _, inverse = np.unique(orbit, return_inverse=True)
    per_orbit = np.bincount(inverse, weights=error) / orbit.size
    return float(np.sum(per_orbit**2))


def systematic_variance(
    flux: float, orbit: ArrayLike, background_error: ArrayLike, calibration: CrabCalibration,
    band: int,
) -> tuple[float, float]:
    """Orbit-level error terms of a region's mean flux, mCrab**2 (docs/isgri.md).

    The statistical error of ``mu`` treats the pointings as independent; two error
    sources are shared by many pointings and add to it:

    - the background model, shared by the pointings of an orbit:
      ``sum_o (sum_{i in o} e_i / N)**2`` with ``e_i`` the model error of pointing
      ``i`` in mCrab (:func:`orbit_correlated_variance`);
    - the Crab calibration, shared by all pointings
      (`bayesbg.isgri.model.crab.CrabCalibration.flux_variance`).

    Both enter the mean linearly, so they add in quadrature to the statistical
    variance: ``error**2 = stat**2 + background + calibration``. For the mixture this
    is the posterior of ``mu`` convolved with the (Gaussian, first-order) shift the
    shared errors cause; the mixture itself needs no per-orbit offsets, which would
    be weakly identified and tie the likelihood to individual pointings.

    Parameters
    ----------
    flux : float
        The region's flux, mCrab.
    orbit : array_like of int, shape (N,)
        Orbits of the region's pointings.
    background_error : array_like, shape (N,)
        Background model error of each pointing converted to mCrab
        (``1000 model_error / P(orbit)``).
    calibration : `CrabCalibration`
    band : int
        Index of the band in ``calibration.bands``.

    Returns
    -------
    background, calibration : float
        Variances, mCrab**2.
    """
    return (orbit_correlated_variance(orbit, background_error),
            calibration.flux_variance(flux, orbit, band))
