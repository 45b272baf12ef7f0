"""The ISGRI pointing (science window, ScW) table: energy bands, columns, units, file I/O.

One row per pointing ([ISGRI] section 2, docs/equations.md section 3). Columns of a file:

========================  =============  ============================================
column                    unit           meaning
========================  =============  ============================================
``scw_id``                --             science-window identifier (string)
``orbit``                 --             INTEGRAL revolution number (integer >= 0)
``phase``                 --             orbital phase in [0, 1]
``time``                  d              start time, MJD
``l``, ``b``              deg            Galactic longitude and latitude of the axis
``exposure``              s              dead-time-corrected exposure
``mode``                  --             IBIS instrument mode (integer)
``rate_<lo>_<hi>``        cts s-1 pix-1  source-cleaned detector count rate, band
                                         ``<lo>``-``<hi>`` keV (e.g. ``rate_25_60``)
``rate_error_<lo>_<hi>``  cts s-1 pix-1  its 1-sigma error
``crab_offset``           deg            angle from the Crab (optional; computed from
                                         ``l``, ``b`` when absent)
========================  =============  ============================================

Pointings within the IBIS field of view of the Crab (``crab_offset`` below
``crab_exclusion``, default 15 deg) are *not* cleaned of the Crab: they serve the Crab
calibration (`bayesbg.isgri.model.crab`) and are kept out of the background model and
the flux measurements. The cuts of [ISGRI] section 2 are in `bayesbg.isgri.screening`.

Files: FITS (binary table), ECSV, CSV (astropy / pandas), Parquet (pandas, needs
``pyarrow``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from bayesbg.atomic import atomic_file
from bayesbg.isgri.sky import CRAB_LB, angular_distance, wrap_longitude
from bayesbg.reading import ContentError, readable_file, reading

__all__ = [
    "BANDS",
    "BROAD_BANDS",
    "CLIPPING_BAND",
    "Band",
    "PointingTable",
    "read_pointings",
    "write_pointings",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Band:
    """An energy band.

    Parameters
    ----------
    energy_min, energy_max : float
        Band edges, keV (``0 < energy_min < energy_max``).
    """

    energy_min: float
    energy_max: float

    def __post_init__(self) -> None:
        if not (np.isfinite(self.energy_min) and np.isfinite(self.energy_max)):
            raise ValueError(f"energy_min, energy_max: expected finite keV, found {self}")
        if not 0 < self.energy_min < self.energy_max:
            raise ValueError(
                f"energy_min, energy_max: expected 0 < energy_min < energy_max keV, found "
                f"{self.energy_min}, {self.energy_max}"
            )

    @property
    def name(self) -> str:
        """``"<lo>-<hi>"`` in keV, e.g. ``"25-60"``."""
        return f"{self.energy_min:g}-{self.energy_max:g}"

    @property
    def column(self) -> str:
        """Rate column name, e.g. ``"rate_25_60"``."""
        return f"rate_{self.energy_min:g}_{self.energy_max:g}".replace(".", "p")

    @property
    def error_column(self) -> str:
        """Rate error column name, e.g. ``"rate_error_25_60"``."""
        return self.column.replace("rate_", "rate_error_", 1)

    @classmethod
    def parse(cls, text: str) -> Band:
        """Band from ``"25-60"`` or a column name such as ``"rate_25_60"``.

        Parameters
        ----------
        text : str

        Returns
        -------
        band : `Band`
        """
        match = re.fullmatch(r"(?:rate_)?([0-9.p]+)[-_]([0-9.p]+)", text.strip())
        if not match:
            raise ValueError(f"band: expected '<lo>-<hi>' keV, found {text!r}")
        low, high = (float(g.replace("p", ".")) for g in match.groups())
        return cls(low, high)


BROAD_BANDS = (Band(25.0, 60.0), Band(60.0, 80.0), Band(80.0, 200.0))
"""The three broad bands of [ISGRI] Table 1."""
CLIPPING_BAND = Band(168.0, 185.0)
"""Last band of the spectral binning, used for the residual clipping (Appendix A)."""
BANDS = (*BROAD_BANDS, CLIPPING_BAND)
"""Bands of the simulated tables: the broad bands and the clipping band."""

_SCALAR_COLUMNS = ("scw_id", "orbit", "phase", "time", "l", "b", "exposure", "mode")


@dataclass(frozen=True)
class PointingTable:
    """Pointings (ScWs) with count rates per band; see the module docstring for columns.

    Parameters
    ----------
    scw_id : array_like of str, shape (n,)
        Identifiers.
    orbit : array_like of int, shape (n,)
        Revolution numbers (>= 0).
    phase : array_like, shape (n,)
        Orbital phase in [0, 1].
    time : array_like, shape (n,)
        MJD, d.
    l, b : array_like, shape (n,)
        Galactic coordinates, deg; ``l`` is stored wrapped into [-180, 180).
    exposure : array_like, shape (n,)
        Dead-time-corrected exposure, s (>= 0).
    mode : array_like of int, shape (n,)
        Instrument mode.
    rate, rate_error : array_like, shape (n, n_band)
        Count rate and its error per band, cts s-1 pix-1 (errors >= 0).
    bands : sequence of `Band`
        The bands of the rate columns.
    crab_offset : array_like, shape (n,), optional
        Angle from the Crab, deg; computed from ``l``, ``b`` when not given.

    Raises
    ------
    ValueError
        Naming the column, for wrong lengths or shapes, non-finite values, a phase
        outside [0, 1], ``|b| > 90``, negative exposures or rate errors.
    """

    scw_id: NDArray[np.str_]  # (n,) identifiers
    orbit: NDArray[np.int64]  # (n,) revolution
    phase: NDArray[np.float64]  # (n,) orbital phase
    time: NDArray[np.float64]  # (n,) MJD, d
    l: NDArray[np.float64]  # (n,) deg, [-180, 180)  # noqa: E741
    b: NDArray[np.float64]  # (n,) deg
    exposure: NDArray[np.float64]  # (n,) s
    mode: NDArray[np.int64]  # (n,) IBIS mode
    rate: NDArray[np.float64]  # (n, n_band) cts s-1 pix-1
    rate_error: NDArray[np.float64]  # (n, n_band) cts s-1 pix-1
    bands: tuple[Band, ...]
    crab_offset: NDArray[np.float64] = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        bands = tuple(self.bands)
        if not bands or not all(isinstance(x, Band) for x in bands):
            raise ValueError("bands: expected a non-empty sequence of Band")
        if len({x.name for x in bands}) != len(bands):
            raise ValueError(f"bands: duplicate bands in {[x.name for x in bands]}")
        object.__setattr__(self, "bands", bands)
        n = np.asarray(self.orbit).shape[0] if np.ndim(self.orbit) == 1 else -1
        if n < 0:
            raise ValueError("orbit: expected a one-dimensional array")
        arrays: dict[str, NDArray[Any]] = {
            "scw_id": np.asarray(self.scw_id).astype(str),
            "orbit": _as_int("orbit", self.orbit),
            "mode": _as_int("mode", self.mode),
        }
        for name in ("phase", "time", "l", "b", "exposure"):
            arrays[name] = _as_float(name, getattr(self, name))
        for name, values in arrays.items():
            if values.shape != (n,):
                raise ValueError(f"{name}: expected shape ({n},) like orbit, found {values.shape}")
        for name in ("rate", "rate_error"):
            values = np.array(getattr(self, name), dtype=float)
            if values.ndim == 1 and len(bands) == 1:
                values = values[:, None]
            if values.shape != (n, len(bands)):
                raise ValueError(
                    f"{name}: expected shape ({n}, {len(bands)}) (pointings, bands), found "
                    f"{values.shape}"
                )
            bad = ~np.isfinite(values)
            if bad.any():
                row, col = np.argwhere(bad)[0]
                raise ValueError(
                    f"{name}: non-finite value in band {bands[col].name} at row {row}"
                )
            arrays[name] = values
        if np.any(arrays["orbit"] < 0):
            raise ValueError("orbit: expected revolution numbers >= 0, found negatives")
        if np.any((arrays["phase"] < 0) | (arrays["phase"] > 1)):
            raise ValueError("phase: expected orbital phases in [0, 1]")
        if np.any(np.abs(arrays["b"]) > 90):
            raise ValueError("b: expected Galactic latitudes in [-90, 90] deg")
        if np.any(arrays["exposure"] < 0):
            raise ValueError("exposure: expected exposures >= 0 s, found negatives")
        if np.any(arrays["rate_error"] < 0):
            raise ValueError("rate_error: expected errors >= 0, found negatives")
        arrays["l"] = wrap_longitude(arrays["l"])
        if self.crab_offset is None:
            offset = angular_distance(arrays["l"], arrays["b"], *CRAB_LB)
        else:
            offset = np.array(self.crab_offset, dtype=float)
            if offset.shape != (n,):
                raise ValueError(f"crab_offset: expected shape ({n},), found {offset.shape}")
            missing = ~np.isfinite(offset)
            offset[missing] = angular_distance(arrays["l"][missing], arrays["b"][missing],
                                               *CRAB_LB)
            if np.any(offset < 0):
                raise ValueError("crab_offset: expected angles >= 0 deg")
        arrays["crab_offset"] = offset
        for name, values in arrays.items():
            values.setflags(write=False)
            object.__setattr__(self, name, values)

    @property
    def n_pointing(self) -> int:
        """Number of pointings."""
        return int(self.orbit.shape[0])

    @property
    def band_names(self) -> tuple[str, ...]:
        """Band names, e.g. ``("25-60", "60-80", ...)``."""
        return tuple(x.name for x in self.bands)

    def band_index(self, band: Band | str) -> int:
        """Column index of a band in ``rate``.

        Parameters
        ----------
        band : `Band` or str
            The band or its name (``"25-60"``).

        Returns
        -------
        index : int
        """
        wanted = band if isinstance(band, Band) else Band.parse(band)
        for index, candidate in enumerate(self.bands):
            if candidate == wanted:
                return index
        raise ValueError(f"band: {wanted.name} keV is not in the table's bands "
                         f"{list(self.band_names)}")

    def select(self, mask: ArrayLike) -> PointingTable:
        """The pointings where ``mask`` is true (or at the given indices).

        Parameters
        ----------
        mask : array_like of bool, shape (n,), or of int

        Returns
        -------
        table : `PointingTable`
        """
        index = np.asarray(mask)
        return PointingTable(
            scw_id=self.scw_id[index], orbit=self.orbit[index], phase=self.phase[index],
            time=self.time[index], l=self.l[index], b=self.b[index],
            exposure=self.exposure[index], mode=self.mode[index], rate=self.rate[index],
            rate_error=self.rate_error[index], bands=self.bands,
            crab_offset=self.crab_offset[index],
        )

    def to_dataframe(self) -> pd.DataFrame:
        """One column per field (rates as ``rate_<lo>_<hi>``), units as in the module doc.

        Returns
        -------
        frame : `pandas.DataFrame`
        """
        columns: dict[str, Any] = {name: getattr(self, name) for name in _SCALAR_COLUMNS}
        for index, band in enumerate(self.bands):
            columns[band.column] = self.rate[:, index]
            columns[band.error_column] = self.rate_error[:, index]
        columns["crab_offset"] = self.crab_offset
        return pd.DataFrame(columns)

    @classmethod
    def from_dataframe(
        cls, frame: pd.DataFrame, *, bands: Sequence[Band | str] | None = None
    ) -> PointingTable:
        """Build from a table with the documented columns.

        Parameters
        ----------
        frame : `pandas.DataFrame`
        bands : sequence of `Band` or str, optional
            Bands to read; default every ``rate_<lo>_<hi>`` column.

        Returns
        -------
        table : `PointingTable`

        Raises
        ------
        ValueError
            Naming a missing column or a column with invalid values.
        """
        missing = [c for c in _SCALAR_COLUMNS if c not in frame.columns]
        if missing:
            raise ValueError(f"{missing[0]}: required column missing; found {list(frame.columns)}")
        if len(frame) == 0:
            raise ValueError("table: no pointings (the table has no rows)")
        if bands is None:
            found = [c for c in frame.columns if re.fullmatch(r"rate_[0-9p.]+_[0-9p.]+", str(c))]
            if not found:
                raise ValueError("rate_<lo>_<hi>: no rate columns found")
            chosen = [Band.parse(c) for c in found]
        else:
            chosen = [x if isinstance(x, Band) else Band.parse(x) for x in bands]
        for band in chosen:
            for column in (band.column, band.error_column):
                if column not in frame.columns:
                    raise ValueError(f"{column}: required column missing for band {band.name}")
        values: dict[str, Any] = {}
        for name in _SCALAR_COLUMNS:
            column = frame[name]
            if name != "scw_id" and not pd.api.types.is_numeric_dtype(column):
                raise ValueError(f"{name}: expected numbers, found dtype {column.dtype}")
            values[name] = column.to_numpy()
        for name in ("phase", "time", "l", "b", "exposure"):
            if not np.all(np.isfinite(values[name].astype(float))):
                raise ValueError(f"{name}: non-finite values")
        crab = frame["crab_offset"].to_numpy(dtype=float) if "crab_offset" in frame else None
        return cls(
            **values,
            rate=np.column_stack([frame[x.column].to_numpy(dtype=float) for x in chosen]),
            rate_error=np.column_stack(
                [frame[x.error_column].to_numpy(dtype=float) for x in chosen]
            ),
            bands=tuple(chosen),
            crab_offset=crab,
        )


def read_pointings(
    path: str | Path, *, bands: Sequence[Band | str] | None = None
) -> PointingTable:
    """Read a pointing table from FITS, ECSV, CSV or Parquet (by file suffix).

    Parameters
    ----------
    path : str or `~pathlib.Path`
        ``.fits``/``.fit``/``.fits.gz`` (first binary table), ``.ecsv``, ``.csv``,
        ``.parquet``/``.pq``.
    bands : sequence, optional
        Bands to read; default all ``rate_*`` columns.

    Returns
    -------
    table : `PointingTable`

    Raises
    ------
    ValueError
        On an unknown suffix or invalid columns (named).
    ImportError
        For Parquet without ``pyarrow``.
    """
    what = "a pointing table (FITS, ECSV, CSV or Parquet; docs/isgri.md)"
    path = readable_file(path, what=what)
    name = path.name.lower()
    with reading(path, what=what):
        if name.endswith((".fits", ".fit", ".fits.gz")) or name.endswith(".ecsv"):
            from astropy.table import Table

            table = Table.read(path, format="ascii.ecsv" if name.endswith(".ecsv") else "fits")
            frame = table.to_pandas()
            if "scw_id" in frame and frame["scw_id"].dtype == object:
                frame["scw_id"] = [x.decode() if isinstance(x, bytes) else x
                                   for x in frame["scw_id"]]
        elif name.endswith(".csv"):
            frame = pd.read_csv(path, dtype={"scw_id": str})
        elif name.endswith((".parquet", ".pq")):
            _require_pyarrow()
            frame = pd.read_parquet(path)
        else:
            raise ContentError(f"path: unknown table format {path.name!r}; expected .fits, "
                               ".ecsv, .csv or .parquet")
    log.info("read %d pointings from %s", len(frame), path)
    try:
        return PointingTable.from_dataframe(frame, bands=bands)
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None


def write_pointings(table: PointingTable, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write a pointing table (format by suffix, as :func:`read_pointings`), atomically.

    FITS and ECSV files carry the units of the module docstring (rates in ``ct s-1``
    with the band in the column description); CSV and Parquet the bare numbers.

    Parameters
    ----------
    table : `PointingTable`
    path : str or `~pathlib.Path`
        ``.fits``/``.fit``/``.fits.gz``, ``.ecsv``, ``.csv`` or ``.parquet``/``.pq``.
    overwrite : bool
        Replace an existing file. Default is False.

    Returns
    -------
    path : `~pathlib.Path`

    Raises
    ------
    ValueError
        On an unknown suffix.
    FileExistsError
        If the file exists and ``overwrite`` is False.
    ImportError
        For Parquet without ``pyarrow``.
    """
    path = Path(path)
    name = path.name.lower()
    formats = (".fits", ".fit", ".fits.gz", ".ecsv", ".csv", ".parquet", ".pq")
    if not name.endswith(formats):
        raise ValueError(f"path: unknown table format {path.name!r}; expected one of "
                         f"{list(formats)}")
    frame = table.to_dataframe()
    with atomic_file(path, overwrite=overwrite, keep_suffix=True) as partial:
        if name.endswith((".fits", ".fit", ".fits.gz", ".ecsv")):
            from astropy.table import Table

            astropy_table = Table.from_pandas(frame)
            units = {"phase": "", "time": "d", "l": "deg", "b": "deg", "exposure": "s",
                     "crab_offset": "deg"}
            for column, unit in units.items():
                if unit:
                    astropy_table[column].unit = unit
            for band in table.bands:
                astropy_table[band.column].unit = "ct s-1"
                astropy_table[band.error_column].unit = "ct s-1"
                astropy_table[band.column].description = f"{band.name} keV, cts s-1 pix-1"
            fmt = "ascii.ecsv" if name.endswith(".ecsv") else "fits"
            astropy_table.write(partial, format=fmt)
        elif name.endswith(".csv"):
            frame.to_csv(partial, index=False)
        else:
            _require_pyarrow()
            frame.to_parquet(partial, index=False)
    return path


def _require_pyarrow() -> None:
    try:
        import pyarrow  # noqa: F401
    except ImportError as err:
        raise ImportError(
            "Parquet pointing tables need the pyarrow package (pip install pyarrow); "
            "or write the table as FITS, ECSV or CSV"
        ) from err


def _as_int(name: str, values: Any) -> NDArray[np.int64]:
    array = np.asarray(values)
    if array.dtype.kind == "f":
        if not np.all(np.isfinite(array)) or np.any(array != np.round(array)):
            raise ValueError(f"{name}: expected integers, found non-integer values")
    elif array.dtype.kind not in "iu":
        raise ValueError(f"{name}: expected integers, found dtype {array.dtype}")
    return array.astype(np.int64)


def _as_float(name: str, values: Any) -> NDArray[np.float64]:
    try:
        array = np.array(values, dtype=float)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name}: expected numbers ({err})") from err
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name}: non-finite values")
    return array
