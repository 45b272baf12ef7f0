"""Files of the classic COSIpy analyses of the 2016 flight (docs/cosi_io.md, "Classic COSIpy
files").

- background response ``flight_bg_all_v1_fine_6deg.npz``: ``bg_response`` (energy, phi,
  psi-chi) with each energy slice normalised to 1, ``energy_bin_edges`` (keV) and
  ``n_bg_ph_per_bin`` (background counts per energy bin); phi bins of 180/n_phi deg from
  0, psi-chi in MEGAlib's FISBEL layout (:func:`~bayesbg.cosi.io.binning.fisbel_grid`),
  instrument frame;
- tracer ``tracer.npz``: ``tracer`` (per time bin, mean 1) and ``trac`` (a pickled pair:
  counts per bin and the time-bin edges in s), read only with ``allow_pickle=True``;
- energy redistribution matrices ``RMF_matrices_*.npz``: ``rmf_matrices`` (measured
  energy, true energy, azimuth, zenith), energy, azimuth and zenith edges.
"""

from __future__ import annotations

import logging
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike, NDArray

from bayesbg.cosi.io.grids import RingGrid, fisbel_grid

__all__ = [
    "ClassicBackgroundResponse",
    "ClassicRMF",
    "ClassicTracer",
    "read_classic_background",
    "read_classic_rmf",
    "read_classic_tracer",
]

log = logging.getLogger(__name__)


def _load(path: str | Path, required: tuple[str, ...], *, allow_pickle: bool = False
          ) -> dict[str, NDArray]:
    path = Path(path)
    try:
        with np.load(path, allow_pickle=allow_pickle) as npz:
            missing = [key for key in required if key not in npz.files]
            if missing:
                raise ValueError(f"{path}: missing arrays {missing}; found {npz.files}")
            return {key: npz[key] for key in npz.files
                    if allow_pickle or key in required or _plain(npz, key)}
    except (zipfile.BadZipFile, EOFError, OSError) as error:
        raise ValueError(f"{path}: not a readable .npz file ({error})") from None


def _plain(npz: np.lib.npyio.NpzFile, key: str) -> bool:
    try:
        npz[key]
    except ValueError:  # object array without allow_pickle
        return False
    return True


@dataclass(frozen=True)
class ClassicBackgroundResponse:
    """Measured background response of the 2016 flight over (energy, phi, psi-chi).

    Attributes
    ----------
    response : `numpy.ndarray`, shape (n_energy, n_phi, n_psi_chi)
        Per energy bin, the fraction of background counts in each (phi, psi-chi) bin
        (each energy slice sums to 1, or is all zero).
    energy_edges : `numpy.ndarray`, shape (n_energy + 1,)
        keV.
    counts_per_energy : `numpy.ndarray`, shape (n_energy,)
        Background counts per energy bin (weights for combining bins).
    """

    response: NDArray[np.float64]
    energy_edges: NDArray[np.float64]
    counts_per_energy: NDArray[np.float64]

    @property
    def phi_edges(self) -> NDArray[np.float64]:
        """Phi bin edges, deg: equal bins from 0 to 180."""
        return np.linspace(0.0, 180.0, self.response.shape[1] + 1)

    @property
    def grid(self) -> RingGrid:
        """The FISBEL psi-chi layout (instrument frame)."""
        return fisbel_grid(self.response.shape[2])

    def _bins(self, energy_min: float, energy_max: float) -> NDArray[np.int64]:
        edges = self.energy_edges
        inside = np.flatnonzero((edges[:-1] >= energy_min - 1e-9)
                                & (edges[1:] <= energy_max + 1e-9))
        if inside.size == 0:
            raise ValueError(f"energy band {energy_min}-{energy_max} keV: no background "
                             f"response bin inside (edges {edges[0]}-{edges[-1]} keV)")
        return inside

    def band_edges(self, energy_min: float, energy_max: float) -> tuple[float, float]:
        """The band actually used by :meth:`band`: outer edges of the bins inside, keV."""
        bins = self._bins(energy_min, energy_max)
        return float(self.energy_edges[bins[0]]), float(self.energy_edges[bins[-1] + 1])

    def band(self, energy_min: float, energy_max: float) -> NDArray[np.float64]:
        """Background response ``Bhat[c]`` of an energy band, flat over (phi, psi-chi).

        The energy bins lying fully inside ``[energy_min, energy_max]`` keV are summed,
        each weighted by its background counts, and the result normalised to 1: the
        ``background_response`` of a one-energy-bin `~bayesbg.cosi.CosiDataset` with the
        same phi and FISBEL psi-chi binning (docs/equations.md section 1, [COSI-511] eq. 6).
        """
        bins = self._bins(energy_min, energy_max)
        total = np.tensordot(self.counts_per_energy[bins], self.response[bins], axes=1)
        if total.sum() <= 0:
            raise ValueError(f"energy band {energy_min}-{energy_max} keV: zero background")
        return (total / total.sum()).ravel()

    def for_energy_edges(self, energy_edges: ArrayLike) -> NDArray[np.float64]:
        """Response flat over (energy, phi, psi-chi) for a dataset's energy bins.

        Each dataset energy bin must be a union of file energy bins (its edges among the
        file's edges); the result sums to 1 over all bins.
        """
        edges = np.asarray(energy_edges, dtype=float)
        index = np.searchsorted(self.energy_edges, edges)
        index = np.clip(index, 0, self.energy_edges.size - 1)
        bad = ~np.isclose(self.energy_edges[index], edges)
        if np.any(bad):
            raise ValueError(f"energy_edges: {edges[bad].tolist()} keV are not edges of the "
                             f"background response (its edges run {self.energy_edges[0]}-"
                             f"{self.energy_edges[-1]} keV in bins of ~10 keV)")
        slices = [np.tensordot(self.counts_per_energy[a:b], self.response[a:b], axes=1)
                  for a, b in zip(index[:-1], index[1:], strict=True)]
        flat = np.stack(slices).ravel()
        return flat / flat.sum()


