"""Building the per-orbit background model from the BKG pointings ([ISGRI] Appendix A,
docs/equations.md section 3); the model itself is
`bayesbg.isgri.model.background.OrbitBackgroundModel`.

For each orbit and band, from the orbit's BKG pointings (sky with ``|l| >= 90`` or
``|b| >= 30`` deg, away from the Crab; `background_pointings`) with orbital phases
``phi``:

1. **linear** -- ``N_BKG >= 10`` and phase span ``max(phi) - min(phi) > 0.4``: ordinary
   least squares ``rate = alpha * phi + beta``, with the residual variance
   ``RSS / (N - 2)``.
2. **constant** -- ``4 <= N_BKG`` and not linear: the mean rate and the standard
   deviation of the rates.
3. **interpolated** -- otherwise (at prediction time, between calibrated orbits).

Choices the paper leaves open, made explicit here (`BackgroundSettings`):

- ``N_BKG = 3`` is interpolated (the paper's constant case reads ``3 < N_BKG``; three
  rates give a standard deviation with two degrees of freedom only);
- ``N_BKG >= 10`` with a phase span ``<= 0.4`` is a constant model (too short a lever
  arm for a slope, enough pointings for a mean);
- with a calibrated orbit on one side only (before the first or after the last
  calibrated orbit), the nearest calibrated orbit's model is used unchanged (regime
  ``NEAREST``);
- orbits of kind 1 whose slope in any band lies outside ``slope_min < alpha <
  slope_max`` (default -2e-3, 1e-3 cts s-1 pix-1) are dropped (all their pointings)
  and do not serve as interpolation anchors;
- the clipping (`sigma_clip_orbits`): the per-orbit mean residual (observed minus
  predicted rate, all pointings of the orbit, GAL and BKG) in the 168-185 keV band is
  clipped iteratively at 3 sigma (mean and standard deviation of the per-orbit
  values); clipped orbits lose their pointings in every band but remain interpolation
  anchors (the clipping targets steps in the GAL residuals, not the BKG-based model
  itself).

An orbit with no pointings has no entry at all; interpolation runs over orbit numbers,
so such gaps simply widen the interpolation interval.
"""

from __future__ import annotations

import logging

import numpy as np
from numpy.typing import ArrayLike, NDArray

from bayesbg.isgri.model.background import (
    CONSTANT,
    LINEAR,
    BackgroundSettings,
    OrbitBackgroundModel,
)
from bayesbg.isgri.pointings import Band, PointingTable
from bayesbg.isgri.sky import is_background_sky

__all__ = ["background_pointings", "fit_background", "sigma_clip_orbits"]

log = logging.getLogger(__name__)


def background_pointings(table: PointingTable, *, crab_exclusion: float = 15.0
                         ) -> NDArray[np.bool_]:
    """Pointings that trace the detector background: BKG sky, away from the Crab.

    Parameters
    ----------
    table : `PointingTable`
    crab_exclusion : float
        Least angle from the Crab, deg. Default is 15.

    Returns
    -------
    mask : `numpy.ndarray` of bool, shape (n,)
    """
    return is_background_sky(table.l, table.b) & (table.crab_offset >= crab_exclusion)


