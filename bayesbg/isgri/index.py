"""A pointing table from the files INTEGRAL users hold: the ScW index and per-ScW rate
tables (`build_pointing_table`; ``data_prep/isgri/build_pointing_table.py``).

Inputs (FITS binary tables or CSV; column names case-insensitive):

- **ScW index** (e.g. ISDC's ``GNRL-SCWG-GRP-IDX``): ``SWID`` (12-character ScW id),
  ``SW_TYPE`` (``POINTING``, ``SLEW``, ...; only pointings are kept), ``REVOL``
  (revolution), ``TSTART``, ``TSTOP`` (IJD, d; IJD = MJD - 51544), ``RA_SCX``,
  ``DEC_SCX`` (pointing axis, ICRS, deg), ``TELAPSE`` (s), and the IBIS mode column
  (``mode_column``, default ``IBISMODE``);
- **rate tables**, one per band: ``SWID``, ``RATE``, ``RATE_ERR`` (source-cleaned
  ISGRI count rate, cts s-1 pix-1) and optionally ``EXPOSURE`` (dead-time-corrected,
  s). The band is given, or read from the FITS header keywords ``E_MIN``/``E_MAX``
  (keV), or from the file name ending in ``<lo>_<hi>`` or ``<lo>-<hi>`` (``p`` or ``.``
  as decimal point, e.g. ``isgri_rate_168p2_185.csv``);
- **revolutions** (optional): ``REVOL``, ``TSTART``, ``TSTOP`` (IJD), the start and end
  of each revolution (perigee to perigee).

What is computed (`pointings_from_index`):

- ``scw_id`` = ``SWID``, ``orbit`` = ``REVOL``, ``time`` = mid-time in MJD;
- ``l``, ``b``: ``RA_SCX``/``DEC_SCX`` transformed to Galactic by astropy
  (`astropy.coordinates.SkyCoord`, ICRS to Galactic);
- ``phase`` = ``(t_mid - start) / (end - start)`` of the ScW's revolution; without a
  revolution table the start and end are the first ``TSTART`` and the last ``TSTOP`` of
  the revolution's ScWs in the index (all types), which stretches the phase over the
  observed part of the revolution (logged as a warning);
- ``exposure``: the rate tables' ``EXPOSURE`` (all bands must agree), else the index
  column ``exposure_column``;
- ``crab_offset``: the angle from the Crab (`bayesbg.isgri.pointings.PointingTable`).

Pointing ScWs without a rate in every band are left out (their number is logged); a
rate for a ScW that is not a pointing of the index, a repeated ``SWID`` and a
non-finite value are errors naming the file, the column and the ids.
`write_index_files` writes a pointing table back in these layouts (for tests and
examples); `pointings_from_index` of its files gives the table back.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import astropy.units as u
import numpy as np
import pandas as pd
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.table import Table

from bayesbg.atomic import atomic_file
from bayesbg.isgri.bands import Band
from bayesbg.isgri.pointings import PointingTable, duplicate_ids

__all__ = [
    "IJD_TO_MJD",
    "build_pointing_table",
    "pointings_from_index",
    "read_rate_table",
    "read_revolutions",
    "read_scw_index",
    "write_index_files",
]

log = logging.getLogger(__name__)

IJD_TO_MJD = 51544.0
"""MJD of IJD 0 (2000-01-01 00:00 TT): MJD = IJD + 51544."""
_INDEX_COLUMNS = ("SWID", "SW_TYPE", "REVOL", "TSTART", "TSTOP", "RA_SCX", "DEC_SCX",
                  "TELAPSE")
_RATE_COLUMNS = ("SWID", "RATE", "RATE_ERR")
_REVOLUTION_COLUMNS = ("REVOL", "TSTART", "TSTOP")


def _read(path: str | Path) -> pd.DataFrame:
    """A FITS binary table (first extension with a table) or CSV as a DataFrame, columns
    upper-cased, strings decoded and stripped."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    name = path.name.lower()
    if name.endswith((".fits", ".fit", ".fits.gz", ".fts")):
        try:
            frame = Table.read(path, format="fits").to_pandas()
        except (OSError, ValueError) as err:
            raise ValueError(f"{path}: not a readable FITS table ({err})") from None
    elif name.endswith(".csv"):
        frame = pd.read_csv(path, dtype={"SWID": str, "swid": str}, keep_default_na=False)
    else:
        raise ValueError(f"{path}: unknown table format; expected .fits or .csv")
    frame.columns = [str(c).upper() for c in frame.columns]
    for column in frame.columns:
        if frame[column].dtype == object:
            frame[column] = [x.decode().strip() if isinstance(x, bytes) else
                             (x.strip() if isinstance(x, str) else x) for x in frame[column]]
    return frame