def read_classic_background(path: str | Path) -> ClassicBackgroundResponse:
    """Read a classic COSIpy background-response ``.npz`` (e.g. ``flight_bg_all_v1_fine_6deg``).

    Raises
    ------
    ValueError
        Naming the file: missing arrays, inconsistent shapes, negative entries.
    """
    arrays = _load(path, ("bg_response", "energy_bin_edges"))
    response = np.asarray(arrays["bg_response"], dtype=float)
    edges = np.asarray(arrays["energy_bin_edges"], dtype=float)
    if response.ndim != 3 or edges.shape != (response.shape[0] + 1,):
        raise ValueError(f"{path}: expected bg_response (n_energy, n_phi, n_psi_chi) and "
                         f"n_energy + 1 energy_bin_edges, found {response.shape} and "
                         f"{edges.shape}")
    if not np.all(np.isfinite(response)) or np.any(response < 0):
        raise ValueError(f"{path}: bg_response has negative or non-finite entries")
    if np.any(np.diff(edges) <= 0):
        raise ValueError(f"{path}: energy_bin_edges not increasing")
    counts = np.asarray(arrays.get("n_bg_ph_per_bin", np.ones(response.shape[0])), dtype=float)
    if counts.shape != (response.shape[0],):
        raise ValueError(f"{path}: n_bg_ph_per_bin has shape {counts.shape}, expected "
                         f"({response.shape[0]},)")
    return ClassicBackgroundResponse(response, edges, counts)


@dataclass(frozen=True)
class ClassicTracer:
    """A background tracer series of the classic analysis.

    Attributes
    ----------
    values : `numpy.ndarray`, shape (n,)
        Tracer per time bin (normalised to mean 1 in ``tracer.npz``).
    time_edges : `numpy.ndarray`, shape (n + 1,)
        Time-bin edges, s from the start of the series (from ``trac`` when read with
        ``allow_pickle=True``, else assumed hourly: ``3600 * arange(n + 1)``).
    counts : `numpy.ndarray` or None
        Counts per bin behind the tracer (``trac``; None without pickle).
    edges_assumed : bool
        True if ``time_edges`` were not read from the file.
    """

    values: NDArray[np.float64]
    time_edges: NDArray[np.float64]
    counts: NDArray[np.float64] | None
    edges_assumed: bool

    def rate(self) -> NDArray[np.float64]:
        """Counts per second per bin (needs ``counts``)."""
        if self.counts is None:
            raise ValueError("counts: not read (pass allow_pickle=True for the trac array)")
        return self.counts / np.diff(self.time_edges)


