"""The per-orbit model of the ISGRI detector background and its predictions ([ISGRI]
Appendix A, docs/equations.md section 3); it is built by `bayesbg.isgri.model.background_fit`.

For each orbit and band the model is one of ("regimes"):

1. **linear** (``LINEAR``) -- ``rate = alpha * phi + beta`` in the orbital phase
   ``phi``, fitted to the orbit's BKG pointings; the paper's error at phase ``phi`` is the
   standard error of the fitted line,
   ``sqrt(var(beta) + phi**2 var(alpha) + 2 phi cov(alpha, beta))``.
2. **constant** (``CONSTANT``) -- the mean rate; the paper's error is the standard
   deviation of the rates (``ddof=1``).
3. **interpolated** (``INTERPOLATED``) -- an orbit without a model of its own: linear
   interpolation *in orbit number* between the nearest calibrated orbits below and
   above, each evaluated at the pointing's phase; the errors are interpolated the same
   way. With a calibrated orbit on one side only, that orbit's model is used unchanged
   (``NEAREST``). Orbits dropped by the slope filter or the clipping get no prediction
   (``EXCLUDED``).

Two errors per prediction (`BackgroundPrediction`):

- ``error`` -- the paper's, per regime as above (the constant model's is the scatter of
  the rates, not the error of their mean);
- ``model_error`` -- the error of the predicted rate as an estimate of the true
  background of that orbit and phase, the quantity to propagate into fluxes
  (`bayesbg.isgri.model.error_budget`): linear, the standard error of the line;
  constant, ``sqrt(s**2 / N_BKG + E[alpha**2] (phi - mean(phi_BKG))**2)``, the error of
  the mean plus the in-orbit trend the constant model leaves out, with ``E[alpha**2]``
  the population second moment of the slopes of the linear orbits (their mean square
  minus their mean squared error); interpolated, the interpolated model errors of the
  two anchors plus the orbit-to-orbit background variation no interpolation can follow,
  ``tau**2 (1 + w**2 + (1 - w)**2)`` for interpolation weight ``w`` (``2 tau**2`` for
  ``NEAREST``). ``tau`` (`OrbitBackgroundModel.orbit_scatter`) is estimated by
  leave-one-out interpolation over the calibrated orbits
  (`OrbitBackgroundModel.estimate_orbit_scatter`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from bayesbg.isgri.pointings import CLIPPING_BAND, Band, PointingTable

__all__ = [
    "CONSTANT",
    "EXCLUDED",
    "INTERPOLATED",
    "LINEAR",
    "NEAREST",
    "REGIME_NAMES",
    "BackgroundPrediction",
    "BackgroundSettings",
    "OrbitBackgroundModel",
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
class OrbitBackgroundModel:
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

    def estimate_orbit_scatter(self) -> NDArray[np.float64]:
        """Leave-one-out estimate of ``tau`` per band from the calibrated orbits.

        Each calibrated orbit is predicted at phase 0.5 from its calibrated neighbours;
        ``tau**2`` is the robust variance (1.4826 MAD squared) of the differences minus
        their median model variance, divided by the median of ``1 + w**2 + (1 - w)**2``
        (module docstring). Zero with fewer than 5 calibrated orbits.

        Returns
        -------
        tau : `numpy.ndarray`, shape (n_band,)
            cts s-1 pix-1.
        """
        n_band = len(self.bands)
        if self.orbit.size < 5:
            return np.zeros(n_band)
        index = np.arange(self.orbit.size)
        value, _, model_error = self._at(index, np.full(index.size, 0.5))
        orbit = self.orbit.astype(float)
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
