"""Flight-like background: the measured data-space shape and a flight-like time profile.

Shape ``Bhat[c]``: the measured 2016 flight background response
(``flight_bg_all_v1_fine_6deg.npz``) of the geometry's bands
(:func:`flight_background_response`; [COSI-511] eq. 6), each band weighted by its
measured counts, so several bands keep the flight's spectrum.

Time profile (:func:`background_rate`, counts per time bin summed over the bands)::

    rate[t] = level * T[t] * (1 + drift sin(2 pi t / drift_period)) * J[t]

with ``T`` the flight's rate tracer (``tracer.npz``, the day repeated), a slow drift the
tracer misses, and ``J`` a product of step changes ("time nodes") at a few change
points, which no tracer sees; ``level`` makes the mean rate ``mean_rate``. The default
mean rate spreads the file's counts in the bands over the 603 hours of [COSI-511]
(581 counts per hour at 506-516 keV; about 100 times the sky counts of a 1e-3
ph cm-2 s-1 bulge, the paper's order of magnitude).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from bayesbg.cosi.flight.geometry import FlightGeometry
from bayesbg.cosi.io.classic import ClassicBackgroundResponse

__all__ = [
    "PAPER_HOURS",
    "BackgroundRate",
    "background_rate",
    "default_background_rate",
    "flight_background_response",
]

PAPER_HOURS = 603
"""One-hour time bins of the [COSI-511] data set."""


def flight_background_response(background: ClassicBackgroundResponse,
                               geometry: FlightGeometry) -> NDArray[np.float64]:
    """``Bhat[c]`` over the geometry's data space (energy, phi, psi-chi), summing to 1.

    Parameters
    ----------
    background : `bayesbg.cosi.io.classic.ClassicBackgroundResponse`
    geometry : `FlightGeometry`
        Its bands must be unions of the file's energy bins.

    Returns
    -------
    response : `numpy.ndarray`, shape (n_data_bin,)
    """
    response = background.for_energy_edges(geometry.energy_edges)
    if response.shape != (geometry.n_data_bin,):
        raise ValueError(f"background: its data space ({response.size} bins) is not the "
                         f"geometry's ({geometry.n_data_bin})")
    return response


def default_background_rate(background: ClassicBackgroundResponse, geometry: FlightGeometry
                            ) -> float:
    """The file's counts in the geometry's bands over 603 hours, counts per time bin."""
    edges = geometry.energy_edges
    inside = (background.energy_edges[:-1] >= edges[0] - 1e-9) & \
        (background.energy_edges[1:] <= edges[-1] + 1e-9)
    hours = PAPER_HOURS * 3600.0 / float(np.mean(np.diff(geometry.time_edges)))
    return float(background.counts_per_energy[inside].sum() / hours)


@dataclass(frozen=True)
class BackgroundRate:
    """A flight-like background time profile and its ingredients (:func:`background_rate`).

    Attributes
    ----------
    rate : `numpy.ndarray`, shape (n_time,)
        Expected background counts per time bin, all bands.
    tracked : `numpy.ndarray`, shape (n_time,)
        The same without the change points (what a perfect photo-event tracer follows).
    change_points : `numpy.ndarray` of int
        Time bins where a step starts (a time node), sorted.
    factors : `numpy.ndarray`
        The step factor at each change point.
    """

    rate: NDArray[np.float64]
    tracked: NDArray[np.float64]
    change_points: NDArray[np.int64]
    factors: NDArray[np.float64]


def background_rate(
    geometry: FlightGeometry,
    rng: np.random.Generator,
    *,
    mean_rate: float,
    drift: float = 0.15,
    drift_period: float = 103.0,
    n_change_points: int = 3,
    change_points: ArrayLike | None = None,
    factors: ArrayLike | None = None,
    factor_range: tuple[float, float] = (1.08, 1.2),
) -> BackgroundRate:
    """The background rate per time bin (module docstring).

    Parameters
    ----------
    geometry : `FlightGeometry`
        Its ``tracer`` is ``T``.
    rng : `numpy.random.Generator`
        Draws the change points and factors not given.
    mean_rate : float
        Mean background counts per time bin, all bands.
    drift : float
        Relative amplitude of the slow drift. Default is 0.15.
    drift_period : float
        Its period, time bins. Default is 103.
    n_change_points : int
        Steps drawn when ``change_points`` is not given: at distinct bins at least
        ``n_time // 20`` from either end, each up or down by a factor drawn uniformly from
        ``factor_range``. Default is 3.
    change_points, factors : array_like, optional
        Given steps instead (bins and factors).
    factor_range : (float, float)
        Default (1.08, 1.2).

    Returns
    -------
    rate : `BackgroundRate`
    """
    n_time = geometry.n_time
    if not np.isfinite(mean_rate) or mean_rate <= 0:
        raise ValueError(f"mean_rate: expected positive counts per time bin, found {mean_rate!r}")
    if not 0 <= drift < 1:
        raise ValueError(f"drift: expected a relative amplitude in [0, 1), found {drift!r}")
    if change_points is None:
        margin = max(1, n_time // 20)
        candidates = np.arange(margin, n_time - margin)
        if not 0 <= n_change_points <= candidates.size:
            raise ValueError(f"n_change_points: expected 0 to {candidates.size}, found "
                             f"{n_change_points}")
        nodes = np.sort(rng.choice(candidates, n_change_points, replace=False))
        signs = rng.choice([-1, 1], n_change_points)
        steps = rng.uniform(*factor_range, n_change_points) ** signs
    else:
        nodes = np.asarray(change_points, dtype=np.int64)
        steps = np.asarray(factors if factors is not None else np.ones(nodes.size),
                           dtype=np.float64)
        if nodes.shape != steps.shape or np.any(nodes < 1) or np.any(nodes >= n_time) or \
                np.any(np.diff(nodes) <= 0) or np.any(steps <= 0):
            raise ValueError("change_points, factors: expected increasing bins in "
                             "[1, n_time) and positive factors of the same length")
    hours = np.arange(n_time, dtype=np.float64)
    tracked = geometry.tracer * (1.0 + drift * np.sin(2.0 * np.pi * hours / drift_period))
    untracked = np.ones(n_time)
    for node, factor in zip(nodes, steps, strict=True):
        untracked[node:] *= factor
    level = mean_rate / float(np.mean(tracked * untracked))
    return BackgroundRate(rate=level * tracked * untracked, tracked=level * tracked,
                          change_points=nodes.astype(np.int64), factors=steps)
