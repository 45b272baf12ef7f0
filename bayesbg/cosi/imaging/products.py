"""Products of a deconvolution: flux in a region, HEALPix FITS image cube.

The FITS file follows the HEALPix convention (a binary table with one column per map,
``PIXTYPE = 'HEALPIX'``, ``ORDERING = 'RING'``, ``COORDSYS = 'G'``, ``INDXSCHM =
'IMPLICIT'``), readable by healpy, astropy-healpix and mhealpy.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import astropy.units as u
import astropy_healpix as ahp
import numpy as np
from astropy.coordinates import Galactic, Latitude, Longitude
from astropy.io import fits
from numpy.typing import ArrayLike, NDArray

__all__ = ["RegionFlux", "healpix_fits_bytes", "pixel_lonlat", "read_healpix_fits",
           "region_flux"]


@dataclass(frozen=True)
class RegionFlux:
    """Flux summed over a sky region.

    Attributes
    ----------
    flux : float
        ph cm-2 s-1.
    pixels : tuple of int
        HEALPix pixels (ring order) of the region.
    centre : tuple of float
        (l, b) of the region centre, deg.
    description : str
        How the region was chosen.
    """

    flux: float
    pixels: tuple[int, ...]
    centre: tuple[float, float]
    description: str


def pixel_lonlat(nside: int, pixels: ArrayLike | None = None) -> tuple[NDArray, NDArray]:
    """Galactic (l, b) of pixel centres, deg (l in [0, 360))."""
    grid = ahp.HEALPix(nside=nside, order="ring", frame=Galactic())
    index = np.arange(grid.npix) if pixels is None else np.asarray(pixels)
    lon, lat = grid.healpix_to_lonlat(index)
    return lon.to_value(u.deg), lat.to_value(u.deg)


def region_flux(
    image: ArrayLike,
    nside: int,
    *,
    centre: tuple[float, float] | None = None,
    radius: float = 0.0,
) -> RegionFlux:
    """Flux in a disk, or in a pixel and its (up to 8) neighbours.

    Parameters
    ----------
    image : array_like, shape (12 nside^2,)
        ph cm-2 s-1 per pixel.
    nside : int
    centre : (l, b) deg, optional
        Region centre. Default: the brightest pixel.
    radius : float
        Disk radius, deg; 0 (default) takes the centre pixel and its neighbours
        ([COSI-PS]: the brightest pixel and its 8 neighbours).

    Returns
    -------
    region : `RegionFlux`
    """
    values = np.asarray(image, dtype=np.float64)
    if values.shape != (12 * nside**2,):
        raise ValueError(f"image: expected {12 * nside**2} pixels, found {values.shape}")
    if radius < 0:
        raise ValueError(f"radius: expected >= 0 deg, found {radius}")
    if centre is None:
        pixel = int(np.argmax(values))
        lon, lat = pixel_lonlat(nside, [pixel])
        centre = (float(lon[0]), float(lat[0]))
        how = "brightest pixel"
    else:
        pixel = int(ahp.lonlat_to_healpix(Longitude(centre[0] * u.deg),
                                          Latitude(centre[1] * u.deg), nside, order="ring"))
        how = f"(l, b) = ({centre[0]:.2f}, {centre[1]:.2f}) deg"
    if radius > 0:
        grid = ahp.HEALPix(nside=nside, order="ring")
        pixels = grid.cone_search_lonlat(Longitude(centre[0] * u.deg),
                                         Latitude(centre[1] * u.deg), radius * u.deg)
        how = f"disk of {radius:g} deg around {how}"
    else:
        around = ahp.neighbours(pixel, nside, order="ring")
        pixels = np.concatenate([[pixel], around[around >= 0]])
        how = f"{how} and its {int((around >= 0).sum())} neighbours"
    pixels = np.unique(pixels)
    return RegionFlux(float(values[pixels].sum()), tuple(int(p) for p in pixels),
                      (float(centre[0]), float(centre[1])), how)


def healpix_fits_bytes(
    maps: dict[str, ArrayLike],
    nside: int,
    *,
    units: dict[str, str] | None = None,
    header: dict[str, object] | None = None,
) -> bytes:
    """A HEALPix binary-table FITS file, one column per map, as bytes.

    Parameters
    ----------
    maps : dict of str to array_like, each shape (12 nside^2,)
        Column name -> map (ring order, Galactic).
    nside : int
    units : dict of str to str, optional
        Column name -> unit string.
    header : dict, optional
        Extra header cards (keys of at most 8 characters).

    Returns
    -------
    data : bytes
    """
    npix = 12 * nside**2
    units = units or {}
    columns = []
    for name, values in maps.items():
        array = np.asarray(values)
        if array.shape != (npix,):
            raise ValueError(f"maps[{name!r}]: expected {npix} pixels, found {array.shape}")
        fmt = "L" if array.dtype == bool else "D"
        columns.append(fits.Column(name=name, format=fmt, array=array,
                                   unit=units.get(name)))
    table = fits.BinTableHDU.from_columns(columns, name="SKYMAP")
    cards = {"PIXTYPE": "HEALPIX", "ORDERING": "RING", "NSIDE": nside, "FIRSTPIX": 0,
             "LASTPIX": npix - 1, "INDXSCHM": "IMPLICIT", "OBJECT": "FULLSKY",
             "COORDSYS": "G"}
    cards.update(header or {})
    for key, value in cards.items():
        table.header[key] = value
    stream = io.BytesIO()
    fits.HDUList([fits.PrimaryHDU(), table]).writeto(stream)
    return stream.getvalue()


def read_healpix_fits(path: str, columns: Sequence[str] | None = None) -> dict[str, NDArray]:
    """Read the maps of a file written with :func:`healpix_fits_bytes`."""
    with fits.open(path) as hdus:
        data = hdus["SKYMAP"].data
        names = columns or data.columns.names
        return {name: np.array(data[name]) for name in names}
