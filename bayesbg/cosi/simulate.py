"""Simulated COSI balloon data of the [COSI-511] design, with known truth (``docs/cosi.md``).

A zenith-pointing balloon drifts north-east across the southern hemisphere for
``n_time`` one-hour bins, turning slowly during the day (a rotator follows the Sun) and
freely at night, when the altitude drops from about 33 km to as low as 22 km. The sky, a
2D Gaussian 511 keV bulge at the Galactic centre or a point source, is sampled on a
HEALPix grid (`astropy_healpix`), carried into instrument coordinates for four
sub-pointings per hour, weighted with the zenith- and altitude-dependent effective area
(:func:`bayesbg.cosi.response.effective_area`), pushed onto an instrument-frame HEALPix
grid with bilinear weights and convolved with the toy Compton response
(:func:`bayesbg.cosi.response.compton_response`) into the template ``S[t, c]``.

The background has a time-constant data-space shape ``Bhat[c]`` and a rate that rises
as the altitude drops, drifts slowly, and jumps at a few change points that the tracers
do not see; its total is ``background_to_sky`` times the sky counts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import astropy.units as u
import astropy_healpix as ahp
import numpy as np
from astropy.coordinates import SkyCoord
from numpy.typing import ArrayLike, NDArray
from scipy import sparse

from bayesbg.cosi.data import CosiDataset
from bayesbg.cosi.response import (
    compton_response,
    convolve_sky,
    effective_area,
    psi_chi_grid,
    unit_vectors,
)

__all__ = [
    "BalloonObservation",
    "balloon_aspect",
    "gaussian_sky",
    "instrument_grid",
    "point_source_sky",
    "simulate_cosi",
    "simulated_observation",
]

log = logging.getLogger(__name__)

_START_JD = 2457547.5  # 2016-06-08 00:00 UTC, in the second half of the COSI 2016 flight
_HOUR = 3600.0  # s


def gaussian_sky(
    *, sigma_l: float = 10.0, sigma_b: float = 10.0, lon: float = 0.0, lat: float = 0.0,
    nside: int = 32,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """A 2D Gaussian on a Galactic HEALPix grid, as sky points with fluxes summing to 1.

    ``I(l, b) ~ exp(-l^2 / (2 sigma_l^2) - b^2 / (2 sigma_b^2))`` about (lon, lat)
    ([COSI-511] eq. 13); pixels below 1e-4 of the peak are dropped.

    Parameters
    ----------
    sigma_l, sigma_b : float
        Widths in longitude and latitude, deg. Default is 10 each.
    lon, lat : float
        Centre, deg. Default is the Galactic centre.
    nside : int
        HEALPix resolution (ring order). Default is 32 (1.8 deg pixels).

    Returns
    -------
    vectors : `numpy.ndarray`, shape (n_point, 3)
        Galactic unit vectors of the pixel centres.
    flux : `numpy.ndarray`, shape (n_point,)
        Fraction of the flux per pixel.
    """
    grid = ahp.HEALPix(nside=nside, order="ring", frame="galactic")
    pixel_lon, pixel_lat = grid.healpix_to_lonlat(np.arange(grid.npix))
    dl = (pixel_lon.to_value(u.deg) - lon + 180.0) % 360.0 - 180.0
    db = pixel_lat.to_value(u.deg) - lat
    intensity = np.exp(-0.5 * ((dl / sigma_l) ** 2 + (db / sigma_b) ** 2))
    keep = intensity > 1e-4
    vectors = unit_vectors(90.0 - pixel_lat.to_value(u.deg)[keep], pixel_lon.to_value(u.deg)[keep])
    return vectors, intensity[keep] / intensity[keep].sum()


def point_source_sky(lon: float, lat: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """A point source at Galactic (lon, lat) deg, as one sky point of flux fraction 1."""
    return unit_vectors([90.0 - lat], [lon]), np.array([1.0])


def balloon_aspect(
    n_time: int, rng: np.random.Generator, *, substeps: int = 4,
) -> dict[str, NDArray[np.float64]]:
    """Aspect and altitude of a drifting, rotating, zenith-pointing balloon.

    The payload drifts from 45 to 20 deg south and 8 deg per day east; local night
    (18-6 h local solar time) brings an altitude drop of random depth (2-11 km below
    33.3 km, so down to about 22 km); the instrument azimuth turns at 15 deg per hour
    in daytime and random-walks (25 deg per sub-pointing) at night.

    Parameters
    ----------
    n_time : int
        One-hour time bins.
    rng : `numpy.random.Generator`
    substeps : int
        Pointings per hour. Default is 4.

    Returns
    -------
    aspect : dict
        ``rotation`` (n_time * substeps, 3, 3): instrument -> Galactic unit vectors;
        ``altitude`` (n_time * substeps,) km; ``night`` (n_time * substeps,) bool.
    """
    n_step = n_time * substeps
    hours = (np.arange(n_step) + 0.5) / substeps
    days = hours / 24.0
    latitude = -45.0 + 25.0 * days / max(days[-1], 1.0)
    longitude = (170.0 + 8.0 * days) % 360.0
    local = (hours + longitude / 15.0) % 24.0
    since_sunset = (local - 18.0) % 24.0
    night = since_sunset < 12.0
    night_id = np.floor((hours + longitude / 15.0 - 18.0) / 24.0).astype(int)
    depth = rng.uniform(2.0, 11.0, size=night_id.max() - night_id.min() + 1)[
        night_id - night_id.min()
    ]
    altitude = 33.3 - np.where(night, depth * np.sin(np.pi * since_sunset / 12.0), 0.0)
    altitude += 0.1 * rng.standard_normal(n_step)
    altitude = np.clip(altitude, 22.0, 34.0)
    turn = np.where(night, rng.normal(0.0, 25.0, n_step), 15.0 / substeps)
    azimuth = np.radians(30.0 + np.cumsum(turn))

    gmst = 280.46061837 + 360.98564736629 * (_START_JD + days - 2451545.0)
    ra = np.radians(gmst + longitude)
    dec = np.radians(latitude)
    zenith = np.stack([np.cos(dec) * np.cos(ra), np.cos(dec) * np.sin(ra), np.sin(dec)], -1)
    east = np.stack([-np.sin(ra), np.cos(ra), np.zeros_like(ra)], -1)
    north = np.cross(zenith, east)
    x_axis = np.cos(azimuth)[:, None] * north + np.sin(azimuth)[:, None] * east
    y_axis = np.cross(zenith, x_axis)
    to_equatorial = np.stack([x_axis, y_axis, zenith], axis=-1)  # columns: instrument axes
    rotation = _equatorial_to_galactic() @ to_equatorial
    return {"rotation": rotation, "altitude": altitude, "night": night}


def instrument_grid(nside: int) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Instrument-frame source directions in view and the response column of each pixel.

    The instrument-frame HEALPix grid (ring order) of the toy response: pixels with
    ``z > -0.2`` are in view (some below the horizon catch bilinear weights).

    Parameters
    ----------
    nside : int
        HEALPix resolution of the instrument-frame grid.

    Returns
    -------
    sources : `numpy.ndarray`, shape (n_source, 3)
        Instrument-frame unit vectors of the pixels in view.
    column : `numpy.ndarray` of int, shape (n_pixel,)
        Response column of each pixel, -1 if not in view.
    """
    grid = ahp.HEALPix(nside=nside, order="ring")
    grid_lon, grid_lat = grid.healpix_to_lonlat(np.arange(grid.npix))
    vectors = unit_vectors(90.0 - grid_lat.to_value(u.deg), grid_lon.to_value(u.deg))
    in_view = vectors[:, 2] > -0.2
    column = np.full(grid.npix, -1)
    column[in_view] = np.arange(in_view.sum())
    return vectors[in_view], column


