"""Posterior predictive checks of COSI fits along each data axis ([COSI-511] eq. 12,
docs/equations.md section 1).

Replicated data ``d_rep ~ Poisson(m(theta))`` for posterior draws ``theta = (F, A)`` are
compared with the data summed along one axis: time, the Compton scatter angle ``phi``, the
scattered-photon direction ``psi_chi`` (or ``energy``). The expected counts summed along an
axis are linear in the parameters,

    E_axis[j](theta) = sum_k F_k Fsum[k, j] + sum_b A_b Gsum[b, j],

with ``Fsum[k, j]`` the template ``S[k, t, c]`` summed over the bins that project onto ``j``
and ``Gsum[b, j]`` the background of block ``b`` (amplitude 1) summed the same way. Both
matrices are computed once (:func:`axis_sums`); per draw the sum is a matrix product, and
a sum of independent Poisson counts is Poisson with the summed mean, so
``d_rep_axis ~ Poisson(E_axis(theta))`` exactly. Nothing per data-space bin and draw is
ever formed (nor requested from Stan).

Per bin ``j`` this gives the central predictive band at ``level``, z-scores
``(d[j] - mean(d_rep[j])) / sd(d_rep[j])``, residuals ``d - mean(d_rep)`` and the fraction
of bins outside the band (about ``1 - level``, 1 % at the default 99 %, for an adequate
model). A one-sided binomial test says whether clearly more bins than that fall outside.

:func:`time_predictive_check` is the same check per time bin from the fit's own
generated quantities (``counts_time_rep``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import arviz as az
import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import sparse, stats

from bayesbg.config import random_generator
from bayesbg.cosi.model.fit_data import CosiFitData

__all__ = [
    "AXES",
    "FIT_AXES",
    "AxisSums",
    "PredictiveCheck",
    "TimePredictiveCheck",
    "axis_sums",
    "posterior_parameter_draws",
    "predictive_check",
    "predictive_checks",
    "time_predictive_check",
]

log = logging.getLogger(__name__)

AXES = ("time", "phi", "psi_chi", "energy")
"""Axes a predictive check can sum the data along (onto)."""
FIT_AXES = ("time", "phi", "psi_chi")
"""Axes checked after every fit (:func:`predictive_checks`,
:func:`bayesbg.cosi.checks.check_cosi_fit`)."""


@dataclass(frozen=True, eq=False)
class PredictiveCheck:
    """Posterior predictive check along one axis; see :func:`predictive_check`.

    Attributes
    ----------
    observed : `numpy.ndarray`, shape (n_bin,)
        Observed counts per bin of the axis (summed over all other axes).
    mean, sd : `numpy.ndarray`, shape (n_bin,)
        Mean and standard deviation of the replicated counts.
    lower, upper : `numpy.ndarray`, shape (n_bin,)
        Central predictive band at ``level``, counts.
    z_scores : `numpy.ndarray`, shape (n_bin,)
        ``(observed - mean) / sd`` (NaN where ``sd`` is 0).
    outside : `numpy.ndarray` of bool, shape (n_bin,)
        Bins outside the band.
    level : float
        Band probability.
    p_value : float
        One-sided binomial probability of at least this many bins outside when each is
        outside with probability ``1 - level``.
    axis : str
        ``"time"``, ``"phi"``, ``"psi_chi"`` or ``"energy"``.
    coordinates : `numpy.ndarray`, shape (n_bin,), optional
        Bin centres for plotting (hours since the first time edge; phi in deg; psi-chi bin
        index; energy in keV).
    coordinate_label : str
        Axis label of ``coordinates``.
    sky, background : `numpy.ndarray`, shape (n_bin,), optional
        Posterior mean of the expected sky and background counts per bin.
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
    axis: str = "time"
    coordinates: NDArray[np.float64] | None = None
    coordinate_label: str = ""
    sky: NDArray[np.float64] | None = None
    background: NDArray[np.float64] | None = None

    @property
    def residuals(self) -> NDArray[np.float64]:
        """``observed - mean`` per bin, counts."""
        return self.observed - self.mean

    @property
    def n_outside(self) -> int:
        """Number of bins outside the predictive band."""
        return int(self.outside.sum())

    @property
    def fraction_outside(self) -> float:
        """Fraction of bins outside the predictive band (about ``1 - level`` if adequate)."""
        return float(self.outside.mean())

    def flagged(self, *, alpha: float = 1e-3) -> bool:
        """Whether clearly more bins than expected fall outside (``p_value < alpha``).

        Parameters
        ----------
        alpha : float
            Test level. Default is 1e-3.
        """
        return self.p_value < alpha

    def to_dict(self) -> dict[str, Any]:
        """Headline numbers for ``summary.json``: axis, level, bins, outside, p-value."""
        z = self.z_scores[np.isfinite(self.z_scores)]
        return {
            "axis": self.axis,
            "level": self.level,
            "n_bin": int(self.observed.size),
            "n_outside": self.n_outside,
            "fraction_outside": self.fraction_outside,
            "p_value": self.p_value,
            "max_abs_z": float(np.max(np.abs(z))) if z.size else None,
        }