def _require(frame: pd.DataFrame, columns: Sequence[str], path: Path | str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: column {missing[0]} missing; found {list(frame.columns)}")


def _numbers(frame: pd.DataFrame, column: str, path: Path | str, *,
             integer: bool = False) -> np.ndarray:
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{path}: column {column}: expected finite numbers, found "
                         f"{str(frame[column].iloc[row])!r} in row {row} ({int(bad.sum())} "
                         "such rows)")
    if integer:
        if np.any(values != np.round(values)):
            raise ValueError(f"{path}: column {column}: expected integers")
        return values.astype(np.int64)
    return values


def _ids(frame: pd.DataFrame, path: Path | str) -> np.ndarray:
    ids = frame["SWID"].astype(str).str.strip().to_numpy()
    repeated = duplicate_ids(ids)
    if repeated.size:
        shown = ", ".join(repeated[:10])
        raise ValueError(f"{path}: column SWID: {repeated.size} ScW ids occur more than once: "
                         f"{shown}{' ...' if repeated.size > 10 else ''}")
    return ids


def read_scw_index(path: str | Path, *, mode_column: str | None = "IBISMODE",
                   exposure_column: str | None = None) -> pd.DataFrame:
    """The pointing ScWs of a ScW index (module docstring), validated.

    Parameters
    ----------
    path : str or `~pathlib.Path`
        FITS or CSV.
    mode_column : str or None
        Column of the IBIS mode. Default ``IBISMODE``; None: no mode column (every ScW
        gets mode 0, so the mode cut removes nothing; logged).
    exposure_column : str, optional
        Column with the exposure (s), checked when given.

    Returns
    -------
    index : `pandas.DataFrame`
        Columns ``swid``, ``revol``, ``tstart``, ``tstop`` (IJD), ``ra``, ``dec`` (deg),
        ``telapse`` (s), ``mode``, ``all_revol``, and ``exposure`` when asked; only
        ``SW_TYPE == "POINTING"`` rows, sorted by ``swid``. ``attrs["revolutions"]``
        holds the first ``TSTART`` and last ``TSTOP`` of every revolution over all rows.
    """
    frame = _read(path)
    wanted = [*_INDEX_COLUMNS, *([mode_column.upper()] if mode_column else []),
              *([exposure_column.upper()] if exposure_column else [])]
    _require(frame, wanted, path)
    start_all = _numbers(frame, "TSTART", path)
    stop_all = _numbers(frame, "TSTOP", path)
    revol_all = _numbers(frame, "REVOL", path, integer=True)
    bounds = pd.DataFrame({"revol": revol_all, "tstart": start_all, "tstop": stop_all}
                          ).groupby("revol").agg(start=("tstart", "min"), end=("tstop", "max"))
    pointing = frame["SW_TYPE"].astype(str).str.upper().str.strip() == "POINTING"
    frame = frame[pointing.to_numpy()].reset_index(drop=True)
    if frame.empty:
        raise ValueError(f"{path}: column SW_TYPE: no POINTING science windows")
    out = pd.DataFrame({"swid": _ids(frame, path),
                        "revol": _numbers(frame, "REVOL", path, integer=True),
                        "tstart": _numbers(frame, "TSTART", path),
                        "tstop": _numbers(frame, "TSTOP", path),
                        "ra": _numbers(frame, "RA_SCX", path),
                        "dec": _numbers(frame, "DEC_SCX", path),
                        "telapse": _numbers(frame, "TELAPSE", path)})
    if np.any(out["tstop"] <= out["tstart"]):
        row = int(np.flatnonzero(out["tstop"] <= out["tstart"])[0])
        raise ValueError(f"{path}: columns TSTART, TSTOP: TSTOP <= TSTART for ScW "
                         f"{out['swid'][row]}")
    if np.any(np.abs(out["dec"]) > 90):
        raise ValueError(f"{path}: column DEC_SCX: expected declinations in [-90, 90] deg")
    if mode_column:
        out["mode"] = _numbers(frame, mode_column.upper(), path, integer=True)
    else:
        log.warning("%s: no IBIS mode column: every ScW gets mode 0 (no mode cut)", path)
        out["mode"] = 0
    if exposure_column:
        out["exposure"] = _numbers(frame, exposure_column.upper(), path)
    out = out.sort_values("swid", ignore_index=True)
    out.attrs["revolutions"] = bounds
    out.attrs["path"] = str(path)
    return out


