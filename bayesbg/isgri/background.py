"""Per-orbit model of the ISGRI detector background ([ISGRI] Appendix A, DOMAIN.md 3).

For each orbit and band, from the orbit's BKG pointings (sky with ``|l| >= 90`` or
``|b| >= 30`` deg, away from the Crab) with orbital phases ``phi``:

1. **linear** -- ``N_BKG >= 10`` and phase span ``max(phi) - min(phi) > 0.4``: ordinary
   least squares ``rate = alpha * phi + beta``; the model error at phase ``phi`` is the
   standard error of the fitted line,
   ``sqrt(var(beta) + phi**2 var(alpha) + 2 phi cov(alpha, beta))``, with the residual
   variance ``RSS / (N - 2)``.
2. **constant** -- ``4 <= N_BKG`` and not linear: the mean rate; the error is the
   standard deviation of the rates (``ddof=1``), as in the paper.
3. **interpolated** -- otherwise: linear interpolation *in orbit number* between the
   nearest orbits below and above with a model of kind 1 or 2, each evaluated at the
   pointing's phase; the errors are interpolated the same way.

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
- the clipping: the per-orbit mean residual (observed minus predicted rate, all
  pointings of the orbit, GAL and BKG) in the 168-185 keV band is clipped iteratively
  at 3 sigma (mean and standard deviation of the per-orbit values); clipped orbits
  lose their pointings in every band but remain interpolation anchors (the clipping
  targets steps in the GAL residuals, not the BKG-based model itself).

An orbit with no pointings has no entry at all; interpolation runs over orbit numbers,
so such gaps simply widen the interpolation interval.

Two errors per prediction (`BackgroundPrediction`):

- ``error`` -- the paper's, per regime as above (the constant model's is the scatter of
  the rates, not the error of their mean);
- ``model_error`` -- the error of the predicted rate as an estimate of the true
  background of that orbit and phase, the quantity to propagate into fluxes
  (`orbit_correlated_variance`): linear, the standard error of the line; constant,
  ``sqrt(s**2 / N_BKG + E[alpha**2] (phi - mean(phi_BKG))**2)``, the error of the mean
  plus the in-orbit trend the constant model leaves out, with ``E[alpha**2]`` the
  population second moment of the slopes of the linear orbits (their mean square minus
  their mean squared error); interpolated, the interpolated model errors of the two
  anchors plus the orbit-to-orbit background variation no interpolation can follow,
  ``tau**2 (1 + w**2 + (1 - w)**2)`` for interpolation weight ``w`` (``2 tau**2`` for
  ``NEAREST``). ``tau`` (`BackgroundModel.orbit_scatter`) is estimated by leave-one-out
  interpolation over the calibrated orbits: each is predicted from its calibrated
  neighbours at phase 0.5, and ``tau**2`` is the robust variance (1.4826 MAD squared)
  of the differences minus their median model variance, divided by the median of
  ``1 + w**2 + (1 - w)**2``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from bayesbg.isgri.scw import CLIPPING_BAND, Band, PointingTable, is_background_sky

__all__ = [
    "CONSTANT",
    "EXCLUDED",
    "INTERPOLATED",
    "LINEAR",
    "NEAREST",
    "REGIME_NAMES",
    "BackgroundModel",
    "BackgroundPrediction",
    "BackgroundSettings",
    "background_pointings",
    "fit_background",
    "orbit_correlated_variance",
    "sigma_clip_orbits",
]

log = logging.getLogger(__name__)

EXCLUDED = 0
"""Regime code: no prediction (orbit dropped by the slope filter or the clipping)."""
LINEAR = 1
"""Regime code: linear in orbital phase."""
CONSTANT = 2
"""Regime code: constant (mean of the BKG rates)."""
INTERPOLATED = 3
"""Regime code: interpolated between the nearest calibrated orbits on both sides."""
NEAREST = 4
"""Regime code: calibrated orbit(s) on one side only; the nearest one's model is used."""
REGIME_NAMES = {EXCLUDED: "excluded", LINEAR: "linear", CONSTANT: "constant",
                INTERPOLATED: "interpolated", NEAREST: "nearest"}
"""Names of the regime codes."""


