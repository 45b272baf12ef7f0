"""Bin MEGAlib events into a :class:`~bayesbg.cosi.CosiDataset` (docs/cosi_io.md, "Binning").

Data space: energy x Compton scatter angle phi x direction (psi, chi), flattened in C order
as in ``docs/formats.md``. The direction axis is one of

- ``"fisbel"``: MEGAlib's FISBEL equal-area layout used by the 2016 analyses (COSIpy);
  ``n = int(4 pi / bin_size^2)`` bins, 1145 for 6 deg (the 1145 psi-chi bins of
  ``flight_bg_all_v1_fine_6deg.npz``) and 1650 for 5 deg ([COSI-511]);
- ``"bayesbg"``: :func:`bayesbg.cosi.response.psi_chi_grid` (1144 bins at 6 deg, 1652 at
  5 deg: *not* the 2016 layout);
- ``"healpix"``: HEALPix, RING ordering, ``lon = chi``, ``lat = 90 - psi``.

In the instrument frame (psi, chi) are the polar angle from z and the azimuth from x; in
the Galactic frame psi = 90 deg - b and chi = l. Time bins are in Unix seconds.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from bayesbg.atomic import atomic_file, check_writable_target
from bayesbg.config import TomlConfig, TomlTable
from bayesbg.cosi.data import CosiDataset
from bayesbg.cosi.io.grids import HealpixGrid, RingGrid, fisbel_grid, psi_chi_layout
from bayesbg.cosi.io.megalib import iter_tra
from bayesbg.cosi.io.orientation import Orientation, lonlat_to_vectors
from bayesbg.cosi.io.selection import EventSelection, select_events

__all__ = [
    "BinnedEvents",
    "BinningConfig",
    "HealpixGrid",
    "RingGrid",
    "bin_events",
    "cone_backprojection",
    "fisbel_grid",
    "psi_chi_layout",
    "write_binned",
]

log = logging.getLogger(__name__)


# -- configuration -----------------------------------------------------------------------
@dataclass(frozen=True)
class BinningConfig(TomlConfig):
    """How to bin events (TOML keys of the same names, in a ``[binning]`` table or at top level).

    Parameters
    ----------
    time_bin : float
        Time-bin width, s. Default is 3600 ([COSI-511]).
    time_start, time_stop : float, optional
        Unix seconds. Default: the orientation file's range if given, else from the first
        event on, as many bins as the events need. Events outside are dropped (counted).
    energy_edges : list of float
        Energy-bin edges of the total energy, keV. Default is [500, 520] (511 keV line).
    phi_bin : float
        Width of the phi bins from 0 to 180 deg. Default is 6.
    psi_chi : {"fisbel", "bayesbg", "healpix"}
        Direction layout. Default is "fisbel" (the 2016 layout).
    psi_chi_bin : float
        Nominal direction bin size, deg (fisbel, bayesbg). Default is 6.
    nside : int
        HEALPix resolution (healpix). Default is 16.
    frame : {"instrument", "galactic"}
        Frame of (psi, chi). Default is "instrument".
    pointing : {"auto", "events", "orientation"}
        Instrument attitude for the Galactic frame: the events' GX/GZ, or the orientation
        file interpolated in time; "auto" uses the orientation file when given.
    photo_energy_min, photo_energy_max : float, optional
        Band of the photo events counted for the ``photo_event_rate`` tracer, keV.
        Default: all photo events.
    chunk_size : int
        Events read at once. Default is 200,000.
    on_error : {"raise", "skip"}
        Malformed records: stop with an error naming file and line, or skip and report.
    selection : `~bayesbg.cosi.io.selection.EventSelection`, optional
        Event selections of [COSI-PS] Table 1 applied to the Compton events before binning
        (TOML: a ``selection`` table inside ``[binning]``, or ``[selection]`` beside the
        top-level keys). Default: none.
    """

    time_bin: float = 3600.0
    time_start: float | None = None
    time_stop: float | None = None
    energy_edges: tuple[float, ...] = (500.0, 520.0)
    phi_bin: float = 6.0
    psi_chi: Literal["fisbel", "bayesbg", "healpix"] = "fisbel"
    psi_chi_bin: float = 6.0
    nside: int = 16
    frame: Literal["instrument", "galactic"] = "instrument"
    pointing: Literal["auto", "events", "orientation"] = "auto"
    photo_energy_min: float | None = None
    photo_energy_max: float | None = None
    chunk_size: int = 200_000
    on_error: Literal["raise", "skip"] = "raise"
    selection: EventSelection | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "energy_edges", tuple(float(e) for e in self.energy_edges))
        if not self.time_bin > 0:
            raise ValueError(f"time_bin: expected a positive width in s, found {self.time_bin}")
        if (self.time_start is not None and self.time_stop is not None
                and not self.time_stop > self.time_start):
            raise ValueError(f"time_stop: expected > time_start, found {self.time_stop}")
        edges = np.asarray(self.energy_edges)
        if edges.size < 2 or np.any(np.diff(edges) <= 0) or edges[0] < 0:
            raise ValueError(f"energy_edges: expected >= 2 increasing non-negative values in "
                             f"keV, found {list(edges)}")
        n_phi = 180 / self.phi_bin if self.phi_bin > 0 else 0.5
        if not 0 < self.phi_bin <= 180 or abs(n_phi - round(n_phi)) > 1e-9:
            raise ValueError(f"phi_bin: expected a divisor of 180 deg, found {self.phi_bin}")
        for name, allowed in (("psi_chi", ("fisbel", "bayesbg", "healpix")),
                              ("frame", ("instrument", "galactic")),
                              ("pointing", ("auto", "events", "orientation")),
                              ("on_error", ("raise", "skip"))):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name}: expected one of {allowed}, found "
                                 f"{getattr(self, name)!r}")
        if not 0 < self.psi_chi_bin <= 90:
            raise ValueError(f"psi_chi_bin: expected a value in (0, 90] deg, found "
                             f"{self.psi_chi_bin}")
        if not isinstance(self.chunk_size, int) or self.chunk_size < 1:
            raise ValueError(f"chunk_size: expected a positive integer, found {self.chunk_size}")
        psi_chi_layout(self.psi_chi, bin_size=self.psi_chi_bin, nside=self.nside)

    @property
    def phi_edges(self) -> NDArray[np.float64]:
        """Phi bin edges, deg."""
        return np.linspace(0.0, 180.0, round(180 / self.phi_bin) + 1)

    def grid(self) -> RingGrid | HealpixGrid:
        """The direction grid."""
        return psi_chi_layout(self.psi_chi, bin_size=self.psi_chi_bin, nside=self.nside)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> BinningConfig:
        """From a mapping (a ``binning`` entry or the settings at top level)."""
        return cls.from_table(TomlTable.from_mapping(values))

    @classmethod
    def from_table(cls, document: TomlTable) -> BinningConfig:
        """From a TOML document: a ``[binning]`` table or the keys at top level.

        Raises
        ------
        ConfigError
            Naming the file and the key at fault.
        """
        known = {f.name for f in fields(cls)}
        if "binning" in document:
            document.check_keys({"binning"})
            table = document.table("binning", known)
        else:
            table = document
            table.check_keys(known)
        values: dict[str, Any] = {}
        for key in ("time_bin", "time_start", "time_stop", "phi_bin", "psi_chi_bin",
                    "photo_energy_min", "photo_energy_max"):
            if key in table:
                values[key] = table.number(key)
        for key in ("nside", "chunk_size"):
            if key in table:
                values[key] = table.integer(key, minimum=1)
        for key in ("psi_chi", "frame", "pointing", "on_error"):
            if key in table:
                values[key] = table.string(key)
        if "energy_edges" in table:
            values["energy_edges"] = table.numbers("energy_edges")
        if "selection" in table:
            values["selection"] = EventSelection.from_table(table.table("selection"))
        return table.build(cls, values)



# -- binning -----------------------------------------------------------------------------
@dataclass(frozen=True)
class BinnedEvents:
    """A binned dataset and what happened to the events.

    ``summary`` holds counts: ``compton_read``, ``compton_binned``, ``photo_read``,
    ``photo_counted``, dropped events by reason (``outside_time``, ``outside_energy``,
    ``outside_phi``; ``selection_removed``: per criterion of the event selection),
    ``other_types``, ``malformed``, and the layout (``psi_chi_layout``,
    ``frame``, ``pointing``).
    """

    dataset: CosiDataset
    summary: dict[str, Any] = field(default_factory=dict)
    errors: tuple[Any, ...] = ()


def _time_index(time: NDArray, start: float, width: float) -> NDArray[np.int64]:
    return np.floor((time - start) / width).astype(np.int64)


def bin_events(paths: str | Path | Sequence[str | Path], config: BinningConfig | None = None,
               *, orientation: Orientation | None = None) -> BinnedEvents:
    """Stream MEGAlib event files and bin them into a `~bayesbg.cosi.CosiDataset`.

    Compton events go into counts over (time, energy, phi, psi-chi); photo events are
    counted per time bin for the ``photo_event_rate`` tracer (counts s-1). The dataset
    also carries ``compton_event_rate`` (all Compton events read, counts s-1) and, from an
    orientation with an altitude column, the mean ``altitude`` per time bin.

    Parameters
    ----------
    paths : path or sequence of paths
        ``.tra`` / ``.tra.gz`` files (e.g. the Compton and the photo-event file).
    config : `BinningConfig`, optional
        Default: ``BinningConfig()``.
    orientation : `~bayesbg.cosi.io.Orientation`, optional
        Attitude for the Galactic frame and default time range.

    Returns
    -------
    binned : `BinnedEvents`
    """
    config = config or BinningConfig()
    if isinstance(paths, str | Path):
        paths = [paths]
    grid = config.grid()
    phi_edges = config.phi_edges
    energy_edges = np.asarray(config.energy_edges)
    n_phi, n_energy, n_dir = phi_edges.size - 1, energy_edges.size - 1, grid.n_bin
    n_data_bin = n_energy * n_phi * n_dir
    pointing = config.pointing
    if pointing == "auto":
        pointing = "orientation" if orientation is not None else "events"
    if pointing == "orientation" and orientation is None and config.frame == "galactic":
        raise ValueError("pointing: 'orientation' needs an orientation file (--ori)")
    start, stop = config.time_start, config.time_stop
    if orientation is not None:
        start = orientation.seconds[0] if start is None else max(start, orientation.seconds[0])
        stop = orientation.seconds[-1] if stop is None else min(stop, orientation.seconds[-1])
    width = config.time_bin
    auto_start = start is None  # then the first events set it and nothing is cut before
    summary: dict[str, Any] = {key: 0 for key in (
        "compton_read", "compton_binned", "photo_read", "photo_counted", "outside_time",
        "outside_energy", "outside_phi", "malformed")}
    other: dict[str, int] = {}
    cut: dict[str, int] = {}  # events removed by each selection criterion
    keys: list[NDArray[np.int64]] = []
    compton_times: list[NDArray[np.int64]] = []
    photo_times: list[NDArray[np.int64]] = []
    errors: list[Any] = []

    def in_time(time: NDArray) -> NDArray[np.bool_]:
        ok = np.ones(time.size, dtype=bool)
        if start is not None and not auto_start:
            ok &= time >= start
        if stop is not None:
            ok &= time < stop if orientation is None else time <= stop
        return ok

    for path in paths:
        for chunk in iter_tra(path, chunk_size=config.chunk_size, on_error=config.on_error):
            errors.extend(chunk.errors)
            summary["malformed"] += len(chunk.errors)
            for name, count in chunk.other.items():
                other[name] = other.get(name, 0) + count
            if start is None:
                times = np.concatenate([chunk.compton.time, chunk.photo.time])
                if times.size:
                    start = float(np.floor(times.min()))
            photo = chunk.photo
            summary["photo_read"] += len(photo)
            if len(photo) and start is not None:
                keep = in_time(photo.time)
                if config.photo_energy_min is not None:
                    keep &= photo.energy >= config.photo_energy_min
                if config.photo_energy_max is not None:
                    keep &= photo.energy < config.photo_energy_max
                photo_times.append(_time_index(photo.time[keep], start, width))
                summary["photo_counted"] += int(keep.sum())
            events = chunk.compton
            summary["compton_read"] += len(events)
            if len(events) and config.selection is not None:
                selected, removed = select_events(events, config.selection,
                                                  orientation=orientation)
                for reason, count in removed.items():
                    cut[reason] = cut.get(reason, 0) + count
                events = _subset(events, selected)
            if not len(events):
                continue
            assert start is not None
            ok_time = in_time(events.time)
            summary["outside_time"] += int((~ok_time).sum())
            compton_times.append(_time_index(events.time[ok_time], start, width))
            energy_bin = np.searchsorted(energy_edges, events.energy, side="right") - 1
            ok_energy = (energy_bin >= 0) & (energy_bin < n_energy)
            summary["outside_energy"] += int((ok_time & ~ok_energy).sum())
            phi = events.phi
            phi_bin = np.searchsorted(phi_edges, phi, side="right") - 1
            phi_bin = np.where(phi == 180.0, n_phi - 1, phi_bin)
            ok_phi = (phi_bin >= 0) & (phi_bin < n_phi)
            summary["outside_phi"] += int((ok_time & ok_energy & ~ok_phi).sum())
            keep = ok_time & ok_energy & ok_phi
            if not keep.any():
                continue
            sub = _subset(events, keep)
            if config.frame == "instrument":
                psi, chi = sub.psi_chi_local()
            else:
                lon, lat = sub.psi_chi_galactic(
                    orientation if pointing == "orientation" else None)
                psi, chi = 90.0 - lat, lon
            direction = grid.index(psi, chi)
            data_bin = (energy_bin[keep] * n_phi + phi_bin[keep]) * n_dir + direction
            time_bin = _time_index(sub.time, start, width)
            keys.append(np.column_stack([time_bin, data_bin]))
            summary["compton_binned"] += int(keep.sum())
    if start is None:
        raise ValueError(f"no events read from {[str(p) for p in paths]}")
    all_keys = np.concatenate(keys) if keys else np.zeros((0, 2), dtype=np.int64)
    all_compton = np.concatenate(compton_times) if compton_times else np.zeros(0, np.int64)
    all_photo = np.concatenate(photo_times) if photo_times else np.zeros(0, np.int64)
    earliest = min(all_keys[:, 0].min(initial=0), all_compton.min(initial=0),
                   all_photo.min(initial=0))
    if earliest < 0:  # automatic start, later chunks held earlier events: shift the bins
        start -= -earliest * width
        all_keys[:, 0] -= earliest
        all_compton -= earliest
        all_photo -= earliest
    if stop is not None:
        n_time = max(1, math.ceil((stop - start) / width - 1e-9))
        time_edges = start + width * np.arange(n_time + 1)
        time_edges[-1] = stop
    else:
        n_time = int(max(all_compton.max(initial=0), all_photo.max(initial=0))) + 1
        time_edges = start + width * np.arange(n_time + 1)
    exposure = np.diff(time_edges)
    for index in (all_keys[:, 0], all_compton, all_photo):  # an event at exactly `stop`
        np.minimum(index, n_time - 1, out=index)
    counts = sparse.coo_array(
        (np.ones(len(all_keys), dtype=np.int64), (all_keys[:, 0], all_keys[:, 1])),
        shape=(n_time, n_data_bin))
    counts.sum_duplicates()
    tracers = {"compton_event_rate": np.bincount(all_compton, minlength=n_time) / exposure}
    if summary["photo_read"]:
        tracers["photo_event_rate"] = np.bincount(all_photo, minlength=n_time) / exposure
    altitude = None
    if orientation is not None and "altitude" in orientation.extra:
        index = np.clip(_time_index(orientation.seconds, start, width), 0, n_time - 1)
        total = np.bincount(index, weights=orientation.extra["altitude"], minlength=n_time)
        number = np.bincount(index, minlength=n_time)
        if np.all(number > 0):
            altitude = total / number
    dataset = CosiDataset(counts=counts, time_edges=time_edges, phi_edges=phi_edges,
                          n_psi_chi=n_dir, tracers=tracers, altitude=altitude,
                          energy_edges=energy_edges, psi_chi_centres=grid.centres)
    summary.update(other_types=other, selection_removed=cut, psi_chi_layout=grid.name,
                   n_psi_chi=n_dir,
                   frame=config.frame, pointing=pointing if config.frame == "galactic" else "",
                   config=asdict(config))
    dropped = summary["outside_time"] + summary["outside_energy"] + summary["outside_phi"]
    log.info("binned %d of %d Compton events (%d outside the time, energy or phi range)",
             summary["compton_binned"], summary["compton_read"], dropped)
    if summary["malformed"]:
        warnings.warn(f"{summary['malformed']} malformed records skipped", UserWarning,
                      stacklevel=2)
    return BinnedEvents(dataset, summary, tuple(errors))


def _subset(events: Any, keep: NDArray[np.bool_]) -> Any:
    from dataclasses import fields as dc_fields

    return type(events)(**{f.name: getattr(events, f.name)[keep] for f in dc_fields(events)})


def write_binned(binned: BinnedEvents, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write the dataset file (docs/formats.md) with the binning recorded as attributes.

    Extra global attributes: ``psi_chi_layout``, ``psi_chi_frame``, ``pointing``,
    ``time_reference`` ("unix"), ``events_summary`` (JSON). Written atomically.
    """
    import json

    target = check_writable_target(path, overwrite=overwrite)
    ds = binned.dataset.to_xarray()
    summary = binned.summary
    ds.attrs.update(psi_chi_layout=str(summary.get("psi_chi_layout", "")),
                    psi_chi_frame=str(summary.get("frame", "")),
                    pointing=str(summary.get("pointing", "")), time_reference="unix",
                    events_summary=json.dumps(summary, default=str))
    with atomic_file(target, overwrite=overwrite) as partial:
        ds.to_netcdf(partial, engine="h5netcdf")
    return target