def fit_background(
    table: PointingTable, *, settings: BackgroundSettings | None = None
) -> OrbitBackgroundModel:
    """Build the per-orbit background model of a (screened) pointing table.

    Parameters
    ----------
    table : `PointingTable`
        Screened pointings, GAL and BKG.
    settings : `BackgroundSettings`, optional
        Thresholds; default ``BackgroundSettings()``.

    Returns
    -------
    model : `OrbitBackgroundModel`

    Raises
    ------
    ValueError
        If no orbit can be calibrated (no orbit with enough BKG pointings), or a band
        of ``slope_bands`` or ``clip_band`` is not in the table.
    """
    settings = settings if settings is not None else BackgroundSettings()
    mask = background_pointings(table, crab_exclusion=settings.crab_exclusion)
    model = _calibrate(table.orbit[mask], table.phase[mask], table.rate[mask],
                       table.bands, settings)
    if settings.clip_band is not None:
        band = table.band_index(settings.clip_band)
        crab_free = table.crab_offset >= settings.crab_exclusion
        prediction = model.evaluate(table.orbit[crab_free], table.phase[crab_free])
        residual = table.rate[crab_free, band] - prediction.rate[:, band]
        good = prediction.valid
        orbits, clipped, summary = sigma_clip_orbits(
            table.orbit[crab_free][good], residual[good], sigma=settings.clip_sigma,
            max_iterations=settings.clip_max_iterations,
        )
        model = OrbitBackgroundModel(
            **{**model.__dict__, "clipped": clipped,
               "clip_residual": {"orbit": orbits, **summary}},
        )
        log.info("residual clipping in %s keV dropped %d of %d orbits",
                 settings.clip_band.name, clipped.size, orbits.size)
    return model


def sigma_clip_orbits(
    orbit: ArrayLike, residual: ArrayLike, *, sigma: float = 3.0, max_iterations: int = 50
) -> tuple[NDArray[np.int64], NDArray[np.int64], dict[str, object]]:
    """Iterative sigma clipping of the per-orbit mean residual (Appendix A).

    Parameters
    ----------
    orbit : array_like of int, shape (n,)
        Orbit of each pointing.
    residual : array_like, shape (n,)
        Observed minus predicted rate per pointing, cts s-1 pix-1.
    sigma : float
        Threshold in standard deviations. Default is 3.
    max_iterations : int
        Most passes. Default is 50.

    Returns
    -------
    orbits : `numpy.ndarray` of int
        Orbits with pointings, increasing.
    clipped : `numpy.ndarray` of int
        The clipped orbits.
    summary : dict
        ``residual`` (per-orbit mean, same order as ``orbits``), final ``mean`` and
        ``std`` of the kept orbits, ``iterations``.
    """
    orbit = np.asarray(orbit, dtype=np.int64)
    residual = np.asarray(residual, dtype=float)
    orbits, inverse = np.unique(orbit, return_inverse=True)
    counts = np.bincount(inverse, minlength=orbits.size)
    per_orbit = np.bincount(inverse, weights=residual, minlength=orbits.size) / np.maximum(
        counts, 1)
    keep = np.ones(orbits.size, dtype=bool)
    iterations = 0
    mean = std = float("nan")
    for iterations in range(1, max_iterations + 1):  # noqa: B007
        if np.count_nonzero(keep) < 3:
            break
        mean = float(np.mean(per_orbit[keep]))
        std = float(np.std(per_orbit[keep], ddof=1))
        new_keep = np.abs(per_orbit - mean) <= sigma * std
        if np.array_equal(new_keep, keep):
            break
        keep = new_keep
    return orbits, orbits[~keep], {"residual": per_orbit, "mean": mean, "std": std,
                                   "iterations": iterations}


