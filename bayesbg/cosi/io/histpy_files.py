"""cosipy's HDF5 files, read with h5py: binned data (histpy histograms) and detector
responses (docs/cosi_io.md, "cosipy HDF5 files").

cosipy stores two kinds of HDF5 file; both are read here without histpy (which would
pull in mhealpy, healpy, sparse and numba):

**histpy histogram** (``BinnedData.load_binned_data_from_hdf5``; group ``hist``)::

    hist                  attrs: format ("coo" or "dense"), unit
    hist/axes/<i>         i = 0, 1, ...: the edges of axis i; attrs: label, scale, unit,
                          __class__ (histpy.axis.Axis or histpy.healpix_axis.HealpixAxis);
                          a HEALPix axis also has nside, scheme, coordsys and integer
                          edges 0..npix
    hist/contents/coords  (ndim, nnz) int, the non-zero bins   } format "coo"
    hist/contents/data    (nnz,) float, their contents         }
    hist/contents/shape   (ndim,) int; hist/contents/fill_value ()
    hist/contents         (n_0, n_1, ...) float                  format "dense"

**Full detector response** (``FullDetectorResponse._open_h5``; group ``DRM``)::

    DRM                   attrs: UNIT ("cm2"), SPARSE (absent = sparse)
    DRM/AXES/<label>      edges; attrs TYPE (linear, log or healpix), UNIT, NSIDE, SCHEME,
                          DESCRIPTION. Order = creation order: NuLambda (source direction
                          in the instrument frame, HEALPix), Ei (true energy), Em
                          (measured energy), Phi (Compton angle), PsiChi (scattered-photon
                          direction, HEALPix), [SigmaTau, Dist]
    DRM/CONTENTS          dense: (npix, n_Ei, n_Em, n_Phi, n_PsiChi) float
                          sparse: object array of npix float vectors (the non-zero bins)
    DRM/BIN_NUMBERS       sparse: npix int vectors, each the flattened (n_axis - 1, nnz)
                          bin indices of those values over the axes after NuLambda

The response is an effective area per bin (cm2): the expected counts in a bin from a
source in pixel NuLambda are ``area * (photons per cm2 in the Ei bin)``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import numpy as np
from numpy.typing import NDArray

__all__ = [
    "DetectorResponse",
    "HistAxis",
    "Histogram",
    "read_detector_response",
    "read_histogram",
]

log = logging.getLogger(__name__)

RESPONSE_AXES = ("NuLambda", "Ei", "Em", "Phi", "PsiChi")
"""Axes kept by :func:`read_detector_response`, in this order (others are summed over)."""


@dataclass(frozen=True)
class HistAxis:
    """One axis of a histogram or response.

    Attributes
    ----------
    label : str
        Axis name as in the file (``Ei``, ``Em``, ``Phi``, ``PsiChi``, ``NuLambda``, ...).
    edges : `numpy.ndarray`
        Bin edges (n_bin + 1,); for a HEALPix axis the pixel numbers 0..npix.
    unit : str
        Unit of the edges (``keV``, ``deg``, ``cm``, or ``""``).
    scale : str
        ``linear`` or ``log`` (how the bins are spaced; informative only).
    nside : int or None
        HEALPix resolution for a HEALPix axis, else None.
    scheme : str or None
        ``ring`` or ``nested`` for a HEALPix axis.
    coordsys : str or None
        Frame of a HEALPix axis: ``spacecraftframe`` (instrument) or ``galactic``.
    """

    label: str
    edges: NDArray[np.float64]
    unit: str = ""
    scale: str = "linear"
    nside: int | None = None
    scheme: str | None = None
    coordsys: str | None = None

    def __post_init__(self) -> None:
        edges = np.asarray(self.edges, dtype=float)
        if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) <= 0):
            raise ValueError(f"axis {self.label!r}: expected >= 2 increasing edges, found "
                             f"{edges!r}")
        object.__setattr__(self, "edges", edges)
        if self.nside is not None and self.n_bin != 12 * self.nside**2:
            raise ValueError(f"axis {self.label!r}: HEALPix nside {self.nside} needs "
                             f"{12 * self.nside**2} pixels, found {self.n_bin}")

    @property
    def n_bin(self) -> int:
        """Number of bins."""
        return int(self.edges.size - 1)

    @property
    def is_healpix(self) -> bool:
        """True for a HEALPix axis."""
        return self.nside is not None


@dataclass(frozen=True)
class Histogram:
    """A histogram with named axes (dense contents).

    Attributes
    ----------
    axes : tuple of `HistAxis`
    contents : `numpy.ndarray`
        Shape ``tuple(axis.n_bin for axis in axes)``; counts (or expected counts).
    unit : str
        Unit of the contents (``""`` for counts).
    path : `~pathlib.Path` or None
        File read from.
    """

    axes: tuple[HistAxis, ...]
    contents: NDArray[np.float64]
    unit: str = ""
    path: Path | None = None

    def __post_init__(self) -> None:
        shape = tuple(axis.n_bin for axis in self.axes)
        if self.contents.shape != shape:
            raise ValueError(f"contents: expected shape {shape} from the axes, found "
                             f"{self.contents.shape}")

    @property
    def labels(self) -> tuple[str, ...]:
        """Axis labels in order."""
        return tuple(axis.label for axis in self.axes)

    def axis(self, label: str) -> HistAxis:
        """The axis called ``label``."""
        return self.axes[self._index(label)]

    def project(self, *labels: str) -> Histogram:
        """Sum over every axis not in ``labels``; the result has ``labels`` in that order."""
        index = [self._index(label) for label in labels]
        if len(set(index)) != len(index):
            raise ValueError(f"labels: expected distinct axis labels, found {labels}")
        others = tuple(i for i in range(len(self.axes)) if i not in index)
        summed = self.contents.sum(axis=others)
        kept = sorted(index)
        order = [kept.index(i) for i in index]
        return Histogram(tuple(self.axes[i] for i in index), np.transpose(summed, order),
                         self.unit, self.path)

    def _index(self, label: str) -> int:
        try:
            return self.labels.index(label)
        except ValueError:
            raise KeyError(f"axis {label!r} not in {self.labels}") from None


@dataclass(frozen=True)
class DetectorResponse:
    """cosipy full detector response, dense over (NuLambda, Ei, Em, Phi, PsiChi).

    Attributes
    ----------
    axes : tuple of `HistAxis`
        NuLambda (HEALPix, instrument frame), Ei, Em (keV), Phi (deg), PsiChi (HEALPix).
    area : `numpy.ndarray`
        Effective area per bin, cm2, shape (npix, n_Ei, n_Em, n_Phi, n_PsiChi), summed
        over the axes not kept (SigmaTau, Dist) of a sparse file.
    path : `~pathlib.Path` or None
    """

    axes: tuple[HistAxis, ...]
    area: NDArray[np.float64]
    path: Path | None = None

    def __post_init__(self) -> None:
        labels = tuple(axis.label for axis in self.axes)
        if labels != RESPONSE_AXES:
            raise ValueError(f"axes: expected {RESPONSE_AXES}, found {labels}")
        shape = tuple(axis.n_bin for axis in self.axes)
        if self.area.shape != shape:
            raise ValueError(f"area: expected shape {shape}, found {self.area.shape}")

    def axis(self, label: str) -> HistAxis:
        """The axis called ``label``."""
        return self.axes[RESPONSE_AXES.index(label)]

    @property
    def nside(self) -> int:
        """HEALPix resolution of the source-direction (NuLambda) axis."""
        nside = self.axis("NuLambda").nside
        assert nside is not None
        return nside

    @property
    def scheme(self) -> str:
        """HEALPix ordering of the NuLambda axis, ``ring`` or ``nested``."""
        return (self.axis("NuLambda").scheme or "ring").lower()


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, np.ndarray):
        return " ".join(_text(v) for v in value.ravel())
    return str(value)


def _open(path: Path) -> h5py.File:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    try:
        return h5py.File(path, "r")
    except OSError as err:
        raise ValueError(f"{path}: not a readable HDF5 file (truncated or corrupted?): "
                         f"{err}") from None


def _read(path: Path, what: str, reader: Any) -> Any:
    """Run ``reader`` and turn h5py/numpy failures into a ValueError naming the file."""
    try:
        return reader()
    except (KeyError, OSError, RuntimeError, TypeError, IndexError) as err:
        raise ValueError(f"{path}: cannot read {what} (truncated, corrupted or not a cosipy "
                         f"file?): {type(err).__name__}: {err}") from None


def read_histogram(path: str | Path) -> Histogram:
    """Read a histpy histogram (cosipy binned data or background) from HDF5.

    Parameters
    ----------
    path : str or `~pathlib.Path`
        File with a ``hist`` group (see the module docstring).

    Returns
    -------
    histogram : `Histogram`
        Dense contents; COO entries at the same bin are added.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If the file is not HDF5, is truncated, or lacks the histpy layout (the message
        names the file).
    """
    path = Path(path)
    with _open(path) as handle:
        def load() -> Histogram:
            group = handle["hist"]
            n_axes = len(group["axes"])
            axes = tuple(_hist_axis(group["axes"][str(i)]) for i in range(n_axes))
            shape = tuple(axis.n_bin for axis in axes)
            fmt = _text(group.attrs.get("format", "dense"))
            node = group["contents"]
            if fmt == "coo":
                coords = np.asarray(node["coords"][()], dtype=np.int64)
                data = np.asarray(node["data"][()], dtype=float)
                stored = tuple(int(n) for n in node["shape"][()])
                fill = float(node["fill_value"][()]) if "fill_value" in node else 0.0
                contents = _coo_to_dense(path, coords, data, stored, fill)
            elif fmt == "dense":
                contents = np.asarray(node[()], dtype=float)
            else:
                raise ValueError(f"{path}: hist format {fmt!r} unknown (expected coo or dense)")
            # histpy may store under/overflow bins: a dense array 2 longer per axis.
            if contents.shape == tuple(n + 2 for n in shape):
                contents = contents[tuple(slice(1, -1) for _ in shape)]
            if contents.shape != shape:
                raise ValueError(f"{path}: contents shape {contents.shape} does not match "
                                 f"the axes {shape}")
            return Histogram(axes, contents, _text(group.attrs.get("unit", "")), path)

        histogram = _read(path, "the histpy histogram", load)
    if not np.all(np.isfinite(histogram.contents)):
        raise ValueError(f"{path}: contents: expected finite values, found NaN or inf")
    log.debug("read histogram %s %s from %s", histogram.labels, histogram.contents.shape, path)
    return histogram


def _hist_axis(node: h5py.Dataset) -> HistAxis:
    attrs = node.attrs
    cls = _text(attrs.get("__class__", ""))
    label = _text(attrs.get("label", node.name.rsplit("/", 1)[-1]))
    if "HealpixAxis" in cls or "nside" in attrs:
        return HistAxis(label, node[()], "", _text(attrs.get("scale", "linear")),
                        nside=int(attrs["nside"]),
                        scheme=_text(attrs.get("scheme", "RING")).lower(),
                        coordsys=_text(attrs.get("coordsys", "")).lower() or None)
    return HistAxis(label, node[()], _text(attrs.get("unit", "")),
                    _text(attrs.get("scale", "linear")))


def _coo_to_dense(path: Path, coords: NDArray[np.int64], data: NDArray[np.float64],
                  shape: tuple[int, ...], fill: float) -> NDArray[np.float64]:
    if coords.shape != (len(shape), data.size):
        raise ValueError(f"{path}: coords shape {coords.shape} does not match "
                         f"({len(shape)}, {data.size})")
    if data.size and (coords.min() < 0 or np.any(coords.max(axis=1) >= np.asarray(shape))):
        raise ValueError(f"{path}: coords outside the shape {shape}")
    dense = np.full(shape, fill, dtype=float)
    np.add.at(dense, tuple(coords), data)
    return dense


def read_detector_response(path: str | Path) -> DetectorResponse:
    """Read a cosipy full detector response (``.h5``, sparse or dense) into memory.

    Parameters
    ----------
    path : str or `~pathlib.Path`
        File with a ``DRM`` group (see the module docstring).

    Returns
    -------
    response : `DetectorResponse`
        Dense effective area (cm2) over (NuLambda, Ei, Em, Phi, PsiChi); a sparse
        file's SigmaTau and Dist axes are summed over.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If the file is not HDF5, is truncated, lacks an axis, or its bins do not match
        the axes (the message names the file).
    """
    path = Path(path)
    with _open(path) as handle:
        def load() -> DetectorResponse:
            drm = handle["DRM"]
            unit = _text(drm.attrs.get("UNIT", ""))
            if unit not in ("cm2", "cm^2", "cm**2"):
                raise ValueError(f"{path}: DRM UNIT: expected cm2, found {unit!r}")
            labels = list(drm["AXES"])  # creation order, as cosipy reads them
            axes = {label: _drm_axis(drm["AXES"][label]) for label in labels}
            missing = [label for label in RESPONSE_AXES if label not in axes]
            if missing:
                raise ValueError(f"{path}: DRM/AXES lacks {missing} (found {labels})")
            if labels[: len(RESPONSE_AXES)] != list(RESPONSE_AXES):
                raise ValueError(f"{path}: DRM/AXES order {labels}: expected "
                                 f"{list(RESPONSE_AXES)} first")
            shape = tuple(axes[label].n_bin for label in labels)
            sparse = bool(drm.attrs.get("SPARSE", True))
            if sparse:
                area = _sparse_area(path, drm, shape)
            else:
                area = np.asarray(drm["CONTENTS"][()], dtype=float)
                if area.shape != shape:
                    raise ValueError(f"{path}: DRM/CONTENTS shape {area.shape} does not "
                                     f"match the axes {shape}")
                if area.ndim > len(RESPONSE_AXES):
                    area = area.sum(axis=tuple(range(len(RESPONSE_AXES), area.ndim)))
            return DetectorResponse(tuple(axes[label] for label in RESPONSE_AXES), area, path)

        response = _read(path, "the detector response", load)
    if not np.all(np.isfinite(response.area)) or np.any(response.area < 0):
        raise ValueError(f"{path}: effective area: expected finite non-negative cm2")
    log.debug("read response %s from %s", response.area.shape, path)
    return response


def _drm_axis(node: h5py.Dataset) -> HistAxis:
    attrs = node.attrs
    label = node.name.rsplit("/", 1)[-1]
    kind = _text(attrs.get("TYPE", "linear")).lower()
    if kind == "healpix":
        return HistAxis(label, node[()], "", "linear", nside=int(attrs["NSIDE"]),
                        scheme=_text(attrs.get("SCHEME", "ring")).lower(),
                        coordsys="spacecraftframe")
    return HistAxis(label, node[()], _text(attrs.get("UNIT", "")), kind)


def _sparse_area(path: Path, drm: h5py.Group, shape: tuple[int, ...]) -> NDArray[np.float64]:
    npix, rest = shape[0], shape[1:]
    bins, contents = drm["BIN_NUMBERS"], drm["CONTENTS"]
    if bins.shape != (npix,) or contents.shape != (npix,):
        raise ValueError(f"{path}: DRM/BIN_NUMBERS and CONTENTS: expected {npix} entries "
                         f"(one per NuLambda pixel), found {bins.shape} and {contents.shape}")
    kept = len(RESPONSE_AXES) - 1
    area = np.zeros((npix, *rest[:kept]), dtype=float)
    for pixel in range(npix):
        values = np.asarray(contents[pixel], dtype=float)
        flat = np.asarray(bins[pixel], dtype=np.int64)
        if flat.size != len(rest) * values.size:
            raise ValueError(f"{path}: DRM pixel {pixel}: {flat.size} bin numbers for "
                             f"{values.size} values over {len(rest)} axes")
        coords = flat.reshape(len(rest), values.size)
        if values.size and (coords.min() < 0 or np.any(coords.max(axis=1) >= np.asarray(rest))):
            raise ValueError(f"{path}: DRM pixel {pixel}: bin numbers outside {rest}")
        np.add.at(area[pixel], tuple(coords[:kept]), values)
    return area
