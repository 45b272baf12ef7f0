"""MEGAlib event lists (``.tra``, ``.tra.gz``): Compton and photo events (docs/cosi_io.md).

A ``.tra`` file is text: an optional header, then one record per event starting with
``SE`` and ending at the next ``SE`` or at ``EN``. Keywords read here:

- ``ET``: event type, ``CO`` (Compton), ``PH`` (photo absorption); others are counted;
- ``ID``: event id; ``TI``: time, Unix seconds (UTC);
- ``GX``, ``GZ``: Galactic *longitude then latitude*, deg, of the instrument x and z axes;
- ``CE``: energy of the scattered gamma ray, its error, energy of the recoil electron, its
  error, keV (the recoil electron deposits at the first interaction: ``TE`` and the first
  ``CH`` hit repeat its energy);
- ``CD``: position and error of the first and of the second interaction, cm, instrument
  frame (then the electron direction, unused);
- ``SQ``: number of interactions in the Compton sequence;
- ``PE``: photo-event energy, keV; ``PP``: its position, cm.

Compton data space ([COSI-511], cosipy, MEGAlib's imaging response): the scatter angle

    cos(phi) = 1 - m_e c^2 (1/E_g - 1/(E_e + E_g))

and the data-space direction (psi, chi) of ``C1 - C2`` (from the second to the first
interaction), i.e. the reversed propagation direction of the scattered photon: the source
then lies on the cone of opening ``phi`` around (psi, chi). psi is the polar angle from
the instrument z axis, chi the azimuth from x towards y.

Reading is streamed (:func:`iter_tra` yields chunks of events as numpy arrays), so files
larger than memory can be binned chunk by chunk.
"""

from __future__ import annotations

import gzip
import logging
import warnings
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from bayesbg.cosi.io._tra_block import parse_block
from bayesbg.cosi.io.orientation import Orientation, instrument_axes

__all__ = [
    "ELECTRON_MASS_KEV",
    "ComptonEvents",
    "PhotoEvents",
    "TraChunk",
    "TraRecordError",
    "compton_scatter_angle",
    "iter_tra",
    "read_tra",
]

log = logging.getLogger(__name__)

ELECTRON_MASS_KEV = 510.99895
"""Electron rest energy m_e c^2, keV (CODATA 2018)."""


