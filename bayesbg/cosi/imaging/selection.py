"""Choosing the iteration to show from the curve TS(k) ([COSI-511] 4.1.1, [COSI-PS] 4.3).

Richardson-Lucy first builds up the significant structure (TS rises steeply), then fits
noise (TS creeps up). The knee between the two is where the curve bends most. With the
iteration axis and TS both scaled to [0, 1] (``x = k / n``, ``y = (TS - min TS) /
(max TS - min TS)`` over k >= 1), the curvature is

.. math:: \\kappa(k) = y'' / (1 + y'^2)^{3/2}

(central differences, after a Gaussian smoothing of one iteration). Curvature maxima
are the local maxima of ``-kappa`` where the curve bends downwards (``y'' < 0``);
inflection points are the sign changes of ``y''``;
both ignore features below 5 % of the strongest (the wiggles of the plateau).
The default choice is the first curvature maximum.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import ndimage

__all__ = ["IterationChoice", "choose_iteration"]


@dataclass(frozen=True)
class IterationChoice:
    """The chosen iteration and the candidates.

    Attributes
    ----------
    iteration : int
        Chosen iteration (the first curvature maximum; the last iteration when the curve
        has none).
    curvature_maxima : tuple of int
        Iterations of the local curvature maxima (downward bends), strongest first.
    inflection_points : tuple of int
        Iterations where ``y''`` changes sign.
    curvature : `numpy.ndarray`, shape (n_iter + 1,)
        ``kappa(k)`` (NaN at k = 0).
    """

    iteration: int
    curvature_maxima: tuple[int, ...]
    inflection_points: tuple[int, ...]
    curvature: NDArray[np.float64]


def choose_iteration(
    ts: ArrayLike, *, minor: float = 0.05, smoothing: float = 1.0,
) -> IterationChoice:
    """Curvature maxima and inflection points of TS(k); the first curvature maximum.

    Parameters
    ----------
    ts : array_like, shape (n_iter + 1,)
        TS per iteration, index 0 the start map (ignored).
    minor : float
        Curvature maxima weaker than this fraction of the strongest, and sign changes of
        ``y''`` between values smaller than this fraction of its largest, are ignored
        (the noise-fitting plateau wiggles). Default is 0.05.
    smoothing : float
        Gaussian width, in iterations, applied to the scaled curve before the
        derivatives (accelerated steps make TS(k) jumpy). Default is 1; 0 switches it off.

    Returns
    -------
    choice : `IterationChoice`

    Examples
    --------
    >>> k = np.arange(31)
    >>> choose_iteration(100 * (1 - np.exp(-k / 4)) + 0.5 * k).iteration
    10
    """
    values = np.asarray(ts, dtype=np.float64)
    if values.ndim != 1 or values.size < 2 or not np.all(np.isfinite(values)):
        raise ValueError("ts: expected at least 2 finite values (iterations 0 .. n)")
    n_iter = values.size - 1
    curvature = np.full(values.size, np.nan)
    if n_iter < 3:
        return IterationChoice(n_iter, (), (), curvature)
    k = np.arange(1, n_iter + 1, dtype=np.float64)
    y = values[1:]
    span = y.max() - y.min()
    x = k / n_iter
    y = (y - y.min()) / span if span > 0 else np.zeros_like(y)
    if smoothing > 0:
        y = ndimage.gaussian_filter1d(y, smoothing, mode="nearest")
    first = np.gradient(y, x)
    second = np.gradient(first, x)
    kappa = second / (1.0 + first**2) ** 1.5
    curvature[1:] = kappa
    # ignore wiggles of the noise-fitting plateau: bends weaker than `minor` of the
    # strongest one, and sign changes of y'' between values that small
    strongest = float(np.max(-kappa)) if np.any(kappa < 0) else 0.0
    inner = np.arange(1, kappa.size - 1)
    bends = inner[(kappa[inner] < -minor * strongest) & (kappa[inner] <= kappa[inner - 1])
                  & (kappa[inner] < kappa[inner + 1])]
    if kappa.size >= 2 and kappa[0] < -minor * strongest and kappa[0] < kappa[1]:
        bends = np.concatenate([[0], bends])
    maxima = tuple(int(b + 1) for b in sorted(bends, key=lambda b: kappa[b]))
    significant = np.abs(second) >= minor * np.max(np.abs(second))
    index = np.flatnonzero(significant)
    sign = np.sign(second[index])
    flips = np.flatnonzero(sign[:-1] * sign[1:] < 0)
    inflections = tuple(int(index[f + 1] + 1) for f in flips)
    chosen = int(bends.min() + 1) if bends.size else n_iter
    return IterationChoice(chosen, maxima, inflections, curvature)