@dataclass(frozen=True)
class BackgroundSettings:
    """Thresholds of the background model (module docstring; [ISGRI] Appendix A).

    Parameters
    ----------
    linear_min_pointings : int
        Least ``N_BKG`` for the linear model. Default is 10.
    linear_min_phase_span : float
        The BKG phases must span more than this for the linear model. Default is 0.4.
    constant_min_pointings : int
        Least ``N_BKG`` for the constant model. Default is 4 (``N_BKG = 3`` is
        interpolated).
    slope_min, slope_max : float
        Accepted slopes ``slope_min < alpha < slope_max`` of linear orbits,
        cts s-1 pix-1 per unit phase. Default is -2e-3, 1e-3.
    slope_bands : tuple of str or None
        Bands whose slopes are tested; ``None`` (default) tests every band of the table.
    clip_band : `Band` or None
        Band of the residual clipping; default 168-185 keV. ``None`` skips the clipping.
    clip_sigma : float
        Clipping threshold in standard deviations. Default is 3.
    clip_max_iterations : int
        Most clipping passes. Default is 50.
    crab_exclusion : float
        Pointings closer to the Crab than this (deg) are not BKG pointings. Default is
        15 (the edge of the partially coded field of view).
    """

    linear_min_pointings: int = 10
    linear_min_phase_span: float = 0.4
    constant_min_pointings: int = 4
    slope_min: float = -2e-3
    slope_max: float = 1e-3
    slope_bands: tuple[str, ...] | None = None
    clip_band: Band | None = CLIPPING_BAND
    clip_sigma: float = 3.0
    clip_max_iterations: int = 50
    crab_exclusion: float = 15.0

    def __post_init__(self) -> None:
        if not isinstance(self.linear_min_pointings, int) or self.linear_min_pointings < 3:
            raise ValueError(f"linear_min_pointings: expected an integer >= 3, found "
                             f"{self.linear_min_pointings!r}")
        if not isinstance(self.constant_min_pointings, int) or self.constant_min_pointings < 2:
            raise ValueError(f"constant_min_pointings: expected an integer >= 2, found "
                             f"{self.constant_min_pointings!r}")
        if not 0 <= self.linear_min_phase_span < 1:
            raise ValueError(f"linear_min_phase_span: expected a value in [0, 1), found "
                             f"{self.linear_min_phase_span}")
        if not self.slope_min < self.slope_max:
            raise ValueError(f"slope_min, slope_max: expected slope_min < slope_max, found "
                             f"{self.slope_min}, {self.slope_max}")
        if not self.clip_sigma > 0:
            raise ValueError(f"clip_sigma: expected > 0, found {self.clip_sigma}")
        if not self.crab_exclusion >= 0:
            raise ValueError(f"crab_exclusion: expected >= 0 deg, found {self.crab_exclusion}")
        if self.slope_bands is not None:
            object.__setattr__(self, "slope_bands", tuple(str(x) for x in self.slope_bands))


@dataclass(frozen=True, eq=False)
class BackgroundPrediction:
    """Predicted background of some pointings.

    Attributes
    ----------
    rate, error : `numpy.ndarray`, shape (n, n_band)
        Predicted rate and its 1-sigma model error, cts s-1 pix-1 (NaN where
        ``regime == EXCLUDED``).
    regime : `numpy.ndarray` of int, shape (n,)
        Regime code per pointing (``LINEAR``, ``CONSTANT``, ``INTERPOLATED``,
        ``NEAREST`` or ``EXCLUDED``).
    model_error : `numpy.ndarray`, shape (n, n_band)
        1-sigma error of ``rate`` as an estimate of the true background at that orbit and
        phase, cts s-1 pix-1 (module docstring); shared by the pointings of an orbit.
    """

    rate: NDArray[np.float64]
    error: NDArray[np.float64]
    regime: NDArray[np.int64]
    model_error: NDArray[np.float64]

    @property
    def valid(self) -> NDArray[np.bool_]:
        """Pointings with a prediction."""
        return self.regime != EXCLUDED


