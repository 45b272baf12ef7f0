"""The flux per field of view of a group of pointings and its error budget ([ISGRI]
Appendix A, B; docs/isgri.md, "Error model").

A group is the pointings of a region (Table 1, a spectrum), of a longitude bin (Fig. 1)
or around a point source (Appendix C), in one band. Its flux is the centre ``mu`` of
the Gaussian-plus-flat-wings mixture fitted to the residual fluxes by maximum likelihood
(`bayesbg.isgri.model.mixture_likelihood.fit_mixture_ml`), and its error has four terms,
added in quadrature (`GroupMeasurement`):

- ``error_statistical``: the sandwich error of ``mu``;
- ``error_background``: the per-orbit background model, shared by an orbit's pointings;
- ``error_calibration``: the Crab polynomial and the per-orbit gain scatter;
- ``error_collimator``: ``|mu_alt - mu|``, the change of ``mu`` when the Crab
  calibration is re-run with the alternative collimator shape (the residual fluxes
  converted with ``P_alt(orbit)`` and the mixture fitted again): the systematic of the
  collimator convention, measured, not assumed.

The first three are random from one data set to another and are what a spectrum's band
errors carry (`GroupMeasurement.error_random`); the collimator term is one scale shared
by every band and region.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from bayesbg.isgri.bands import Band
from bayesbg.isgri.model.background import BackgroundPrediction, OrbitBackgroundModel
from bayesbg.isgri.model.collimator import CollimatorResponse
from bayesbg.isgri.model.crab import CrabCalibration
from bayesbg.isgri.model.error_budget import systematic_variance
from bayesbg.isgri.model.mixture_likelihood import MixtureEstimate, fit_mixture_ml
from bayesbg.isgri.pointings import PointingTable

__all__ = ["MIN_POINTINGS", "GroupMeasurement", "PointingFluxes", "pointing_fluxes"]

log = logging.getLogger(__name__)

MIN_POINTINGS = 20
"""Fewest pointings for a flux per FOV; smaller groups are reported without a flux."""


@dataclass(frozen=True)
class GroupMeasurement:
    """Flux per FOV of one group and band, with its error budget (module docstring).

    Attributes
    ----------
    flux : float
        ``mu``, mCrab per FOV.
    error_statistical, error_background, error_calibration, error_collimator : float
        The four 1-sigma terms, mCrab.
    flux_alternative : float
        ``mu`` with the alternative collimator's calibration, mCrab (NaN without one).
    sigma, weight_low, weight_high : float
        Core width (mCrab) and wing weights of the mixture.
    n : int
        Pointings.
    exposure_ms : float
        Their exposure, Ms.
    """

    flux: float
    error_statistical: float
    error_background: float
    error_calibration: float
    error_collimator: float
    flux_alternative: float
    sigma: float
    weight_low: float
    weight_high: float
    n: int
    exposure_ms: float

    @property
    def error_random(self) -> float:
        """Statistical, background and calibration terms in quadrature, mCrab."""
        return float(np.sqrt(self.error_statistical**2 + self.error_background**2
                             + self.error_calibration**2))

    @property
    def error(self) -> float:
        """All four terms in quadrature (the collimator term as 0 when not measured)."""
        collimator = self.error_collimator if np.isfinite(self.error_collimator) else 0.0
        return float(np.sqrt(self.error_random**2 + collimator**2))

    def to_row(self) -> dict[str, Any]:
        """The flux and every term, for a table row."""
        return {"n": self.n, "exposure_ms": self.exposure_ms, "flux": self.flux,
                "error": self.error, "error_statistical": self.error_statistical,
                "error_background": self.error_background,
                "error_calibration": self.error_calibration,
                "error_collimator": self.error_collimator, "error_random": self.error_random,
                "flux_alternative": self.flux_alternative, "sigma": self.sigma,
                "weight_low": self.weight_low, "weight_high": self.weight_high}

    @classmethod
    def empty(cls, n: int, exposure_ms: float) -> GroupMeasurement:
        """A group too small to measure: NaN flux and errors."""
        nan = float("nan")
        return cls(nan, nan, nan, nan, nan, nan, nan, nan, nan, int(n), float(exposure_ms))


@dataclass(frozen=True, eq=False)
class PointingFluxes:
    """Residual fluxes of pointings in every band, with what their errors need.

    Attributes
    ----------
    pointings : `PointingTable`
    flux : `numpy.ndarray`, shape (n, n_band)
        ``1000 (rate - background) / (P(orbit) R(offset))``, mCrab per FOV.
    alternative_ratio : `numpy.ndarray` or None, shape (n, n_band)
        The same flux with the alternative collimator's calibration divided by ``flux``
        (``P R / (P_alt R_alt)``); None without an alternative.
    background_error : `numpy.ndarray`, shape (n, n_band)
        Background-model error of each pointing, mCrab (shared within an orbit).
    crab : `CrabCalibration`
    """

    pointings: PointingTable
    flux: NDArray[np.float64]
    alternative_ratio: NDArray[np.float64] | None
    background_error: NDArray[np.float64]
    crab: CrabCalibration

    def measure(self, mask: ArrayLike, band: Band, *, min_pointings: int = MIN_POINTINGS
                ) -> GroupMeasurement:
        """Flux per FOV and error budget of the pointings in ``mask``, one band.

        Parameters
        ----------
        mask : array_like of bool, shape (n,)
        band : `Band`
        min_pointings : int
            Fewer pointings give `GroupMeasurement.empty`. Default is 20.

        Returns
        -------
        measurement : `GroupMeasurement`
        """
        mask = np.asarray(mask, dtype=bool)
        k = self.pointings.band_index(band)
        n = int(np.count_nonzero(mask))
        exposure = float(self.pointings.exposure[mask].sum() / 1e6)
        if n < max(min_pointings, 5):
            return GroupMeasurement.empty(n, exposure)
        values = self.flux[mask, k]
        estimate = fit_mixture_ml(values)
        orbit = self.pointings.orbit[mask]
        background_var, calibration_var = systematic_variance(
            estimate.mu, orbit, self.background_error[mask, k], self.crab, k)
        alternative = float("nan")
        if self.alternative_ratio is not None:
            ratio = self.alternative_ratio[mask, k]
            scale = float(np.mean(ratio))
            start = MixtureEstimate(estimate.mu * scale, estimate.sigma * scale,
                                    estimate.weight_low, estimate.weight_high,
                                    float("nan"), float("nan"), n)
            alternative = fit_mixture_ml(values * ratio, start=start, errors=False).mu
        return GroupMeasurement(
            flux=estimate.mu, error_statistical=estimate.error,
            error_background=float(np.sqrt(background_var)),
            error_calibration=float(np.sqrt(calibration_var)),
            error_collimator=abs(alternative - estimate.mu), flux_alternative=alternative,
            sigma=estimate.sigma, weight_low=estimate.weight_low,
            weight_high=estimate.weight_high, n=n, exposure_ms=exposure)


def pointing_fluxes(
    table: PointingTable, usable: ArrayLike, *, background: OrbitBackgroundModel,
    crab: CrabCalibration, crab_alternative: CrabCalibration | None = None,
    offset: ArrayLike | None = None, response: CollimatorResponse | None = None,
    response_alternative: CollimatorResponse | None = None,
    prediction: BackgroundPrediction | None = None,
) -> PointingFluxes:
    """Residual fluxes of the usable pointings of a table, every band.

    Parameters
    ----------
    table : `PointingTable`
        Screened pointings.
    usable : array_like of bool, shape (n,)
        Pointings to convert (they need a background prediction).
    background : `OrbitBackgroundModel`
    crab, crab_alternative : `CrabCalibration`
        The calibration with the default and (optionally) the alternative collimator.
    offset : array_like, shape (n,), optional
        For a point source: the off-axis angle of the source in each pointing, deg; the
        flux is then divided by the collimator response there (``response`` and
        ``response_alternative``), giving the on-axis source flux.
    response, response_alternative : `CollimatorResponse`, optional
        The collimators of ``crab`` and ``crab_alternative`` (needed with ``offset``).
    prediction : `bayesbg.isgri.BackgroundPrediction`, optional
        ``background.predict(table)`` when already computed.

    Returns
    -------
    fluxes : `PointingFluxes`
    """
    usable = np.asarray(usable, dtype=bool)
    prediction = prediction if prediction is not None else background.predict(table)
    if not np.all(prediction.valid[usable]):
        raise ValueError("usable: every usable pointing needs a background prediction")
    pointings = table.select(usable)
    excess = table.rate[usable] - prediction.rate[usable]
    crab_rate = crab.crab_rate(pointings.orbit)
    seen = np.ones(pointings.n_pointing)
    seen_alternative = np.ones(pointings.n_pointing)
    if offset is not None:
        if response is None or (crab_alternative is not None and response_alternative is None):
            raise ValueError("response: the collimator responses are needed with offset")
        angle = np.asarray(offset, dtype=float)[usable]
        seen = response(angle)
        if response_alternative is not None:
            seen_alternative = response_alternative(angle)
        if np.any(seen <= 0):
            raise ValueError("offset: the source is outside the field of view of a pointing")
    flux = 1e3 * excess / (crab_rate * seen[:, None])
    ratio = None
    if crab_alternative is not None:
        ratio = (crab_rate * seen[:, None]) / (crab_alternative.crab_rate(pointings.orbit)
                                               * seen_alternative[:, None])
    error = 1e3 * prediction.model_error[usable] / (crab_rate * seen[:, None])
    return PointingFluxes(pointings, flux, ratio, error, crab)