@dataclass(frozen=True, eq=False)
class BalloonObservation:
    """The (simulated or real) instrument: aspect per sub-pointing and response settings.

    One description shared by :func:`simulate_cosi`, the template-width scan
    (:class:`bayesbg.cosi.scan_template.TemplateBuilder`) and the imaging response
    (:mod:`bayesbg.cosi.imaging`), so that all three compute the exposure the same way.
    Build it with :func:`simulated_observation` (the aspect of ``simulate_cosi(seed)``)
    or, for real data, from an orientation file
    (:meth:`bayesbg.cosi.imaging.Pointing.from_orientation`).

    Parameters
    ----------
    rotation : array_like, shape (n_step, 3, 3)
        Instrument -> Galactic rotation per sub-pointing (columns: the instrument x, y, z
        axes in Galactic cartesian coordinates).
    altitude : array_like, shape (n_step,)
        Altitude, km.
    live_time : array_like, shape (n_step,)
        Live time of each sub-pointing, s.
    time_bin : array_like of int, shape (n_step,)
        0-based time bin of each sub-pointing.
    n_time : int
        Time bins of the dataset (>= largest ``time_bin`` + 1).
    bin_size : float
        Size of the phi and (psi, chi) bins of the toy response, deg. Default is 6.
    instrument_nside : int
        HEALPix resolution of the instrument-frame source grid. Default is 16.
    resolution : float
        Scatter-angle resolution (Gaussian sigma), deg. Default is 2.5.
    area : float
        Geometric on-axis area, cm2. Default is 50.
    substeps : int or None
        Sub-pointings per time bin when regular (simulations), else None.
    """

    rotation: NDArray[np.float64]
    altitude: NDArray[np.float64]
    live_time: NDArray[np.float64]
    time_bin: NDArray[np.int64]
    n_time: int
    bin_size: float = 6.0
    instrument_nside: int = 16
    resolution: float = 2.5
    area: float = 50.0
    substeps: int | None = None

    def __post_init__(self) -> None:
        rotation = np.asarray(self.rotation, dtype=np.float64)
        if rotation.ndim != 3 or rotation.shape[1:] != (3, 3):
            raise ValueError(f"rotation: expected shape (n_step, 3, 3), found {rotation.shape}")
        n_step = rotation.shape[0]
        values = {}
        for name in ("altitude", "live_time"):
            array = np.asarray(getattr(self, name), dtype=np.float64)
            if array.shape != (n_step,) or not np.all(np.isfinite(array)):
                raise ValueError(f"{name}: expected {n_step} finite values, found shape "
                                 f"{array.shape}")
            values[name] = array
        if np.any(values["live_time"] < 0):
            raise ValueError("live_time: expected non-negative seconds, found negatives")
        time_bin = np.asarray(self.time_bin)
        if time_bin.shape != (n_step,) or time_bin.dtype.kind not in "iu":
            raise ValueError(f"time_bin: expected {n_step} integers, found shape "
                             f"{time_bin.shape} of {time_bin.dtype}")
        n_time = self.n_time
        if isinstance(n_time, bool) or not isinstance(n_time, int | np.integer) or n_time < 1:
            raise ValueError(f"n_time: expected a positive integer, found {n_time!r}")
        if n_step and (time_bin.min() < 0 or time_bin.max() >= n_time):
            raise ValueError(f"time_bin: expected values in [0, {n_time}), found "
                             f"[{time_bin.min()}, {time_bin.max()}]")
        nside = self.instrument_nside
        if isinstance(nside, bool) or not isinstance(nside, int | np.integer) or nside < 1 \
                or nside & (nside - 1):
            raise ValueError(f"instrument_nside: expected a power of 2, found {nside!r}")
        for name in ("bin_size", "resolution", "area"):
            value = getattr(self, name)
            if not np.isfinite(value) or value <= 0:
                raise ValueError(f"{name}: expected a positive number, found {value!r}")
        object.__setattr__(self, "rotation", rotation)
        object.__setattr__(self, "altitude", values["altitude"])
        object.__setattr__(self, "live_time", values["live_time"])
        object.__setattr__(self, "time_bin", time_bin.astype(np.int64))
        object.__setattr__(self, "n_time", int(n_time))
        object.__setattr__(self, "instrument_nside", int(nside))

    @property
    def n_step(self) -> int:
        """Number of sub-pointings."""
        return int(self.rotation.shape[0])

    @property
    def phi_edges(self) -> NDArray[np.float64]:
        """Compton scatter-angle bin edges of the toy response, deg."""
        n_phi = max(1, round(180.0 / self.bin_size))
        return np.linspace(0.0, 180.0, n_phi + 1)

    @property
    def psi_chi_centres(self) -> NDArray[np.float64]:
        """(psi, chi) bin centres of the toy response, deg, shape (n_psi_chi, 2)."""
        return psi_chi_grid(self.bin_size)[0]

    def instrument_grid(self) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
        """Source directions in view and column per pixel (:func:`instrument_grid`)."""
        return instrument_grid(self.instrument_nside)

    def detector_response(
        self,
        phi_edges: NDArray[np.float64] | None = None,
        psi_chi_centres: NDArray[np.float64] | None = None,
        *,
        energy: float = 511.0,
    ) -> sparse.csr_array:
        """Toy Compton response ``R_det[c, s]`` on the instrument grid.

        Parameters
        ----------
        phi_edges, psi_chi_centres : `numpy.ndarray`, optional
            Data-space binning, deg; default :attr:`phi_edges` and :attr:`psi_chi_centres`
            (a dataset's own binning for real data).
        energy : float
            Photon energy, keV. Default is 511.

        Returns
        -------
        response : `scipy.sparse.csr_array`, shape (n_data_bin, n_source)
        """
        sources, _ = self.instrument_grid()
        return sparse.csr_array(compton_response(
            self.phi_edges if phi_edges is None else phi_edges,
            self.psi_chi_centres if psi_chi_centres is None else psi_chi_centres,
            sources, resolution=self.resolution, energy=energy))

    def zenith(self) -> NDArray[np.float64]:
        """Live-time weighted mean instrument z axis per time bin (Galactic unit vectors).

        Returns
        -------
        zenith : `numpy.ndarray`, shape (n_time, 3)
            NaN for time bins without live time.
        """
        total = np.zeros((self.n_time, 3))
        for axis in range(3):
            total[:, axis] = np.bincount(self.time_bin, self.rotation[:, axis, 2] * self.live_time,
                                         minlength=self.n_time)
        norm = np.linalg.norm(total, axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(norm > 0, total / norm, np.nan)

    def _project(
        self, step: slice, points: NDArray[np.float64], fraction: NDArray[np.float64] | None,
        column: NDArray[np.int64],
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
        """Sky points seen in sub-pointings ``step``: bilinear instrument-pixel weights.

        Returns the sub-pointing (relative to ``step``) and point of each visible pair and,
        shape (4, n_visible), the response column (-1: not in view) and the exposure
        (effective area x flux fraction x live time, cm2 s).
        """
        rotation = self.rotation[step]
        local = np.einsum("kji,pj->kpi", rotation, points)  # Galactic -> instrument
        zenith = np.degrees(np.arccos(np.clip(local[..., 2], -1.0, 1.0)))
        weight = effective_area(zenith, self.altitude[step][:, None], area=self.area)
        live = self.live_time[step][:, None]
        weight *= live if fraction is None else fraction[None, :] * live
        visible = weight > 0
        which_step, which_point = np.nonzero(visible)
        # longitudes in [0, 2 pi): astropy-healpix 2.0.1 returns infinite weights for some
        # negative ones at ring boundaries
        lon = np.mod(np.arctan2(local[..., 1], local[..., 0])[visible], 2 * np.pi)
        lat = np.arcsin(np.clip(local[..., 2], -1.0, 1.0))[visible]
        nside = self.instrument_nside
        index, share = ahp.bilinear_interpolation_weights(lon * u.rad, lat * u.rad,
                                                          nside=nside, order="ring")
        broken = ~np.all(np.isfinite(share), axis=0)
        if broken.any():  # fall back to the nearest pixel
            nearest = ahp.lonlat_to_healpix(lon[broken] * u.rad, lat[broken] * u.rad,
                                            nside=nside, order="ring")
            index[:, broken] = nearest[None, :]
            share[:, broken] = 0.25
        return which_step, which_point, column[index], share * weight[visible][None, :]

    def exposure(self, points: ArrayLike, fraction: ArrayLike) -> NDArray[np.float64]:
        """Exposure ``W[s, t]`` of a sky model on the instrument grid, cm2 s per unit flux.

        Per sub-pointing each sky point is carried into instrument coordinates, weighted
        with the effective area (:func:`bayesbg.cosi.response.effective_area`), its flux
        fraction and the live time, and spread over the four nearest instrument pixels
        with bilinear weights (the nearest pixel where astropy-healpix returns non-finite
        weights). ``convolve_sky(detector_response(), W)`` is the template ``S[t, c]``.

        Parameters
        ----------
        points : array_like, shape (n_point, 3)
            Galactic unit vectors of the sky points.
        fraction : array_like, shape (n_point,)
            Fraction of the flux in each point.

        Returns
        -------
        exposure : `numpy.ndarray`, shape (n_source, n_time)
        """
        points = np.asarray(points, dtype=np.float64)
        fraction = np.asarray(fraction, dtype=np.float64)
        if points.ndim != 2 or points.shape[1] != 3 or fraction.shape != points.shape[:1]:
            raise ValueError(f"points, fraction: expected shapes (n, 3) and (n,), found "
                             f"{points.shape} and {fraction.shape}")
        _, column = self.instrument_grid()
        n_source = int(column.max()) + 1
        step, _, target, value = self._project(slice(None), points, fraction, column)
        time = np.broadcast_to(self.time_bin[step], target.shape)
        keep = target >= 0
        flat = target[keep] * self.n_time + time[keep]
        exposure = np.bincount(flat, weights=value[keep], minlength=n_source * self.n_time)
        return exposure.reshape(n_source, self.n_time)

    def pixel_exposure(self, sky_vectors: ArrayLike, *, chunk: int = 64) -> sparse.csr_array:
        """Exposure ``E[(s, t), j]`` of each sky pixel ``j`` (unit flux), cm2 s.

        :meth:`exposure` for every sky pixel at once, as a sparse matrix: row
        ``s * n_time + t`` (the layout of ``convolve_sky``'s exposure), column ``j``.

        Parameters
        ----------
        sky_vectors : array_like, shape (n_pixel, 3)
            Galactic unit vectors of the sky pixels.
        chunk : int
            Sub-pointings processed at once (memory ~ chunk x n_pixel x 100 bytes).

        Returns
        -------
        exposure : `scipy.sparse.csr_array`, shape (n_source * n_time, n_pixel)
        """
        points = np.asarray(sky_vectors, dtype=np.float64)
        if points.ndim != 2 or points.shape[1] != 3:
            raise ValueError(f"sky_vectors: expected shape (n_pixel, 3), found {points.shape}")
        _, column = self.instrument_grid()
        shape = ((int(column.max()) + 1) * self.n_time, points.shape[0])
        exposure = sparse.csr_array(shape)
        pieces = []
        for start in range(0, self.n_step, chunk):
            step = slice(start, min(start + chunk, self.n_step))
            which_step, pixel, target, value = self._project(step, points, None, column)
            time = np.broadcast_to(self.time_bin[step][which_step], target.shape)
            keep = target >= 0
            rows = target[keep] * self.n_time + time[keep]
            cols = np.broadcast_to(pixel, target.shape)[keep]
            pieces.append(sparse.coo_array((value[keep], (rows, cols)), shape=shape).tocsr())
        if pieces:
            exposure = pieces[0]
            for piece in pieces[1:]:
                exposure = exposure + piece
        exposure.sum_duplicates()
        return sparse.csr_array(exposure)


def simulated_observation(
    seed: int,
    *,
    n_time: int,
    bin_size: float = 6.0,
    instrument_nside: int = 16,
    resolution: float = 2.5,
    area: float = 50.0,
    substeps: int = 4,
) -> BalloonObservation:
    """The instrument of ``simulate_cosi(seed, ...)`` with the same keywords.

    ``simulate_cosi`` draws the aspect first from a fresh generator, so an integer seed
    fixes it.

    Parameters
    ----------
    seed : int
        The integer ``rng`` seed given to :func:`simulate_cosi`.
    n_time, bin_size, instrument_nside, resolution, area, substeps
        As in :func:`simulate_cosi`.

    Returns
    -------
    observation : `BalloonObservation`
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise TypeError(f"seed: expected the integer seed given to simulate_cosi, found "
                        f"{type(seed).__name__} (a Generator's state has moved on)")
    return _balloon_observation(np.random.default_rng(seed), n_time=n_time, bin_size=bin_size,
                                instrument_nside=instrument_nside, resolution=resolution,
                                area=area, substeps=substeps)


def _balloon_observation(
    rng: np.random.Generator, *, n_time: int, bin_size: float, instrument_nside: int,
    resolution: float, area: float, substeps: int,
) -> BalloonObservation:
    """Draw the aspect from ``rng`` (the first draws of ``simulate_cosi``)."""
    for name, value in (("n_time", n_time), ("substeps", substeps)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name}: expected a positive integer, found {value!r}")
    aspect = balloon_aspect(n_time, rng, substeps=substeps)
    n_step = n_time * substeps
    return BalloonObservation(
        rotation=aspect["rotation"], altitude=aspect["altitude"],
        live_time=np.full(n_step, _HOUR / substeps), time_bin=np.arange(n_step) // substeps,
        n_time=n_time, bin_size=bin_size, instrument_nside=instrument_nside,
        resolution=resolution, area=area, substeps=substeps)


def simulate_cosi(
    rng: np.random.Generator | int,
    *,
    n_time: int = 603,
    bin_size: float = 6.0,
    sky: str = "bulge",
    flux: float = 1e-3,
    sigma: float = 10.0,
    source_lon: float = 0.0,
    source_lat: float = 0.0,
    background_to_sky: float = 100.0,
    n_change_points: int = 3,
    instrument_nside: int = 16,
    sky_nside: int = 32,
    resolution: float = 2.5,
    area: float = 50.0,
    substeps: int = 4,
) -> tuple[CosiDataset, dict[str, Any]]:
    """Simulate binned COSI 511 keV data: one sky template plus an empirical-style background.

    Parameters
    ----------
    rng : `numpy.random.Generator` or int
        Random generator, or a seed for one.
    n_time : int
        One-hour time bins. Default is 603 ([COSI-511]).
    bin_size : float
        Size of the phi and (psi, chi) bins, deg: 6 gives 30 x 1,144 bins (the default),
        5 gives the [COSI-511] layout 36 x 1,652.
    sky : {"bulge", "point"}
        A 2D Gaussian of width ``sigma`` at (``source_lon``, ``source_lat``), or a point
        source there. Default is ``"bulge"`` at the Galactic centre.
    flux : float
        True sky flux, ph cm-2 s-1. Default is 1e-3.
    sigma : float
        Gaussian width (both axes), deg. Default is 10.
    source_lon, source_lat : float
        Galactic position of the source, deg. Default is (0, 0).
    background_to_sky : float
        Total background counts over total sky counts. Default is 100.
    n_change_points : int
        Jumps of the background rate (by 8-20 % up or down) missed by the tracers.
        Default is 3.
    instrument_nside, sky_nside : int
        HEALPix resolution of the instrument-frame source grid and of the sky model.
        Defaults are 16 and 32.
    resolution : float
        Scatter-angle resolution (Gaussian sigma), deg. Default is 2.5.
    area : float
        Geometric on-axis area, cm2. Default is 50.
    substeps : int
        Pointings per hour. Default is 4.

    Returns
    -------
    dataset : `CosiDataset`
        Counts, time edges, tracers ``photo_event_rate`` (counts s-1), ``shield_rate``
        (counts s-1) and ``inverse_altitude`` (km-1), altitude, the template (named
        ``"bulge"`` or ``"point_source"``) and the true background response.
    truth : dict
        ``flux`` (1,), ``template`` name, ``sky_counts`` and ``background_counts`` per time
        bin (expected), ``change_points`` (time-bin indices where a jump starts),
        ``observation`` (the instrument, :class:`BalloonObservation`; the same as
        ``simulated_observation(rng, ...)`` for an integer ``rng``).

    Examples
    --------
    >>> dataset, truth = simulate_cosi(1, n_time=24, bin_size=15.0, instrument_nside=8)
    >>> dataset.n_time, dataset.n_phi
    (24, 12)
    """
    generator = np.random.default_rng(rng)
    for name, value in (("n_time", n_time), ("substeps", substeps)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name}: expected a positive integer, found {value!r}")
    if sky not in ("bulge", "point"):
        raise ValueError(f"sky: expected 'bulge' or 'point', found {sky!r}")
    if not flux > 0 or not background_to_sky > 0:
        raise ValueError("flux, background_to_sky: expected positive numbers")
    if not 0 <= n_change_points < n_time // 4:
        raise ValueError(f"n_change_points: expected 0 to {n_time // 4 - 1}, "
                         f"found {n_change_points}")

    observation = _balloon_observation(generator, n_time=n_time, bin_size=bin_size,
                                       instrument_nside=instrument_nside,
                                       resolution=resolution, area=area, substeps=substeps)
    phi_edges = observation.phi_edges
    centres = observation.psi_chi_centres
    n_psi_chi = len(centres)
    if sky == "bulge":
        points, fraction = gaussian_sky(sigma_l=sigma, sigma_b=sigma, lon=source_lon,
                                        lat=source_lat, nside=sky_nside)
    else:
        points, fraction = point_source_sky(source_lon, source_lat)
    template = convolve_sky(observation.detector_response(), observation.exposure(points, fraction))
    template_name = "bulge" if sky == "bulge" else "point_source"

    altitude = observation.altitude.reshape(n_time, substeps).mean(axis=1)
    background_shape = _background_shape(phi_edges, centres, generator)
    hours = np.arange(n_time)
    base_rate = np.exp((33.0 - altitude) / 6.0) * (1.0 + 0.15 * np.sin(2 * np.pi * hours / 103.0))
    change_points = np.sort(generator.choice(
        np.arange(max(1, n_time // 20), n_time - max(1, n_time // 20)), n_change_points,
        replace=False,
    )) if n_change_points else np.array([], dtype=int)
    jumps = generator.uniform(1.08, 1.2, n_change_points) ** generator.choice([-1, 1],
                                                                              n_change_points)
    untracked = np.ones(n_time)
    for start, factor in zip(change_points, jumps, strict=True):
        untracked[start:] *= factor
    sky_time = flux * template.sum(axis=1, dtype=np.float64)
    scale = background_to_sky * sky_time.sum() / np.sum(base_rate * untracked)
    background_time = scale * base_rate * untracked

    expected = flux * template.astype(np.float64)
    expected += background_time[:, None] * background_shape[None, :]
    counts = generator.poisson(expected)
    del expected
    rows, cols = np.nonzero(counts)
    count_matrix = sparse.coo_array((counts[rows, cols], (rows, cols)), shape=counts.shape)
    del counts
    photo_events = generator.poisson(10.0 * scale * base_rate) / _HOUR
    shield = 4000.0 * base_rate**0.7 * (1.0 + 0.02 * generator.standard_normal(n_time))
    dataset = CosiDataset(
        counts=count_matrix,
        time_edges=_HOUR * np.arange(n_time + 1, dtype=np.float64),
        phi_edges=phi_edges,
        n_psi_chi=n_psi_chi,
        tracers={"photo_event_rate": photo_events, "shield_rate": shield,
                 "inverse_altitude": 1.0 / altitude},
        templates={template_name: template},
        background_response=background_shape,
        altitude=altitude,
        psi_chi_centres=centres,
    )
    truth = {
        "flux": np.array([flux]),
        "template": template_name,
        "sky_counts": sky_time,
        "background_counts": background_time,
        "change_points": change_points,
        "observation": observation,
    }
    log.info("simulated %d x %d bins: %d non-zero, %.0f sky and %.0f background counts "
             "expected", n_time, dataset.n_data_bin, dataset.n_nonzero, sky_time.sum(),
             background_time.sum())
    return dataset, truth


def _equatorial_to_galactic() -> NDArray[np.float64]:
    """Rotation matrix taking ICRS unit vectors to Galactic ones (astropy's frames)."""
    basis = SkyCoord(ra=[0.0, 90.0, 0.0] * u.deg, dec=[0.0, 0.0, 90.0] * u.deg, frame="icrs")
    return np.asarray(basis.galactic.cartesian.xyz.value)  # column i: image of ICRS axis i


def _background_shape(
    phi_edges: NDArray[np.float64], centres: NDArray[np.float64], rng: np.random.Generator,
) -> NDArray[np.float64]:
    """Toy background response ``Bhat[c]``: smooth in phi and psi times a lognormal texture."""
    phi = 0.5 * (phi_edges[:-1] + phi_edges[1:])
    in_phi = np.sin(np.radians(phi)) * np.exp(-(((phi - 45.0) / 50.0) ** 2))
    in_psi = 0.3 + np.cos(np.radians(centres[:, 0])) ** 2
    texture = rng.lognormal(0.0, 0.7, size=(phi.size, centres.shape[0]))
    shape = (in_phi[:, None] * in_psi[None, :] * texture).ravel()
    return shape / shape.sum()