TimePredictiveCheck = PredictiveCheck
"""The per-time-bin check of :func:`time_predictive_check` (same class)."""


@dataclass(frozen=True, eq=False)
class AxisSums:
    """Linear maps from the parameters to the expected counts summed onto one axis.

    ``expected = flux @ sky + amplitude @ background``, see :func:`axis_sums`.

    Attributes
    ----------
    axis : str
    sky : `numpy.ndarray`, shape (n_template, n_bin)
        ``S[k, t, c]`` summed onto each bin of the axis, counts per ph cm-2 s-1.
    background : `numpy.ndarray`, shape (n_block, n_bin)
        ``Bg[t, c]`` of each block summed onto each bin of the axis, counts for A = 1.
    observed : `numpy.ndarray`, shape (n_bin,)
        Observed counts summed onto each bin.
    coordinates : `numpy.ndarray`, shape (n_bin,)
    coordinate_label : str
    """

    axis: str
    sky: NDArray[np.float64]
    background: NDArray[np.float64]
    observed: NDArray[np.float64]
    coordinates: NDArray[np.float64]
    coordinate_label: str

    def expected(self, flux: ArrayLike, amplitude: ArrayLike) -> NDArray[np.float64]:
        """Expected counts per bin for parameters of shape (..., n_template), (..., n_block)."""
        return np.asarray(flux, dtype=np.float64) @ self.sky \
            + np.asarray(amplitude, dtype=np.float64) @ self.background


def axis_sums(data: CosiFitData, *, axis: str = "time") -> AxisSums:
    """Per-template and per-block expected counts summed onto one axis (computed once).

    Parameters
    ----------
    data : `CosiFitData`
        From :func:`bayesbg.cosi.model.prepare_fit_data` (its dataset, templates and
        background model are used).
    axis : {"time", "phi", "psi_chi", "energy"}
        Axis kept; all others are summed over. Default is ``"time"``.

    Returns
    -------
    sums : `AxisSums`

    Raises
    ------
    ValueError
        If ``axis`` is unknown.
    """
    if not isinstance(data, CosiFitData):
        raise TypeError(f"data: expected CosiFitData, found {type(data).__name__}")
    if axis not in AXES:
        raise ValueError(f"axis: expected one of {AXES}, found {axis!r}")
    dataset = data.dataset
    profile = data.background_per_time
    blocks = data.time_block - 1
    if axis == "time":
        background = np.zeros((data.n_block, data.n_time))
        background[blocks, np.arange(data.n_time)] = profile
        edges = dataset.time_edges
        return AxisSums(
            axis=axis, sky=data.sky_per_time.T.copy(), background=background,
            observed=dataset.counts_per_time().astype(np.float64),
            coordinates=0.5 * (edges[1:] + edges[:-1] - 2 * edges[0]) / 3600.0,
            coordinate_label="time since start (h)",
        )
    # sum over time first: per data-space bin, then group the data-space bins
    position = {"energy": 0, "phi": 1, "psi_chi": 2}[axis]
    group = dataset.data_space_index(np.arange(dataset.n_data_bin))[position]
    n_bin = {"energy": dataset.n_energy, "phi": dataset.n_phi,
             "psi_chi": dataset.n_psi_chi}[axis]
    sky = np.stack([
        np.bincount(group, weights=_time_summed(dataset.templates[name]), minlength=n_bin)
        for name in data.template_names
    ])
    response = np.bincount(group, weights=data.background_model.response, minlength=n_bin)
    block_total = np.bincount(blocks, weights=profile, minlength=data.n_block)
    observed = np.bincount(group, weights=dataset.counts_per_data_bin().astype(np.float64),
                           minlength=n_bin)
    if axis == "phi":
        coordinates = 0.5 * (dataset.phi_edges[1:] + dataset.phi_edges[:-1])
        label = "Compton scatter angle phi (deg)"
    elif axis == "energy" and dataset.energy_edges is not None:
        coordinates = 0.5 * (dataset.energy_edges[1:] + dataset.energy_edges[:-1])
        label = "energy (keV)"
    else:
        coordinates = np.arange(n_bin, dtype=np.float64)
        label = "psi-chi bin (rings of increasing psi)" if axis == "psi_chi" else "energy bin"
    return AxisSums(axis=axis, sky=sky, background=np.outer(block_total, response),
                    observed=observed, coordinates=coordinates, coordinate_label=label)


