"""Vectorised parsing of a block of complete ``.tra`` records (used by ``megalib.iter_tra``).

A block is a list of text lines starting with an ``SE`` line. Lines are grouped by keyword
with numpy, each keyword's numbers converted at once, and only on a failure are the rows
parsed one by one to name the bad line. Every problem is reported against its event and
line; the caller raises the first one or skips the events.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

# keyword -> numbers read after it
_COUNTS = {"ID": 1, "TI": 1, "GX": 2, "GZ": 2, "CE": 4, "CD": 12, "SQ": 1, "PE": 1, "PP": 3,
           "CH": 4}
_REPEATED = ("CH",)  # keywords with one line per interaction
ELECTRON_MASS_KEV = 510.99895


class BlockProblems:
    """Malformed events of a block: event index -> (line number, message), first kept."""

    def __init__(self) -> None:
        self.by_event: dict[int, tuple[int, str]] = {}

    def add(self, event: int, line: int, message: str) -> None:
        old = self.by_event.get(event)
        if old is None or line < old[0]:
            self.by_event[event] = (line, message)

    def add_many(self, events: NDArray, lines: NDArray, message: Any) -> None:
        for event, line in zip(events.tolist(), lines.tolist(), strict=True):
            self.add(event, line, message(event, line) if callable(message) else message)


def _numbers(lines: list[str], rows: NDArray[np.int64], events: NDArray[np.int64], key: str,
             first_line: int, problems: BlockProblems) -> tuple[NDArray, NDArray[np.bool_]]:
    """Numbers after ``key`` on each row: (values (n_row, count), ok (n_row,))."""
    count = _COUNTS[key]
    fields = [lines[i].split()[1:count + 1] for i in rows.tolist()]
    try:
        values = np.array(fields, dtype=float).reshape(len(fields), count)
        ok = np.ones(len(fields), dtype=bool)
    except ValueError:
        values = np.full((len(fields), count), np.nan)
        ok = np.zeros(len(fields), dtype=bool)
        for k, words in enumerate(fields):
            line = first_line + int(rows[k])
            if len(words) < count:
                problems.add(int(events[k]), line,
                             f"{key}: expected {count} numbers, found {len(words)}")
                continue
            try:
                values[k] = [float(w) for w in words]
                ok[k] = True
            except ValueError:
                problems.add(int(events[k]), line,
                             f"{key}: expected numbers, found {lines[rows[k]][2:].strip()!r}")
    bad = ok & ~np.all(np.isfinite(values), axis=1)
    for k in np.flatnonzero(bad).tolist():
        problems.add(int(events[k]), first_line + int(rows[k]),
                     f"{key}: non-finite value in {lines[rows[k]][2:].strip()!r}")
    return values, ok & ~bad


def parse_block(lines: list[str], first_line: int) -> tuple[dict[str, Any], dict[str, Any],
                                                             dict[str, int], BlockProblems]:
    """Parse complete records.

    Returns
    -------
    compton, photo : dict of str to array
        Fields of the valid Compton and photo events (names of ``ComptonEvents`` and
        ``PhotoEvents``).
    other : dict of str to int
        Counts of other event types.
    problems : `BlockProblems`
    """
    keys = np.array([text[:2] for text in lines])
    starts = np.flatnonzero(keys == "SE")
    n_event = starts.size
    event_of_line = np.cumsum(keys == "SE") - 1
    start_line = first_line + starts
    problems = BlockProblems()
    values: dict[str, NDArray] = {}
    present: dict[str, NDArray[np.bool_]] = {}
    where: dict[str, NDArray[np.int64]] = {}
    for key in ("ET", *(k for k in _COUNTS if k not in _REPEATED)):
        rows = np.flatnonzero(keys == key)
        rows = rows[event_of_line[rows] >= 0]
        events = event_of_line[rows]
        seen = np.zeros(n_event, dtype=bool)
        line_of = np.full(n_event, -1, dtype=np.int64)
        if rows.size:
            first = np.unique(events, return_index=True)[1]
            repeated = np.setdiff1d(np.arange(rows.size), first)
            problems.add_many(events[repeated], first_line + rows[repeated],
                              f"{key}: repeated in one event")
            rows, events = rows[first], events[first]
            line_of[events] = first_line + rows
        where[key] = line_of
        if key == "ET":
            types = np.array([(lines[i].split()[1:2] or [""])[0] for i in rows.tolist()],
                             dtype=object)
            values[key] = np.full(n_event, "", dtype=object)
            values[key][events] = types
            seen[events] = types != ""
        else:
            numbers, ok = _numbers(lines, rows, events, key, first_line, problems)
            full = np.full((n_event, _COUNTS[key]), np.nan)
            full[events[ok]] = numbers[ok]
            values[key] = full
            seen[events[ok]] = True
            # rows with bad numbers are already problems; count them as present
            seen[events[~ok]] = True
        present[key] = seen
    event_type = values["ET"]
    missing_type = ~present["ET"]
    problems.add_many(np.flatnonzero(missing_type), start_line[missing_type],
                      "event without ET (event type) line")
    is_co = event_type == "CO"
    is_ph = event_type == "PH"
    for key, mask in (("TI", is_co | is_ph), ("CE", is_co), ("CD", is_co), ("PE", is_ph)):
        lacking = mask & ~present[key]
        problems.add_many(np.flatnonzero(lacking), start_line[lacking],
                          f"event without {key} line")
    for key in ("GX", "GZ"):
        lat = values[key][:, 1]
        bad = np.abs(lat) > 90.0
        problems.add_many(np.flatnonzero(bad), where[key][bad],
                          lambda e, _line, k=key: f"{k}: latitude {values[k][e, 1]} outside "
                          f"[-90, 90] deg")
    e_g, e_e = values["CE"][:, 0], values["CE"][:, 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        bad_energy = is_co & ((e_g <= 0) | (e_e < 0))
        cos_phi = 1.0 - ELECTRON_MASS_KEV * (1.0 / e_g - 1.0 / (e_e + e_g))
        forbidden = is_co & ~bad_energy & ((cos_phi < -1.0) | (cos_phi > 1.0))
    problems.add_many(np.flatnonzero(bad_energy), where["CE"][bad_energy],
                      lambda e, _line: f"CE: expected E_g > 0 and E_e >= 0 keV, found "
                      f"{e_g[e]} and {e_e[e]}")
    problems.add_many(np.flatnonzero(forbidden), where["CE"][forbidden],
                      lambda e, _line: f"CE: energies E_g={e_g[e]}, E_e={e_e[e]} keV are "
                      f"kinematically forbidden (cos phi = {cos_phi[e]:.3f})")
    p1, p2 = values["CD"][:, 0:3], values["CD"][:, 6:9]
    same = is_co & np.all(p1 == p2, axis=1)
    problems.add_many(np.flatnonzero(same), where["CD"][same],
                      "CD: first and second interaction coincide")
    bad_photo = is_ph & (values["PE"][:, 0] <= 0)
    problems.add_many(np.flatnonzero(bad_photo), where["PE"][bad_photo],
                      lambda e, _line: f"PE: expected a positive energy, found "
                      f"{values['PE'][e, 0]}")

    def common(mask: NDArray[np.bool_]) -> dict[str, NDArray]:
        event_id = values["ID"][mask, 0]
        return {"event_id": np.where(np.isnan(event_id), -1, event_id).astype(np.int64),
                "time": values["TI"][mask, 0], "x_lon": values["GX"][mask, 0],
                "x_lat": values["GX"][mask, 1], "z_lon": values["GZ"][mask, 0],
                "z_lat": values["GZ"][mask, 1], "line": start_line[mask].astype(np.int64)}

    other_distance = _other_distances(lines, keys, event_of_line, n_event, first_line,
                                      problems)
    valid = np.ones(n_event, dtype=bool)
    if problems.by_event:
        valid[list(problems.by_event)] = False
    co = is_co & valid
    sequence = values["SQ"][co, 0]
    compton = {**common(co), "energy_gamma": e_g[co], "energy_electron": e_e[co],
               "position_1": p1[co], "position_2": p2[co],
               "sequence_length": np.where(np.isnan(sequence), 0, sequence).astype(np.int64),
               "other_distance": other_distance[co]}
    ph = is_ph & valid
    photo = {**common(ph), "energy": values["PE"][ph, 0], "position": values["PP"][ph]}
    other: dict[str, int] = {}
    for name in event_type[valid & ~is_co & ~is_ph].tolist():
        other[name] = other.get(name, 0) + 1
    return compton, photo, other, problems


def _other_distances(lines: list[str], keys: NDArray, event_of_line: NDArray[np.int64],
                     n_event: int, first_line: int, problems: BlockProblems
                     ) -> NDArray[np.float64]:
    """Per event, the smallest distance between consecutive interactions from the second
    to the third on (``CH <i> x y z ...`` lines in sequence order; cm); inf for events with
    fewer than three interactions or without ``CH`` lines."""
    out = np.full(n_event, np.inf)
    rows = np.flatnonzero(keys == "CH")
    rows = rows[event_of_line[rows] >= 0]
    if rows.size == 0:
        return out
    events = event_of_line[rows]
    numbers, ok = _numbers(lines, rows, events, "CH", first_line, problems)
    events, numbers = events[ok], numbers[ok]
    order = np.lexsort((numbers[:, 0], events))
    events, index, position = events[order], numbers[order, 0], numbers[order, 1:4]
    step = np.linalg.norm(np.diff(position, axis=0), axis=1)
    other = (events[1:] == events[:-1]) & (index[1:] >= 2)
    np.minimum.at(out, events[1:][other], step[other])
    return out
