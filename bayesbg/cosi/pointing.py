"""Pointing history of a COSI observation: attitude, altitude and live time per sub-pointing.

What the binned dataset does not hold: where the instrument looked during each time bin.
A :class:`Pointing` lists sub-pointings (rotation from instrument to Galactic unit
vectors, altitude, live time and the time bin each belongs to), validated once on
construction; :class:`bayesbg.cosi.exposure.BalloonObservation` turns it into exposure.
Two sources:

- :func:`balloon_pointing`: the simulated aspect of a drifting, rotating balloon
  (:func:`balloon_aspect`), the first draws of :func:`bayesbg.cosi.simulate_cosi`, so the
  simulation's seed reproduces it exactly;
- :meth:`Pointing.from_orientation`: a real orientation history (MEGAlib ``.ori``,
  :func:`bayesbg.cosi.io.read_ori`) averaged onto the dataset's time bins, weighted with
  the dwell time.

:meth:`Pointing.write` and :func:`load_pointing` keep a pointing in a netCDF4/HDF5 file.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import astropy.units as u
import numpy as np
import xarray as xr
from astropy.coordinates import SkyCoord
from astropy.time import Time
from numpy.typing import ArrayLike, NDArray

from bayesbg.atomic import atomic_file
from bayesbg.config import random_generator
from bayesbg.cosi.io.orientation import Orientation

__all__ = ["HOUR", "Pointing", "balloon_aspect", "balloon_pointing", "load_pointing"]

log = logging.getLogger(__name__)

_FORMAT = "bayesbg-cosi-pointing"
_START_JD = 2457547.5  # 2016-06-08 00:00 UTC, in the second half of the COSI 2016 flight
HOUR = 3600.0
"""Length of the simulator's time bins, s."""