def compton_scatter_angle(energy_gamma: NDArray, energy_electron: NDArray) -> NDArray:
    """Compton scatter angle phi, deg, from the energy split (NaN where kinematically forbidden).

    ``cos phi = 1 - m_e c^2 (1/E_g - 1/(E_e + E_g))``, E_g the scattered gamma-ray energy
    and E_e the recoil-electron energy, keV.
    """
    e_g = np.asarray(energy_gamma, dtype=float)
    e_e = np.asarray(energy_electron, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        cos_phi = 1.0 - ELECTRON_MASS_KEV * (1.0 / e_g - 1.0 / (e_e + e_g))
        cos_phi = np.where((cos_phi >= -1.0) & (cos_phi <= 1.0), cos_phi, np.nan)
        return np.degrees(np.arccos(cos_phi))


@dataclass(frozen=True)
class TraRecordError:
    """A malformed record: file, line number (1-based) and what was wrong."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


def _angles(vectors: NDArray) -> tuple[NDArray, NDArray]:
    """Polar angle from +z and azimuth in [0, 360), deg, of vectors (n, 3)."""
    norm = np.linalg.norm(vectors, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        polar = np.degrees(np.arccos(np.clip(vectors[..., 2] / norm, -1.0, 1.0)))
    azimuth = np.mod(np.degrees(np.arctan2(vectors[..., 1], vectors[..., 0])), 360.0)
    return polar, azimuth


@dataclass(frozen=True)
class _EventsBase:
    """Fields shared by Compton and photo events (all arrays of length n)."""

    event_id: NDArray[np.int64]
    time: NDArray[np.float64]      # Unix seconds
    x_lon: NDArray[np.float64]     # deg, Galactic; NaN where the record has no GX
    x_lat: NDArray[np.float64]
    z_lon: NDArray[np.float64]     # deg, Galactic; NaN where the record has no GZ
    z_lat: NDArray[np.float64]
    line: NDArray[np.int64]        # line of the record's SE, 1-based

    def __len__(self) -> int:
        return int(self.time.size)

    @property
    def has_pointing(self) -> bool:
        """True if every event carries GX and GZ."""
        return bool(np.all(np.isfinite(self.z_lat)) and np.all(np.isfinite(self.x_lat)))

    def rotation_axes(self, orientation: Orientation | None = None
                      ) -> tuple[NDArray, NDArray, NDArray]:
        """Instrument axes x, y, z (each (n, 3), Galactic) at each event.

        From ``orientation`` interpolated at the event times if given, else from the
        events' own ``GX``/``GZ``.
        """
        if orientation is not None:
            return orientation.interpolate(self.time).axes()
        if not self.has_pointing:
            raise ValueError("events: no GX/GZ pointing on every event; pass an orientation")
        return instrument_axes(self.x_lon, self.x_lat, self.z_lon, self.z_lat)

    @classmethod
    def concatenate(cls, parts: list[Any]) -> Any:
        """Join event containers of the same type."""
        return cls(**{f.name: np.concatenate([getattr(p, f.name) for p in parts])
                      for f in fields(cls)})


@dataclass(frozen=True)
class ComptonEvents(_EventsBase):
    """Compton events (``ET CO``) of a ``.tra`` file.

    Attributes (arrays, length n): ``event_id``, ``time`` (Unix s), ``x_lon``, ``x_lat``,
    ``z_lon``, ``z_lat`` (GX/GZ, deg), ``line``, ``energy_gamma`` and ``energy_electron``
    (keV, CE), ``position_1`` and ``position_2`` ((n, 3), cm: first and second
    interaction), ``sequence_length`` (SQ, 0 if absent), ``other_distance`` (cm: the
    smallest distance between consecutive interactions from the second to the third on,
    from the ``CH`` lines; inf with fewer than three interactions or no ``CH`` lines).
    """

    energy_gamma: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    energy_electron: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    position_1: NDArray[np.float64] = field(default_factory=lambda: np.zeros((0, 3)))
    position_2: NDArray[np.float64] = field(default_factory=lambda: np.zeros((0, 3)))
    sequence_length: NDArray[np.int64] = field(
        default_factory=lambda: np.zeros(0, dtype=np.int64))
    other_distance: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))

    @property
    def energy(self) -> NDArray[np.float64]:
        """Total measured energy E_g + E_e, keV."""
        return self.energy_gamma + self.energy_electron

    @property
    def phi(self) -> NDArray[np.float64]:
        """Compton scatter angle, deg (:func:`compton_scatter_angle`)."""
        return compton_scatter_angle(self.energy_gamma, self.energy_electron)

    @property
    def lever_arm(self) -> NDArray[np.float64]:
        """Distance between the first two interactions, cm."""
        return np.linalg.norm(self.position_2 - self.position_1, axis=-1)

    @property
    def scattered_direction(self) -> NDArray[np.float64]:
        """Unit propagation direction of the scattered photon, ``C2 - C1``, instrument frame."""
        d = self.position_2 - self.position_1
        return d / np.linalg.norm(d, axis=-1, keepdims=True)

    @property
    def data_space_direction(self) -> NDArray[np.float64]:
        """Unit data-space direction ``C1 - C2`` (source at angle phi from it), instrument."""
        return -self.scattered_direction

    def psi_chi_local(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Data-space (psi, chi), deg, in the instrument frame (psi polar from +z)."""
        return _angles(self.data_space_direction)

    def data_space_direction_galactic(self, orientation: Orientation | None = None
                                      ) -> NDArray[np.float64]:
        """Data-space direction in Galactic cartesian, (n, 3)."""
        x, y, z = self.rotation_axes(orientation)
        d = self.data_space_direction
        return d[:, 0:1] * x + d[:, 1:2] * y + d[:, 2:3] * z

    def psi_chi_galactic(self, orientation: Orientation | None = None
                         ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Data-space direction as Galactic (longitude, latitude), deg."""
        polar, lon = _angles(self.data_space_direction_galactic(orientation))
        return lon, 90.0 - polar


@dataclass(frozen=True)
class PhotoEvents(_EventsBase):
    """Photo-absorption events (``ET PH``): ``energy`` (PE, keV), ``position`` (PP, (n, 3) cm)."""

    energy: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    position: NDArray[np.float64] = field(default_factory=lambda: np.zeros((0, 3)))


@dataclass(frozen=True)
class TraChunk:
    """Events of one chunk (or of a whole file): Compton, photo, counts of other event
    types, and the malformed records skipped (``on_error="skip"``)."""

    compton: ComptonEvents
    photo: PhotoEvents
    other: dict[str, int]
    errors: tuple[TraRecordError, ...]

    @property
    def n_event(self) -> int:
        """All records read (Compton, photo, other)."""
        return len(self.compton) + len(self.photo) + sum(self.other.values())


def _open(path: Path) -> Any:
    with open(path, "rb") as probe:
        magic = probe.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rt", encoding="ascii", errors="replace")
    return open(path, encoding="ascii", errors="replace")


def iter_tra(path: str | Path, *, chunk_size: int = 100_000,
             on_error: Literal["raise", "skip"] = "raise") -> Iterator[TraChunk]:
    """Stream a MEGAlib ``.tra`` / ``.tra.gz`` file in chunks of events.

    Lines are collected until ``chunk_size`` records are complete; the block is then
    parsed with numpy (one conversion per keyword), so only the chunk is in memory.

    Parameters
    ----------
    path : str or `~pathlib.Path`
        The event file (gzip detected from its content).
    chunk_size : int
        Events (of any type) per chunk. Default is 100,000.
    on_error : {"raise", "skip"}
        A malformed record (missing or non-numeric ``ET``/``TI``/``CE``/``CD``/``PE``, too
        few values, a repeated keyword, kinematically forbidden energies, a truncated or
        corrupt file) raises `ValueError` naming the file and line (default), or is skipped
        and listed in :attr:`TraChunk.errors` (a `UserWarning` at the end gives their
        number).

    Yields
    ------
    chunk : `TraChunk`
    """
    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error: expected 'raise' or 'skip', found {on_error!r}")
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"chunk_size: expected a positive integer, found {chunk_size!r}")
    path = Path(path)
    n_errors = 0
    n_chunk = 0

    def parse(lines: list[str], first: int, extra: list[TraRecordError]) -> TraChunk:
        nonlocal n_errors, n_chunk
        n_chunk += 1
        compton, photo, other, problems = parse_block(lines, first)
        errors = sorted((TraRecordError(str(path), line, message)
                         for line, message in problems.by_event.values()),
                        key=lambda e: e.line) + extra
        if errors and on_error == "raise":
            raise ValueError(str(errors[0]))
        for problem in errors:
            log.warning("skipped malformed record: %s", problem)
        n_errors += len(errors)
        return TraChunk(ComptonEvents(**compton), PhotoEvents(**photo), other, tuple(errors))

    block: list[str] = []
    first = 1          # line number of block[0]
    number = 0         # lines read
    n_record = 0       # SE lines in block
    with _open(path) as handle:
        try:
            for text in handle:
                number += 1
                if text.startswith("SE"):
                    if n_record == chunk_size:
                        yield parse(block, first, [])
                        block, first, n_record = [], number, 0
                    if not n_record:  # drop header lines before the first record
                        block, first = [], number
                    n_record += 1
                elif text.startswith("EN") and text.strip() == "EN":
                    break
                block.append(text)
        except (EOFError, zlib.error, gzip.BadGzipFile) as error:
            problem = TraRecordError(str(path), number + 1,
                                     f"corrupt or truncated gzip stream ({error})")
            if on_error == "raise":
                raise ValueError(str(problem)) from None
            last = max((i for i, t in enumerate(block) if t.startswith("SE")), default=0)
            block = block[:last]  # the last record may be incomplete
            yield parse(block if n_record else [], first, [problem])
            block, n_record = [], 0
    if n_record or not n_chunk:
        yield parse(block if n_record else [], first, [])
    if n_errors:
        warnings.warn(f"{path}: skipped {n_errors} malformed records (see TraChunk.errors)",
                      UserWarning, stacklevel=2)


def read_tra(path: str | Path, *, on_error: Literal["raise", "skip"] = "raise") -> TraChunk:
    """Read a whole ``.tra`` / ``.tra.gz`` file into memory (see :func:`iter_tra`).

    Examples
    --------
    >>> events = read_tra("crab.tra.gz")  # doctest: +SKIP
    >>> events.compton.energy, events.compton.phi, events.compton.psi_chi_local()  # doctest: +SKIP
    """
    chunks = list(iter_tra(path, chunk_size=1 << 62, on_error=on_error))
    return concatenate_chunks(chunks)


def concatenate_chunks(chunks: list[TraChunk]) -> TraChunk:
    """Join chunks of :func:`iter_tra` into one `TraChunk`."""
    other: Counter[str] = Counter()
    for chunk in chunks:
        other.update(chunk.other)
    return TraChunk(ComptonEvents.concatenate([c.compton for c in chunks]),
                    PhotoEvents.concatenate([c.photo for c in chunks]), dict(other),
                    tuple(e for c in chunks for e in c.errors))
