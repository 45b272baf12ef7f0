"""The Band spectrum and its integrals over energy bins (Simpson's rule in ln E).

The photon spectrum of the point-source fit (``stan_models/cosi_point_source_spectrum.stan``
integrates it the same way): :func:`band` in astromodels' convention,
:func:`band_bin_integrals` its integral over each true-energy bin by Simpson's rule in
``ln E`` (:func:`simpson_log_nodes`), :func:`band_bin_integrals_quad` the same by
adaptive quadrature (the reference of the tests).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.integrate import quad

__all__ = ["band", "band_bin_integrals", "band_bin_integrals_quad", "simpson_log_nodes"]


def band(energy: ArrayLike, amplitude: float, alpha: float, beta: float,
         peak_energy: float, pivot: float = 100.0) -> NDArray[np.float64]:
    """Band function (astromodels' ``Band`` convention), ph cm-2 s-1 keV-1.

    With ``E0 = peak_energy / (2 + alpha)`` and the break ``Eb = (alpha - beta) E0``::

        f(E) = K (E/piv)^alpha exp(-E/E0)                                 E < Eb
        f(E) = K (Eb/piv)^(alpha - beta) exp(beta - alpha) (E/piv)^beta   E >= Eb

    ``peak_energy`` is the peak of E^2 f(E) (needs alpha > -2, beta < alpha).

    Parameters
    ----------
    energy : array_like
        keV.
    amplitude : float
        K, ph cm-2 s-1 keV-1 at ``pivot``.
    alpha, beta : float
        Low- and high-energy photon indices.
    peak_energy : float
        keV.
    pivot : float
        keV. Default is 100.
    """
    if not alpha > -2.0 or not beta < alpha:
        raise ValueError(f"alpha, beta: expected alpha > -2 and beta < alpha, found "
                         f"{alpha}, {beta}")
    e = np.asarray(energy, dtype=float)
    e0 = peak_energy / (2.0 + alpha)
    e_break = (alpha - beta) * e0
    low = amplitude * np.exp(alpha * np.log(e / pivot) - e / e0)
    high = amplitude * np.exp((alpha - beta) * np.log(e_break / pivot) + beta - alpha
                              + beta * np.log(e / pivot))
    return np.where(e < e_break, low, high)


def simpson_log_nodes(edges: ArrayLike, n_sub: int
                      ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Composite Simpson nodes in ln E per bin: the quadrature the Stan program uses.

    ``integral_bin f(E) dE = integral f(E) E d(ln E) ~ sum_k weight[e, k] f(energy[e, k])``.

    Parameters
    ----------
    edges : array_like, shape (n + 1,)
        Increasing positive bin edges, keV.
    n_sub : int
        Even number of sub-intervals per bin.

    Returns
    -------
    energy, weight : `numpy.ndarray`, shape (n, n_sub + 1)
        Nodes (keV) and weights (keV, including the factor E).
    """
    edges = np.asarray(edges, dtype=float)
    if n_sub < 2 or n_sub % 2:
        raise ValueError(f"n_sub: expected an even number >= 2, found {n_sub}")
    if edges.ndim != 1 or edges.size < 2 or np.any(edges <= 0) or np.any(np.diff(edges) <= 0):
        raise ValueError("edges: expected increasing positive energies (keV)")
    log_lo, log_hi = np.log(edges[:-1]), np.log(edges[1:])
    step = (log_hi - log_lo) / n_sub
    k = np.arange(n_sub + 1)
    log_e = log_lo[:, None] + step[:, None] * k[None, :]
    coef = np.where((k == 0) | (k == n_sub), 1.0, np.where(k % 2 == 1, 4.0, 2.0))
    energy = np.exp(log_e)
    return energy, step[:, None] / 3.0 * coef[None, :] * energy


def band_bin_integrals(edges: ArrayLike, amplitude: float, alpha: float, beta: float,
                       peak_energy: float, pivot: float = 100.0, *, n_sub: int = 32
                       ) -> NDArray[np.float64]:
    """Band photon flux integrated over each bin (ph cm-2 s-1), Simpson in ln E.

    Parameters
    ----------
    edges : array_like
        Bin edges, keV.
    amplitude, alpha, beta, peak_energy, pivot : float
        See :func:`band`.
    n_sub : int
        Even sub-intervals per bin. Default is 32 (relative error < 1e-6 for the
        cosipy test binning; see the tests).
    """
    energy, weight = simpson_log_nodes(edges, n_sub)
    return np.sum(weight * band(energy, amplitude, alpha, beta, peak_energy, pivot), axis=1)


def band_bin_integrals_quad(edges: ArrayLike, amplitude: float, alpha: float, beta: float,
                            peak_energy: float, pivot: float = 100.0) -> NDArray[np.float64]:
    """Reference: the bin integrals by adaptive quadrature (scipy ``quad``), slow."""
    edges = np.asarray(edges, dtype=float)
    e0 = peak_energy / (2.0 + alpha)
    e_break = (alpha - beta) * e0
    out = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        points = [e_break] if lo < e_break < hi else None
        value, _ = quad(lambda e: float(band(e, amplitude, alpha, beta, peak_energy, pivot)),
                        lo, hi, points=points, limit=200, epsrel=1e-12)
        out.append(value)
    return np.asarray(out)