# -- a simple image ----------------------------------------------------------------------
def cone_backprojection(dataset: CosiDataset, *, nside: int = 32, width: float | None = None,
                        time_bins: Iterable[int] | None = None
                        ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Compton-cone back-projection of a Galactic-frame dataset onto HEALPix pixels.

    Each populated data-space bin (phi_j, direction q) adds its counts spread over the
    ring of sky pixels at angular distance phi_j from the bin's direction, weighted by a
    Gaussian in (distance - phi_j) of standard deviation ``width`` (default: the phi bin
    width) and normalised per bin. Not a deconvolution; the maximum marks a source.

    Returns
    -------
    lon, lat : `numpy.ndarray`, shape (npix,)
        Pixel centres, deg (Galactic if the dataset's psi-chi is Galactic).
    image : `numpy.ndarray`, shape (npix,)
        Back-projected counts.
    """
    import astropy.units as u
    from astropy_healpix import HEALPix

    if dataset.psi_chi_centres is None:
        raise ValueError("psi_chi_centres: the dataset has no direction bin centres")
    sky = HEALPix(nside=nside, order="ring")
    lon_q, lat_q = sky.healpix_to_lonlat(np.arange(sky.npix))
    lon = lon_q.to_value(u.deg)
    lat = lat_q.to_value(u.deg)
    pixels = lonlat_to_vectors(lon, lat)
    counts = sparse.csr_array(dataset.counts)
    if time_bins is not None:
        counts = counts[np.asarray(list(time_bins))]
    per_bin = np.asarray(counts.sum(axis=0)).ravel()
    populated = np.flatnonzero(per_bin)
    _, phi_index, direction = dataset.data_space_index(populated)
    phi_centres = 0.5 * (dataset.phi_edges[:-1] + dataset.phi_edges[1:])
    sigma = float(np.min(np.diff(dataset.phi_edges))) if width is None else float(width)
    centres = dataset.psi_chi_centres[direction]
    axes = lonlat_to_vectors(centres[:, 1], 90.0 - centres[:, 0])
    image = np.zeros(sky.npix)
    for start in range(0, populated.size, 256):
        part = slice(start, start + 256)
        distance = np.degrees(np.arccos(np.clip(axes[part] @ pixels.T, -1.0, 1.0)))
        weight = np.exp(-0.5 * ((distance - phi_centres[phi_index[part], None]) / sigma) ** 2)
        weight /= weight.sum(axis=1, keepdims=True)
        image += per_bin[populated[part]] @ weight
    return lon, lat, image