def read_classic_tracer(path: str | Path, *, allow_pickle: bool = False) -> ClassicTracer:
    """Read a classic COSIpy ``tracer.npz``.

    Parameters
    ----------
    path : str or `~pathlib.Path`
    allow_pickle : bool
        Also read the pickled ``trac`` pair (counts, time edges). Only for trusted files:
        unpickling can run code. Default is False (hourly edges are then assumed).
    """
    arrays = _load(path, ("tracer",), allow_pickle=allow_pickle)
    values = np.asarray(arrays["tracer"], dtype=float)
    if values.ndim != 1 or not np.all(np.isfinite(values)) or np.any(values < 0):
        raise ValueError(f"{path}: tracer must be a 1-d finite non-negative series, found "
                         f"shape {values.shape}")
    counts = None
    edges = 3600.0 * np.arange(values.size + 1)
    assumed = True
    if allow_pickle and "trac" in arrays:
        pair = arrays["trac"]
        if len(pair) != 2:
            raise ValueError(f"{path}: trac: expected (counts, time edges), found {len(pair)}")
        counts = np.asarray(pair[0], dtype=float)
        edges = np.asarray(pair[1], dtype=float)
        if counts.shape != values.shape or edges.shape != (values.size + 1,):
            raise ValueError(f"{path}: trac shapes {counts.shape}, {edges.shape} do not match "
                             f"tracer {values.shape}")
        assumed = False
    return ClassicTracer(values, edges, counts, assumed)


@dataclass(frozen=True)
class ClassicRMF:
    """Energy redistribution matrices of the 2016 instrument per instrument direction.

    Attributes
    ----------
    matrix : `numpy.ndarray`, shape (n_measured, n_true, n_azimuth, n_zenith)
        Redistribution from true (initial) to measured energy bins, as stored (the axis
        order is read from the file's structure: measured energy never exceeds the true
        bin, so entries with measured > true vanish except for resolution leakage into the
        next bin).
    energy_edges : `numpy.ndarray`, shape (n + 1,)
        keV, the same for true and measured energy.
    azimuth_edges, zenith_edges : `numpy.ndarray`
        deg, instrument frame.
    pixel_size : float
        deg.
    """

    matrix: NDArray[np.float64]
    energy_edges: NDArray[np.float64]
    azimuth_edges: NDArray[np.float64]
    zenith_edges: NDArray[np.float64]
    pixel_size: float

    def at(self, zenith: float, azimuth: float) -> NDArray[np.float64]:
        """Matrix (n_measured, n_true) of the pixel holding an instrument direction (deg)."""
        z = int(np.clip(np.searchsorted(self.zenith_edges, zenith, side="right") - 1, 0,
                        self.zenith_edges.size - 2))
        a = int(np.clip(np.searchsorted(self.azimuth_edges, np.mod(azimuth, 360.0),
                                        side="right") - 1, 0, self.azimuth_edges.size - 2))
        return self.matrix[:, :, a, z]


def read_classic_rmf(path: str | Path) -> ClassicRMF:
    """Read a classic COSIpy RMF ``.npz`` (``rmf_matrices``, ``e_edges``, ``a_edges``, ``z_edges``).

    Angles are stored in rad and returned in deg.
    """
    arrays = _load(path, ("rmf_matrices", "e_edges", "a_edges", "z_edges"))
    matrix = np.asarray(arrays["rmf_matrices"], dtype=float)
    energy = np.asarray(arrays["e_edges"], dtype=float)
    azimuth = np.degrees(np.asarray(arrays["a_edges"], dtype=float))
    zenith = np.degrees(np.asarray(arrays["z_edges"], dtype=float))
    expected = (energy.size - 1, energy.size - 1, azimuth.size - 1, zenith.size - 1)
    if matrix.shape != expected:
        raise ValueError(f"{path}: rmf_matrices has shape {matrix.shape}, expected {expected} "
                         f"from the edges")
    if not np.all(np.isfinite(matrix)) or np.any(matrix < 0):
        raise ValueError(f"{path}: rmf_matrices has negative or non-finite entries")
    pixel = float(arrays["pixel_size"]) if "pixel_size" in arrays else float(np.diff(zenith)[0])
    return ClassicRMF(matrix, energy, azimuth, zenith, pixel)
