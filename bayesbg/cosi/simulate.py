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
from typing import Any

import astropy.units as u
import astropy_healpix as ahp
import numpy as np
from astropy.coordinates import SkyCoord
from numpy.typing import NDArray
from scipy import sparse

from bayesbg.cosi.data import CosiDataset
from bayesbg.cosi.response import (
    compton_response,
    convolve_sky,
    effective_area,
    psi_chi_grid,
    unit_vectors,
)

__all__ = ["balloon_aspect", "gaussian_sky", "point_source_sky", "simulate_cosi"]

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
        bin (expected), ``change_points`` (time-bin indices where a jump starts).

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

    n_phi = max(1, round(180.0 / bin_size))
    phi_edges = np.linspace(0.0, 180.0, n_phi + 1)
    centres, _ = psi_chi_grid(bin_size)
    n_psi_chi = len(centres)

    grid = ahp.HEALPix(nside=instrument_nside, order="ring")
    grid_lon, grid_lat = grid.healpix_to_lonlat(np.arange(grid.npix))
    source_vectors = unit_vectors(90.0 - grid_lat.to_value(u.deg), grid_lon.to_value(u.deg))
    in_view = source_vectors[:, 2] > -0.2  # some below the horizon catch bilinear weights
    column = np.full(grid.npix, -1)
    column[in_view] = np.arange(in_view.sum())
    response = compton_response(phi_edges, centres, source_vectors[in_view],
                                resolution=resolution)

    aspect = balloon_aspect(n_time, generator, substeps=substeps)
    if sky == "bulge":
        points, fraction = gaussian_sky(sigma_l=sigma, sigma_b=sigma, lon=source_lon,
                                        lat=source_lat, nside=sky_nside)
    else:
        points, fraction = point_source_sky(source_lon, source_lat)
    exposure = _exposure(points, fraction, aspect, column, grid.nside, n_time=n_time,
                         substeps=substeps, area=area)
    template = convolve_sky(response, exposure)
    template_name = "bulge" if sky == "bulge" else "point_source"

    altitude = aspect["altitude"].reshape(n_time, substeps).mean(axis=1)
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
    }
    log.info("simulated %d x %d bins: %d non-zero, %.0f sky and %.0f background counts "
             "expected", n_time, dataset.n_data_bin, dataset.n_nonzero, sky_time.sum(),
             background_time.sum())
    return dataset, truth


def _equatorial_to_galactic() -> NDArray[np.float64]:
    """Rotation matrix taking ICRS unit vectors to Galactic ones (astropy's frames)."""
    basis = SkyCoord(ra=[0.0, 90.0, 0.0] * u.deg, dec=[0.0, 0.0, 90.0] * u.deg, frame="icrs")
    return np.asarray(basis.galactic.cartesian.xyz.value)  # column i: image of ICRS axis i


def _exposure(
    points: NDArray[np.float64],
    fraction: NDArray[np.float64],
    aspect: dict[str, NDArray[np.float64]],
    column: NDArray[np.int64],
    nside: int,
    *,
    n_time: int,
    substeps: int,
    area: float,
) -> NDArray[np.float64]:
    """Exposure ``W[s, t]`` (cm2 s per unit template flux) on the instrument HEALPix grid."""
    n_source = int(column.max()) + 1
    rotation = aspect["rotation"]  # (n_step, 3, 3) instrument -> Galactic
    local = np.einsum("kji,pj->kpi", rotation, points)  # Galactic -> instrument
    zenith = np.degrees(np.arccos(np.clip(local[..., 2], -1.0, 1.0)))
    weight = effective_area(zenith, aspect["altitude"][:, None], area=area)
    weight *= fraction[None, :] * (_HOUR / substeps)
    visible = weight > 0
    step, _ = np.nonzero(visible)
    # longitudes in [0, 2 pi): astropy-healpix 2.0.1 returns infinite weights for some
    # negative ones at ring boundaries
    lon = np.mod(np.arctan2(local[..., 1], local[..., 0])[visible], 2 * np.pi)
    lat = np.arcsin(np.clip(local[..., 2], -1.0, 1.0))[visible]
    index, share = ahp.bilinear_interpolation_weights(lon * u.rad, lat * u.rad, nside=nside,
                                                      order="ring")
    broken = ~np.all(np.isfinite(share), axis=0)
    if broken.any():  # fall back to the nearest pixel
        nearest = ahp.lonlat_to_healpix(lon[broken] * u.rad, lat[broken] * u.rad, nside=nside,
                                        order="ring")
        index[:, broken] = nearest[None, :]
        share[:, broken] = 0.25
    target = column[index]  # (4, n_visible)
    time = np.broadcast_to(step // substeps, target.shape)
    value = share * weight[visible][None, :]
    keep = target >= 0
    flat = target[keep] * n_time + time[keep]
    exposure = np.bincount(flat, weights=value[keep], minlength=n_source * n_time)
    return exposure.reshape(n_source, n_time)


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
