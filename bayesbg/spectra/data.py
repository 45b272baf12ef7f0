"""Spectra in Crab units: the input container and its ECSV file format (docs/spectra.md)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import astropy.units as u
import numpy as np
from astropy.table import Table
from numpy.typing import ArrayLike, NDArray

from bayesbg.atomic import atomic_file
from bayesbg.reading import readable_file, reading
from bayesbg.spectra.crab_units import CRAB, MCRAB, photon_flux_to_mcrab

__all__ = ["SpectralData", "read_spectrum", "write_spectrum"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SpectralData:
    """Band fluxes in mCrab from one or more datasets (instruments).

    Parameters
    ----------
    energy_min, energy_max : array_like, shape (N,)
        Band edges, keV (``0 < energy_min < energy_max``).
    value : array_like, shape (N,)
        Flux in mCrab; for an upper limit, the limit.
    error : array_like, shape (N,)
        1-sigma statistical error, mCrab (> 0).
    upper_limit : array_like of bool, shape (N,), optional
        True where ``value`` is an upper limit (censored). Default all False.
    dataset : array_like of int, shape (N,), optional
        Dataset index of each band, 0-based; dataset 0 is the reference (cross
        normalisation 1). Default all 0.
    dataset_names : sequence of str, optional
        One name per dataset. Default ``("data",)`` or ``("data_1", ...)``.
    systematic : float or array_like, optional
        Fractional systematic error per dataset (one value for all), added in
        quadrature to ``error`` as ``systematic x model``. Default 0.

    Raises
    ------
    ValueError
        Naming the field, for shapes that differ, non-finite values, non-positive
        errors, bad band edges, datasets without bands, or negative systematics.
    """

    energy_min: NDArray[np.float64]  # (N,) keV
    energy_max: NDArray[np.float64]  # (N,) keV
    value: NDArray[np.float64]  # (N,) mCrab
    error: NDArray[np.float64]  # (N,) mCrab
    upper_limit: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, bool))
    dataset: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    dataset_names: tuple[str, ...] = ()
    systematic: NDArray[np.float64] | float = 0.0

    def __post_init__(self) -> None:
        arrays = {}
        for name in ("energy_min", "energy_max", "value", "error"):
            array = np.array(getattr(self, name), dtype=float)
            if array.ndim != 1:
                raise ValueError(f"{name}: expected a 1-d array, found shape {array.shape}")
            if not np.all(np.isfinite(array)):
                raise ValueError(f"{name}: expected finite values, found NaN or inf")
            arrays[name] = array
        n = arrays["value"].size
        if n == 0:
            raise ValueError("value: expected at least one band, found 0")
        for name, array in arrays.items():
            if array.size != n:
                raise ValueError(f"{name}: expected {n} entries like value, found {array.size}")
        if np.any(arrays["energy_min"] <= 0) or np.any(arrays["energy_max"]
                                                        <= arrays["energy_min"]):
            raise ValueError("energy_min: expected 0 < energy_min < energy_max in every band")
        if np.any(arrays["error"] <= 0):
            raise ValueError("error: expected positive errors, found values <= 0")
        limits = np.asarray(self.upper_limit)
        limits = np.zeros(n, bool) if limits.size == 0 else limits.astype(bool)
        if limits.shape != (n,):
            raise ValueError(f"upper_limit: expected {n} flags, found shape {limits.shape}")
        dataset = np.asarray(self.dataset)
        dataset = np.zeros(n, np.int64) if dataset.size == 0 else dataset.astype(np.int64)
        if dataset.shape != (n,) or np.any(dataset < 0):
            raise ValueError(f"dataset: expected {n} non-negative indices")
        n_dataset = int(dataset.max()) + 1
        if np.any(np.bincount(dataset, minlength=n_dataset) == 0):
            raise ValueError("dataset: every dataset 0..D-1 must hold at least one band")
        names = tuple(self.dataset_names) or (
            ("data",) if n_dataset == 1 else tuple(f"data_{d + 1}" for d in range(n_dataset)))
        if len(names) != n_dataset or len(set(names)) != n_dataset:
            raise ValueError(f"dataset_names: expected {n_dataset} distinct names, found "
                             f"{names!r}")
        systematic = np.broadcast_to(np.asarray(self.systematic, dtype=float),
                                     (n_dataset,)).copy()
        if not np.all(np.isfinite(systematic)) or np.any(systematic < 0):
            raise ValueError(f"systematic: expected fractions >= 0, found {systematic}")
        for name, array in (*arrays.items(), ("upper_limit", limits), ("dataset", dataset),
                            ("systematic", systematic)):
            array.setflags(write=False)
            object.__setattr__(self, name, array)
        object.__setattr__(self, "dataset_names", names)

    @property
    def n_band(self) -> int:
        """Number of bands over all datasets."""
        return int(self.value.size)

    @property
    def n_dataset(self) -> int:
        """Number of datasets."""
        return len(self.dataset_names)

    def with_systematic(self, systematic: float | ArrayLike) -> SpectralData:
        """Copy with other fractional systematics.

        Parameters
        ----------
        systematic : float or array_like
            Per dataset, or one for all.

        Returns
        -------
        data : `SpectralData`
        """
        return SpectralData(self.energy_min, self.energy_max, self.value, self.error,
                            self.upper_limit, self.dataset, self.dataset_names, systematic)

    def to_table(self) -> Table:
        """As an astropy Table (the ECSV layout of `write_spectrum`).

        Returns
        -------
        table : `astropy.table.Table`
        """
        table = Table()
        table["energy_min"] = self.energy_min * u.keV
        table["energy_max"] = self.energy_max * u.keV
        table["value"] = self.value * MCRAB
        table["error"] = self.error * MCRAB
        table["upper_limit"] = self.upper_limit
        table["dataset"] = [self.dataset_names[d] for d in self.dataset]
        table.meta["systematic"] = {n: float(s) for n, s in
                                    zip(self.dataset_names, self.systematic, strict=True)}
        return table

    @classmethod
    def from_table(cls, table: Table, *, reference: str | None = None) -> SpectralData:
        """Build from a table with the columns of `write_spectrum`.

        Parameters
        ----------
        table : `astropy.table.Table`
            Columns ``energy_min``, ``energy_max`` (energy units), ``value``, ``error``
            (mCrab, Crab or photon flux ph cm-2 s-1), optional ``upper_limit`` (bool),
            ``dataset`` (str); meta ``systematic`` (float or {dataset: float}).
        reference : str, optional
            Reference dataset; default the first dataset in the table.

        Returns
        -------
        data : `SpectralData`
        """
        missing = [c for c in ("energy_min", "energy_max", "value", "error")
                   if c not in table.colnames]
        if missing:
            raise ValueError(f"{missing[0]}: required column missing from the spectrum table")
        if len(table) == 0:
            raise ValueError("spectrum: the table has no rows; expected at least one band")
        with u.add_enabled_units([CRAB, MCRAB]):
            lo = u.Quantity(table["energy_min"], u.keV)
            hi = u.Quantity(table["energy_max"], u.keV)
            value = _to_mcrab("value", table["value"], lo, hi)
            error = _to_mcrab("error", table["error"], lo, hi)
        limits = (np.asarray(table["upper_limit"], dtype=bool) if "upper_limit" in table.colnames
                  else np.zeros(len(table), bool))
        labels = ([str(x) for x in table["dataset"]] if "dataset" in table.colnames
                  else ["data"] * len(table))
        names = list(dict.fromkeys(labels))
        if reference is not None:
            if reference not in names:
                raise ValueError(f"reference: dataset {reference!r} not in {names}")
            names.remove(reference)
            names.insert(0, reference)
        index = np.array([names.index(x) for x in labels], dtype=np.int64)
        meta_sys: Any = table.meta.get("systematic", 0.0)
        if isinstance(meta_sys, Mapping):
            unknown = sorted(set(meta_sys) - set(names))
            if unknown:
                raise ValueError(f"systematic: unknown dataset {unknown[0]!r}")
            systematic = [float(meta_sys.get(n, 0.0)) for n in names]
        else:
            systematic = [float(meta_sys)] * len(names)
        return cls(lo.value, hi.value, value, error, limits, index, tuple(names),
                   np.array(systematic))


def _to_mcrab(name: str, column: Any, lo: u.Quantity, hi: u.Quantity) -> NDArray[np.float64]:
    quantity = u.Quantity(column)
    if quantity.unit == u.dimensionless_unscaled:
        raise ValueError(f"{name}: the column needs a unit (mCrab, Crab or cm-2 s-1)")
    try:
        return np.asarray(quantity.to_value(MCRAB))
    except u.UnitConversionError:
        pass
    try:
        return photon_flux_to_mcrab(quantity.to(u.Unit("cm-2 s-1")), lo, hi)
    except u.UnitConversionError as err:
        raise ValueError(f"{name}: expected mCrab, Crab or a photon flux in cm-2 s-1, found "
                         f"{quantity.unit}") from err


def read_spectrum(path: str | Path, *, reference: str | None = None) -> SpectralData:
    """Read a spectrum from an ECSV file (format in docs/spectra.md).

    Parameters
    ----------
    path : str or `~pathlib.Path`
        ECSV file.
    reference : str, optional
        Reference dataset name; default the first in the file.

    Returns
    -------
    data : `SpectralData`
    """
    what = "a spectrum (ECSV, docs/spectra.md)"
    path = readable_file(path, what=what)
    with u.add_enabled_units([CRAB, MCRAB]), reading(path, what=what):
        table = Table.read(str(path), format="ascii.ecsv")
    try:
        return SpectralData.from_table(table, reference=reference)
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None


def write_spectrum(data: SpectralData, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write a spectrum as ECSV (docs/spectra.md), atomically.

    Values and errors are written in mCrab, band edges in keV, the systematic fractions
    in the metadata; `read_spectrum` reads the file back unchanged.

    Parameters
    ----------
    data : `SpectralData`
    path : str or `~pathlib.Path`
    overwrite : bool
        Replace an existing file. Default is False.

    Returns
    -------
    path : `~pathlib.Path`

    Raises
    ------
    FileExistsError
        If the file exists and ``overwrite`` is False.
    """
    with u.add_enabled_units([CRAB, MCRAB]), \
            atomic_file(path, overwrite=overwrite, keep_suffix=True) as partial:
        data.to_table().write(str(partial), format="ascii.ecsv")
    return Path(path)


