"""Point-source response of a Compton telescope from a cosipy detector response and an
orientation history (docs/cosi_io.md, "Point-source response").

Expected counts in a data bin c = (Em, Phi, PsiChi) from a point source with photon
spectrum f(E) (ph cm-2 s-1 keV-1):

    m[c] = sum_e P[e, c] * F[e],      F[e] = integral over true-energy bin e of f(E) dE
    P[e, c] = sum_i dt_i * sum_p w_p(n_i) * A[p, e, c]                   (cm2 s)

``A[p, e, c]`` the effective area (cm2) for a source in instrument-frame HEALPix pixel p
(the response's NuLambda axis), ``n_i`` the source direction in the instrument frame at
orientation sample i, ``dt_i`` the time to the next sample (the interval's start
direction is used, as cosipy's ``SpacecraftFile.get_dwell_map``), and ``w_p`` HEALPix
bilinear interpolation weights (the four pixels around ``n_i``; the same weights as
healpy's ``get_interp_weights``). ``sum_i dt_i w_p(n_i)`` is the *dwell-time map*.
The energy redistribution (Ei -> Em) and the Compton data space are those of the
response. For data binned in Galactic PsiChi, each sample's PsiChi axis is rotated to
Galactic pixels (nearest instrument-frame pixel of each Galactic pixel centre).
"""

from __future__ import annotations

from dataclasses import dataclass

import astropy.units as u
import numpy as np
from astropy_healpix import bilinear_interpolation_weights, healpix_to_lonlat, lonlat_to_healpix
from numpy.typing import ArrayLike, NDArray

from bayesbg.cosi.io.histpy_files import DetectorResponse
from bayesbg.cosi.io.orientation import Orientation, lonlat_to_vectors

__all__ = ["COORDSYS", "PointSourceResponse", "dwell_time_map", "point_source_response"]

COORDSYS = ("spacecraftframe", "galactic")
"""Frames of the PsiChi axis: the instrument's, or Galactic."""


def _durations(orientation: Orientation, livetime: bool) -> NDArray[np.float64]:
    if len(orientation) < 2:
        raise ValueError("orientation: expected >= 2 samples (durations are the time "
                         f"differences), found {len(orientation)}")
    if livetime:
        if "livetime" not in orientation.extra:
            raise ValueError("livetime: the orientation file has no livetime column")
        return np.asarray(orientation.extra["livetime"][:-1], dtype=float)
    return np.diff(orientation.seconds)


def _interp_weights(theta: NDArray[np.float64], phi: NDArray[np.float64], nside: int,
                    scheme: str) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    pixels, weights = bilinear_interpolation_weights(
        phi * u.deg, (90.0 - theta) * u.deg, nside, order=scheme)
    return np.asarray(pixels, dtype=np.int64), np.asarray(weights, dtype=float)


def dwell_time_map(
    orientation: Orientation,
    lon: float,
    lat: float,
    *,
    nside: int,
    scheme: str = "ring",
    livetime: bool = False,
) -> NDArray[np.float64]:
    """Time (s) the source spends in each instrument-frame HEALPix pixel.

    Parameters
    ----------
    orientation : `bayesbg.cosi.io.Orientation`
        Attitude samples; interval i runs from sample i to i + 1.
    lon, lat : float
        Galactic longitude and latitude of the source, deg.
    nside : int
        HEALPix resolution (the response's NuLambda axis).
    scheme : str
        ``ring`` or ``nested``. Default is ``ring``.
    livetime : bool
        Weight intervals by the file's ``livetime`` column instead of the time
        difference. Default is False (cosipy's ``get_dwell_map``).

    Returns
    -------
    dwell : `numpy.ndarray`, shape (12 nside^2,)
        Seconds per pixel; sums to the total duration.
    """
    durations = _durations(orientation, livetime)
    theta, phi = orientation.to_local(lon, lat)
    pixels, weights = _interp_weights(theta[:-1], phi[:-1], nside, scheme)
    dwell = np.zeros(12 * nside**2)
    np.add.at(dwell, pixels.ravel(), (weights * durations[None, :]).ravel())
    return dwell