def _band_from_name(path: Path) -> Band | None:
    stem = re.sub(r"\.(fits|fit|fts|csv)(\.gz)?$", "", path.name, flags=re.IGNORECASE)
    match = re.search(r"([0-9]+(?:[p.][0-9]+)?)[-_]([0-9]+(?:[p.][0-9]+)?)(?:_?kev)?$",
                      stem, flags=re.IGNORECASE)
    if not match:
        return None
    low, high = (float(g.replace("p", ".")) for g in match.groups())
    return Band(low, high)


def read_rate_table(path: str | Path, *, band: Band | str | None = None
                    ) -> tuple[Band, pd.DataFrame]:
    """One band's per-ScW rates (module docstring), validated.

    Parameters
    ----------
    path : str or `~pathlib.Path`
        FITS or CSV.
    band : `Band` or str, optional
        The band; default from ``E_MIN``/``E_MAX`` (FITS) or the file name.

    Returns
    -------
    band : `Band`
    rates : `pandas.DataFrame`
        ``swid``, ``rate``, ``rate_error`` (cts s-1 pix-1) and ``exposure`` (s) when the
        file has it.
    """
    path = Path(path)
    frame = _read(path)
    if band is None and path.name.lower().endswith((".fits", ".fit", ".fits.gz", ".fts")):
        with fits.open(path) as hdus:
            for hdu in hdus[1:]:
                header = hdu.header
                if "E_MIN" in header and "E_MAX" in header:
                    band = Band(float(header["E_MIN"]), float(header["E_MAX"]))
                    break
    if band is None:
        band = _band_from_name(path)
    if band is None:
        raise ValueError(f"{path}: no band: give it, or E_MIN/E_MAX (keV) in the header, or "
                         "a file name ending in <lo>_<hi> (e.g. rate_25_60.csv)")
    band = band if isinstance(band, Band) else Band.parse(band)
    _require(frame, _RATE_COLUMNS, path)
    out = pd.DataFrame({"swid": _ids(frame, path), "rate": _numbers(frame, "RATE", path),
                        "rate_error": _numbers(frame, "RATE_ERR", path)})
    if np.any(out["rate_error"] < 0):
        raise ValueError(f"{path}: column RATE_ERR: expected errors >= 0")
    if "EXPOSURE" in frame.columns:
        out["exposure"] = _numbers(frame, "EXPOSURE", path)
    out.attrs["path"] = str(path)
    return band, out


def read_revolutions(path: str | Path) -> pd.DataFrame:
    """Revolution boundaries: ``REVOL``, ``TSTART``, ``TSTOP`` (IJD).

    Parameters
    ----------
    path : str or `~pathlib.Path`

    Returns
    -------
    revolutions : `pandas.DataFrame`
        Index ``revol``; columns ``start``, ``end`` (IJD).
    """
    frame = _read(path)
    _require(frame, _REVOLUTION_COLUMNS, path)
    revol = _numbers(frame, "REVOL", path, integer=True)
    if np.unique(revol).size != revol.size:
        raise ValueError(f"{path}: column REVOL: repeated revolutions")
    start, end = _numbers(frame, "TSTART", path), _numbers(frame, "TSTOP", path)
    if np.any(end <= start):
        raise ValueError(f"{path}: columns TSTART, TSTOP: TSTOP <= TSTART for revolution "
                         f"{revol[np.flatnonzero(end <= start)[0]]}")
    return pd.DataFrame({"start": start, "end": end}, index=pd.Index(revol, name="revol"))


