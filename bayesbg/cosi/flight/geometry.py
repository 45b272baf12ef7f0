"""Flight-like geometry: the 2016 pointing, the measured data space and its templates.

A :class:`FlightGeometry` is everything about a flight-like observation except the
counts: the real day's pointing (:class:`~bayesbg.cosi.flight.timeline.FlightTimeline`,
repeated), tracer and altitude per time bin, the data space of the measured background
response (30 phi bins of 6 deg x 1,145 FISBEL psi-chi bins in the instrument frame, one
or several energy bands), the **event selection** and the toy instrument
(:class:`bayesbg.cosi.exposure.InstrumentSettings`).

The event selection: the measured background response of a band is zero outside phi =
12-60 deg and outside a cone of psi-chi bins (2,458 of 34,350 bins at 506-516 keV), the
data space the 2016 event selection left. A sky photon cannot land where no event
survives the selection: every template is cut to the support of the band's background
response (``selection``). The simulated 511 keV MEGAlib point source confirms it: all
182 of its events in 506-516 keV fall inside that support (``docs/cosi.md``).

Templates ([COSI-511] eq. 3) are computed for one day, through
:class:`~bayesbg.cosi.exposure.BalloonObservation` and the toy detector response at the
band's centre energy, and repeated over the days: exact, since every day has the same
pointing and altitude. They are sparse (`scipy.sparse.csr_array`, float32, expected
counts per ph cm-2 s-1). :meth:`FlightGeometry.template_builder` gives the
:class:`~bayesbg.cosi.model.TemplateBuilder` of the template-width scan.
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
from bayesbg.cosi.data import CosiDataset
from bayesbg.cosi.exposure import BalloonObservation, InstrumentSettings
from bayesbg.cosi.flight.sky import SkyComponent
from bayesbg.cosi.flight.timeline import FlightTimeline
from bayesbg.cosi.io.classic import ClassicBackgroundResponse
from bayesbg.cosi.model.sky import TemplateBuilder
from bayesbg.cosi.pointing import Pointing
from bayesbg.cosi.response import convolve_sky

__all__ = ["FlightGeometry", "FlightTemplateBuilder", "load_flight_geometry"]

log = logging.getLogger(__name__)

_FORMAT = "bayesbg-cosi-flight-geometry"
_POINTS_PER_CHUNK = 2_000_000  # sky points x sub-pointings projected at once (~0.3 GB)


@dataclass(frozen=True, eq=False)
class FlightGeometry:
    """Pointing, time axis, data space and event selection of a flight-like observation.

    Build one with :meth:`from_timeline` or read it with :func:`load_flight_geometry`.

    Parameters
    ----------
    pointing : `bayesbg.cosi.pointing.Pointing`
        The first day's sub-pointings, time bins ``0 ... period - 1``.
    period : int
        Time bins per repeated day.
    time_edges : array_like, shape (n_time + 1,)
        Unix s.
    tracer : array_like, shape (n_time,)
        The flight's rate tracer per time bin (``tracer.npz``, repeated).
    altitude : array_like, shape (n_time,)
        km.
    phi_edges : array_like, shape (n_phi + 1,)
        deg.
    psi_chi_centres : array_like, shape (n_psi_chi, 2)
        FISBEL bin centres in the instrument frame, deg.
    energy_edges : array_like, shape (n_energy + 1,)
        Band edges, keV (edges of the background-response file).
    selection : array_like of bool, shape (n_energy, n_phi * n_psi_chi)
        Data-space bins kept by the event selection, per band.
    instrument : `bayesbg.cosi.exposure.InstrumentSettings`
    provenance : mapping
        JSON-ready description of the inputs (files, SHA-256, settings).
    """

    pointing: Pointing
    period: int
    time_edges: NDArray[np.float64]
    tracer: NDArray[np.float64]
    altitude: NDArray[np.float64]
    phi_edges: NDArray[np.float64]
    psi_chi_centres: NDArray[np.float64]
    energy_edges: NDArray[np.float64]
    selection: NDArray[np.bool_]
    instrument: InstrumentSettings = field(default_factory=InstrumentSettings)
    provenance: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.pointing, Pointing):
            raise TypeError(f"pointing: expected a Pointing, found {type(self.pointing).__name__}")
        period = self.period
        if isinstance(period, bool) or not isinstance(period, int | np.integer) or period < 1 \
                or self.pointing.n_time > period:
            raise ValueError(f"period: expected a positive integer covering the pointing's "
                             f"{self.pointing.n_time} time bins, found {period!r}")
        edges = np.asarray(self.time_edges, dtype=np.float64)
        if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) <= 0):
            raise ValueError("time_edges: expected at least 2 increasing times (Unix s)")
        n_time = edges.size - 1
        values = {}
        for name in ("tracer", "altitude"):
            array = np.asarray(getattr(self, name), dtype=np.float64)
            if array.shape != (n_time,) or not np.all(np.isfinite(array)) or np.any(array < 0):
                raise ValueError(f"{name}: expected {n_time} finite non-negative values, found "
                                 f"shape {array.shape}")
            values[name] = array
        phi = np.asarray(self.phi_edges, dtype=np.float64)
        centres = np.asarray(self.psi_chi_centres, dtype=np.float64)
        energy = np.asarray(self.energy_edges, dtype=np.float64)
        if phi.ndim != 1 or phi.size < 2 or np.any(np.diff(phi) <= 0):
            raise ValueError("phi_edges: expected increasing edges (deg)")
        if centres.ndim != 2 or centres.shape[1] != 2:
            raise ValueError(f"psi_chi_centres: expected shape (n, 2), found {centres.shape}")
        if energy.ndim != 1 or energy.size < 2 or np.any(np.diff(energy) <= 0):
            raise ValueError("energy_edges: expected increasing band edges (keV)")
        shape = (energy.size - 1, (phi.size - 1) * centres.shape[0])
        selection = np.asarray(self.selection)
        if selection.shape != shape or selection.dtype.kind not in "biu":
            raise ValueError(f"selection: expected booleans of shape {shape}, found "
                             f"{selection.shape}")
        selection = selection.astype(bool)
        if not selection.any(axis=1).all():
            raise ValueError("selection: every energy band needs at least one selected bin")
        if not isinstance(self.instrument, InstrumentSettings):
            raise TypeError("instrument: expected InstrumentSettings")
        for name, array in (("time_edges", edges), ("phi_edges", phi),
                            ("psi_chi_centres", centres), ("energy_edges", energy),
                            ("selection", selection), *values.items()):
            array.setflags(write=False)
            object.__setattr__(self, name, array)
        object.__setattr__(self, "period", int(period))
        object.__setattr__(self, "provenance", json.loads(json.dumps(dict(self.provenance))))
        object.__setattr__(self, "_responses", {})

    # -- construction --------------------------------------------------------------------
    @classmethod
    def from_timeline(
        cls,
        timeline: FlightTimeline,
        background: ClassicBackgroundResponse,
        *,
        energy_edges: ArrayLike = (506.0, 516.0),
        substeps: int | None = 60,
        altitude: float | None = None,
        instrument: InstrumentSettings | None = None,
        select: bool = True,
        provenance: Mapping[str, Any] | None = None,
    ) -> FlightGeometry:
        """The geometry of a timeline in the data space of a measured background response.

        Parameters
        ----------
        timeline : `bayesbg.cosi.flight.FlightTimeline`
        background : `bayesbg.cosi.io.classic.ClassicBackgroundResponse`
            ``read_classic_background("flight_bg_all_v1_fine_6deg.npz")``: phi edges,
            FISBEL psi-chi layout and the support of each band (the event selection).
        energy_edges : array_like
            Band edges, keV, edges of the file (any of its 174 ~10-keV bins). Default
            (506, 516), the band of the 511 keV line ([COSI-511]).
        substeps : int or None
            Sub-pointings per time bin (:meth:`FlightTimeline.day_pointing`). Default 60.
        altitude : float, optional
            Constant altitude, km, instead of the timeline's track.
        instrument : `bayesbg.cosi.exposure.InstrumentSettings`, optional
        select : bool
            Cut templates to the background's support (the event selection). Default True.
        provenance : mapping, optional
            Input files and settings to keep with the geometry.
        """
        edges = np.asarray(energy_edges, dtype=np.float64)
        shape = (edges.size - 1, background.response.shape[1] * background.response.shape[2])
        support = background.for_energy_edges(edges).reshape(shape) > 0
        selection = support if select else np.ones(shape, dtype=bool)
        pointing = timeline.day_pointing(substeps=substeps, altitude=altitude)
        altitude_series = timeline.altitude() if altitude is None else \
            np.full(timeline.n_time, float(altitude))
        return cls(pointing=pointing, period=timeline.period, time_edges=timeline.time_edges,
                   tracer=timeline.tracer(), altitude=altitude_series,
                   phi_edges=background.phi_edges, psi_chi_centres=background.grid.centres,
                   energy_edges=edges, selection=selection,
                   instrument=instrument if instrument is not None else InstrumentSettings(),
                   provenance={"substeps": substeps, "select": bool(select),
                               "constant_altitude": altitude, **dict(provenance or {})})

    # -- sizes ---------------------------------------------------------------------------
    @property
    def n_time(self) -> int:
        """Time bins."""
        return int(self.time_edges.size - 1)

    @property
    def n_energy(self) -> int:
        """Energy bands."""
        return int(self.energy_edges.size - 1)

    @property
    def n_phi(self) -> int:
        """Phi bins."""
        return int(self.phi_edges.size - 1)

    @property
    def n_psi_chi(self) -> int:
        """Psi-chi bins."""
        return int(self.psi_chi_centres.shape[0])

    @property
    def n_spatial(self) -> int:
        """Bins of one band, ``n_phi * n_psi_chi``."""
        return self.n_phi * self.n_psi_chi

    @property
    def n_data_bin(self) -> int:
        """Data-space bins, ``n_energy * n_phi * n_psi_chi``."""
        return self.n_energy * self.n_spatial

    @property
    def day_index(self) -> NDArray[np.int64]:
        """Bin of the first day each time bin repeats, shape (n_time,)."""
        return np.arange(self.n_time) % self.period

    def band_energy(self, band: int = 0) -> float:
        """Centre of band ``band``, keV (the energy of its Compton response)."""
        self._check_band(band)
        return float(0.5 * (self.energy_edges[band] + self.energy_edges[band + 1]))

    # -- the instrument ------------------------------------------------------------------
    def observation(self) -> BalloonObservation:
        """The first day's pointing seen by the instrument (``period`` time bins)."""
        return BalloonObservation(self.pointing, n_time=self.period,
                                  bin_size=180.0 / self.n_phi, instrument=self.instrument)

    def detector_response(self, band: int = 0) -> sparse.csr_array:
        """Toy detector response of a band, cut to its selection, shape (n_spatial, n_source).

        Computed once per band and kept (a few seconds; ~100 MB at 34,350 x 1,824).
        """
        self._check_band(band)
        cache: dict[int, sparse.csr_array] = self.__dict__["_responses"]
        if band not in cache:
            full = self.observation().detector_response(self.phi_edges, self.psi_chi_centres,
                                                        energy=self.band_energy(band))
            cut = sparse.csr_array(sparse.diags_array(self.selection[band].astype(np.float64))
                                   @ full)
            cut.eliminate_zeros()
            cache[band] = cut
        return cache[band]

    def day_exposure(self, component: SkyComponent) -> NDArray[np.float64]:
        """Exposure ``W[s, t]`` of a component over the first day, cm2 s per unit flux.

        :meth:`bayesbg.cosi.exposure.BalloonObservation.exposure`, summed over chunks of
        sub-pointings (memory bounded for sky models of many points).

        Returns
        -------
        exposure : `numpy.ndarray`, shape (n_source, period)
        """
        if not isinstance(component, SkyComponent):
            raise TypeError(f"component: expected a SkyComponent, found "
                            f"{type(component).__name__}")
        points, fraction = component.sky_points(nside=self.instrument.sky_nside)
        pointing = self.pointing
        chunk = max(1, _POINTS_PER_CHUNK // max(len(points), 1))
        total: NDArray[np.float64] | None = None
        for start in range(0, pointing.n_step, chunk):
            part = slice(start, min(start + chunk, pointing.n_step))
            piece = Pointing(rotation=pointing.rotation[part], altitude=pointing.altitude[part],
                             live_time=pointing.live_time[part],
                             time_bin=pointing.time_bin[part])
            observation = BalloonObservation(piece, n_time=self.period,
                                             bin_size=180.0 / self.n_phi,
                                             instrument=self.instrument)
            exposure = observation.exposure(points, fraction)
            total = exposure if total is None else total + exposure
        assert total is not None
        return total

    def band_template(self, component: SkyComponent, band: int = 0) -> sparse.csr_array:
        """Template of a component in one band, ``S[t, c]`` per ph cm-2 s-1 in that band.

        Returns
        -------
        template : `scipy.sparse.csr_array` of float32, shape (n_time, n_spatial)
        """
        day = sparse.csr_array(convolve_sky(self.detector_response(band),
                                            self.day_exposure(component)))
        day.eliminate_zeros()
        return sparse.csr_array(day[self.day_index])

    def template(self, component: SkyComponent, spectrum: ArrayLike | None = None
                 ) -> sparse.csr_array:
        """Template over the whole data space, per ph cm-2 s-1 summed over the bands.

        Parameters
        ----------
        component : `SkyComponent`
        spectrum : array_like, shape (n_energy,), optional
            Share of the component's flux in each band (normalised to sum to 1). Required
            with several bands; one band takes all.

        Returns
        -------
        template : `scipy.sparse.csr_array` of float32, shape (n_time, n_data_bin)
        """
        shares = self._shares(spectrum)
        blocks = []
        for band in range(self.n_energy):
            if shares[band] > 0:
                blocks.append(self.band_template(component, band) * np.float32(shares[band]))
            else:
                blocks.append(sparse.csr_array((self.n_time, self.n_spatial), dtype=np.float32))
        return sparse.csr_array(sparse.hstack(blocks, format="csr"), dtype=np.float32)

    def template_builder(self, *, lon: float = 0.0, lat: float = 0.0,
                         spectrum: ArrayLike | None = None) -> FlightTemplateBuilder:
        """The template builder of a width scan of Gaussians at ``(lon, lat)`` deg."""
        shares = self._shares(spectrum)
        return FlightTemplateBuilder(observation=self.observation(),
                                     response=self.detector_response(int(np.argmax(shares))),
                                     lon=float(lon), lat=float(lat), geometry=self,
                                     spectrum=tuple(float(s) for s in shares))

    def dataset(
        self,
        counts: Any,
        *,
        tracers: Mapping[str, ArrayLike],
        templates: Mapping[str, Any] | None = None,
        background_response: ArrayLike | None = None,
    ) -> CosiDataset:
        """A `~bayesbg.cosi.CosiDataset` on this geometry's time bins and data space."""
        return CosiDataset(counts=counts, time_edges=self.time_edges, phi_edges=self.phi_edges,
                           n_psi_chi=self.n_psi_chi, tracers=tracers,
                           templates=dict(templates or {}),
                           background_response=background_response, altitude=self.altitude,
                           energy_edges=self.energy_edges, psi_chi_centres=self.psi_chi_centres)

    # -- file ----------------------------------------------------------------------------
    def to_xarray(self) -> xr.Dataset:
        """The geometry in its file layout (``docs/formats.md``)."""
        pointing = self.pointing
        return xr.Dataset(
            {"rotation": (("step", "galactic", "instrument"), pointing.rotation),
             "step_altitude": (("step",), pointing.altitude, {"units": "km"}),
             "live_time": (("step",), pointing.live_time, {"units": "s"}),
             "time_bin": (("step",), pointing.time_bin.astype(np.int32)),
             "time_edges": (("time_edge",), self.time_edges, {"units": "s"}),
             "tracer": (("time",), self.tracer),
             "altitude": (("time",), self.altitude, {"units": "km"}),
             "phi_edges": (("phi_edge",), self.phi_edges, {"units": "deg"}),
             "psi_chi_centres": (("psi_chi", "angle"), self.psi_chi_centres, {"units": "deg"}),
             "energy_edges": (("energy_edge",), self.energy_edges, {"units": "keV"}),
             "selection": (("energy", "spatial_bin"), self.selection.astype(np.uint8))},
            attrs={"format": _FORMAT, "format_version": 1, "period": self.period,
                   "instrument": json.dumps(self.instrument.to_dict(), sort_keys=True),
                   "provenance": json.dumps(self.provenance, sort_keys=True)})

    def write(self, path: str | Path, *, overwrite: bool = False) -> Path:
        """Write to a netCDF4/HDF5 file, atomically (byte-identical for equal geometries)."""
        target = check_writable_target(path, overwrite=overwrite)
        with atomic_file(target, overwrite=overwrite) as partial:
            self.to_xarray().to_netcdf(partial, engine="h5netcdf")
        return target

    def _check_band(self, band: int) -> None:
        if isinstance(band, bool) or not isinstance(band, int | np.integer) or \
                not 0 <= band < self.n_energy:
            raise ValueError(f"band: expected 0 to {self.n_energy - 1}, found {band!r}")

    def _shares(self, spectrum: ArrayLike | None) -> NDArray[np.float64]:
        if spectrum is None:
            if self.n_energy != 1:
                raise ValueError(f"spectrum: expected the flux share of each of the "
                                 f"{self.n_energy} bands")
            return np.ones(1)
        shares = np.asarray(spectrum, dtype=np.float64)
        if shares.shape != (self.n_energy,) or not np.all(np.isfinite(shares)) or \
                np.any(shares < 0) or shares.sum() <= 0:
            raise ValueError(f"spectrum: expected {self.n_energy} non-negative shares with a "
                             f"positive sum, found {spectrum!r}")
        return shares / shares.sum()


def load_flight_geometry(path: str | Path) -> FlightGeometry:
    """Read a file written by :meth:`FlightGeometry.write` (validated).

    Raises
    ------
    FileNotFoundError, ValueError
        The latter naming the file and the field at fault.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"flight geometry {path} does not exist")
    try:
        with xr.open_dataset(path, engine="h5netcdf") as ds:
            ds = ds.load()
    except (OSError, ValueError) as error:
        raise ValueError(f"{path}: not a readable netCDF4/HDF5 file ({error})") from None
    if ds.attrs.get("format") != _FORMAT:
        raise ValueError(f"{path}: format: expected {_FORMAT!r}, found "
                         f"{ds.attrs.get('format')!r}")
    try:
        pointing = Pointing(rotation=ds["rotation"].values, altitude=ds["step_altitude"].values,
                            live_time=ds["live_time"].values, time_bin=ds["time_bin"].values)
        return FlightGeometry(
            pointing=pointing, period=int(ds.attrs["period"]),
            time_edges=ds["time_edges"].values, tracer=ds["tracer"].values,
            altitude=ds["altitude"].values, phi_edges=ds["phi_edges"].values,
            psi_chi_centres=ds["psi_chi_centres"].values,
            energy_edges=ds["energy_edges"].values, selection=ds["selection"].values,
            instrument=InstrumentSettings(**json.loads(ds.attrs["instrument"])),
            provenance=json.loads(ds.attrs.get("provenance", "{}")))
    except KeyError as error:
        raise ValueError(f"{path}: {error.args[0]}: missing from the flight geometry") from None
    except (TypeError, ValueError) as error:
        raise ValueError(f"{path}: {error}") from None


@dataclass(frozen=True, eq=False)
class FlightTemplateBuilder(TemplateBuilder):
    """Gaussian templates on a flight-like geometry, for the template-width scan.

    A :class:`~bayesbg.cosi.model.TemplateBuilder` whose ``observation`` and ``response``
    are the first day's (they identify the instrument in the scan's fingerprint) and whose
    templates are those of :meth:`FlightGeometry.template`: all days, cut to the event
    selection, in every band by ``spectrum``. Make one with
    :meth:`FlightGeometry.template_builder`.
    """

    geometry: FlightGeometry | None = None
    spectrum: tuple[float, ...] = (1.0,)

    def __post_init__(self) -> None:
        if not isinstance(self.geometry, FlightGeometry):
            raise TypeError("geometry: expected a FlightGeometry "
                            "(use FlightGeometry.template_builder)")

    @property
    def n_time(self) -> int:
        """Time bins of the templates."""
        assert self.geometry is not None
        return self.geometry.n_time

    @property
    def n_data_bin(self) -> int:
        """Data-space bins of the templates."""
        assert self.geometry is not None
        return self.geometry.n_data_bin

    def template(self, sigma_l: float, sigma_b: float) -> sparse.csr_array:  # type: ignore[override]
        """Template of a 2D Gaussian of widths ``(sigma_l, sigma_b)`` deg at (lon, lat).

        Returns
        -------
        template : `scipy.sparse.csr_array` of float32, shape (n_time, n_data_bin)
        """
        assert self.geometry is not None
        component = SkyComponent("scan", "gaussian", self.lon, self.lat, sigma_l, sigma_b)
        return self.geometry.template(component, self.spectrum)
