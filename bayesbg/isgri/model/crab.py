"""Crab calibration of the ISGRI count rate ([ISGRI] Appendix B, docs/equations.md section 3).

1. Orbits with at least 10 Crab pointings within 4.5 deg of the Crab.
2. Per Crab pointing, the Crab count rate ``(rate - background) / R(offset)``, with the
   background from `bayesbg.isgri.model.background` and the collimator response ``R``
   (`bayesbg.isgri.model.collimator`) referring the rate to the on-axis direction; the
   orbit's Crab rate is the mean over its Crab pointings.
3. A cubic polynomial ``P(orbit)`` per band through the per-orbit Crab rates (least
   squares, orbit numbers scaled to [-1, 1]).
4. The scatter of the per-orbit rates about ``P`` in mCrab,
   ``1000 (rate - P) / P``, is the systematic error (standard deviation; the paper
   finds 37, 47, 44 mCrab in 25-60, 60-80, 80-200 keV).

Errors of a flux from the calibration (`CrabCalibration.flux_variance`): a mean flux
``F`` over pointings in orbits ``o`` carries ``F**2 (g^T C g + s**2 sum_o (n_o / N)**2)``,
``C`` the covariance of the polynomial's coefficients (from the residual scatter,
shared by every pointing), ``g`` the mean over the pointings of ``d ln P / d coef``, and
``s`` the relative per-orbit scatter (the systematic / 1000), taken as a real
orbit-to-orbit gain variation (the conservative reading of the paper's systematic).

A pointing's flux is ``1000 (rate - background) / P(orbit)`` mCrab per FOV; with the
Crab spectrum ``N(E) = 10 E^-2.1`` ph cm-2 s-1 keV-1, 1 mCrab in a band is 1e-3 of the
Crab's energy flux in that band (erg s-1 cm-2).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import astropy.units as u
import numpy as np
from numpy.polynomial import Polynomial
from numpy.polynomial.polynomial import polyvander
from numpy.typing import ArrayLike, NDArray

from bayesbg.isgri.model.background import OrbitBackgroundModel
from bayesbg.isgri.model.collimator import CollimatorResponse
from bayesbg.isgri.pointings import Band, PointingTable
from bayesbg.spectra.crab_units import crab_energy_flux

__all__ = ["CrabCalibration", "fit_crab_calibration", "mcrab_to_energy_flux"]

log = logging.getLogger(__name__)


def mcrab_to_energy_flux(mcrab: ArrayLike, band: Band) -> u.Quantity:
    """Convert fluxes in mCrab (per FOV) to erg s-1 cm-2 (per FOV) in a band.

    Parameters
    ----------
    mcrab : array_like
        Flux, mCrab.
    band : `Band`

    Returns
    -------
    flux : `~astropy.units.Quantity`
        erg s-1 cm-2.
    """
    return np.asarray(mcrab, dtype=float) * 1e-3 * crab_energy_flux(
        band.energy_min * u.keV, band.energy_max * u.keV
    )


@dataclass(frozen=True, eq=False)
class CrabCalibration:
    """Per-band cubic polynomials of the Crab count rate versus orbit.

    Attributes
    ----------
    bands : tuple of `Band`
    polynomials : tuple of `numpy.polynomial.Polynomial`
        ``P(orbit)`` per band, cts s-1 pix-1 (on axis).
    orbit : `numpy.ndarray` of int, shape (n_orbit,)
        Calibration orbits (>= ``min_pointings`` Crab pointings).
    n_crab : `numpy.ndarray` of int, shape (n_orbit,)
        Crab pointings per calibration orbit.
    rate : `numpy.ndarray`, shape (n_orbit, n_band)
        Per-orbit Crab rate, cts s-1 pix-1.
    residual : `numpy.ndarray`, shape (n_orbit, n_band)
        ``1000 (rate - P) / P``, mCrab.
    systematic : `numpy.ndarray`, shape (n_band,)
        Standard deviation of ``residual`` per band, mCrab.
    coefficient_covariance : tuple of `numpy.ndarray` or None
        Covariance of each polynomial's coefficients (in its window coordinates),
        (cts s-1 pix-1)**2; None: the polynomial is taken as exact.
    """

    bands: tuple[Band, ...]
    polynomials: tuple[Polynomial, ...]
    orbit: NDArray[np.int64]
    n_crab: NDArray[np.int64]
    rate: NDArray[np.float64]
    residual: NDArray[np.float64]
    systematic: NDArray[np.float64]
    coefficient_covariance: tuple[NDArray[np.float64], ...] | None = None

    def crab_rate(self, orbit: ArrayLike) -> NDArray[np.float64]:
        """``P(orbit)`` per band.

        Parameters
        ----------
        orbit : array_like, shape (n,)

        Returns
        -------
        rate : `numpy.ndarray`, shape (n, n_band)
            cts s-1 pix-1.
        """
        orbit = np.asarray(orbit, dtype=float)
        return np.stack([p(orbit) for p in self.polynomials], axis=-1)

    def to_mcrab(self, excess: ArrayLike, orbit: ArrayLike) -> NDArray[np.float64]:
        """Convert rate excesses (observed minus background) to mCrab per FOV.

        Parameters
        ----------
        excess : array_like, shape (n, n_band)
            cts s-1 pix-1.
        orbit : array_like, shape (n,)

        Returns
        -------
        flux : `numpy.ndarray`, shape (n, n_band)
            mCrab.
        """
        return 1e3 * np.asarray(excess, dtype=float) / self.crab_rate(orbit)

    def flux_variance(self, flux: float, orbit: ArrayLike, band: int) -> float:
        """Calibration variance of a mean flux over pointings (module docstring).

        Parameters
        ----------
        flux : float
            The mean flux, mCrab.
        orbit : array_like of int, shape (N,)
            Orbits of the pointings averaged.
        band : int
            Index of the band in ``bands``.

        Returns
        -------
        variance : float
            mCrab**2.
        """
        orbit = np.asarray(orbit, dtype=float)
        if orbit.size == 0:
            return 0.0
        relative = 0.0
        if self.coefficient_covariance is not None:
            polynomial = self.polynomials[band]
            offset, scale = polynomial.mapparms()
            design = polyvander(offset + scale * orbit, polynomial.degree())
            gradient = (design / polynomial(orbit)[:, None]).mean(axis=0)
            relative += float(gradient @ self.coefficient_covariance[band] @ gradient)
        systematic = self.systematic[band] / 1e3
        if np.isfinite(systematic):
            _, counts = np.unique(orbit, return_counts=True)
            relative += systematic**2 * float(np.sum((counts / orbit.size) ** 2))
        return float(flux) ** 2 * relative


def fit_crab_calibration(
    table: PointingTable,
    *,
    background: OrbitBackgroundModel,
    max_offset: float = 4.5,
    min_pointings: int = 10,
    degree: int = 3,
    response: CollimatorResponse | None = None,
) -> CrabCalibration:
    """Fit the per-band Crab-rate polynomials (module docstring).

    Parameters
    ----------
    table : `PointingTable`
        Screened pointings including the Crab pointings (``crab_offset`` column).
    background : `OrbitBackgroundModel`
        Background model of the same table.
    max_offset : float
        Crab pointings are those with ``crab_offset < max_offset`` deg. Default is 4.5.
    min_pointings : int
        Least Crab pointings (with a background prediction) per calibration orbit.
        Default is 10.
    degree : int
        Polynomial degree. Default is 3 (cubic).
    response : `CollimatorResponse`, optional
        Refers off-axis Crab rates to the axis; default ``CollimatorResponse()``.

    Returns
    -------
    calibration : `CrabCalibration`

    Raises
    ------
    ValueError
        If fewer than ``degree + 1`` orbits qualify.
    """
    if not isinstance(min_pointings, int) or min_pointings < 1:
        raise ValueError(f"min_pointings: expected an integer >= 1, found {min_pointings!r}")
    if not isinstance(degree, int) or degree < 0:
        raise ValueError(f"degree: expected an integer >= 0, found {degree!r}")
    response = response if response is not None else CollimatorResponse()
    crab = table.select(table.crab_offset < max_offset)
    prediction = background.predict(crab)
    good = prediction.valid
    relative = response(crab.crab_offset[good])[:, None]
    rate = (crab.rate[good] - prediction.rate[good]) / relative
    orbits, inverse, counts = np.unique(crab.orbit[good], return_inverse=True,
                                        return_counts=True)
    sums = np.stack([np.bincount(inverse, weights=rate[:, k], minlength=orbits.size)
                     for k in range(rate.shape[1])], axis=1)
    per_orbit = sums / np.maximum(counts, 1)[:, None]
    chosen = counts >= min_pointings
    if np.count_nonzero(chosen) < degree + 1:
        raise ValueError(
            f"table: {np.count_nonzero(chosen)} orbits have >= {min_pointings} Crab pointings "
            f"within {max_offset} deg; a degree-{degree} polynomial needs {degree + 1}"
        )
    orbit, per_orbit, counts = orbits[chosen], per_orbit[chosen], counts[chosen]
    polynomials = tuple(Polynomial.fit(orbit.astype(float), per_orbit[:, k], degree)
                        for k in range(per_orbit.shape[1]))
    model = np.stack([p(orbit.astype(float)) for p in polynomials], axis=1)
    residual = 1e3 * (per_orbit - model) / model
    covariance = None
    if orbit.size > degree + 1:
        offset, scale = polynomials[0].mapparms()
        design = polyvander(offset + scale * orbit.astype(float), degree)
        inverse = np.linalg.inv(design.T @ design)
        rss = np.sum((per_orbit - model) ** 2, axis=0)
        covariance = tuple(inverse * rss[k] / (orbit.size - degree - 1)
                           for k in range(per_orbit.shape[1]))
    systematic = np.std(residual, axis=0, ddof=1) if orbit.size > 1 else np.full(
        len(table.bands), np.nan)
    log.info("Crab calibration: %d orbits; systematic %s mCrab", orbit.size,
             np.array2string(systematic, precision=1))
    return CrabCalibration(tuple(table.bands), polynomials, orbit.astype(np.int64),
                           counts.astype(np.int64), per_orbit, residual, systematic,
                           covariance)
