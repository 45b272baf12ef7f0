"""The IBIS/ISGRI collimator response and maps convolved with it ([ISGRI] Appendix B).

The response to a source at off-axis angle ``theta`` is piecewise linear (radially
symmetric, normalised to 1 on axis)::

    R(theta) = 1 - (1 - R_b) theta / theta_b                   theta <= theta_b
             = R_b (theta_e - theta) / (theta_e - theta_b)      theta_b < theta <= theta_e
             = 0                                                theta > theta_e

with the break ``theta_b = 4.5`` deg (edge of the 9 x 9 deg fully coded field) and the
edge ``theta_e = 14.5`` deg (half width of the 29 x 29 deg partially coded field).
``R_b = 0.92`` is chosen so that the effective solid angle
``Omega = integral R dOmega`` is the 286 deg2 of Krivonos et al. (2012); the radial
shape is this module's simplification of the square IBIS field of view.

A flux "per FOV" in mCrab is the count rate of a diffuse sky ``I`` (mCrab deg-2,
on-axis equivalent) collected through the response, ``F = integral R I dOmega``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.signal import fftconvolve

__all__ = ["CollimatorResponse", "convolve_sky_map", "fit_profile_scale"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CollimatorResponse:
    """Piecewise-linear collimator response (module docstring).

    Parameters
    ----------
    break_angle : float
        ``theta_b``, deg. Default is 4.5.
    edge_angle : float
        ``theta_e``, where the response reaches 0, deg. Default is 14.5.
    response_at_break : float
        ``R_b`` in (0, 1]. Default is 0.92.
    """

    break_angle: float = 4.5
    edge_angle: float = 14.5
    response_at_break: float = 0.92

    def __post_init__(self) -> None:
        if not 0 < self.break_angle < self.edge_angle <= 90:
            raise ValueError(f"break_angle, edge_angle: expected 0 < break_angle < edge_angle "
                             f"<= 90 deg, found {self.break_angle}, {self.edge_angle}")
        if not 0 < self.response_at_break <= 1:
            raise ValueError(f"response_at_break: expected a value in (0, 1], found "
                             f"{self.response_at_break}")

    def __call__(self, offset: ArrayLike) -> NDArray[np.float64]:
        """Relative response at off-axis angles.

        Parameters
        ----------
        offset : array_like
            Off-axis angle, deg (>= 0).

        Returns
        -------
        response : `numpy.ndarray`
            Dimensionless, 1 on axis.
        """
        theta = np.abs(np.asarray(offset, dtype=float))
        inner = 1 - (1 - self.response_at_break) * theta / self.break_angle
        outer = (self.response_at_break * (self.edge_angle - theta)
                 / (self.edge_angle - self.break_angle))
        return np.where(theta <= self.break_angle, inner, np.clip(outer, 0.0, None))

    def solid_angle(self) -> float:
        """Effective solid angle ``2 pi integral R(theta) sin(theta) dtheta``, deg2.

        Integrated numerically on the sphere (trapezoid rule, 20,001 nodes).

        Returns
        -------
        omega : float
            deg2.
        """
        theta = np.linspace(0.0, self.edge_angle, 20001)
        integrand = self(theta) * np.sin(np.radians(theta))
        steradian = 2 * np.pi * np.trapezoid(integrand, np.radians(theta))
        return float(steradian * np.degrees(1.0) ** 2)

    def solid_angle_on_grid(self, *, step: float = 0.05) -> float:
        """Effective solid angle summed over a (l, b) pixel grid around (0, 0), deg2.

        An independent check of :meth:`solid_angle`: ``sum R(theta_pixel) cos(b) dl db``
        with the great-circle distance of each pixel centre.

        Parameters
        ----------
        step : float
            Pixel size, deg. Default is 0.05.

        Returns
        -------
        omega : float
            deg2.
        """
        edge = self.edge_angle + step
        centres = np.arange(-edge, edge + step / 2, step)
        l, b = np.meshgrid(centres, centres, indexing="ij")  # noqa: E741
        lr, br = np.radians(l), np.radians(b)
        theta = np.degrees(np.arccos(np.clip(np.cos(br) * np.cos(lr), -1, 1)))
        return float(np.sum(self(theta) * np.cos(br)) * step**2)

    def kernel(self, step: float) -> NDArray[np.float64]:
        """Response on a square flat-sky grid of pixel size ``step`` deg, centred.

        Parameters
        ----------
        step : float
            Pixel size, deg.

        Returns
        -------
        kernel : `numpy.ndarray`, shape (2 m + 1, 2 m + 1)
            ``R`` at the pixel centres times the pixel solid angle ``step**2`` (deg2).
        """
        m = int(np.ceil(self.edge_angle / step))
        offsets = np.arange(-m, m + 1) * step
        dx, dy = np.meshgrid(offsets, offsets, indexing="ij")
        return self(np.hypot(dx, dy)) * step**2


def convolve_sky_map(
    sky: ArrayLike, *, step: float, latitude: ArrayLike,
    response: CollimatorResponse | None = None,
) -> NDArray[np.float64]:
    """Flux per FOV of a sky map: the map convolved with the collimator response.

    The map is on a regular (l, b) grid covering all longitudes (wrapped), pixel size
    ``step`` deg; pixel solid angles ``cos(b) step**2`` are used, the kernel is the
    flat-sky response (accurate to ~2 % for ``|b| < 40`` deg within the 14.5-deg radius).

    Parameters
    ----------
    sky : array_like, shape (n_l, n_b)
        Surface brightness, any unit per deg2 (e.g. mCrab deg-2), longitude along axis 0
        spanning 360 deg.
    step : float
        Pixel size, deg.
    latitude : array_like, shape (n_b,)
        Pixel-centre latitudes, deg.
    response : `CollimatorResponse`, optional
        Default ``CollimatorResponse()``.

    Returns
    -------
    flux : `numpy.ndarray`, shape (n_l, n_b)
        Flux per FOV at each pointing direction (map unit times deg2); beyond the
        latitude range the sky is taken as zero.
    """
    response = response if response is not None else CollimatorResponse()
    sky = np.asarray(sky, dtype=float) * np.cos(np.radians(np.asarray(latitude)))[None, :]
    kernel = response.kernel(step)
    m = kernel.shape[0] // 2
    padded = np.concatenate([sky[-m:], sky, sky[:m]], axis=0)
    out = fftconvolve(padded, kernel, mode="same")
    return np.clip(out[m:-m], 0.0, None)


def fit_profile_scale(
    measured: ArrayLike, error: ArrayLike, model: ArrayLike
) -> tuple[float, float, float]:
    """Weighted least-squares scale factor of a model profile, ``measured ~ k model``.

    Parameters
    ----------
    measured, error : array_like, shape (n,)
        Measured fluxes and 1-sigma errors (same unit), errors > 0.
    model : array_like, shape (n,)
        Model profile (any unit).

    Returns
    -------
    scale, scale_error : float
        ``k`` and its 1-sigma error (measured unit per model unit).
    chi2 : float
        Chi-square of the scaled model, ``n - 1`` degrees of freedom.
    """
    y, s, m = (np.asarray(x, dtype=float) for x in (measured, error, model))
    good = np.isfinite(y) & np.isfinite(s) & (s > 0) & np.isfinite(m)
    if not np.any(good):
        raise ValueError("measured: no finite values with positive errors")
    w = 1.0 / s[good] ** 2
    information = float(np.sum(w * m[good] ** 2))
    if information <= 0:
        raise ValueError("model: the model profile is zero where data exist")
    scale = float(np.sum(w * m[good] * y[good]) / information)
    chi2 = float(np.sum(w * (y[good] - scale * m[good]) ** 2))
    return scale, information**-0.5, chi2
