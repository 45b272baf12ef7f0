"""Stellar-mass model of the Galactic bulge and disk, and its flux per IBIS FOV.

Stands in for the near-infrared map of [ISGRI] 4.2 (the GRXE follows the stellar mass).
Densities (Galactocentric x towards the Sun, kpc):

- bulge/bar (Dwek et al. 1995, model G2-like exponential):
  ``rho_b = M_b / ((2 pi)^1.5 a b c) exp(-r_s**2 / 2)``,
  ``r_s**2 = (x'/a)**2 + (y'/b)**2 + (z/c)**2``, bar major axis 20 deg from the
  Sun-centre line (near end at positive l), ``a, b, c = 1.7, 0.64, 0.44`` kpc,
  ``M_b = 5.8e9`` Msun;
- exponential disk: ``rho_d = M_d / (4 pi h_R**2 h_z) exp(-R / h_R - |z| / h_z)``,
  ``h_R = 2.6``, ``h_z = 0.3`` kpc, ``M_d = 4e10`` Msun;
- the Sun at ``R_0 = 8.2`` kpc, in the plane.

The bulge's weight stands in for its share of the near-infrared light, not for its mass:
``M_b`` is chosen so that the stellar mass in the field of view (flat collimator) of the
GB region is 9.7 / 4.3 = 2.26 times the mean of L+20 and L-20, the ratio of the GRXE
(cutoffpl) fluxes of [ISGRI] Table 2, so that the 25-60 keV emission follows this
model along the plane as the paper finds for the 4.9-micron map (Fig. 1). With Dwek's
1.5e10 Msun the ratio is 2.93.

The surface density (Msun deg-2) is the line-of-sight integral out to 18 kpc on a
0.5-deg (l, b) grid with ``|b| <= 40`` deg (zero beyond), and the flux per FOV is its
convolution with the collimator response (`bayesbg.isgri.model.collimator`), in Msun
(weighted by the response).
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.interpolate import RegularGridInterpolator

from bayesbg.isgri.model.collimator import CollimatorResponse, convolve_sky_map
from bayesbg.isgri.sky import wrap_longitude

__all__ = ["StellarMapFOV", "stellar_fov_maps", "stellar_surface_density"]

log = logging.getLogger(__name__)

_R0 = 8.2  # kpc
_BAR_ANGLE = np.radians(20.0)
_BULGE = (5.8e9, 1.7, 0.64, 0.44)  # Msun (effective, module docstring), kpc, kpc, kpc
_DISK = (4.0e10, 2.6, 0.3)  # Msun, kpc, kpc
_STEP = 0.5  # deg
_B_MAX = 40.0  # deg
_KPC2_PER_DEG2_AT_1KPC = np.radians(1.0) ** 2  # kpc2 per deg2 at a distance of 1 kpc


def stellar_surface_density(
    l: ArrayLike, b: ArrayLike, *, component: str = "total", n_steps: int = 96,  # noqa: E741
    distance_max: float = 18.0,
) -> NDArray[np.float64]:
    """Stellar mass per solid angle towards (l, b): the line-of-sight integral.

    Parameters
    ----------
    l, b : array_like
        Galactic coordinates, deg (broadcast together).
    component : {"total", "bulge", "disk"}
        Which component. Default is ``"total"``.
    n_steps : int
        Midpoint-rule steps along the line of sight. Default is 96.
    distance_max : float
        Integration limit, kpc. Default is 18.

    Returns
    -------
    density : `numpy.ndarray`
        Msun deg-2.
    """
    if component not in ("total", "bulge", "disk"):
        raise ValueError(f"component: expected 'total', 'bulge' or 'disk', found {component!r}")
    lr = np.radians(np.asarray(l, dtype=float))[..., None]
    br = np.radians(np.asarray(b, dtype=float))[..., None]
    ds = distance_max / n_steps
    s = (np.arange(n_steps) + 0.5) * ds
    x = _R0 - s * np.cos(br) * np.cos(lr)
    y = s * np.cos(br) * np.sin(lr)
    z = s * np.sin(br)
    rho = np.zeros(np.broadcast_shapes(x.shape, y.shape, z.shape))
    if component in ("total", "bulge"):
        mass, a, bb, c = _BULGE
        xp = x * np.cos(_BAR_ANGLE) - y * np.sin(_BAR_ANGLE)
        yp = x * np.sin(_BAR_ANGLE) + y * np.cos(_BAR_ANGLE)
        r2 = (xp / a) ** 2 + (yp / bb) ** 2 + (z / c) ** 2
        rho = rho + mass / ((2 * np.pi) ** 1.5 * a * bb * c) * np.exp(-r2 / 2)
    if component in ("total", "disk"):
        mass, h_r, h_z = _DISK
        radius = np.hypot(x, y)
        rho = rho + mass / (4 * np.pi * h_r**2 * h_z) * np.exp(-radius / h_r - np.abs(z) / h_z)
    # mass per deg2: integral of rho s**2 ds times kpc2 per deg2 at 1 kpc
    return np.sum(rho * s**2, axis=-1) * ds * _KPC2_PER_DEG2_AT_1KPC


@dataclass(frozen=True, eq=False)
class StellarMapFOV:
    """Bulge and disk stellar mass seen through the collimator, on a grid.

    Attributes
    ----------
    longitude, latitude : `numpy.ndarray`
        Grid centres, deg.
    bulge, disk : `numpy.ndarray`, shape (n_l, n_b)
        Response-weighted stellar mass in the FOV of a pointing at each grid node, Msun.
    """

    longitude: NDArray[np.float64]
    latitude: NDArray[np.float64]
    bulge: NDArray[np.float64]
    disk: NDArray[np.float64]

    def __call__(self, l: ArrayLike, b: ArrayLike, *, component: str = "total"  # noqa: E741
                 ) -> NDArray[np.float64]:
        """Interpolated FOV mass at pointing directions (0 beyond ``|b| = 40`` deg).

        Parameters
        ----------
        l, b : array_like
            Pointing directions, deg.
        component : {"total", "bulge", "disk"}

        Returns
        -------
        mass : `numpy.ndarray`
            Msun.
        """
        grids = {"bulge": self.bulge, "disk": self.disk, "total": self.bulge + self.disk}
        if component not in grids:
            raise ValueError(f"component: expected 'total', 'bulge' or 'disk', found "
                             f"{component!r}")
        values = grids[component]
        # periodic in l: extend the grid by one node on each side
        lon = np.concatenate([[self.longitude[0] - _STEP], self.longitude,
                              [self.longitude[-1] + _STEP]])
        table = np.concatenate([values[-1:], values, values[:1]], axis=0)
        interpolator = RegularGridInterpolator((lon, self.latitude), table,
                                               bounds_error=False, fill_value=0.0)
        points = np.stack(np.broadcast_arrays(wrap_longitude(l), np.asarray(b, dtype=float)),
                          axis=-1)
        return interpolator(points)


@functools.lru_cache(maxsize=2)
def stellar_fov_maps(response: CollimatorResponse | None = None) -> StellarMapFOV:
    """The bulge and disk maps convolved with the collimator response (cached).

    Parameters
    ----------
    response : `CollimatorResponse`, optional
        Default ``CollimatorResponse()``.

    Returns
    -------
    maps : `StellarMapFOV`
    """
    response = response if response is not None else CollimatorResponse()
    longitude = -180.0 + _STEP * (np.arange(int(360 / _STEP)) + 0.5)
    latitude = np.arange(-_B_MAX, _B_MAX + _STEP / 2, _STEP)
    lon, lat = np.meshgrid(longitude, latitude, indexing="ij")
    maps = {}
    for component in ("bulge", "disk"):
        density = stellar_surface_density(lon, lat, component=component)
        maps[component] = convolve_sky_map(density, step=_STEP, latitude=latitude,
                                           response=response)
    return StellarMapFOV(longitude, latitude, maps["bulge"], maps["disk"])