def posterior_parameter_draws(
    posterior: Any,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Flux and amplitude draws of a COSI fit, chains stacked.

    Parameters
    ----------
    posterior : `CosiFitResult`, `arviz.InferenceData` or mapping
        A fit result, its ``inference_data``, or ``{"flux": (n_draw, n_template),
        "background_amplitude": (n_draw, n_block)}``.

    Returns
    -------
    flux : `numpy.ndarray`, shape (n_draw, n_template)
    amplitude : `numpy.ndarray`, shape (n_draw, n_block)
    """
    idata = getattr(posterior, "inference_data", posterior)
    if isinstance(idata, az.InferenceData):
        group = idata.posterior
        flux = np.asarray(group["flux"].values, dtype=np.float64)
        amplitude = np.asarray(group["background_amplitude"].values, dtype=np.float64)
        return flux.reshape(-1, flux.shape[-1]), amplitude.reshape(-1, amplitude.shape[-1])
    if isinstance(idata, Mapping):
        missing = {"flux", "background_amplitude"} - set(idata)
        if missing:
            raise ValueError(f"posterior: mapping lacks {sorted(missing)}")
        flux = np.asarray(idata["flux"], dtype=np.float64)
        amplitude = np.asarray(idata["background_amplitude"], dtype=np.float64)
        if flux.ndim == 1:
            flux = flux[:, None]
        if flux.ndim != 2 or amplitude.ndim != 2 or flux.shape[0] != amplitude.shape[0]:
            raise ValueError(
                "posterior: expected flux (n_draw, n_template) and background_amplitude "
                f"(n_draw, n_block), found {flux.shape} and {amplitude.shape}"
            )
        return flux, amplitude
    raise TypeError(
        "posterior: expected a CosiFitResult, an InferenceData or a mapping of draws, found "
        f"{type(posterior).__name__}"
    )


def predictive_check(
    posterior: Any,
    data: CosiFitData,
    *,
    axis: str = "time",
    level: float = 0.99,
    rng: np.random.Generator | int = 0,
    sums: AxisSums | None = None,
) -> PredictiveCheck:
    """Compare the data summed along an axis with its posterior predictive distribution.

    Parameters
    ----------
    posterior : `CosiFitResult`, `arviz.InferenceData` or mapping
        Posterior draws of ``flux`` and ``background_amplitude`` (see
        :func:`posterior_parameter_draws`).
    data : `CosiFitData`
        The data the posterior was fitted to.
    axis : {"time", "phi", "psi_chi", "energy"}
        Axis kept. Default is ``"time"``.
    level : float
        Probability of the central predictive band. Default is 0.99.
    rng : `numpy.random.Generator` or int
        Generator (or seed) of the replicated counts. Default is 0.
    sums : `AxisSums`, optional
        Precomputed :func:`axis_sums` of ``data`` for this axis (to reuse across fits).

    Returns
    -------
    check : `PredictiveCheck`

    Raises
    ------
    ValueError
        If the axis or level is invalid, or the draws do not match the data's templates
        and blocks.
    """
    _check_level(level)
    sums = sums if sums is not None else axis_sums(data, axis=axis)
    if sums.axis != axis:
        raise ValueError(f"sums: computed for axis {sums.axis!r}, not {axis!r}")
    flux, amplitude = posterior_parameter_draws(posterior)
    if flux.shape[1] != sums.sky.shape[0] or amplitude.shape[1] != sums.background.shape[0]:
        raise ValueError(
            f"posterior: draws of {flux.shape[1]} fluxes and {amplitude.shape[1]} amplitudes "
            f"do not match the data ({sums.sky.shape[0]} templates, "
            f"{sums.background.shape[0]} blocks)"
        )
    sky = flux @ sums.sky
    background = amplitude @ sums.background
    generator = random_generator(rng)
    replicates = generator.poisson(np.maximum(sky + background, 0.0)).astype(np.float64)
    check = _compare(sums.observed, replicates, level=level, axis=axis,
                     coordinates=sums.coordinates, coordinate_label=sums.coordinate_label,
                     sky=sky.mean(axis=0), background=background.mean(axis=0))
    return check


def predictive_checks(
    posterior: Any,
    data: CosiFitData,
    *,
    axes: tuple[str, ...] = FIT_AXES,
    level: float = 0.99,
    seed: int = 0,
) -> dict[str, PredictiveCheck]:
    """:func:`predictive_check` along several axes (independent replicates per axis).

    Parameters
    ----------
    posterior : `CosiFitResult`, `arviz.InferenceData` or mapping
    data : `CosiFitData`
    axes : tuple of str
        Default `FIT_AXES`, ``("time", "phi", "psi_chi")``.
    level : float
        Band probability. Default is 0.99.
    seed : int
        Seed of the replicated counts (axis ``i`` uses ``[seed, i]``). Default is 0.

    Returns
    -------
    checks : dict of str to `PredictiveCheck`
    """
    return {axis: predictive_check(posterior, data, axis=axis, level=level,
                                   rng=np.random.default_rng([seed, index]))
            for index, axis in enumerate(axes)}


def time_predictive_check(
    idata: az.InferenceData | None = None,
    *,
    observed: ArrayLike | None = None,
    replicates: ArrayLike | None = None,
    level: float = 0.99,
) -> PredictiveCheck:
    """Per-time-bin check from the fit's generated ``counts_time_rep`` (or given arrays).

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
    check : `PredictiveCheck`
        With ``axis="time"``; ``sky`` and ``background`` are set when ``idata`` holds
        ``sky_counts_time`` and ``background_counts_time``.

    Raises
    ------
    ValueError
        If neither ``idata`` nor both arrays are given, or the shapes differ.
    """
    _check_level(level)
    sky = background = coordinates = None
    label = "time bin"
    if idata is not None:
        observed_values = np.asarray(idata.observed_data["counts_time"].values, dtype=float)
        draws = idata.posterior_predictive["counts_time_rep"].values
        replicate_values = np.asarray(draws, dtype=float).reshape(-1, draws.shape[-1])
        posterior = idata.posterior
        if "sky_counts_time" in posterior and "background_counts_time" in posterior:
            sky = posterior["sky_counts_time"].values.reshape(-1, observed_values.size).mean(0)
            background = posterior["background_counts_time"].values.reshape(
                -1, observed_values.size).mean(0)
        constant = getattr(idata, "constant_data", None)
        if constant is not None and "time_edges" in constant:
            edges = np.asarray(constant["time_edges"].values, dtype=float)
            coordinates = 0.5 * (edges[1:] + edges[:-1] - 2 * edges[0]) / 3600.0
            label = "time since start (h)"
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
    if coordinates is None:
        coordinates = np.arange(observed_values.size, dtype=np.float64)
    return _compare(observed_values, replicate_values, level=level, axis="time",
                    coordinates=coordinates, coordinate_label=label, sky=sky,
                    background=background)


def _compare(
    observed: NDArray[np.float64],
    replicates: NDArray[np.float64],
    *,
    level: float,
    axis: str,
    coordinates: NDArray[np.float64] | None,
    coordinate_label: str,
    sky: NDArray[np.float64] | None,
    background: NDArray[np.float64] | None,
) -> PredictiveCheck:
    """Band, z-scores and the binomial test of observed counts against replicates."""
    if replicates.shape[0] < 2:
        raise ValueError(f"replicates: expected at least 2 draws, found {replicates.shape[0]}")
    tail = 0.5 * (1 - level)
    lower, upper = np.quantile(replicates, [tail, 1 - tail], axis=0)
    mean = replicates.mean(axis=0)
    sd = replicates.std(axis=0, ddof=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        z_scores = (observed - mean) / np.where(sd > 0, sd, np.nan)
    outside = (observed < lower) | (observed > upper)
    p_value = float(stats.binom.sf(int(outside.sum()) - 1, outside.size, 1 - level))
    log.info("predictive check (%s): %d of %d bins outside the %.0f %% band (p = %.3g)",
             axis, int(outside.sum()), outside.size, 100 * level, p_value)
    return PredictiveCheck(observed=observed, mean=mean, sd=sd, lower=lower, upper=upper,
                           z_scores=z_scores, outside=outside, level=level, p_value=p_value,
                           axis=axis, coordinates=coordinates,
                           coordinate_label=coordinate_label, sky=sky, background=background)


def _check_level(level: float) -> None:
    if not 0 < level < 1:
        raise ValueError(f"level: expected a probability in (0, 1), found {level}")


def _time_summed(template: Any) -> NDArray[np.float64]:
    """A template ``S[t, c]`` summed over time, shape (n_data_bin,)."""
    if sparse.issparse(template):
        return np.asarray(template.sum(axis=0), dtype=np.float64).ravel()
    return np.asarray(template).sum(axis=0, dtype=np.float64)