@dataclass(frozen=True)
class PointSourceResponse:
    """Exposure of one sky position per true-energy bin and data bin.

    Attributes
    ----------
    exposure : `numpy.ndarray`, shape (n_Ei, n_Em, n_Phi, n_PsiChi)
        cm2 s; expected counts per unit photon flux (ph cm-2 s-1) in each true-energy
        bin.
    energy_true_edges, energy_edges : `numpy.ndarray`
        Ei and Em bin edges, keV.
    phi_edges : `numpy.ndarray`
        Compton-angle bin edges, deg.
    psi_chi_nside : int
        HEALPix resolution of PsiChi.
    coordsys : str
        Frame of PsiChi: ``spacecraftframe`` or ``galactic``.
    lon, lat : float
        Galactic position of the source, deg.
    duration : float
        Total time summed over, s.
    """

    exposure: NDArray[np.float64]
    energy_true_edges: NDArray[np.float64]
    energy_edges: NDArray[np.float64]
    phi_edges: NDArray[np.float64]
    psi_chi_nside: int
    coordsys: str
    lon: float
    lat: float
    duration: float

    def __post_init__(self) -> None:
        shape = (self.energy_true_edges.size - 1, self.energy_edges.size - 1,
                 self.phi_edges.size - 1, 12 * self.psi_chi_nside**2)
        if self.exposure.shape != shape:
            raise ValueError(f"exposure: expected shape {shape}, found {self.exposure.shape}")

    @property
    def n_energy_true(self) -> int:
        """Number of true-energy bins."""
        return int(self.exposure.shape[0])

    def expected_counts(self, bin_flux: ArrayLike) -> NDArray[np.float64]:
        """Counts per (Em, Phi, PsiChi) bin for photon fluxes per true-energy bin.

        Parameters
        ----------
        bin_flux : array_like, shape (n_Ei,)
            ph cm-2 s-1 in each true-energy bin (the spectrum integrated over the bin).
        """
        flux = np.asarray(bin_flux, dtype=float)
        if flux.shape != (self.n_energy_true,):
            raise ValueError(f"bin_flux: expected shape ({self.n_energy_true},), found "
                             f"{flux.shape}")
        return np.tensordot(flux, self.exposure, axes=(0, 0))

    def effective_area(self) -> NDArray[np.float64]:
        """Time-averaged effective area per true-energy bin, cm2 (summed over data bins)."""
        return self.exposure.sum(axis=(1, 2, 3)) / self.duration


def point_source_response(
    response: DetectorResponse,
    orientation: Orientation,
    lon: float,
    lat: float,
    *,
    coordsys: str = "spacecraftframe",
    livetime: bool = False,
) -> PointSourceResponse:
    """Point-source response for a sky position over an orientation history.

    Parameters
    ----------
    response : `bayesbg.cosi.io.DetectorResponse`
        Full detector response (instrument frame).
    orientation : `bayesbg.cosi.io.Orientation`
        Attitude history; interval i (sample i to i + 1) uses sample i's attitude.
    lon, lat : float
        Galactic longitude and latitude of the source, deg.
    coordsys : str
        Frame of the data's PsiChi axis: ``spacecraftframe`` (no rotation; the dwell-time
        map times the response) or ``galactic`` (PsiChi rotated per sample). Default
        ``spacecraftframe``.
    livetime : bool
        Use the orientation file's livetime column as interval durations. Default False.

    Returns
    -------
    psr : `PointSourceResponse`
    """
    if coordsys not in COORDSYS:
        raise ValueError(f"coordsys: expected one of {COORDSYS}, found {coordsys!r}")
    if not (np.isfinite(lon) and np.isfinite(lat) and -90.0 <= lat <= 90.0):
        raise ValueError(f"lon, lat: expected finite Galactic deg with |lat| <= 90, found "
                         f"({lon}, {lat})")
    psi_axis = response.axis("PsiChi")
    assert psi_axis.nside is not None
    if coordsys == "spacecraftframe":
        dwell = dwell_time_map(orientation, lon, lat, nside=response.nside,
                               scheme=response.scheme, livetime=livetime)
        exposure = np.tensordot(dwell, response.area, axes=(0, 0))
        duration = float(dwell.sum())
    else:
        exposure, duration = _galactic_exposure(response, orientation, lon, lat, livetime)
    return PointSourceResponse(
        exposure=exposure,
        energy_true_edges=response.axis("Ei").edges,
        energy_edges=response.axis("Em").edges,
        phi_edges=response.axis("Phi").edges,
        psi_chi_nside=psi_axis.nside,
        coordsys=coordsys,
        lon=float(lon),
        lat=float(lat),
        duration=duration,
    )


def _galactic_exposure(response: DetectorResponse, orientation: Orientation, lon: float,
                       lat: float, livetime: bool) -> tuple[NDArray[np.float64], float]:
    """Sum over samples of dt * response at the source, PsiChi rotated to Galactic."""
    durations = _durations(orientation, livetime)
    theta, phi = orientation.to_local(lon, lat)
    pixels, weights = _interp_weights(theta[:-1], phi[:-1], response.nside, response.scheme)
    psi_axis = response.axis("PsiChi")
    nside, scheme = psi_axis.nside, (psi_axis.scheme or "ring")
    assert nside is not None
    glon, glat = healpix_to_lonlat(np.arange(12 * nside**2), nside, order=scheme)
    centres = lonlat_to_vectors(glon.to_value(u.deg), glat.to_value(u.deg))  # (npix, 3)
    rotation = orientation.rotation_matrices()  # galactic = R @ local
    exposure = np.zeros(response.area.shape[1:])
    for i, dt in enumerate(durations):
        if dt <= 0:
            continue
        local = np.tensordot(weights[:, i], response.area[pixels[:, i]], axes=(0, 0))
        local_dirs = centres @ rotation[i]  # R^T g for each Galactic pixel centre
        llon = np.degrees(np.arctan2(local_dirs[:, 1], local_dirs[:, 0]))
        llat = np.degrees(np.arcsin(np.clip(local_dirs[:, 2], -1.0, 1.0)))
        index = lonlat_to_healpix(llon * u.deg, llat * u.deg, nside, order=scheme)
        exposure += dt * local[..., np.asarray(index)]
    return exposure, float(np.sum(durations))
