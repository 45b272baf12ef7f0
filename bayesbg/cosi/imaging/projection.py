"""The imaging response as an operator: sky image -> expected counts, and back.

A sky image ``M[j]`` (ph cm-2 s-1 in HEALPix pixel ``j``, Galactic, ring order) predicts
the counts

.. math:: m[t, c] = \\sum_j R[(t, c), j] M_j ,\\qquad
          R[(t, c), j] = \\sum_s R_{det}[c, s] \\, E[(s, t), j] ,

with ``R_det`` the detector response of :func:`bayesbg.cosi.response.compton_response`
(instrument-frame source grid ``s``) and ``E`` the pointing history: effective area times
live time with which sky pixel ``j`` falls on instrument pixel ``s`` during time bin
``t`` (bilinear HEALPix weights; both from
:class:`bayesbg.cosi.exposure.BalloonObservation`, exactly as the simulator's exposure).
Three ways to apply it, all restricted to the populated (time, data-space) bins that the
Richardson-Lucy update needs (the empty bins enter only through the sensitivity
``sum_i R_ij``):

- :class:`MatrixFreeResponse` keeps ``R_det`` and ``E`` apart (memory ~ their non-zeros,
  never the product); the default and the only choice at full scale;
- :class:`MatrixResponse` holds the product for the populated bins as a `scipy.sparse`
  CSR matrix or a dense array (:meth:`MatrixFreeResponse.to_matrix`), for small problems.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import astropy.units as u
import astropy_healpix as ahp
import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import sparse

from bayesbg.cosi.data import CosiDataset
from bayesbg.cosi.exposure import BalloonObservation, InstrumentSettings
from bayesbg.cosi.pointing import Pointing
from bayesbg.cosi.response import unit_vectors

__all__ = [
    "MatrixFreeResponse",
    "MatrixResponse",
    "build_imaging_response",
    "pixel_vectors",
]

log = logging.getLogger(__name__)


def pixel_vectors(nside: int) -> NDArray[np.float64]:
    """Galactic unit vectors of the centres of a ring-ordered HEALPix grid, shape (npix, 3)."""
    grid = ahp.HEALPix(nside=nside, order="ring", frame="galactic")
    lon, lat = grid.healpix_to_lonlat(np.arange(grid.npix))
    return unit_vectors(90.0 - lat.to_value(u.deg), lon.to_value(u.deg))


class _Response:
    """Common interface: ``forward``, ``back``, ``sensitivity`` over the populated bins."""

    sensitivity: NDArray[np.float64]

    @property
    def n_pixel(self) -> int:
        return int(self.sensitivity.size)

    def forward(self, image: ArrayLike) -> NDArray[np.float64]:  # pragma: no cover
        raise NotImplementedError

    def back(self, weights: ArrayLike) -> NDArray[np.float64]:  # pragma: no cover
        raise NotImplementedError

    def _image(self, image: ArrayLike) -> NDArray[np.float64]:
        array = np.asarray(image, dtype=np.float64)
        if array.shape != (self.n_pixel,):
            raise ValueError(f"image: expected shape ({self.n_pixel},), found {array.shape}")
        return array


@dataclass(eq=False)
class MatrixResponse(_Response):
    """The response at the populated bins as one matrix (dense array or CSR).

    Attributes
    ----------
    matrix : `numpy.ndarray` or `scipy.sparse.csr_array`, shape (n_selected, n_pixel)
        cm2 s: expected counts in each populated bin per ph cm-2 s-1 in each pixel.
    sensitivity : `numpy.ndarray`, shape (n_pixel,)
        ``sum_i R_ij`` over all bins, cm2 s.
    """

    matrix: NDArray[np.float64] | sparse.csr_array
    sensitivity: NDArray[np.float64]

    def forward(self, image: ArrayLike) -> NDArray[np.float64]:
        """Expected counts at the populated bins, shape (n_selected,)."""
        return np.asarray(self.matrix @ self._image(image), dtype=np.float64)

    def back(self, weights: ArrayLike) -> NDArray[np.float64]:
        """``sum_i R_ij w_i`` over the populated bins, shape (n_pixel,)."""
        return np.asarray(self.matrix.T @ np.asarray(weights, dtype=np.float64))

    @property
    def nbytes(self) -> int:
        """Memory of the matrix, bytes."""
        if sparse.issparse(self.matrix):
            return int(self.matrix.data.nbytes + self.matrix.indices.nbytes
                       + self.matrix.indptr.nbytes)
        return int(self.matrix.nbytes)


@dataclass(eq=False)
class MatrixFreeResponse(_Response):
    """Detector response and pointing exposure kept apart, applied one after the other.

    Attributes
    ----------
    detector : `scipy.sparse.csr_array`, shape (n_data_bin, n_source)
        ``R_det[c, s]``, probability per photon.
    exposure : `scipy.sparse.csr_array`, shape (n_source * n_time, n_pixel)
        ``E[(s, t), j]``, cm2 s.
    time_index, data_index : `numpy.ndarray` of int, shape (n_selected,)
        The populated bins, sorted by time.
    sensitivity : `numpy.ndarray`, shape (n_pixel,)
        cm2 s.
    cache_bytes : float
        Memory allowed for keeping the detector rows of each time bin's populated bins
        (and their transposes), bytes; above it the rows are sliced on every call.
        Default is 256e6.
    """

    detector: sparse.csr_array
    exposure: sparse.csr_array
    time_index: NDArray[np.int64]
    data_index: NDArray[np.int64]
    sensitivity: NDArray[np.float64]
    cache_bytes: float = 256e6

    def __post_init__(self) -> None:
        self.n_time = self.exposure.shape[0] // self.detector.shape[1]
        self._detector_t = sparse.csr_array(self.detector.T)
        bounds = np.searchsorted(self.time_index, np.arange(self.n_time + 1))
        self._slices = [(t, slice(bounds[t], bounds[t + 1])) for t in range(self.n_time)
                        if bounds[t + 1] > bounds[t]]
        self._rows: dict[int, tuple[sparse.csr_array, sparse.csr_array]] | None = None
        per_row = self.detector.nnz / max(self.detector.shape[0], 1)
        if per_row * self.data_index.size * 24 < self.cache_bytes:
            # the detector rows of each time bin's populated bins, and their transposes
            self._rows = {}
            for t, s in self._slices:
                rows = sparse.csr_array(self.detector[self.data_index[s]])
                self._rows[t] = (rows, sparse.csr_array(rows.T))

    @property
    def n_source(self) -> int:
        return int(self.detector.shape[1])

    def source_exposure(self, image: ArrayLike) -> NDArray[np.float64]:
        """``W[s, t] = sum_j E[(s, t), j] M_j``, shape (n_source, n_time), cm2 s."""
        return np.asarray(self.exposure @ self._image(image)).reshape(self.n_source, self.n_time)

    def forward(self, image: ArrayLike) -> NDArray[np.float64]:
        """Expected counts at the populated bins, shape (n_selected,)."""
        weights = self.source_exposure(image)
        out = np.empty(self.time_index.size)
        for t, s in self._slices:
            rows = self._rows[t][0] if self._rows is not None else \
                self.detector[self.data_index[s]]
            out[s] = rows @ weights[:, t]
        return out

    def back(self, weights: ArrayLike) -> NDArray[np.float64]:
        """``sum_i R_ij w_i`` over the populated bins, shape (n_pixel,)."""
        values = np.asarray(weights, dtype=np.float64)
        per_source = np.zeros((self.n_time, self.n_source))
        for t, s in self._slices:
            if self._rows is not None:
                per_source[t] = self._rows[t][1] @ values[s]
            else:
                per_source[t] = values[s] @ self.detector[self.data_index[s]]
        return np.asarray(self.exposure.T @ per_source.T.ravel())

    def to_matrix(self, *, dense: bool = False) -> MatrixResponse:
        """The product at the populated bins as one CSR (or dense) matrix."""
        blocks = []
        rows_of_time = np.arange(self.n_source) * self.n_time
        for t, s in self._slices:
            e_t = self.exposure[rows_of_time + t]  # (n_source, n_pixel)
            rows = self.detector[self.data_index[s]]
            blocks.append(sparse.csr_array(rows @ e_t))
        matrix = sparse.csr_array(sparse.vstack(blocks, format="csr"))
        return MatrixResponse(matrix=matrix.toarray() if dense else matrix,
                              sensitivity=self.sensitivity)

    @property
    def nnz(self) -> int:
        """Stored non-zeros of the detector response plus the exposure."""
        return int(self.detector.nnz + self.exposure.nnz)


def build_imaging_response(
    dataset: CosiDataset,
    pointing: Pointing,
    *,
    nside: int = 16,
    instrument: InstrumentSettings | None = None,
    energy: float = 511.0,
    selection: ArrayLike | None = None,
) -> MatrixFreeResponse:
    """Imaging response of a dataset's populated bins for a HEALPix sky of ``nside``.

    The detector response is :func:`bayesbg.cosi.response.compton_response` for the
    dataset's phi edges and (psi, chi) centres on the instrument grid (as in
    :func:`bayesbg.cosi.simulate_cosi`), the exposure that of the pointing history (a
    simulated one, :func:`bayesbg.cosi.pointing.balloon_pointing`, or a real one,
    :meth:`~bayesbg.cosi.pointing.Pointing.from_orientation`): both through
    :class:`bayesbg.cosi.exposure.BalloonObservation`.

    Parameters
    ----------
    dataset : `CosiDataset`
        One energy bin; needs ``psi_chi_centres``.
    pointing : `bayesbg.cosi.pointing.Pointing`
    nside : int
        Sky HEALPix resolution (Galactic, ring order). Default is 16 (3.7 deg pixels).
    instrument : `bayesbg.cosi.exposure.InstrumentSettings`, optional
        Instrument grid, resolution and area (``instrument_nside``, ``resolution``,
        ``area``). Default ``InstrumentSettings()``.
    energy : float
        Photon energy, keV. Default is 511.
    selection : array_like of bool, shape (n_data_bin,), optional
        Data-space bins an event selection keeps (e.g.
        ``FlightGeometry.selection[0]`` of flight-like data); the response is cut to them,
        so the sensitivity counts only photons that survive the selection. Default: all.

    Returns
    -------
    response : `MatrixFreeResponse`
    """
    if dataset.psi_chi_centres is None:
        raise ValueError("dataset.psi_chi_centres: needed to build the detector response")
    if dataset.n_energy != 1:
        raise ValueError(f"dataset: expected one energy bin (select a band first), found "
                         f"{dataset.n_energy}")
    if isinstance(nside, bool) or not isinstance(nside, int) or nside < 1 or nside & (nside - 1):
        raise ValueError(f"nside: expected a power of 2, found {nside!r}")
    observation = BalloonObservation(
        pointing, n_time=dataset.n_time,
        instrument=instrument if instrument is not None else InstrumentSettings())
    detector = observation.detector_response(dataset.phi_edges, dataset.psi_chi_centres,
                                             energy=energy)
    if selection is not None:
        keep = np.asarray(selection)
        if keep.shape != (dataset.n_data_bin,) or keep.dtype.kind not in "biu":
            raise ValueError(f"selection: expected {dataset.n_data_bin} booleans, one per "
                             f"data-space bin, found shape {keep.shape}")
        detector = sparse.csr_array(sparse.diags_array(keep.astype(np.float64)) @ detector)
        detector.eliminate_zeros()
    exposure = observation.pixel_exposure(pixel_vectors(nside))
    detection = np.asarray(detector.sum(axis=0)).ravel()  # 1 unless the data space is cut
    sensitivity = np.asarray(exposure.T @ np.repeat(detection, dataset.n_time))
    counts = dataset.counts
    log.info("imaging response: %d pixels, detector %d and exposure %d non-zeros",
             sensitivity.size, detector.nnz, exposure.nnz)
    return MatrixFreeResponse(detector=sparse.csr_array(detector), exposure=exposure,
                              time_index=counts.row.astype(np.int64),
                              data_index=counts.col.astype(np.int64),
                              sensitivity=sensitivity)