@dataclass(frozen=True, eq=False)
class BackgroundModel:
    """Per-orbit background model; build it with :func:`fit_background`.

    Attributes
    ----------
    bands : tuple of `Band`
    orbit : `numpy.ndarray` of int, shape (n_orbit,)
        Calibrated orbits (regime ``LINEAR`` or ``CONSTANT``), increasing.
    regime : `numpy.ndarray` of int, shape (n_orbit,)
    n_background : `numpy.ndarray` of int, shape (n_orbit,)
        ``N_BKG`` of each calibrated orbit.
    slope, intercept : `numpy.ndarray`, shape (n_orbit, n_band)
        ``alpha`` (cts s-1 pix-1 per unit phase; 0 for constant orbits) and ``beta``
        (cts s-1 pix-1).
    var_slope, var_intercept, covariance : `numpy.ndarray`, shape (n_orbit, n_band)
        Variances and covariance of ``alpha``, ``beta`` (for constant orbits
        ``var_intercept`` is the variance of the rates and the others 0).
    slope_rejected : `numpy.ndarray` of int
        Orbits dropped by the slope filter.
    clipped : `numpy.ndarray` of int
        Orbits dropped by the residual clipping.
    clip_residual : dict
        ``orbit`` and ``residual`` (per-orbit mean residual in the clipping band,
        cts s-1 pix-1) before clipping, and the final ``mean`` and ``std``.
    settings : `BackgroundSettings`
    phase_mean : `numpy.ndarray`, shape (n_orbit,)
        Mean orbital phase of each calibrated orbit's BKG pointings.
    slope_second_moment : `numpy.ndarray`, shape (n_band,)
        ``E[alpha**2]`` over orbits, (cts s-1 pix-1)**2, from the linear orbits: the
        in-orbit trend a constant model leaves out.
    orbit_scatter : `numpy.ndarray`, shape (n_band,)
        ``tau``, orbit-to-orbit background variation not followed by interpolation,
        cts s-1 pix-1 (leave-one-out estimate, module docstring).
    """

    bands: tuple[Band, ...]
    orbit: NDArray[np.int64]
    regime: NDArray[np.int64]
    n_background: NDArray[np.int64]
    slope: NDArray[np.float64]
    intercept: NDArray[np.float64]
    var_slope: NDArray[np.float64]
    var_intercept: NDArray[np.float64]
    covariance: NDArray[np.float64]
    slope_rejected: NDArray[np.int64]
    clipped: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    clip_residual: dict[str, object] = field(default_factory=dict)
    settings: BackgroundSettings = field(default_factory=BackgroundSettings)
    phase_mean: NDArray[np.float64] | None = None
    slope_second_moment: NDArray[np.float64] | None = None
    orbit_scatter: NDArray[np.float64] | None = None

    def __post_init__(self) -> None:
        n_orbit, n_band = self.orbit.size, len(self.bands)
        defaults = {"phase_mean": np.full(n_orbit, 0.5),
                    "slope_second_moment": np.zeros(n_band),
                    "orbit_scatter": np.zeros(n_band)}
        for name, default in defaults.items():
            value = getattr(self, name)
            value = default if value is None else np.asarray(value, dtype=float)
            if value.shape != default.shape:
                raise ValueError(f"{name}: expected shape {default.shape}, found {value.shape}")
            object.__setattr__(self, name, value)

    @property
    def excluded_orbits(self) -> NDArray[np.int64]:
        """Orbits without a prediction: slope-rejected and clipped, sorted."""
        return np.union1d(self.slope_rejected, self.clipped).astype(np.int64)

    def evaluate(self, orbit: ArrayLike, phase: ArrayLike) -> BackgroundPrediction:
        """Predicted rate and error at given orbits and phases.

        Parameters
        ----------
        orbit : array_like of int, shape (n,)
        phase : array_like, shape (n,)
            Orbital phase.

        Returns
        -------
        prediction : `BackgroundPrediction`
        """
        orbit = np.asarray(orbit, dtype=np.int64)
        phase = np.asarray(phase, dtype=float)
        n, n_band = orbit.shape[0], len(self.bands)
        rate = np.full((n, n_band), np.nan)
        error = np.full((n, n_band), np.nan)
        model_error = np.full((n, n_band), np.nan)
        regime = np.full(n, EXCLUDED, dtype=np.int64)
        if self.orbit.size == 0:
            return BackgroundPrediction(rate, error, regime, model_error)
        excluded = np.isin(orbit, self.excluded_orbits)
        position = np.searchsorted(self.orbit, orbit)
        inside = np.minimum(position, self.orbit.size - 1)
        exact = (self.orbit[inside] == orbit) & ~excluded
        below = np.clip(position - 1, 0, self.orbit.size - 1)
        above = inside
        has_below = position > 0
        has_above = position < self.orbit.size
        value_below, error_below, model_below = self._at(below, phase)
        value_above, error_above, model_above = self._at(above, phase)
        tau2 = self.orbit_scatter[None, :] ** 2
        # exact orbits: their own model
        rate[exact], error[exact] = value_above[exact], error_above[exact]
        model_error[exact] = model_above[exact]
        regime[exact] = self.regime[above[exact]]
        other = ~exact & ~excluded
        both = other & has_below & has_above
        span = (self.orbit[above] - self.orbit[below]).astype(float)
        weight = np.where(both, (orbit - self.orbit[below]) / np.where(span > 0, span, 1.0),
                          0.0)[:, None]
        rate[both] = ((1 - weight) * value_below + weight * value_above)[both]
        error[both] = ((1 - weight) * error_below + weight * error_above)[both]
        interpolated = (1 - weight) * model_below + weight * model_above
        unfollowed = tau2 * (1 + weight**2 + (1 - weight) ** 2)
        model_error[both] = np.sqrt(interpolated**2 + unfollowed)[both]
        regime[both] = INTERPOLATED
        only_below = other & has_below & ~has_above
        only_above = other & ~has_below & has_above
        rate[only_below], error[only_below] = value_below[only_below], error_below[only_below]
        rate[only_above], error[only_above] = value_above[only_above], error_above[only_above]
        model_error[only_below] = np.sqrt(model_below**2 + 2 * tau2)[only_below]
        model_error[only_above] = np.sqrt(model_above**2 + 2 * tau2)[only_above]
        regime[only_below | only_above] = NEAREST
        return BackgroundPrediction(rate, error, regime, model_error)

    def predict(self, table: PointingTable) -> BackgroundPrediction:
        """Predicted background of the pointings of a table (bands must match).

        Parameters
        ----------
        table : `PointingTable`

        Returns
        -------
        prediction : `BackgroundPrediction`
        """
        if tuple(table.bands) != self.bands:
            raise ValueError(f"table: bands {list(table.band_names)} differ from the model's "
                             f"{[x.name for x in self.bands]}")
        return self.evaluate(table.orbit, table.phase)

    def _at(self, index: NDArray[np.int64], phase: NDArray[np.float64]
            ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """Model value, paper's error and model error of calibrated orbit ``index``."""
        p = phase[:, None]
        value = self.intercept[index] + self.slope[index] * p
        variance = (self.var_intercept[index] + p**2 * self.var_slope[index]
                    + 2 * p * self.covariance[index])
        model_variance = variance.copy()
        constant = self.regime[index] == CONSTANT
        if np.any(constant):
            n_bkg = self.n_background[index][constant][:, None].astype(float)
            lever = (phase[constant] - self.phase_mean[index][constant])[:, None]
            model_variance[constant] = (self.var_intercept[index][constant] / n_bkg
                                        + self.slope_second_moment[None, :] * lever**2)
        return (value, np.sqrt(np.maximum(variance, 0.0)),
                np.sqrt(np.maximum(model_variance, 0.0)))


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
    table: PointingTable, settings: BackgroundSettings | None = None
) -> BackgroundModel:
    """Build the per-orbit background model of a (screened) pointing table.

    Parameters
    ----------
    table : `PointingTable`
        Screened pointings, GAL and BKG.
    settings : `BackgroundSettings`, optional
        Thresholds; default ``BackgroundSettings()``.

    Returns
    -------
    model : `BackgroundModel`

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
        model = BackgroundModel(
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
) -> BackgroundModel:
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
    model = BackgroundModel(
        bands=tuple(bands), orbit=orbits[calibrated].astype(np.int64), regime=regime,
        n_background=counts[calibrated].astype(np.int64), slope=slope[calibrated],
        intercept=intercept[calibrated], var_slope=var_slope[calibrated],
        var_intercept=var_intercept[calibrated], covariance=covariance[calibrated],
        slope_rejected=orbits[bad_slope].astype(np.int64), settings=settings,
        phase_mean=phase_mean[calibrated], slope_second_moment=second_moment,
    )
    return BackgroundModel(**{**model.__dict__, "orbit_scatter": _orbit_scatter(model)})


def _orbit_scatter(model: BackgroundModel) -> NDArray[np.float64]:
    """Leave-one-out estimate of ``tau`` per band (module docstring)."""
    n_band = len(model.bands)
    if model.orbit.size < 5:
        return np.zeros(n_band)
    index = np.arange(model.orbit.size)
    value, _, model_error = model._at(index, np.full(index.size, 0.5))
    orbit = model.orbit.astype(float)
    weight = ((orbit[1:-1] - orbit[:-2]) / (orbit[2:] - orbit[:-2]))[:, None]
    difference = value[1:-1] - ((1 - weight) * value[:-2] + weight * value[2:])
    variance = (model_error[1:-1] ** 2 + (1 - weight) ** 2 * model_error[:-2] ** 2
                + weight**2 * model_error[2:] ** 2)
    spread = 1.4826 * np.median(np.abs(difference - np.median(difference, axis=0)), axis=0)
    factor = float(np.median(1 + weight**2 + (1 - weight) ** 2))
    tau2 = np.maximum(spread**2 - np.median(variance, axis=0), 0.0) / factor
    log.info("orbit-to-orbit background scatter not followed by interpolation: %s "
             "cts s-1 pix-1", np.array2string(np.sqrt(tau2), precision=6))
    return np.sqrt(tau2)


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


def _index(bands: tuple[Band, ...], name: str) -> int:
    wanted = Band.parse(name)
    for index, band in enumerate(bands):
        if band == wanted:
            return index
    raise ValueError(f"slope_bands: band {name!r} is not in the table's bands "
                     f"{[x.name for x in bands]}")
