"""The COSI binned dataset: sparse counts over time x Compton data space, tracers, templates.

A dataset holds everything the binned template fit of docs/equations.md section 1 reads:

- counts ``d[t, c]`` over time bins ``t`` and Compton-data-space bins ``c``, stored as the
  non-zero bins only (COO: time index, data-space index, count);
- the data space: Compton scatter angle ``phi`` bins times ``psi_chi`` bins (directions
  of the scattered photon in instrument coordinates), optionally times ``energy`` bins,
  flattened in C order ``c = (e * n_phi + j) * n_psi_chi + q``;
- the time-bin edges, one or more background tracers ``T[t]`` and optionally the balloon
  altitude;
- named convolved sky templates ``S[k, t, c]`` (expected counts per ph cm-2 s-1), dense
  float32 or `scipy.sparse`;
- optionally a background response ``Bhat[c]`` (sums to 1).

The file format (one netCDF4/HDF5 file written with xarray and h5netcdf) is described in
``docs/formats.md``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import ArrayLike, NDArray
from scipy import sparse

from bayesbg.atomic import atomic_file, check_writable_target
from bayesbg.cosi._validation import (
    Template,
    background_response_array,
    canonical_coo,
    counts_coo,
    finite_floats,
    increasing_edges,
    template_matrix,
    tracer_series,
)
from bayesbg.reading import readable_file, reading

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "CosiDataset",
    "Template",
    "energy_band_bins",
    "load_dataset",
]

log = logging.getLogger(__name__)

FORMAT_NAME = "bayesbg-cosi-dataset"
"""Value of the global ``format`` attribute of a dataset file."""
FORMAT_VERSION = 1
"""Value of the global ``format_version`` attribute written by this version."""



@dataclass(frozen=True, eq=False)
class CosiDataset:
    """Binned COSI counts with their time axis, tracers, sky templates and background response.

    Parameters
    ----------
    counts : array_like or `scipy.sparse` array, shape (n_time, n_data_bin)
        Observed counts ``d[t, c]``: non-negative integers. Stored as a canonical COO array
        (entries sorted by time, then data-space bin; zeros dropped; int64).
    time_edges : array_like, shape (n_time + 1,)
        Time-bin edges, s (since an arbitrary reference), strictly increasing.
    phi_edges : array_like, shape (n_phi + 1,)
        Compton-scatter-angle bin edges, deg, strictly increasing within [0, 180].
    n_psi_chi : int
        Number of (psi, chi) bins of the scattered-photon direction.
    tracers : mapping of str to array_like, shape (n_time,) each
        Background tracers ``T[t]`` (e.g. ``"photo_event_rate"`` in counts s-1), finite and
        non-negative. At least one.
    templates : mapping of str to array_like or `scipy.sparse` array, optional
        Convolved sky templates ``S[k, t, c]``, expected counts per ph cm-2 s-1 (cm2 s),
        shape (n_time, n_data_bin); dense ones are stored as float32, sparse ones as CSR.
        Each must be finite, non-negative and have non-zero exposure (a positive sum).
    background_response : array_like, shape (n_data_bin,), optional
        Background response ``Bhat[c]``: non-negative, summing to 1.
    altitude : array_like, shape (n_time,), optional
        Balloon altitude per time bin, km.
    energy_edges : array_like, shape (n_energy + 1,), optional
        Energy-bin edges, keV. Default: one energy bin without edges.
    psi_chi_centres : array_like, shape (n_psi_chi, 2), optional
        Centres of the (psi, chi) bins, deg: polar angle psi from the instrument z-axis and
        azimuth chi.

    Raises
    ------
    ValueError
        Naming the field, the expectation and what was found: negative, non-integer or
        non-finite counts; shapes that do not agree; NaN or negative tracers or altitude;
        a template with negative entries or zero exposure; a background response that is
        negative or does not sum to 1.
    """

    counts: sparse.coo_array
    time_edges: NDArray[np.float64]
    phi_edges: NDArray[np.float64]
    n_psi_chi: int
    tracers: Mapping[str, NDArray[np.float64]]
    templates: Mapping[str, Template] = field(default_factory=dict)
    background_response: NDArray[np.float64] | None = None
    altitude: NDArray[np.float64] | None = None
    energy_edges: NDArray[np.float64] | None = None
    psi_chi_centres: NDArray[np.float64] | None = None

    def __post_init__(self) -> None:
        time_edges = increasing_edges("time_edges", self.time_edges)
        n_time = time_edges.size - 1
        phi_edges = increasing_edges("phi_edges", self.phi_edges)
        if phi_edges[0] < 0 or phi_edges[-1] > 180:
            raise ValueError(
                f"phi_edges: expected edges within [0, 180] deg, found {phi_edges[0]} to "
                f"{phi_edges[-1]}"
            )
        n_psi_chi = self.n_psi_chi
        if isinstance(n_psi_chi, bool) or not isinstance(n_psi_chi, int | np.integer) \
                or n_psi_chi < 1:
            raise ValueError(f"n_psi_chi: expected a positive integer, found {n_psi_chi!r}")
        n_energy = 1
        energy_edges = None
        if self.energy_edges is not None:
            energy_edges = increasing_edges("energy_edges", self.energy_edges)
            n_energy = energy_edges.size - 1
        n_data_bin = n_energy * (phi_edges.size - 1) * int(n_psi_chi)
        shape = (n_time, n_data_bin)

        counts = counts_coo(self.counts, shape)
        tracers = tracer_series(self.tracers, n_time)
        templates = {name: template_matrix(name, value, shape) for name, value in
                     dict(self.templates).items()}
        response = None
        if self.background_response is not None:
            response = background_response_array(self.background_response, n_data_bin)
        altitude = None
        if self.altitude is not None:
            altitude = finite_floats("altitude", self.altitude)
            if altitude.shape != (n_time,):
                raise ValueError(
                    f"altitude: expected shape ({n_time},), one per time bin, found "
                    f"{altitude.shape}"
                )
            if np.any(altitude < 0):
                raise ValueError("altitude: expected non-negative values (km), found negatives")
        centres = None
        if self.psi_chi_centres is not None:
            centres = finite_floats("psi_chi_centres", self.psi_chi_centres)
            if centres.shape != (int(n_psi_chi), 2):
                raise ValueError(
                    f"psi_chi_centres: expected shape ({int(n_psi_chi)}, 2), found "
                    f"{centres.shape}"
                )
        for array in (time_edges, phi_edges, energy_edges, response, altitude, centres,
                      *tracers.values()):
            if array is not None:
                array.setflags(write=False)
        object.__setattr__(self, "counts", counts)
        object.__setattr__(self, "time_edges", time_edges)
        object.__setattr__(self, "phi_edges", phi_edges)
        object.__setattr__(self, "n_psi_chi", int(n_psi_chi))
        object.__setattr__(self, "tracers", tracers)
        object.__setattr__(self, "templates", templates)
        object.__setattr__(self, "background_response", response)
        object.__setattr__(self, "altitude", altitude)
        object.__setattr__(self, "energy_edges", energy_edges)
        object.__setattr__(self, "psi_chi_centres", centres)

    # -- sizes ---------------------------------------------------------------------------
    @property
    def n_time(self) -> int:
        """Number of time bins."""
        return int(self.time_edges.size - 1)

    @property
    def n_phi(self) -> int:
        """Number of Compton-scatter-angle bins."""
        return int(self.phi_edges.size - 1)

    @property
    def n_energy(self) -> int:
        """Number of energy bins (1 without ``energy_edges``)."""
        return 1 if self.energy_edges is None else int(self.energy_edges.size - 1)

    @property
    def n_data_bin(self) -> int:
        """Number of Compton-data-space bins, ``n_energy * n_phi * n_psi_chi``."""
        return self.n_energy * self.n_phi * self.n_psi_chi

    @property
    def n_nonzero(self) -> int:
        """Number of (time, data-space) bins with counts."""
        return int(self.counts.nnz)

    @property
    def template_names(self) -> tuple[str, ...]:
        """Names of the sky templates, in order."""
        return tuple(self.templates)

    @property
    def time_exposure(self) -> NDArray[np.float64]:
        """Width of each time bin, s."""
        return np.diff(self.time_edges)

    def counts_per_time(self) -> NDArray[np.int64]:
        """Total counts per time bin, shape (n_time,)."""
        return np.bincount(self.counts.row, weights=self.counts.data,
                           minlength=self.n_time).astype(np.int64)

    def counts_per_data_bin(self) -> NDArray[np.int64]:
        """Counts summed over time per data-space bin, shape (n_data_bin,)."""
        return np.bincount(self.counts.col, weights=self.counts.data,
                           minlength=self.n_data_bin).astype(np.int64)

    def data_space_index(self, data_bin: ArrayLike) -> tuple[NDArray[np.int64], ...]:
        """Split flat data-space indices into ``(energy, phi, psi_chi)`` indices.

        Parameters
        ----------
        data_bin : array_like of int
            Flat indices ``c``.

        Returns
        -------
        energy, phi, psi_chi : `numpy.ndarray` of int
        """
        return np.unravel_index(np.asarray(data_bin),
                                (self.n_energy, self.n_phi, self.n_psi_chi))

    def select_energy(self, energy_min: float, energy_max: float) -> CosiDataset:
        """The dataset summed over the energy bins inside ``[energy_min, energy_max]`` keV.

        Counts and templates are summed over the selected energy bins; the background
        response is summed and renormalised to 1.

        Parameters
        ----------
        energy_min, energy_max : float
            Band, keV; every energy bin lying fully inside it is kept.

        Returns
        -------
        dataset : `CosiDataset`
            With one energy bin whose edges are the outer edges of the selected bins.

        Raises
        ------
        ValueError
            If the dataset has no energy axis or no bin lies inside the band.
        """
        selected = energy_band_bins(self, energy_min, energy_max)
        n_spatial = self.n_phi * self.n_psi_chi
        summing = _energy_summing_matrix(self.n_energy, n_spatial, selected)
        counts = sparse.csr_array(self.counts) @ summing
        templates = {
            name: (value @ summing if sparse.issparse(value) else
                   (np.asarray(value, dtype=np.float64) @ summing).astype(np.float32))
            for name, value in self.templates.items()
        }
        response = None
        if self.background_response is not None:
            response = self.background_response @ summing
            if response.sum() <= 0:
                raise ValueError(
                    f"background_response: zero in the band {energy_min}-{energy_max} keV"
                )
            response = response / response.sum()
        assert self.energy_edges is not None
        edges = np.array([self.energy_edges[selected[0]], self.energy_edges[selected[-1] + 1]])
        return CosiDataset(
            counts=counts, time_edges=self.time_edges, phi_edges=self.phi_edges,
            n_psi_chi=self.n_psi_chi, tracers=self.tracers, templates=templates,
            background_response=response, altitude=self.altitude, energy_edges=edges,
            psi_chi_centres=self.psi_chi_centres,
        )

    def template_array(self, name: str) -> sparse.csr_array | NDArray[np.float32]:
        """One template by name (dense float32 or CSR), shape (n_time, n_data_bin).

        Raises
        ------
        KeyError
            If there is no such template (the message lists the names).
        """
        if name not in self.templates:
            raise KeyError(f"template {name!r} not in the dataset; found {self.template_names}")
        return self.templates[name]

    # -- file I/O ------------------------------------------------------------------------
    def to_xarray(self) -> xr.Dataset:
        """The dataset as an `xarray.Dataset` in the file layout of ``docs/formats.md``.

        Returns
        -------
        ds : `xarray.Dataset`
        """
        variables: dict[str, Any] = {
            "time_edges": (("time_edge",), self.time_edges, {"units": "s"}),
            "phi_edges": (("phi_edge",), self.phi_edges, {"units": "deg"}),
            "counts_time": (("nonzero",), self.counts.row.astype(np.int32),
                            {"description": "time index of each non-zero bin (0-based)"}),
            "counts_data_bin": (("nonzero",), self.counts.col.astype(np.int32),
                                {"description": "data-space index of each non-zero bin"}),
            "counts_value": (("nonzero",), self.counts.data.astype(np.int32),
                             {"units": "counts"}),
            "tracers": (("tracer", "time"), np.stack(list(self.tracers.values())),
                        {"description": "background tracers T[t]"}),
        }
        coords = {"tracer": list(self.tracers)}
        if self.energy_edges is not None:
            variables["energy_edges"] = (("energy_edge",), self.energy_edges, {"units": "keV"})
        if self.altitude is not None:
            variables["altitude"] = (("time",), self.altitude, {"units": "km"})
        if self.background_response is not None:
            variables["background_response"] = (
                ("data_bin",), self.background_response, {"units": "1", "sums_to": 1.0}
            )
        if self.psi_chi_centres is not None:
            variables["psi_chi_centres"] = (("psi_chi", "angle"), self.psi_chi_centres,
                                            {"units": "deg", "columns": "psi, chi"})
        for k, (name, value) in enumerate(self.templates.items()):
            attrs = {"name": name, "units": "cm2 s", "storage": "dense"}
            if sparse.issparse(value):
                coo = value.tocoo()
                attrs["storage"] = "sparse"
                dim = (f"template_{k}_nonzero",)
                variables[f"template_{k}_time"] = (dim, coo.row.astype(np.int32))
                variables[f"template_{k}_data_bin"] = (dim, coo.col.astype(np.int32))
                variables[f"template_{k}_value"] = (dim, coo.data.astype(np.float32), attrs)
            else:
                variables[f"template_{k}"] = (("time", "data_bin"), value, attrs)
        attrs = {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "n_time": self.n_time,
            "n_energy": self.n_energy,
            "n_phi": self.n_phi,
            "n_psi_chi": self.n_psi_chi,
            "n_data_bin": self.n_data_bin,
            "data_space_order": "energy, phi, psi_chi (C order)",
            "template_names": json.dumps(list(self.template_names)),
        }
        return xr.Dataset(variables, coords=coords, attrs=attrs)

    def write(self, path: str | Path, *, overwrite: bool = False,
              attrs: Mapping[str, str | int | float] | None = None) -> Path:
        """Write the dataset to one netCDF4/HDF5 file, atomically.

        The file is written under a temporary name beside ``path`` and renamed into
        place, so an existing file is a complete one. Equal datasets give byte-identical
        files.

        Parameters
        ----------
        path : str or `~pathlib.Path`
            Destination, conventionally ``*.nc``.
        overwrite : bool
            Replace an existing file. Default is False.
        attrs : mapping of str to str, int or float, optional
            Extra global attributes (e.g. provenance, a simulation's truth as JSON); they
            may not replace the format's own (``docs/formats.md``).

        Returns
        -------
        path : `~pathlib.Path`

        Raises
        ------
        FileExistsError
            If ``path`` exists and ``overwrite`` is False.
        """
        target = check_writable_target(path, overwrite=overwrite)
        dataset = self.to_xarray()
        for key, value in dict(attrs or {}).items():
            if key in dataset.attrs:
                raise ValueError(f"attrs: {key!r} is an attribute of the format itself")
            if not isinstance(value, str | int | float) or isinstance(value, bool):
                raise ValueError(f"attrs[{key!r}]: expected a string or number, found "
                                 f"{type(value).__name__}")
            dataset.attrs[key] = value
        encoding = {name: {"compression": "gzip", "compression_opts": 1}
                    for name in dataset.data_vars if name.startswith("template_")}
        with atomic_file(target, overwrite=overwrite) as partial:
            dataset.to_netcdf(partial, engine="h5netcdf", encoding=encoding)
        log.info("wrote COSI dataset %s (%d x %d bins, %d non-zero)", target, self.n_time,
                 self.n_data_bin, self.n_nonzero)
        return target

    @classmethod
    def from_xarray(cls, ds: xr.Dataset) -> CosiDataset:
        """Build a dataset from the file layout of ``docs/formats.md`` (validating it).

        Parameters
        ----------
        ds : `xarray.Dataset`

        Returns
        -------
        dataset : `CosiDataset`

        Raises
        ------
        ValueError
            If the ``format`` attribute is wrong, a variable is missing or the contents are
            invalid (the message names the field).
        """
        if ds.attrs.get("format") != FORMAT_NAME:
            raise ValueError(
                f"format: expected a {FORMAT_NAME!r} file, found {ds.attrs.get('format')!r}"
            )
        for name in ("time_edges", "phi_edges", "counts_time", "counts_data_bin",
                     "counts_value", "tracers"):
            if name not in ds:
                raise ValueError(f"{name}: missing from the dataset file")
        n_time = ds.sizes["time_edge"] - 1
        n_psi_chi = int(ds.attrs["n_psi_chi"])
        n_data_bin = int(ds.attrs["n_data_bin"])
        counts = canonical_coo(
            "counts", ds["counts_time"].values, ds["counts_data_bin"].values,
            ds["counts_value"].values, (n_time, n_data_bin),
        )
        names = json.loads(ds.attrs.get("template_names", "[]"))
        templates: dict[str, Any] = {}
        for k, name in enumerate(names):
            if f"template_{k}" in ds:
                templates[name] = ds[f"template_{k}"].values
            elif f"template_{k}_value" in ds:
                templates[name] = sparse.csr_array(canonical_coo(
                    f"templates[{name!r}]", ds[f"template_{k}_time"].values,
                    ds[f"template_{k}_data_bin"].values, ds[f"template_{k}_value"].values,
                    (n_time, n_data_bin),
                ))
            else:
                raise ValueError(f"templates[{name!r}]: template_{k} missing from the file")
        tracers = {str(name): ds["tracers"].values[i]
                   for i, name in enumerate(ds["tracer"].values)}

        def optional(name: str) -> Any:
            return ds[name].values if name in ds else None

        return cls(
            counts=counts,
            time_edges=ds["time_edges"].values,
            phi_edges=ds["phi_edges"].values,
            n_psi_chi=n_psi_chi,
            tracers=tracers,
            templates=templates,
            background_response=optional("background_response"),
            altitude=optional("altitude"),
            energy_edges=optional("energy_edges"),
            psi_chi_centres=optional("psi_chi_centres"),
        )


def load_dataset(path: str | Path) -> CosiDataset:
    """Read and validate a dataset file written by :meth:`CosiDataset.write`.

    Parameters
    ----------
    path : str or `~pathlib.Path`

    Returns
    -------
    dataset : `CosiDataset`

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If the file is not a valid dataset (the message names the field).
    """
    what = "a COSI dataset file (netCDF4/HDF5, docs/formats.md)"
    path = readable_file(path, what=what)
    with reading(path, what=what), xr.open_dataset(path, engine="h5netcdf") as ds:
        loaded = ds.load()
    try:
        return CosiDataset.from_xarray(loaded)
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None


def energy_band_bins(dataset: CosiDataset, energy_min: float,
                     energy_max: float) -> NDArray[np.int64]:
    """Indices of the energy bins lying fully inside ``[energy_min, energy_max]`` keV.

    Raises
    ------
    ValueError
        If the dataset has no energy axis or the band holds no bin.
    """
    if dataset.energy_edges is None:
        raise ValueError("energy_edges: the dataset has no energy axis to select a band from")
    edges = dataset.energy_edges
    inside = np.flatnonzero((edges[:-1] >= energy_min) & (edges[1:] <= energy_max))
    if inside.size == 0:
        raise ValueError(
            f"energy band {energy_min}-{energy_max} keV: no energy bin inside; edges are "
            f"{list(edges)} keV"
        )
    return inside


def _energy_summing_matrix(n_energy: int, n_spatial: int,
                           selected: NDArray[np.int64]) -> sparse.csr_array:
    rows = (selected[:, None] * n_spatial + np.arange(n_spatial)[None, :]).ravel()
    cols = np.tile(np.arange(n_spatial), selected.size)
    return sparse.csr_array((np.ones(rows.size), (rows, cols)),
                            shape=(n_energy * n_spatial, n_spatial))
