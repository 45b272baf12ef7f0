"""Photoelectric absorption by the interstellar medium: Morrison & McCammon (1983).

The cross-section per hydrogen atom of gas with solar abundances (Morrison & McCammon
1983, ApJ 270, 119, Table 2, XSPEC's ``wabs``) is a piecewise quadratic over ``E^3``:

    sigma(E) = (c0 + c1 E + c2 E^2) E^-3 x 1e-24 cm2      (E in keV, 0.03-10 keV)

and the last piece is continued above 10 keV (as XSPEC does), where it falls as about
``E^-2.4`` and absorption is negligible for Galactic columns (tau = 4e-4 at 20 keV for
``N_H = 3e21 cm-2``). [COSI-PS] uses ``TBabs`` (Wilms et al. 2000) with ``N_H`` frozen at
``3e21 cm-2`` for the Crab; the two differ by some per cent in ``sigma`` below a few keV,
which for NuSTAR's band (above 3 keV) changes the transmission by well under 1 %.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["MM83_EDGES", "absorption_factor", "mm83_cross_section"]

MM83_EDGES = np.array([0.030, 0.100, 0.284, 0.400, 0.532, 0.707, 0.867, 1.303, 1.840,
                       2.471, 3.210, 4.038, 7.111, 8.331, 10.000])
"""keV, lower edges of the pieces of Morrison & McCammon (1983) Table 2 (and 10 keV)."""
_MM83_COEFFICIENTS = np.array([
    (17.3, 608.1, -2150.0), (34.6, 267.9, -476.1), (78.1, 18.8, 4.3),
    (71.4, 66.8, -51.4), (95.5, 145.8, -61.1), (308.9, -380.6, 294.0),
    (120.6, 169.3, -47.7), (141.3, 146.8, -31.5), (202.7, 104.7, -17.0),
    (342.7, 18.7, 0.0), (352.2, 18.7, 0.0), (433.9, -2.4, 0.75),
    (629.0, 30.9, 0.0), (701.2, 25.2, 0.0),
])


def mm83_cross_section(energy: ArrayLike) -> NDArray[np.float64]:
    """Photoelectric cross-section per H atom, Morrison & McCammon (1983), in 1e-22 cm2.

    Parameters
    ----------
    energy : array_like
        keV; below 0.03 keV the first piece is used, above 10 keV the last.

    Returns
    -------
    sigma : `numpy.ndarray`
        Cross-section in units of 1e-22 cm2, so that ``N_H sigma`` with ``N_H`` in
        1e22 cm-2 is the optical depth.

    Examples
    --------
    >>> round(float(mm83_cross_section(1.0)), 3)   # 2.422e-22 cm2 at 1 keV
    2.422
    """
    e = np.asarray(energy, dtype=float)
    if np.any(~np.isfinite(e)) or np.any(e <= 0):
        raise ValueError("energy: expected positive finite keV")
    piece = np.clip(np.searchsorted(MM83_EDGES, e, side="right") - 1, 0,
                    len(_MM83_COEFFICIENTS) - 1)
    c0, c1, c2 = _MM83_COEFFICIENTS[piece].T
    return (c0 + c1 * e + c2 * e**2) / e**3 * 1e-2


def absorption_factor(energy: ArrayLike, nh: float) -> NDArray[np.float64]:
    """Transmission ``exp(-N_H sigma(E))`` of a column ``nh`` (1e22 cm-2).

    Examples
    --------
    >>> round(float(absorption_factor(3.0, 0.3)), 4)   # the Crab's column at 3 keV
    0.9567
    """
    if not np.isfinite(nh) or nh < 0:
        raise ValueError(f"nh: expected a non-negative column in 1e22 cm-2, found {nh}")
    return np.exp(-nh * mm83_cross_section(energy))