def pointings_from_index(
    index: pd.DataFrame, rates: Mapping[Band, pd.DataFrame], *,
    revolutions: pd.DataFrame | None = None,
) -> PointingTable:
    """Join an index and rate tables into a pointing table (module docstring).

    Parameters
    ----------
    index : `pandas.DataFrame`
        `read_scw_index`.
    rates : mapping of `Band` to `pandas.DataFrame`
        `read_rate_table` per band.
    revolutions : `pandas.DataFrame`, optional
        `read_revolutions`; default the extent of each revolution's ScWs in the index.

    Returns
    -------
    table : `PointingTable`
        Sorted by ``scw_id``.
    """
    if not rates:
        raise ValueError("rates: expected at least one rate table")
    source = index.attrs.get("path", "index")
    known = set(index["swid"])
    keep = np.ones(len(index), dtype=bool)
    for band, frame in rates.items():
        unknown = sorted(set(frame["swid"]) - known)
        if unknown:
            raise ValueError(f"{frame.attrs.get('path', band.name)}: column SWID: "
                             f"{len(unknown)} ScW ids are not pointings of the index "
                             f"{source}: {', '.join(unknown[:10])}")
        keep &= index["swid"].isin(frame["swid"]).to_numpy()
    if not keep.all():
        log.warning("%d pointing ScWs of the index have no rate in every band; left out",
                    int((~keep).sum()))
    index = index[keep].reset_index(drop=True)
    if index.empty:
        raise ValueError(f"rates: no pointing of the index {source} has rates in every band")
    if revolutions is None:
        log.warning("no revolution table: the orbital phase spans each revolution's ScWs in "
                    "the index (first TSTART to last TSTOP)")
        bounds = index.attrs.get("revolutions")
        if bounds is None:
            bounds = index.groupby("revol").agg(start=("tstart", "min"), end=("tstop", "max"))
    else:
        bounds = revolutions
    missing = sorted(set(index["revol"]) - set(bounds.index))
    if missing:
        raise ValueError(f"revolutions: no boundaries for revolutions {missing[:10]}")
    start = bounds.loc[index["revol"], "start"].to_numpy(dtype=float)
    end = bounds.loc[index["revol"], "end"].to_numpy(dtype=float)
    middle = 0.5 * (index["tstart"].to_numpy() + index["tstop"].to_numpy())
    phase = (middle - start) / (end - start)
    outside = (phase < 0) | (phase > 1)
    if outside.any():
        raise ValueError(f"revolutions: ScW {index['swid'][int(np.flatnonzero(outside)[0])]} "
                         "lies outside its revolution's TSTART-TSTOP")
    galactic = SkyCoord(ra=index["ra"].to_numpy() * u.deg, dec=index["dec"].to_numpy() * u.deg,
                        frame="icrs").galactic
    bands = tuple(rates)
    joined = [index[["swid"]].merge(rates[band], on="swid", how="left") for band in bands]
    exposure = _exposure(index, joined, bands, rates)
    return PointingTable(
        scw_id=index["swid"].to_numpy(), orbit=index["revol"].to_numpy(), phase=phase,
        time=middle + IJD_TO_MJD, l=galactic.l.deg, b=galactic.b.deg, exposure=exposure,
        mode=index["mode"].to_numpy(),
        rate=np.column_stack([frame["rate"].to_numpy() for frame in joined]),
        rate_error=np.column_stack([frame["rate_error"].to_numpy() for frame in joined]),
        bands=bands)


def _exposure(index: pd.DataFrame, joined: Sequence[pd.DataFrame], bands: Sequence[Band],
              rates: Mapping[Band, pd.DataFrame]) -> np.ndarray:
    """The rate tables' EXPOSURE (agreeing over bands), else the index's exposure column."""
    with_exposure = [k for k, frame in enumerate(joined) if "exposure" in frame.columns]
    if with_exposure:
        reference = joined[with_exposure[0]]["exposure"].to_numpy(dtype=float)
        for k in with_exposure[1:]:
            other = joined[k]["exposure"].to_numpy(dtype=float)
            if not np.allclose(other, reference, rtol=1e-6, atol=1e-6):
                raise ValueError(f"{rates[bands[k]].attrs.get('path', bands[k].name)}: column "
                                 f"EXPOSURE differs from the {bands[with_exposure[0]].name} keV "
                                 "table's")
        return reference
    if "exposure" in index.columns:
        return index["exposure"].to_numpy(dtype=float)
    raise ValueError("exposure: no EXPOSURE column in the rate tables and no exposure column "
                     f"named for the index {index.attrs.get('path', '')} (e.g. TELAPSE, the "
                     "elapsed time without dead-time correction)")


