"""MEGAlib orientation files (``.ori``): instrument attitude over time (docs/cosi_io.md).

An ``.ori`` file is text::

    Type OrientationsGalactic
    OG <time> <x_lat> <x_lon> <z_lat> <z_lon> [<altitude> <earth_lat> <earth_lon> <livetime>]
    ...
    EN

- ``time``: seconds since 1970-01-01 (Unix time, UTC), as cosipy reads it
  (``Time(..., format="unix")``); the 2016 balloon file starts at 1467072123.95 =
  2016-06-28 00:02 UTC, the day of the flight file's name.
- ``x_lat x_lon z_lat z_lon``: Galactic latitude then longitude, deg, of the instrument
  x and z axes. (MEGAlib event records ``GX``/``GZ`` give the same axes as *longitude
  then latitude*.)
- newer (cosipy) files add ``altitude`` (km), the Galactic latitude and longitude of the
  Earth's zenith at the instrument (deg) and ``livetime`` (s, accumulated up to the next
  entry; called "SAA" in older files); they are kept in :attr:`Orientation.extra`.

The instrument frame is right handed: ``y = z x x``. Local angles are the polar angle
``theta`` from +z and the azimuth ``phi`` from +x towards +y, deg.
"""

from __future__ import annotations

import gzip
import logging
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
from astropy.time import Time
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "EXTRA_COLUMNS",
    "Orientation",
    "instrument_axes",
    "lonlat_to_vectors",
    "read_ori",
    "vectors_to_lonlat",
]

log = logging.getLogger(__name__)

EXTRA_COLUMNS = ("altitude", "earth_zenith_lat", "earth_zenith_lon", "livetime")
"""Names given to the columns after ``z_lon`` in the newer layout (units: km, deg, deg, s);
further unnamed columns become ``column_<k>`` (k counted from 1 after ``OG``)."""


def lonlat_to_vectors(lon_deg: ArrayLike, lat_deg: ArrayLike) -> NDArray[np.float64]:
    """Cartesian unit vectors, shape (..., 3), from longitude and latitude in deg."""
    lon = np.radians(np.asarray(lon_deg, dtype=float))
    lat = np.radians(np.asarray(lat_deg, dtype=float))
    return np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)],
                    axis=-1)


