"""Direction grids of the Compton data space (docs/cosi_io.md, "Binning").

- :func:`fisbel_grid`: MEGAlib's FISBEL equal-area layout of the 2016 analyses (COSIpy);
  1145 bins for 6 deg, 1650 for 5 deg;
- the ring layout of :func:`bayesbg.cosi.response.psi_chi_grid` (1144 bins at 6 deg);
- :class:`HealpixGrid`: HEALPix, RING ordering, ``lon = chi``, ``lat = 90 - psi``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["HealpixGrid", "RingGrid", "fisbel_grid", "psi_chi_layout"]


@dataclass(frozen=True)
class RingGrid:
    """A sphere cut into rings of polar angle, each cut into equal azimuth bins from 0.

    Parameters
    ----------
    psi_edges : array, shape (n_ring + 1,)
        Ring edges in polar angle, deg, from 0 to 180.
    n_chi : array of int, shape (n_ring,)
        Azimuth bins per ring. Bins are numbered ring by ring from psi = 0, then by
        azimuth from chi = 0.
    name : str
        Layout name stored in binned files.
    """

    psi_edges: NDArray[np.float64]
    n_chi: NDArray[np.int64]
    name: str = "ring"

    @property
    def n_bin(self) -> int:
        """Number of bins."""
        return int(self.n_chi.sum())

    @property
    def first_bin(self) -> NDArray[np.int64]:
        """Index of the first bin of each ring."""
        return np.concatenate([[0], np.cumsum(self.n_chi)[:-1]]).astype(np.int64)

    @property
    def edges(self) -> NDArray[np.float64]:
        """(psi_min, psi_max, chi_min, chi_max) of each bin, deg, shape (n_bin, 4)."""
        rows = []
        for ring, count in enumerate(self.n_chi):
            chi = np.linspace(0.0, 360.0, int(count) + 1)
            rows.append(np.column_stack([np.full(count, self.psi_edges[ring]),
                                         np.full(count, self.psi_edges[ring + 1]),
                                         chi[:-1], chi[1:]]))
        return np.concatenate(rows)

    @property
    def centres(self) -> NDArray[np.float64]:
        """(psi, chi) of each bin centre (mean of the edges, as COSIpy), deg, (n_bin, 2)."""
        e = self.edges
        return np.column_stack([(e[:, 0] + e[:, 1]) / 2, (e[:, 2] + e[:, 3]) / 2])

    def index(self, psi: ArrayLike, chi: ArrayLike) -> NDArray[np.int64]:
        """Bin of each direction (psi polar, chi azimuth, deg)."""
        psi = np.asarray(psi, dtype=float)
        chi = np.mod(np.asarray(chi, dtype=float), 360.0)
        ring = np.clip(np.searchsorted(self.psi_edges, psi, side="right") - 1, 0,
                       self.n_chi.size - 1)
        count = self.n_chi[ring]
        azimuth = np.minimum((chi / 360.0 * count).astype(np.int64), count - 1)
        return self.first_bin[ring] + azimuth


def fisbel_grid(n_bins: int) -> RingGrid:
    """MEGAlib's FISBEL layout: ~``n_bins`` equal-area bins, squarish at the equator.

    Rings (collars) of nearly equal width; one circular cap at each pole of area
    ``4 pi / n_bins``; each further ring from the poles inwards gets the integer number of
    bins closest to its nominal area over the bin area, its edge then moved so the bins
    keep that area (MEGAlib ``MBinnerFISBEL``, COSIpy ``FISBEL``).

    Parameters
    ----------
    n_bins : int
        Requested number of bins, e.g. ``int(4 pi / (6 deg)^2) = 1145``.

    Returns
    -------
    grid : `RingGrid`
    """
    if n_bins < 1:
        raise ValueError(f"n_bins: expected a positive integer, found {n_bins}")
    if n_bins == 1:
        return RingGrid(np.array([0.0, 180.0]), np.array([1]), "fisbel")
    area = 4 * np.pi / n_bins
    side = np.sqrt(area)
    n_ring = int(np.pi / side - 1 + 0.5) + 2
    edges = np.zeros(n_ring + 1)
    counts = np.zeros(n_ring, dtype=np.int64)
    edges[n_ring] = np.pi
    counts[0] = counts[-1] = 1
    edges[1] = np.arccos(1 - 2.0 / n_bins)
    edges[n_ring - 1] = np.pi - edges[1]
    for ring in range(1, math.ceil(n_ring / 2)):
        free = edges[n_ring - ring] - edges[ring]
        guess = edges[ring] + free / (n_ring - 2 * ring)
        count = int(2 * np.pi * (np.cos(edges[ring]) - np.cos(guess)) / area + 0.5)
        edge = np.arccos(np.cos(edges[ring]) - count * area / 2 / np.pi)
        counts[ring] = counts[n_ring - ring - 1] = count
        if ring != n_ring / 2:
            edges[ring + 1] = edge
            edges[n_ring - ring - 1] = np.pi - edge
    return RingGrid(np.degrees(edges), counts, "fisbel")


def _ring_grid_from_bayesbg(bin_size: float) -> RingGrid:
    from bayesbg.cosi.response import psi_chi_grid

    _, edges = psi_chi_grid(bin_size)
    psi = np.unique(np.concatenate([edges[:, 0], edges[:, 1]]))
    counts = np.array([np.sum(edges[:, 0] == low) for low in psi[:-1]])
    return RingGrid(psi, counts, "bayesbg")


@dataclass(frozen=True)
class HealpixGrid:
    """HEALPix directions (RING ordering): ``lon = chi``, ``lat = 90 - psi``."""

    nside: int
    name: str = "healpix"

    @property
    def _healpix(self) -> Any:
        from astropy_healpix import HEALPix

        return HEALPix(nside=self.nside, order="ring")

    @property
    def n_bin(self) -> int:
        """Number of pixels, 12 nside^2."""
        return 12 * self.nside**2

    @property
    def centres(self) -> NDArray[np.float64]:
        """(psi, chi) of each pixel centre, deg."""
        import astropy.units as u

        lon, lat = self._healpix.healpix_to_lonlat(np.arange(self.n_bin))
        return np.column_stack([90.0 - lat.to_value(u.deg), lon.to_value(u.deg)])

    def index(self, psi: ArrayLike, chi: ArrayLike) -> NDArray[np.int64]:
        """Pixel of each direction (psi polar, chi azimuth, deg)."""
        import astropy.units as u

        lat = 90.0 - np.asarray(psi, dtype=float)
        return np.asarray(self._healpix.lonlat_to_healpix(
            np.asarray(chi, dtype=float) * u.deg, lat * u.deg), dtype=np.int64)


def psi_chi_layout(name: str, *, bin_size: float = 6.0, nside: int = 16
                   ) -> RingGrid | HealpixGrid:
    """The direction grid of a layout name: ``"fisbel"``, ``"bayesbg"`` or ``"healpix"``."""
    if name == "fisbel":
        return fisbel_grid(int(4 * np.pi / np.radians(bin_size) ** 2))
    if name == "bayesbg":
        return _ring_grid_from_bayesbg(bin_size)
    if name == "healpix":
        if nside < 1 or nside & (nside - 1):
            raise ValueError(f"nside: expected a power of 2, found {nside}")
        return HealpixGrid(nside)
    raise ValueError(f"psi_chi: expected 'fisbel', 'bayesbg' or 'healpix', found {name!r}")