def _calibrate(
    orbit: NDArray[np.int64], phase: NDArray[np.float64], rate: NDArray[np.float64],
    bands: tuple[Band, ...], settings: BackgroundSettings,
) -> OrbitBackgroundModel:
    """Linear and constant models of the orbits with enough BKG pointings, slope filter."""
    n_band = len(bands)
    orbits, inverse = np.unique(orbit, return_inverse=True)
    counts = np.bincount(inverse, minlength=orbits.size)
    phase_max = np.full(orbits.size, -np.inf)
    phase_min = np.full(orbits.size, np.inf)
    np.maximum.at(phase_max, inverse, phase)
    np.minimum.at(phase_min, inverse, phase)
    span = phase_max - phase_min
    linear = (counts >= settings.linear_min_pointings) & (span > settings.linear_min_phase_span)
    constant = ~linear & (counts >= settings.constant_min_pointings)

    def per_orbit_sum(values: NDArray[np.float64]) -> NDArray[np.float64]:
        if values.ndim == 1:
            return np.bincount(inverse, weights=values, minlength=orbits.size)
        return np.stack([np.bincount(inverse, weights=values[:, k], minlength=orbits.size)
                         for k in range(values.shape[1])], axis=1)

    n = np.maximum(counts, 1).astype(float)
    phase_mean = per_orbit_sum(phase) / n
    rate_mean = per_orbit_sum(rate) / n[:, None]
    dphase = phase - phase_mean[inverse]
    drate = rate - rate_mean[inverse]
    sxx = per_orbit_sum(dphase**2)
    sxy = per_orbit_sum(dphase[:, None] * drate)
    syy = per_orbit_sum(drate**2)

    slope = np.zeros((orbits.size, n_band))
    intercept = rate_mean.copy()
    var_slope = np.zeros((orbits.size, n_band))
    var_intercept = np.zeros((orbits.size, n_band))
    covariance = np.zeros((orbits.size, n_band))
    # linear: ordinary least squares, covariance of (alpha, beta) from RSS / (N - 2)
    lin = linear
    sxx_lin = sxx[lin][:, None]
    slope[lin] = sxy[lin] / sxx_lin
    intercept[lin] = rate_mean[lin] - slope[lin] * phase_mean[lin][:, None]
    rss = np.maximum(syy[lin] - slope[lin] * sxy[lin], 0.0)
    s2 = rss / (counts[lin][:, None] - 2)
    var_slope[lin] = s2 / sxx_lin
    var_intercept[lin] = s2 * (1.0 / counts[lin][:, None]
                               + phase_mean[lin][:, None] ** 2 / sxx_lin)
    covariance[lin] = -phase_mean[lin][:, None] * s2 / sxx_lin
    # constant: mean, error = standard deviation of the rates
    con = constant
    var_intercept[con] = syy[con] / (counts[con][:, None] - 1)

    tested = (range(n_band) if settings.slope_bands is None
              else [_index(bands, name) for name in settings.slope_bands])
    tested = list(tested)
    bad_slope = np.zeros(orbits.size, dtype=bool)
    if tested:
        s = slope[:, tested]
        bad_slope = lin & np.any((s <= settings.slope_min) | (s >= settings.slope_max), axis=1)
    calibrated = (linear | constant) & ~bad_slope
    if not np.any(calibrated):
        raise ValueError(
            "table: no orbit has enough BKG pointings for a background model "
            f"(need >= {settings.constant_min_pointings} per orbit)"
        )
    regime = np.where(linear, LINEAR, CONSTANT)[calibrated].astype(np.int64)
    log.info("background model: %d linear, %d constant orbits, %d dropped by the slope "
             "filter", int(np.count_nonzero(linear & calibrated)),
             int(np.count_nonzero(constant & calibrated)), int(np.count_nonzero(bad_slope)))
    kept_linear = linear & calibrated
    second_moment = (np.maximum(np.mean(slope[kept_linear] ** 2 - var_slope[kept_linear], axis=0),
                                0.0) if np.any(kept_linear) else np.zeros(n_band))
    model = OrbitBackgroundModel(
        bands=tuple(bands), orbit=orbits[calibrated].astype(np.int64), regime=regime,
        n_background=counts[calibrated].astype(np.int64), slope=slope[calibrated],
        intercept=intercept[calibrated], var_slope=var_slope[calibrated],
        var_intercept=var_intercept[calibrated], covariance=covariance[calibrated],
        slope_rejected=orbits[bad_slope].astype(np.int64), settings=settings,
        phase_mean=phase_mean[calibrated], slope_second_moment=second_moment,
    )
    return OrbitBackgroundModel(**{**model.__dict__,
                                   "orbit_scatter": model.estimate_orbit_scatter()})


def _index(bands: tuple[Band, ...], name: str) -> int:
    wanted = Band.parse(name)
    for index, band in enumerate(bands):
        if band == wanted:
            return index
    raise ValueError(f"slope_bands: band {name!r} is not in the table's bands "
                     f"{[x.name for x in bands]}")
