"""Binned MEGAlib events against the convolved template of the same point source.

The 2016 files include a MEGAlib simulation of a 511 keV point source at (l, b) =
(-10, -10) deg along the flight's real orientation. Binned into the flight-like data
space (``bayesbg cosi bin``) and set beside the toy-response template of a point source
there (:meth:`bayesbg.cosi.flight.FlightGeometry.template`), they test what the toy
response and the pointing can be tested on:

- **position**: both are back-projected through the same response,
  ``b_j = sum_(t, c) R[(t, c), j] d[t, c]`` on a Galactic HEALPix grid (the Compton cones
  summed; for the template ``d`` is its expectation); the peaks must be the same pixel or
  neighbours;
- **counts**: the files do not give the source's flux (nor the effective area of the
  MEGAlib mass model), so the absolute number of events cannot be predicted; it sets
  one scale, ``k = N_events / sum S`` (flux times the ratio of true to toy effective
  area). What can be compared is the distribution of the events over time, i.e. the
  exposure along the real pointing: ``k`` is calibrated on one half of the time bins and
  the other half predicted (``split``: interleaved even/odd bins, or low/high zenith of
  the source), with the Poisson error of the ratio; and the whole time profile by its
  Poisson deviance.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

import astropy.units as u
import astropy_healpix as ahp
import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import sparse, stats

from bayesbg.cosi.data import CosiDataset
from bayesbg.cosi.flight.geometry import FlightGeometry
from bayesbg.cosi.response import unit_vectors

__all__ = ["PointSourceAgreement", "SplitCheck", "backprojection", "point_source_agreement"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SplitCheck:
    """Counts of one half of the time bins predicted from the other half's calibration.

    Attributes
    ----------
    name : str
        ``"interleaved"`` (calibrate on even bins, predict odd) or ``"zenith"`` (calibrate
        where the source is within ``45`` deg of the zenith, predict the rest).
    calibration_events, check_events : int
    predicted : float
        Events predicted in the check half.
    ratio : float
        ``check_events / predicted``.
    ratio_error : float
        Poisson standard error of the ratio, ``ratio * sqrt(1/N_check + 1/N_calibration)``.
    """

    name: str
    calibration_events: int
    check_events: int
    predicted: float
    ratio: float
    ratio_error: float


@dataclass(frozen=True)
class PointSourceAgreement:
    """Outcome of :func:`point_source_agreement` (module docstring).

    Attributes
    ----------
    source : (float, float)
        True (l, b), deg.
    nside : int
        HEALPix resolution of the back-projection.
    events_peak, template_peak : (float, float)
        (l, b) of the brightest back-projected pixel, deg.
    peak_separation : float
        Between the two peaks, deg.
    adjacent : bool
        The peaks are the same pixel or neighbours.
    events_offset, template_offset : float
        Peak to source, deg.
    n_events : int
    template_counts : float
        Template summed over all bins, counts per ph cm-2 s-1.
    scale : float
        ``n_events / template_counts`` (flux x effective-area ratio), ph cm-2 s-1.
    splits : tuple of `SplitCheck`
    deviance, dof, p_value : float
        Poisson deviance of the events per time bin against ``scale`` x template, degrees
        of freedom (bins with exposure - 1), chi-square p-value.
    events_per_time, expected_per_time : list of float
    events_per_phi, expected_per_phi : list of float
    """

    source: tuple[float, float]
    nside: int
    events_peak: tuple[float, float]
    template_peak: tuple[float, float]
    peak_separation: float
    adjacent: bool
    events_offset: float
    template_offset: float
    n_events: int
    template_counts: float
    scale: float
    splits: tuple[SplitCheck, ...]
    deviance: float
    dof: int
    p_value: float
    events_per_time: list[float]
    expected_per_time: list[float]
    events_per_phi: list[float]
    expected_per_phi: list[float]

    def split(self, name: str) -> SplitCheck:
        """The split check of that name."""
        for check in self.splits:
            if check.name == name:
                return check
        raise KeyError(f"split {name!r}: found {[c.name for c in self.splits]}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return asdict(self)


def backprojection(geometry: FlightGeometry, values: Any, *, nside: int = 16,
                   band: int = 0) -> NDArray[np.float64]:
    """``b_j = sum_(t, c) R[(t, c), j] values[t, c]`` on a Galactic HEALPix grid (ring).

    ``R`` is the geometry's imaging response over its first day (detector response cut to
    the selection, times the pixel exposure of
    :meth:`bayesbg.cosi.exposure.BalloonObservation.pixel_exposure`).

    Parameters
    ----------
    geometry : `FlightGeometry`
    values : array_like or `scipy.sparse` array, shape (period, n_spatial)
        Counts or expected counts of one band over the first day's time bins.
    nside : int
        Default is 16 (3.7 deg pixels).
    band : int

    Returns
    -------
    image : `numpy.ndarray`, shape (12 nside^2,)
    """
    matrix = sparse.csr_array(values, dtype=np.float64)
    if matrix.shape != (geometry.period, geometry.n_spatial):
        raise ValueError(f"values: expected shape {(geometry.period, geometry.n_spatial)}, "
                         f"found {matrix.shape}")
    grid = ahp.HEALPix(nside=nside, order="ring", frame="galactic")
    lon, lat = grid.healpix_to_lonlat(np.arange(grid.npix))
    vectors = unit_vectors(90.0 - lat.to_value(u.deg), lon.to_value(u.deg))
    exposure = geometry.observation().pixel_exposure(vectors)  # ((s, t), j)
    detector = geometry.detector_response(band)  # (c, s)
    per_source = np.asarray((matrix @ detector).toarray())  # (t, s)
    return np.asarray(exposure.T @ per_source.T.ravel())


def point_source_agreement(
    events: CosiDataset,
    template: Any,
    geometry: FlightGeometry,
    *,
    lon: float,
    lat: float,
    nside: int = 16,
    zenith_split: float = 45.0,
) -> PointSourceAgreement:
    """Compare binned events of a simulated point source with its convolved template.

    Parameters
    ----------
    events : `bayesbg.cosi.CosiDataset`
        The binned events, on the geometry's first-day time bins and data space (one band).
    template : array_like or `scipy.sparse` array, shape (n_time, n_data_bin)
        The point source's template on ``geometry`` (counts per ph cm-2 s-1).
    geometry : `FlightGeometry`
        One band; its first day's bins are the events' bins.
    lon, lat : float
        True source position, Galactic deg.
    nside : int
        Back-projection grid. Default is 16 (3.7 deg pixels).
    zenith_split : float
        Zenith angle dividing the ``"zenith"`` split, deg. Default is 45.

    Returns
    -------
    agreement : `PointSourceAgreement`
    """
    period = geometry.period
    if geometry.n_energy != 1 or events.n_data_bin != geometry.n_spatial:
        raise ValueError(f"events: expected one band of {geometry.n_spatial} data-space bins "
                         f"(the geometry's), found {events.n_data_bin}")
    if events.n_time != period:
        raise ValueError(f"events: expected the geometry's {period} first-day time bins, "
                         f"found {events.n_time}")
    counts = sparse.csr_array(events.counts, dtype=np.float64)
    expected = sparse.csr_array(template, dtype=np.float64)[:period]
    if expected.shape != counts.shape:
        raise ValueError(f"template: expected shape {counts.shape} on the first day, found "
                         f"{expected.shape}")
    grid = ahp.HEALPix(nside=nside, order="ring", frame="galactic")
    peaks = []
    for values in (counts, expected):
        image = backprojection(geometry, values, nside=nside)
        peaks.append(int(np.argmax(image)))
    neighbours = set(np.ravel(ahp.neighbours(peaks[0], nside=nside, order="ring")).tolist())
    adjacent = peaks[0] == peaks[1] or peaks[1] in neighbours
    pixel_lon, pixel_lat = grid.healpix_to_lonlat(np.asarray(peaks))
    peak_l = pixel_lon.to_value(u.deg)
    peak_b = pixel_lat.to_value(u.deg)

    def separation(l1: float, b1: float, l2: float, b2: float) -> float:
        a, b = unit_vectors(90.0 - b1, l1), unit_vectors(90.0 - b2, l2)
        return float(np.degrees(np.arccos(np.clip(a @ b, -1.0, 1.0))))

    per_time = np.asarray(counts.sum(axis=1)).ravel()
    model_time = np.asarray(expected.sum(axis=1)).ravel()
    n_events = int(per_time.sum())
    total = float(model_time.sum())
    if n_events == 0 or total <= 0:
        raise ValueError("events, template: need events and a template with exposure")
    scale = n_events / total
    zenith = _source_zenith(geometry, lon, lat)
    exposed = model_time > 0
    splits = (
        _split("interleaved", per_time, model_time, np.arange(period) % 2 == 0),
        _split("zenith", per_time, model_time, exposed & (zenith < zenith_split)),
    )
    mean = scale * model_time
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(per_time > 0, per_time * np.log(per_time / mean), 0.0) - \
            (per_time - mean)
    deviance = float(2.0 * np.sum(terms[exposed]))
    dof = int(exposed.sum()) - 1
    phi_events = counts.sum(axis=0).reshape(geometry.n_phi, -1).sum(axis=1)
    phi_model = scale * expected.sum(axis=0).reshape(geometry.n_phi, -1).sum(axis=1)
    return PointSourceAgreement(
        source=(float(lon), float(lat)), nside=int(nside),
        events_peak=(float(peak_l[0]), float(peak_b[0])),
        template_peak=(float(peak_l[1]), float(peak_b[1])),
        peak_separation=separation(peak_l[0], peak_b[0], peak_l[1], peak_b[1]),
        adjacent=bool(adjacent),
        events_offset=separation(peak_l[0], peak_b[0], lon, lat),
        template_offset=separation(peak_l[1], peak_b[1], lon, lat),
        n_events=n_events, template_counts=total, scale=float(scale), splits=splits,
        deviance=deviance, dof=dof, p_value=float(stats.chi2.sf(deviance, dof)),
        events_per_time=per_time.tolist(), expected_per_time=mean.tolist(),
        events_per_phi=np.asarray(phi_events, dtype=float).tolist(),
        expected_per_phi=np.asarray(phi_model, dtype=float).tolist())


def _split(name: str, events: NDArray[np.float64], model: NDArray[np.float64],
           calibrate: ArrayLike) -> SplitCheck:
    mask = np.asarray(calibrate, dtype=bool)
    n_cal, n_check = float(events[mask].sum()), float(events[~mask].sum())
    if n_cal == 0 or model[mask].sum() <= 0:
        raise ValueError(f"split {name}: no events or exposure in the calibration half")
    predicted = float(model[~mask].sum() * n_cal / model[mask].sum())
    ratio = n_check / predicted if predicted > 0 else float("nan")
    error = ratio * float(np.sqrt(1.0 / max(n_check, 1.0) + 1.0 / n_cal))
    return SplitCheck(name=name, calibration_events=int(n_cal), check_events=int(n_check),
                      predicted=predicted, ratio=float(ratio), ratio_error=error)


def _source_zenith(geometry: FlightGeometry, lon: float, lat: float) -> NDArray[np.float64]:
    """Live-time weighted mean zenith angle of a source per first-day time bin, deg."""
    pointing = geometry.pointing
    source = unit_vectors(90.0 - lat, lon)
    cos_zenith = pointing.rotation[:, :, 2] @ source  # instrument z axis . source
    zenith = np.degrees(np.arccos(np.clip(cos_zenith, -1.0, 1.0)))
    weight = np.bincount(pointing.time_bin, weights=pointing.live_time,
                         minlength=geometry.period)
    total = np.bincount(pointing.time_bin, weights=pointing.live_time * zenith,
                        minlength=geometry.period)
    return np.divide(total, weight, out=np.full(geometry.period, 180.0), where=weight > 0)
