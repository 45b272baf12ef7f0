"""Event selections of [COSI-PS] Table 1, applied to MEGAlib Compton events before binning
(docs/cosi_io.md, "Event selections").

=====================================  ========================  ==============================
[COSI-PS] Table 1                      field                     from
=====================================  ========================  ==============================
number of interactions 2-7             ``sequence_min/max``      ``SQ``
distance first two interactions        ``first_distance_min``    ``CD`` (C1, C2)
> 0.5 cm
distance between other interactions    ``other_distance_min``    ``CH`` lines (consecutive
(3+) > 0.3 cm                                                    interactions from the 2nd on)
energy 40 keV - 5 MeV                  ``energy_min/max``        ``CE`` (E_g + E_e)
Compton scatter angle 0-60 deg         ``phi_max``               ``CE``
altitude > 33 km                       ``altitude_min``          the orientation's
                                                                 ``altitude`` column (newer
                                                                 .ori layout)
disk around a known source 0-60 deg    ``source_lon/lat`` +      events' ``GZ`` (or the
(the pointing cut)                     ``pointing_cut``          orientation interpolated): the
                                                                 source's angle from the
                                                                 instrument z axis
Earth horizon cut                      ``earth_horizon``         the orientation's Earth zenith
                                                                 columns: cut events whose
                                                                 whole Compton cone is below
                                                                 the horizon
=====================================  ========================  ==============================


The 2016 orientation file has no altitude and no Earth zenith; the 2016 simulated events'
file names say ``EHCstandard`` (MEGAlib applied its Earth horizon cut upstream). Asking for
a criterion the inputs cannot carry is an error naming it.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
from numpy.typing import NDArray

from bayesbg.config import TomlTable
from bayesbg.cosi.io.megalib import ComptonEvents
from bayesbg.cosi.io.orientation import Orientation, lonlat_to_vectors

__all__ = ["PAPER_SELECTION", "EventSelection", "select_events"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EventSelection:
    """Event selection criteria (TOML: a ``[selection]`` table of the binning file).

    Parameters
    ----------
    sequence_min, sequence_max : int, optional
        Interactions in the Compton sequence (``SQ``).
    first_distance_min : float, optional
        cm, distance between the first two interactions.
    other_distance_min : float, optional
        cm, distance between consecutive interactions from the second to the third on.
    energy_min, energy_max : float, optional
        keV, total energy.
    phi_max : float, optional
        deg, Compton scatter angle.
    altitude_min : float, optional
        km (needs an orientation with an ``altitude`` column).
    source_lon, source_lat, pointing_cut : float, optional
        deg: keep events while the source at Galactic (lon, lat) is within
        ``pointing_cut`` of the instrument's z axis.
    earth_horizon : bool
        Cut events whose Compton cone lies entirely below the Earth's horizon (needs the
        orientation's ``earth_zenith_lat``/``earth_zenith_lon``). Default False.
    """

    sequence_min: int | None = None
    sequence_max: int | None = None
    first_distance_min: float | None = None
    other_distance_min: float | None = None
    energy_min: float | None = None
    energy_max: float | None = None
    phi_max: float | None = None
    altitude_min: float | None = None
    source_lon: float | None = None
    source_lat: float | None = None
    pointing_cut: float | None = None
    earth_horizon: bool = False

    def __post_init__(self) -> None:
        for name in ("first_distance_min", "other_distance_min", "energy_min", "energy_max",
                     "phi_max", "altitude_min", "pointing_cut"):
            value = getattr(self, name)
            if value is not None and not (np.isfinite(value) and value >= 0):
                raise ValueError(f"{name}: expected a non-negative number, found {value!r}")
        for name in ("sequence_min", "sequence_max"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or int(value) != value
                                      or value < 1):
                raise ValueError(f"{name}: expected a positive integer, found {value!r}")
        source = (self.source_lon, self.source_lat, self.pointing_cut)
        if any(v is not None for v in source) and any(v is None for v in source):
            raise ValueError("source_lon, source_lat, pointing_cut: give all three (the "
                             "pointing cut around a source) or none")

    @classmethod
    def from_table(cls, table: TomlTable) -> EventSelection:
        """From a ``[selection]`` TOML table (unknown keys are errors)."""
        known = {f.name for f in fields(cls)}
        table.check_keys(known)
        values: dict[str, Any] = {}
        for key in known - {"sequence_min", "sequence_max", "earth_horizon"}:
            if key in table:
                values[key] = table.number(key)
        for key in ("sequence_min", "sequence_max"):
            if key in table:
                values[key] = table.integer(key, minimum=1)
        if "earth_horizon" in table:
            values["earth_horizon"] = table.boolean("earth_horizon")
        return table.build(cls, values)

    def to_dict(self) -> dict[str, Any]:
        """The criteria that are set."""
        return {k: v for k, v in asdict(self).items() if v is not None and v is not False}


PAPER_SELECTION = EventSelection(sequence_min=2, sequence_max=7, first_distance_min=0.5,
                                 other_distance_min=0.3, energy_min=40.0, energy_max=5000.0,
                                 phi_max=60.0, altitude_min=33.0, earth_horizon=True)
"""[COSI-PS] Table 1 without the source-dependent pointing cut (add ``source_lon``,
``source_lat`` and ``pointing_cut`` = 60 for images, 90 for spectra)."""


def _orientation_column(orientation: Orientation | None, name: str, need: str) -> None:
    if orientation is None or name not in orientation.extra:
        raise ValueError(f"{need}: needs the orientation's {name!r} column, which the "
                         f"orientation {'is not given' if orientation is None else 'lacks'}"
                         f" (the 2016 file has none)")


def select_events(events: ComptonEvents, selection: EventSelection, *,
                  orientation: Orientation | None = None
                  ) -> tuple[NDArray[np.bool_], dict[str, int]]:
    """Which events pass, and how many each criterion removed (in the order of the table).

    Parameters
    ----------
    events : `bayesbg.cosi.io.ComptonEvents`
    selection : `EventSelection`
    orientation : `bayesbg.cosi.io.Orientation`, optional
        For the altitude, the Earth horizon and (when the events lack ``GZ``) the pointing.

    Returns
    -------
    keep : `numpy.ndarray` of bool
    removed : dict of str to int
        Events removed by each criterion not already removed by an earlier one.
    """
    keep = np.ones(len(events), dtype=bool)
    removed: dict[str, int] = {}

    def apply(name: str, passed: NDArray[np.bool_]) -> None:
        removed[name] = int((keep & ~passed).sum())
        keep[:] &= passed

    s = selection
    if s.sequence_min is not None:
        apply("sequence_min", events.sequence_length >= s.sequence_min)
    if s.sequence_max is not None:
        apply("sequence_max", events.sequence_length <= s.sequence_max)
    if s.first_distance_min is not None:
        apply("first_distance_min", events.lever_arm > s.first_distance_min)
    if s.other_distance_min is not None:
        apply("other_distance_min", events.other_distance > s.other_distance_min)
    if s.energy_min is not None:
        apply("energy_min", events.energy >= s.energy_min)
    if s.energy_max is not None:
        apply("energy_max", events.energy <= s.energy_max)
    if s.phi_max is not None:
        apply("phi_max", events.phi <= s.phi_max)
    if s.altitude_min is not None:
        _orientation_column(orientation, "altitude", "altitude_min")
        assert orientation is not None
        altitude = np.interp(events.time, orientation.seconds, orientation.extra["altitude"])
        apply("altitude_min", altitude > s.altitude_min)
    if s.pointing_cut is not None:
        assert s.source_lon is not None and s.source_lat is not None
        _, _, z_axis = events.rotation_axes(orientation if not events.has_pointing
                                            else None)
        source = lonlat_to_vectors(np.array([s.source_lon]), np.array([s.source_lat]))[0]
        angle = np.degrees(np.arccos(np.clip(z_axis @ source, -1.0, 1.0)))
        apply("pointing_cut", angle <= s.pointing_cut)
    if s.earth_horizon:
        for column in ("earth_zenith_lat", "earth_zenith_lon"):
            _orientation_column(orientation, column, "earth_horizon")
        assert orientation is not None
        lat = np.interp(events.time, orientation.seconds, orientation.extra["earth_zenith_lat"])
        lon = np.interp(events.time, orientation.seconds, orientation.extra["earth_zenith_lon"])
        zenith = lonlat_to_vectors(lon, lat)
        direction = events.data_space_direction_galactic(
            orientation if not events.has_pointing else None)
        offset = np.degrees(np.arccos(np.clip(np.sum(zenith * direction, axis=1), -1, 1)))
        # the cone's point nearest the zenith is |offset - phi| away from it
        apply("earth_horizon", np.abs(offset - events.phi) <= 90.0)
    return keep, removed