def vectors_to_lonlat(vectors: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Longitude in [0, 360) and latitude in [-90, 90], deg, of vectors (..., 3) (any norm)."""
    v = np.asarray(vectors, dtype=float)
    norm = np.linalg.norm(v, axis=-1)
    lat = np.degrees(np.arcsin(np.clip(v[..., 2] / norm, -1.0, 1.0)))
    lon = np.mod(np.degrees(np.arctan2(v[..., 1], v[..., 0])), 360.0)
    return lon, lat


def instrument_axes(x_lon: ArrayLike, x_lat: ArrayLike, z_lon: ArrayLike, z_lat: ArrayLike
                    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Orthonormal instrument axes x, y, z (each (..., 3), Galactic cartesian) from the
    Galactic longitude and latitude (deg) of the x and z axes.

    ``z`` is taken as given; ``x`` is made exactly orthogonal to it (Gram-Schmidt, a
    correction of the order of the files' rounding, ~1e-3 deg); ``y = z x x``.
    """
    z = lonlat_to_vectors(z_lon, z_lat)
    x = lonlat_to_vectors(x_lon, x_lat)
    x = x - np.sum(x * z, axis=-1, keepdims=True) * z
    x /= np.linalg.norm(x, axis=-1, keepdims=True)
    return x, np.cross(z, x), z


def _as_unix_seconds(time: Any) -> NDArray[np.float64]:
    if isinstance(time, Time):
        return np.atleast_1d(np.asarray(time.unix, dtype=float))
    return np.atleast_1d(np.asarray(time, dtype=float))


@dataclass(frozen=True, eq=False)
class Orientation:
    """Attitude of the instrument at a series of times.

    Parameters
    ----------
    time : `~astropy.time.Time`, shape (n,)
        Time stamps, non-decreasing (Unix seconds in the files, UTC).
    x_lat, x_lon, z_lat, z_lon : `numpy.ndarray`, shape (n,)
        Galactic latitude and longitude of the instrument x and z axes, deg.
    extra : dict of str to `numpy.ndarray`
        Further per-time columns of the newer layout (:data:`EXTRA_COLUMNS`), each (n,).
    """

    time: Time
    x_lat: NDArray[np.float64]
    x_lon: NDArray[np.float64]
    z_lat: NDArray[np.float64]
    z_lon: NDArray[np.float64]
    extra: dict[str, NDArray[np.float64]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.time, Time):
            raise TypeError(f"time: expected astropy.time.Time, found {type(self.time).__name__}")
        n = int(np.size(self.time))
        if self.time.ndim != 1 or n < 1:
            raise ValueError(f"time: expected a 1-d Time with >= 1 entries, found shape "
                             f"{self.time.shape}")
        for name in ("x_lat", "x_lon", "z_lat", "z_lon"):
            value = np.asarray(getattr(self, name), dtype=float)
            if value.shape != (n,):
                raise ValueError(f"{name}: expected shape ({n},), found {value.shape}")
            if not np.all(np.isfinite(value)):
                raise ValueError(f"{name}: expected finite angles in deg, found NaN or inf")
            if name.endswith("lat") and np.any(np.abs(value) > 90.0):
                raise ValueError(f"{name}: expected latitudes in [-90, 90] deg, found "
                                 f"{value[np.abs(value) > 90.0][0]}")
            object.__setattr__(self, name, value)
        extra = {}
        for name, value in self.extra.items():
            value = np.asarray(value, dtype=float)
            if value.shape != (n,):
                raise ValueError(f"extra[{name!r}]: expected shape ({n},), found {value.shape}")
            extra[name] = value
        object.__setattr__(self, "extra", extra)
        if np.any(np.diff(self.seconds) < 0):
            bad = int(np.flatnonzero(np.diff(self.seconds) < 0)[0]) + 1
            raise ValueError(f"time: expected non-decreasing times, entry {bad} goes back "
                             f"in time")

    def __len__(self) -> int:
        return int(np.size(self.time))

    @cached_property
    def seconds(self) -> NDArray[np.float64]:
        """Time stamps as Unix seconds (float64)."""
        return np.asarray(self.time.unix, dtype=float)

    def axes(self) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """Unit vectors of the instrument x, y, z axes in Galactic cartesian, each (n, 3).

        See :func:`instrument_axes` (x orthogonalised against z, ``y = z x x``).
        """
        return instrument_axes(self.x_lon, self.x_lat, self.z_lon, self.z_lat)

    def rotation_matrices(self) -> NDArray[np.float64]:
        """Matrices ``R`` (n, 3, 3) with columns x, y, z: ``galactic = R @ local``."""
        x, y, z = self.axes()
        return np.stack([x, y, z], axis=-1)

    def to_local(self, lon_deg: ArrayLike, lat_deg: ArrayLike
                 ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """A Galactic direction in the instrument frame at each time.

        Parameters
        ----------
        lon_deg, lat_deg : float or array of shape (n,)
            Galactic longitude and latitude, deg (broadcast against the n times).

        Returns
        -------
        theta, phi : `numpy.ndarray`, shape (n,)
            Polar angle from the instrument z axis and azimuth from x towards y, deg;
            phi in [0, 360).
        """
        v = lonlat_to_vectors(lon_deg, lat_deg)
        x, y, z = self.axes()
        cx, cy, cz = (np.sum(v * axis, axis=-1) for axis in (x, y, z))
        theta = np.degrees(np.arccos(np.clip(cz, -1.0, 1.0)))
        phi = np.mod(np.degrees(np.arctan2(cy, cx)), 360.0)
        return theta, phi

    def to_galactic(self, local_vectors: ArrayLike) -> NDArray[np.float64]:
        """Instrument-frame vectors (n, 3) (or one (3,)) to Galactic cartesian at each time."""
        local = np.asarray(local_vectors, dtype=float)
        if local.shape[-1:] != (3,):
            raise ValueError(f"local_vectors: expected shape (n, 3), found {local.shape}")
        x, y, z = self.axes()
        return local[..., 0:1] * x + local[..., 1:2] * y + local[..., 2:3] * z

    def interpolate(self, time: Time | ArrayLike) -> Orientation:
        """Orientation at the given times.

        Axis unit vectors are interpolated linearly in time and renormalised; the extra
        columns linearly (note that ``livetime``, a per-interval quantity, is then only
        indicative).

        Parameters
        ----------
        time : `~astropy.time.Time` or array of Unix seconds
            Times within ``[time[0], time[-1]]``.

        Raises
        ------
        ValueError
            If a time lies outside the covered range or is not finite.
        """
        t = _as_unix_seconds(time)
        s = self.seconds
        if not np.all(np.isfinite(t)):
            raise ValueError("time: expected finite times, found NaN or inf")
        outside = (t < s[0]) | (t > s[-1])
        if np.any(outside):
            raise ValueError(
                f"time: {int(outside.sum())} of {t.size} times outside the orientation range "
                f"[{s[0]:.6f}, {s[-1]:.6f}] s (first: {t[outside][0]:.6f})")
        index = np.clip(np.searchsorted(s, t, side="right") - 1, 0, max(len(s) - 2, 0))
        if len(s) == 1:
            weight = np.zeros_like(t)
            upper = index
        else:
            upper = index + 1
            span = s[upper] - s[index]
            weight = np.divide(t - s[index], span, out=np.zeros_like(t), where=span > 0)

        def lerp_vectors(lon: NDArray, lat: NDArray) -> tuple[NDArray, NDArray]:
            v = lonlat_to_vectors(lon, lat)
            w = weight[:, None]
            out = (1.0 - w) * v[index] + w * v[upper]
            return vectors_to_lonlat(out)

        x_lon, x_lat = lerp_vectors(self.x_lon, self.x_lat)
        z_lon, z_lat = lerp_vectors(self.z_lon, self.z_lat)
        extra = {name: (1.0 - weight) * value[index] + weight * value[upper]
                 for name, value in self.extra.items()}
        new_time = time if isinstance(time, Time) else Time(t, format="unix", scale="utc")
        new_time = new_time.reshape(-1) if new_time.ndim != 1 else new_time
        return Orientation(new_time, x_lat, x_lon, z_lat, z_lon, extra)


def _open_text(path: Path) -> Any:
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="ascii", errors="replace")
    return open(path, encoding="ascii", errors="replace")


def read_ori(path: str | Path) -> Orientation:
    """Read a MEGAlib ``.ori`` orientation file (2016 and newer layouts, plain or ``.gz``).

    Lines: an optional ``Type OrientationsGalactic`` header, ``OG`` rows, an optional
    final ``EN`` (anything after it is ignored, as MEGAlib does), blank lines and ``#``
    comments. All ``OG`` rows must have the same number of columns (5 or more numbers).

    Parameters
    ----------
    path : str or `~pathlib.Path`
        The file.

    Returns
    -------
    orientation : `Orientation`

    Raises
    ------
    ValueError
        For a malformed row (message names the file and the line number), an unknown
        keyword or orientation type, decreasing times, or a file without ``OG`` rows.
        A file without ``EN`` is read with a `UserWarning` (it may be truncated).
    """
    path = Path(path)
    rows: list[list[float]] = []
    n_columns: int | None = None
    ended = False
    with _open_text(path) as handle:
        for number, line in enumerate(handle, start=1):
            fields = line.split()
            if not fields or fields[0].startswith("#"):
                continue
            keyword = fields[0]
            if keyword == "EN":
                ended = True
                break
            if keyword == "Type":
                if len(fields) < 2 or fields[1] != "OrientationsGalactic":
                    raise ValueError(f"{path}:{number}: expected 'Type OrientationsGalactic', "
                                     f"found {line.strip()!r}")
                continue
            if keyword != "OG":
                raise ValueError(f"{path}:{number}: unknown keyword {keyword!r} (expected "
                                 f"Type, OG or EN)")
            try:
                values = [float(v) for v in fields[1:]]
            except ValueError:
                raise ValueError(f"{path}:{number}: expected numbers after OG, found "
                                 f"{line.strip()!r}") from None
            if len(values) < 5:
                raise ValueError(f"{path}:{number}: expected at least 5 numbers after OG "
                                 f"(time x_lat x_lon z_lat z_lon), found {len(values)}")
            if n_columns is None:
                n_columns = len(values)
            elif len(values) != n_columns:
                raise ValueError(f"{path}:{number}: expected {n_columns} numbers after OG "
                                 f"like the first row, found {len(values)}")
            if not all(np.isfinite(values)):
                raise ValueError(f"{path}:{number}: non-finite value in {line.strip()!r}")
            if abs(values[1]) > 90 or abs(values[3]) > 90:
                raise ValueError(f"{path}:{number}: latitude outside [-90, 90] deg in "
                                 f"{line.strip()!r}")
            if rows and values[0] < rows[-1][0]:
                raise ValueError(f"{path}:{number}: time {values[0]} before the previous "
                                 f"row's {rows[-1][0]}")
            rows.append(values)
    if not rows:
        raise ValueError(f"{path}: no OG rows found")
    if not ended:
        warnings.warn(f"{path}: no final EN line; the file may be truncated", UserWarning,
                      stacklevel=2)
    table = np.asarray(rows, dtype=float)
    extra = {}
    for k in range(5, table.shape[1]):
        name = EXTRA_COLUMNS[k - 5] if k - 5 < len(EXTRA_COLUMNS) else f"column_{k + 1}"
        extra[name] = table[:, k]
    log.debug("read %d orientations from %s", len(table), path)
    return Orientation(Time(table[:, 0], format="unix", scale="utc"), table[:, 1], table[:, 2],
                       table[:, 3], table[:, 4], extra)