@dataclass(frozen=True, eq=False)
class Pointing:
    """Sub-pointings of an observation.

    Parameters
    ----------
    rotation : array_like, shape (n_step, 3, 3)
        Rotation taking instrument unit vectors to Galactic ones (columns: the instrument
        axes in Galactic coordinates).
    altitude : array_like, shape (n_step,)
        Altitude, km.
    live_time : array_like, shape (n_step,)
        Live time of each sub-pointing, s.
    time_bin : array_like of int, shape (n_step,)
        0-based time bin of the dataset each sub-pointing belongs to.
    """

    rotation: NDArray[np.float64]
    altitude: NDArray[np.float64]
    live_time: NDArray[np.float64]
    time_bin: NDArray[np.int64]

    def __post_init__(self) -> None:
        rotation = np.asarray(self.rotation, dtype=np.float64)
        if rotation.ndim != 3 or rotation.shape[1:] != (3, 3):
            raise ValueError(f"rotation: expected shape (n_step, 3, 3), found {rotation.shape}")
        n_step = rotation.shape[0]
        if not np.allclose(np.einsum("kji,kjl->kil", rotation, rotation), np.eye(3),
                           atol=1e-6):
            raise ValueError("rotation: expected orthonormal matrices")
        values = {}
        for name in ("altitude", "live_time"):
            array = np.asarray(getattr(self, name), dtype=np.float64)
            if array.shape != (n_step,) or not np.all(np.isfinite(array)):
                raise ValueError(f"{name}: expected {n_step} finite values, found shape "
                                 f"{array.shape}")
            values[name] = array
        if np.any(values["live_time"] < 0):
            raise ValueError("live_time: expected non-negative seconds, found negatives")
        time_bin = np.asarray(self.time_bin)
        if time_bin.shape != (n_step,) or time_bin.dtype.kind not in "iu" or (
                n_step and time_bin.min() < 0):
            raise ValueError(f"time_bin: expected {n_step} non-negative integers")
        object.__setattr__(self, "rotation", rotation)
        object.__setattr__(self, "altitude", values["altitude"])
        object.__setattr__(self, "live_time", values["live_time"])
        object.__setattr__(self, "time_bin", time_bin.astype(np.int64))

    @property
    def n_step(self) -> int:
        """Number of sub-pointings."""
        return int(self.rotation.shape[0])

    @property
    def n_time(self) -> int:
        """Number of time bins covered (largest ``time_bin`` + 1)."""
        return int(self.time_bin.max()) + 1 if self.n_step else 0

    @classmethod
    def from_orientation(
        cls,
        orientation: Orientation,
        time_edges: ArrayLike | Time,
        *,
        substeps: int | None = None,
        altitude: float | None = None,
        time_offset: float = 0.0,
    ) -> Pointing:
        """Average a real orientation history onto time bins, weighted with the dwell time.

        Each ``.ori`` row holds the attitude from its time stamp to the next one (the
        last row only marks the end). Every time bin is cut into sub-pointings: one per
        piece of an orientation interval inside it (``substeps=None``, the exact
        piecewise-constant attitude), or ``substeps`` equal parts. A sub-pointing's
        instrument x and z axes are the dwell-time weighted means of the rows' axes
        (z normalised, x made orthogonal to it, ``y = z x x``), its live time the covered
        time (times ``livetime / interval`` where the file has a ``livetime`` column), its
        altitude the weighted mean of the file's ``altitude`` column or ``altitude``.
        Time not covered by the file contributes no exposure.

        Parameters
        ----------
        orientation : `bayesbg.cosi.io.Orientation`
        time_edges : array_like or `~astropy.time.Time`, shape (n_time + 1,)
            Time-bin edges of the dataset, Unix seconds (``CosiDataset.time_edges`` of
            data binned from ``.tra`` files), after adding ``time_offset``.
        substeps : int, optional
            Sub-pointings per time bin; default one per orientation interval.
        altitude : float, optional
            Altitude, km, for files without an ``altitude`` column (the 2016 balloon
            ``.ori`` files); overrides the column when given.
        time_offset : float
            Added to ``time_edges`` (e.g. the Unix start time of a dataset whose edges
            count from 0), s. Default 0.

        Returns
        -------
        pointing : `Pointing`

        Raises
        ------
        ValueError
            If the time edges are not increasing, do not overlap the orientation, or no
            altitude is known.
        """
        if not isinstance(orientation, Orientation):
            raise TypeError(f"orientation: expected a bayesbg.cosi.io.Orientation, found "
                            f"{type(orientation).__name__}")
        edges = np.asarray(time_edges.unix if isinstance(time_edges, Time) else time_edges,
                           dtype=np.float64) + float(time_offset)
        if edges.ndim != 1 or edges.size < 2 or not np.all(np.isfinite(edges)) or \
                np.any(np.diff(edges) <= 0):
            raise ValueError("time_edges: expected at least 2 increasing finite Unix times, s")
        if substeps is not None and (isinstance(substeps, bool) or
                                     not isinstance(substeps, int) or substeps < 1):
            raise ValueError(f"substeps: expected a positive integer or None, found "
                             f"{substeps!r}")
        if altitude is None and "altitude" not in orientation.extra:
            raise ValueError("altitude: the orientation has no altitude column; pass the "
                             "balloon altitude in km (e.g. altitude=33.0)")
        if altitude is not None and not (np.isfinite(altitude) and altitude > 0):
            raise ValueError(f"altitude: expected a positive altitude in km, found {altitude!r}")
        seconds = orientation.seconds
        if len(seconds) < 2 or seconds[-1] <= edges[0] or seconds[0] >= edges[-1]:
            raise ValueError(f"time_edges: [{edges[0]:.3f}, {edges[-1]:.3f}] s does not overlap "
                             f"the orientation [{seconds[0]:.3f}, {seconds[-1]:.3f}] s (Unix; "
                             "see time_offset)")
        n_time = edges.size - 1
        if substeps is None:
            inside = seconds[(seconds > edges[0]) & (seconds < edges[-1])]
            cuts = np.union1d(edges, inside)
        else:
            fractions = np.arange(substeps) / substeps
            cuts = np.append((edges[:-1, None] + np.diff(edges)[:, None] * fractions).ravel(),
                             edges[-1])
        time_bin = np.searchsorted(edges, cuts[:-1], side="right") - 1

        # per-interval values, integrated in time: F(t) = sum of value * overlap with (-inf, t]
        dwell = np.diff(seconds)
        live_rate = np.ones_like(dwell)
        if "livetime" in orientation.extra:
            live_rate = np.divide(orientation.extra["livetime"][:-1], dwell,
                                  out=np.zeros_like(dwell), where=dwell > 0)
        x_axis, _, z_axis = orientation.axes()
        heights = (np.full(dwell.size, float(altitude)) if altitude is not None
                   else orientation.extra["altitude"][:-1])
        values = np.column_stack([np.ones_like(dwell), live_rate, heights, x_axis[:-1],
                                  z_axis[:-1]])
        cumulative = np.vstack([np.zeros(values.shape[1]),
                                np.cumsum(values * dwell[:, None], axis=0)])

        def integral(t: NDArray[np.float64]) -> NDArray[np.float64]:
            t = np.clip(t, seconds[0], seconds[-1])
            i = np.clip(np.searchsorted(seconds, t, side="right") - 1, 0, dwell.size - 1)
            return cumulative[i] + values[i] * (t - seconds[i])[:, None]

        total = np.diff(integral(cuts), axis=0)
        covered = total[:, 0]
        keep = covered > 1e-9 * np.max(covered)
        total, covered, time_bin = total[keep], covered[keep], time_bin[keep]
        mean = total / covered[:, None]
        z = mean[:, 6:9]
        spread = np.linalg.norm(z, axis=1)
        if np.any(spread < 0.9):
            log.warning("pointing: the z axis turns by more than ~25 deg within %d "
                        "sub-pointings; consider more substeps", int(np.sum(spread < 0.9)))
        z = z / spread[:, None]
        x = mean[:, 3:6] - np.sum(mean[:, 3:6] * z, axis=1, keepdims=True) * z
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        rotation = np.stack([x, np.cross(z, x), z], axis=-1)
        log.info("pointing from %d orientation rows: %d sub-pointings in %d time bins, "
                 "%.0f s live", len(seconds), rotation.shape[0], n_time,
                 float(np.sum(mean[:, 1] * covered)))
        return cls(rotation=rotation, altitude=mean[:, 2], live_time=mean[:, 1] * covered,
                   time_bin=time_bin.astype(np.int64))

    def zenith(self, n_time: int | None = None) -> NDArray[np.float64]:
        """Live-time weighted mean instrument z axis per time bin (Galactic unit vectors).

        Parameters
        ----------
        n_time : int, optional
            Time bins; default :attr:`n_time`.

        Returns
        -------
        zenith : `numpy.ndarray`, shape (n_time, 3)
            NaN for time bins without live time.
        """
        n_time = self.n_time if n_time is None else n_time
        total = np.zeros((n_time, 3))
        for axis in range(3):
            total[:, axis] = np.bincount(self.time_bin, self.rotation[:, axis, 2] * self.live_time,
                                         minlength=n_time)
        norm = np.linalg.norm(total, axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(norm > 0, total / norm, np.nan)

    def zenith_lonlat(self, n_time: int | None = None
                      ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Galactic longitude and latitude, deg, of :meth:`zenith` per time bin (NaN where a
        bin has no live time), each shape (n_time,)."""
        zenith = self.zenith(n_time)
        lon = np.mod(np.degrees(np.arctan2(zenith[:, 1], zenith[:, 0])), 360.0)
        lat = np.degrees(np.arcsin(np.clip(zenith[:, 2], -1.0, 1.0)))
        return lon, lat

    def write(self, path: str | Path, *, overwrite: bool = False) -> Path:
        """Write to a netCDF4/HDF5 file, atomically.

        Raises
        ------
        FileExistsError
            If ``path`` exists and ``overwrite`` is False.
        """
        ds = xr.Dataset(
            {"rotation": (("step", "galactic", "instrument"), self.rotation),
             "altitude": (("step",), self.altitude, {"units": "km"}),
             "live_time": (("step",), self.live_time, {"units": "s"}),
             "time_bin": (("step",), self.time_bin.astype(np.int32))},
            attrs={"format": _FORMAT, "format_version": 1},
        )
        with atomic_file(path, overwrite=overwrite) as partial:
            ds.to_netcdf(partial, engine="h5netcdf")
        return Path(path).expanduser().absolute()


def load_pointing(path: str | Path) -> Pointing:
    """Read a file written by :meth:`Pointing.write`.

    Raises
    ------
    FileNotFoundError, ValueError
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"pointing file {path} does not exist")
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        if ds.attrs.get("format") != _FORMAT:
            raise ValueError(f"format: expected a {_FORMAT!r} file, found "
                             f"{ds.attrs.get('format')!r}")
        return Pointing(rotation=ds["rotation"].values, altitude=ds["altitude"].values,
                        live_time=ds["live_time"].values, time_bin=ds["time_bin"].values)


def balloon_aspect(
    n_time: int, rng: np.random.Generator, *, substeps: int = 4,
) -> dict[str, NDArray[np.float64]]:
    """Aspect and altitude of a drifting, rotating, zenith-pointing balloon.

    The payload drifts from 45 to 20 deg south and 8 deg per day east; local night
    (18-6 h local solar time) brings an altitude drop of random depth (2-11 km below
    33.3 km, so down to about 22 km); the instrument azimuth turns at 15 deg per hour
    in daytime and random-walks (25 deg per sub-pointing) at night.

    Parameters
    ----------
    n_time : int
        One-hour time bins.
    rng : `numpy.random.Generator`
    substeps : int
        Pointings per hour. Default is 4.

    Returns
    -------
    aspect : dict
        ``rotation`` (n_time * substeps, 3, 3): instrument -> Galactic unit vectors;
        ``altitude`` (n_time * substeps,) km; ``night`` (n_time * substeps,) bool.
    """
    n_step = n_time * substeps
    hours = (np.arange(n_step) + 0.5) / substeps
    days = hours / 24.0
    latitude = -45.0 + 25.0 * days / max(days[-1], 1.0)
    longitude = (170.0 + 8.0 * days) % 360.0
    local = (hours + longitude / 15.0) % 24.0
    since_sunset = (local - 18.0) % 24.0
    night = since_sunset < 12.0
    night_id = np.floor((hours + longitude / 15.0 - 18.0) / 24.0).astype(int)
    depth = rng.uniform(2.0, 11.0, size=night_id.max() - night_id.min() + 1)[
        night_id - night_id.min()
    ]
    altitude = 33.3 - np.where(night, depth * np.sin(np.pi * since_sunset / 12.0), 0.0)
    altitude += 0.1 * rng.standard_normal(n_step)
    altitude = np.clip(altitude, 22.0, 34.0)
    turn = np.where(night, rng.normal(0.0, 25.0, n_step), 15.0 / substeps)
    azimuth = np.radians(30.0 + np.cumsum(turn))

    gmst = 280.46061837 + 360.98564736629 * (_START_JD + days - 2451545.0)
    ra = np.radians(gmst + longitude)
    dec = np.radians(latitude)
    zenith = np.stack([np.cos(dec) * np.cos(ra), np.cos(dec) * np.sin(ra), np.sin(dec)], -1)
    east = np.stack([-np.sin(ra), np.cos(ra), np.zeros_like(ra)], -1)
    north = np.cross(zenith, east)
    x_axis = np.cos(azimuth)[:, None] * north + np.sin(azimuth)[:, None] * east
    y_axis = np.cross(zenith, x_axis)
    to_equatorial = np.stack([x_axis, y_axis, zenith], axis=-1)  # columns: instrument axes
    rotation = _equatorial_to_galactic() @ to_equatorial
    return {"rotation": rotation, "altitude": altitude, "night": night}


def balloon_pointing(
    rng: np.random.Generator | int, *, n_time: int, substeps: int = 4,
) -> Pointing:
    """The aspect of a drifting balloon (:func:`balloon_aspect`) as one-hour sub-pointings.

    :func:`bayesbg.cosi.simulate_cosi` draws this first from its generator, so the
    integer seed given to it reproduces the simulation's pointing exactly.

    Parameters
    ----------
    rng : `numpy.random.Generator` or int
        Random generator (its state moves on), or a seed for one: the ``rng`` seed
        passed to ``simulate_cosi``.
    n_time : int
        One-hour time bins.
    substeps : int
        Sub-pointings per hour (``InstrumentSettings.substeps``). Default is 4.

    Returns
    -------
    pointing : `Pointing`
        Sub-pointing ``i`` lies in time bin ``i // substeps``, with live time
        ``3600 / substeps`` s.
    """
    for name, value in (("n_time", n_time), ("substeps", substeps)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise ValueError(f"{name}: expected a positive integer, found {value!r}")
    aspect = balloon_aspect(int(n_time), random_generator(rng), substeps=int(substeps))
    n_step = n_time * substeps
    return Pointing(rotation=aspect["rotation"], altitude=aspect["altitude"],
                    live_time=np.full(n_step, HOUR / substeps),
                    time_bin=np.arange(n_step) // substeps)


def _equatorial_to_galactic() -> NDArray[np.float64]:
    """Rotation matrix taking ICRS unit vectors to Galactic ones (astropy's frames)."""
    basis = SkyCoord(ra=[0.0, 90.0, 0.0] * u.deg, dec=[0.0, 0.0, 90.0] * u.deg, frame="icrs")
    return np.asarray(basis.galactic.cartesian.xyz.value)  # column i: image of ICRS axis i
