"""Time axis of a flight-like observation: the 2016 day's attitude, tracer and altitude.

The public files of the 2016 COSI flight hold one day of orientation
(``OP_160628_FullDay.ori``: 2016-06-28, 5,706 rows, no altitude column) and one day of a
measured background-rate tracer (``tracer.npz``: 24 hourly values, mean 1). A
:class:`FlightTimeline` lays ``n_time`` bins of ``time_bin`` seconds from the first
orientation row and, for stretches longer than a day, **repeats the day**: bin ``t`` has
the attitude, tracer and altitude of bin ``t mod period`` of the first day (``period`` =
86,400 s / ``time_bin``). The k-th repeat is the first day shifted by k x 86,400 s; the
sky therefore rises and sets at the same clock times every day (the real balloon drifted
and the sidereal day is 236 s shorter; neither matters for the exposure pattern).

Assumptions, each documented in ``docs/cosi.md``:

- the tracer's time 0 is the orientation's first row (``tracer.npz`` counts its
  edges from 0; its last edge, 86,171.7 s, lies inside the orientation's 86,498.9 s);
  a tracer on other bins is averaged from its piecewise-constant values;
- the altitude is not in the 2016 files. :func:`altitude_from_tracer` derives a track
  from the tracer by inverting the background-rate law of the project's simulator,
  ``rate ~ exp((h_day - h) / H)`` with ``H = 6`` km: ``h = h_day - H ln(T / T_day)``,
  ``T_day`` the quietest hour at float altitude ``h_day = 33.3`` km, clipped to
  22-34 km. On 2016-06-28 this gives 33 km by day and a night-time drop to 26.3 km at
  08-09 UTC, the kind of drop [COSI-511] 2.1 describes (22-34 km over the flight).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from bayesbg.cosi.io.classic import ClassicTracer
from bayesbg.cosi.io.orientation import Orientation
from bayesbg.cosi.pointing import Pointing

__all__ = [
    "ALTITUDE_SCALE",
    "DAY",
    "DAY_ALTITUDE",
    "FlightTimeline",
    "altitude_from_tracer",
    "flight_timeline",
    "rebin_piecewise",
]

log = logging.getLogger(__name__)

DAY = 86400.0
"""Length of the repeated pattern, s."""
DAY_ALTITUDE = 33.3
"""Float altitude by day, km (the simulator's, [COSI-511] 2.1: about 33 km)."""
ALTITUDE_SCALE = 6.0
"""e-folding altitude of the background rate, km (the simulator's rate law)."""


def altitude_from_tracer(
    tracer: ArrayLike, *, day_altitude: float = DAY_ALTITUDE, scale: float = ALTITUDE_SCALE,
    floor: float = 22.0, ceiling: float = 34.0,
) -> NDArray[np.float64]:
    """Altitude track from a background-rate tracer, ``h = h_day - H ln(T / min T)``, km.

    Parameters
    ----------
    tracer : array_like
        Positive tracer values (any unit).
    day_altitude : float
        Altitude of the quietest bin, km. Default is 33.3.
    scale : float
        e-folding altitude ``H`` of the rate, km. Default is 6.
    floor, ceiling : float
        Clip limits, km. Defaults 22 and 34 ([COSI-511]: 22-34 km).

    Returns
    -------
    altitude : `numpy.ndarray`
        km, the shape of ``tracer``.

    Examples
    --------
    >>> altitude_from_tracer([1.0, 2.0, 1.0]).round(2).tolist()
    [33.3, 29.14, 33.3]
    """
    values = np.asarray(tracer, dtype=np.float64)
    if values.ndim != 1 or values.size < 1 or not np.all(np.isfinite(values)) or \
            np.any(values <= 0):
        raise ValueError("tracer: expected positive finite values to derive an altitude from")
    for name, value in (("day_altitude", day_altitude), ("scale", scale)):
        if not np.isfinite(value) or value <= 0:
            raise ValueError(f"{name}: expected a positive number (km), found {value!r}")
    if not floor < ceiling:
        raise ValueError(f"floor, ceiling: expected floor < ceiling, found {floor}, {ceiling}")
    return np.clip(day_altitude - scale * np.log(values / values.min()), floor, ceiling)


def rebin_piecewise(values: ArrayLike, edges: ArrayLike, new_edges: ArrayLike
                    ) -> NDArray[np.float64]:
    """Time averages of a piecewise-constant series over new bins.

    The series is ``values[i]`` on ``[edges[i], edges[i + 1])`` and held at its first and
    last value outside ``edges``.

    Parameters
    ----------
    values : array_like, shape (n,)
    edges : array_like, shape (n + 1,)
        Increasing.
    new_edges : array_like, shape (m + 1,)
        Increasing.

    Returns
    -------
    averages : `numpy.ndarray`, shape (m,)
    """
    values = np.asarray(values, dtype=np.float64)
    edges = np.asarray(edges, dtype=np.float64)
    new = np.asarray(new_edges, dtype=np.float64)
    if edges.shape != (values.size + 1,) or np.any(np.diff(edges) <= 0) or \
            new.ndim != 1 or new.size < 2 or np.any(np.diff(new) <= 0):
        raise ValueError("edges, new_edges: expected increasing edges, one more than values")
    # extend the first and last value far outside so the integral is defined everywhere
    span = max(edges[-1] - edges[0], new[-1] - new[0]) + abs(new[0] - edges[0]) + 1.0
    full_edges = np.concatenate([[min(edges[0], new[0]) - span], edges[1:-1],
                                 [max(edges[-1], new[-1]) + span]])
    cumulative = np.concatenate([[0.0], np.cumsum(values * np.diff(full_edges))])
    integral = np.interp(new, full_edges, cumulative)
    return np.diff(integral) / np.diff(new)


@dataclass(frozen=True, eq=False)
class FlightTimeline:
    """Time bins of a flight-like observation: one real day, repeated.

    Build it with :func:`flight_timeline`.

    Attributes
    ----------
    orientation : `bayesbg.cosi.io.Orientation`
        The real attitude history; its first row starts the first bin.
    time_bin : float
        Bin width, s.
    period : int
        Bins per repeated day, ``86400 / time_bin``.
    n_time : int
        Bins of the observation.
    day_tracer : `numpy.ndarray`, shape (period,)
        Tracer per bin of the first day (mean 1 over the day in ``tracer.npz``).
    day_altitude : `numpy.ndarray`, shape (period,)
        Altitude per bin of the first day, km.
    """

    orientation: Orientation
    time_bin: float
    period: int
    n_time: int
    day_tracer: NDArray[np.float64]
    day_altitude: NDArray[np.float64]

    @property
    def start(self) -> float:
        """Start of the first bin, Unix s (the orientation's first row)."""
        return float(self.orientation.seconds[0])

    @property
    def time_edges(self) -> NDArray[np.float64]:
        """Bin edges, Unix s, shape (n_time + 1,)."""
        return self.start + self.time_bin * np.arange(self.n_time + 1, dtype=np.float64)

    @property
    def day_index(self) -> NDArray[np.int64]:
        """Bin of the first day that each bin repeats, ``t mod period``, shape (n_time,)."""
        return np.arange(self.n_time) % self.period

    def tracer(self) -> NDArray[np.float64]:
        """Tracer per bin, the first day repeated, shape (n_time,)."""
        return self.day_tracer[self.day_index]

    def altitude(self) -> NDArray[np.float64]:
        """Altitude per bin, km, the first day repeated, shape (n_time,)."""
        return self.day_altitude[self.day_index]

    def day_pointing(self, *, substeps: int | None = 60, altitude: float | None = None
                     ) -> Pointing:
        """The first day's pointing on its ``period`` bins (time_bin 0 ... period - 1).

        Parameters
        ----------
        substeps : int or None
            Sub-pointings per bin (:meth:`bayesbg.cosi.pointing.Pointing.from_orientation`);
            None: one per orientation interval (exact, ~4x more). Default is 60: for 1-h
            bins the exposure of sky pixels differs from the exact one by 0.06 %
            (``docs/imaging.md``).
        altitude : float, optional
            A constant altitude, km, instead of the day's track (e.g. 33 km to compare
            with a MEGAlib simulation at fixed altitude).

        Returns
        -------
        pointing : `bayesbg.cosi.pointing.Pointing`
        """
        seconds = self.orientation.seconds
        edges = self.start + self.time_bin * np.arange(self.period + 1, dtype=np.float64)
        if altitude is None:
            centres = 0.5 * (edges[:-1] + edges[1:])
            track = np.interp(seconds, centres, self.day_altitude)
            orientation = Orientation(self.orientation.time, self.orientation.x_lat,
                                      self.orientation.x_lon, self.orientation.z_lat,
                                      self.orientation.z_lon,
                                      {**self.orientation.extra, "altitude": track})
            return Pointing.from_orientation(orientation, edges, substeps=substeps)
        return Pointing.from_orientation(self.orientation, edges, substeps=substeps,
                                         altitude=altitude)


def flight_timeline(
    orientation: Orientation,
    tracer: ClassicTracer,
    *,
    n_time: int = 603,
    time_bin: float = 3600.0,
    day_altitude: float = DAY_ALTITUDE,
    altitude_scale: float = ALTITUDE_SCALE,
) -> FlightTimeline:
    """A flight-like time axis from the real orientation and tracer (module docstring).

    Parameters
    ----------
    orientation : `bayesbg.cosi.io.Orientation`
        Must cover one day from its first row (``OP_160628_FullDay.ori`` does).
    tracer : `bayesbg.cosi.io.classic.ClassicTracer`
        ``read_classic_tracer("tracer.npz")``; its time 0 is the orientation's first row.
    n_time : int
        Bins of the observation. Default is 603 ([COSI-511]).
    time_bin : float
        Bin width, s; must divide a day. Default is 3600.
    day_altitude, altitude_scale : float
        Of :func:`altitude_from_tracer`, km.

    Returns
    -------
    timeline : `FlightTimeline`

    Raises
    ------
    ValueError
        If ``time_bin`` does not divide a day or the orientation covers less than a day.
    """
    if isinstance(n_time, bool) or not isinstance(n_time, int | np.integer) or n_time < 1:
        raise ValueError(f"n_time: expected a positive integer, found {n_time!r}")
    if not np.isfinite(time_bin) or time_bin <= 0:
        raise ValueError(f"time_bin: expected a positive number of seconds, found {time_bin!r}")
    period = DAY / time_bin
    if abs(period - round(period)) > 1e-9:
        raise ValueError(f"time_bin: expected a divisor of a day (86,400 s), found {time_bin}")
    period = int(round(period))
    seconds = orientation.seconds
    if seconds[-1] - seconds[0] < DAY - 1e-6:
        raise ValueError(f"orientation: covers {seconds[-1] - seconds[0]:.1f} s; a flight-like "
                         "timeline repeats one full day (86,400 s)")
    day_edges = seconds[0] + time_bin * np.arange(period + 1, dtype=np.float64)
    values = rebin_piecewise(tracer.values, seconds[0] + tracer.time_edges, day_edges)
    altitude = altitude_from_tracer(values, day_altitude=day_altitude, scale=altitude_scale)
    for array in (values, altitude):
        array.setflags(write=False)
    log.info("flight timeline: %d bins of %g s, the day of %s repeated %.2f times",
             n_time, time_bin, orientation.time[0].iso, n_time / period)
    return FlightTimeline(orientation=orientation, time_bin=float(time_bin), period=period,
                          n_time=int(n_time), day_tracer=values, day_altitude=altitude)