def build_pointing_table(
    index_path: str | Path, rate_paths: Sequence[str | Path] | Mapping[str, str | Path], *,
    revolutions_path: str | Path | None = None, mode_column: str | None = "IBISMODE",
    exposure_column: str | None = None,
) -> PointingTable:
    """Read an index, rate tables and optionally revolutions; join them.

    Parameters
    ----------
    index_path : str or `~pathlib.Path`
    rate_paths : sequence of paths, or mapping of band name to path
        One rate table per band (bands from the files, or the mapping's keys).
    revolutions_path : str or `~pathlib.Path`, optional
    mode_column : str or None
        Default ``IBISMODE``.
    exposure_column : str, optional
        Index column with the exposure, when the rate tables have none.

    Returns
    -------
    table : `PointingTable`
    """
    index = read_scw_index(index_path, mode_column=mode_column, exposure_column=exposure_column)
    items = (rate_paths.items() if isinstance(rate_paths, Mapping)
             else [(None, path) for path in rate_paths])
    rates: dict[Band, pd.DataFrame] = {}
    for band_name, path in items:
        band, frame = read_rate_table(path, band=band_name)
        if band in rates:
            raise ValueError(f"{path}: band {band.name} keV given twice")
        rates[band] = frame
    revolutions = read_revolutions(revolutions_path) if revolutions_path is not None else None
    table = pointings_from_index(index, rates, revolutions=revolutions)
    log.info("%d pointings in %d bands from %s", table.n_pointing, len(table.bands), index_path)
    return table


def write_index_files(
    table: PointingTable, directory: str | Path, *, revolution_start: Sequence[float],
    revolution_end: Sequence[float], fmt: str = "fits", overwrite: bool = False,
) -> dict[str, Path | list[Path]]:
    """Write a pointing table as a ScW index, rate tables per band and revolutions.

    The inverse of `build_pointing_table` (up to floating-point rounding of the
    coordinate transforms): ``TSTART``/``TSTOP`` are the mid-time minus/plus half of
    ``TELAPSE = exposure / 0.9``, ``RA_SCX``/``DEC_SCX`` the ICRS axis, ``IBISMODE`` the
    mode, and the rate tables carry ``EXPOSURE``.

    Parameters
    ----------
    table : `PointingTable`
    directory : str or `~pathlib.Path`
        Created if missing.
    revolution_start, revolution_end : sequence of float
        MJD of the start and end of each orbit of the table, in the order of
        ``numpy.unique(table.orbit)``.
    fmt : {"fits", "csv"}
    overwrite : bool
        Replace existing files. Default is False.

    Returns
    -------
    paths : dict
        ``"index"``, ``"revolutions"``, ``"rates"`` (one path per band).
    """
    if fmt not in ("fits", "csv"):
        raise ValueError(f"fmt: expected 'fits' or 'csv', found {fmt!r}")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    orbits = np.unique(table.orbit)
    start = np.asarray(revolution_start, dtype=float)
    end = np.asarray(revolution_end, dtype=float)
    if start.shape != orbits.shape or end.shape != orbits.shape:
        raise ValueError(f"revolution_start, revolution_end: expected {orbits.size} values "
                         "(one per orbit)")
    icrs = SkyCoord(l=table.l * u.deg, b=table.b * u.deg, frame="galactic").icrs
    middle = table.time - IJD_TO_MJD
    telapse = table.exposure / 0.9
    index = Table({"SWID": table.scw_id, "SW_TYPE": np.full(table.n_pointing, "POINTING"),
                   "REVOL": table.orbit, "TSTART": middle - telapse / 2 / 86400.0,
                   "TSTOP": middle + telapse / 2 / 86400.0, "RA_SCX": icrs.ra.deg,
                   "DEC_SCX": icrs.dec.deg, "TELAPSE": telapse, "IBISMODE": table.mode})
    revolutions = Table({"REVOL": orbits, "TSTART": start - IJD_TO_MJD,
                         "TSTOP": end - IJD_TO_MJD})
    paths: dict[str, Path | list[Path]] = {
        "index": _write(index, directory / f"scw_index.{fmt}", overwrite),
        "revolutions": _write(revolutions, directory / f"revolutions.{fmt}", overwrite)}
    rate_paths = []
    for k, band in enumerate(table.bands):
        rates = Table({"SWID": table.scw_id, "RATE": table.rate[:, k],
                       "RATE_ERR": table.rate_error[:, k], "EXPOSURE": table.exposure})
        rates.meta["E_MIN"] = band.energy_min
        rates.meta["E_MAX"] = band.energy_max
        rate_paths.append(_write(rates, directory / f"isgri_{band.column}.{fmt}", overwrite))
    paths["rates"] = rate_paths
    return paths


def _write(table: Table, path: Path, overwrite: bool) -> Path:
    with atomic_file(path, overwrite=overwrite, keep_suffix=True) as partial:
        table.write(partial, format="fits" if path.suffix == ".fits" else "csv")
    return path
