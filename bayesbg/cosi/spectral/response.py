"""The energy response of the 2016 instrument along a source's path through the
instrument frame (docs/cosi_spectral.md, "Energy response").

The 2016 redistribution matrices (``RMF_matrices_COSI2016_9dets_10ebins_6deg.npz``,
:func:`bayesbg.cosi.io.read_classic_rmf`) give, per instrument direction (6-deg pixels in
zenith and azimuth), the detection probability of a photon of true-energy bin j in
measured-energy bin e, simulated with the 9-detector mass model at 33 km with the
atmosphere ([COSI-PS] 4.1). :class:`EnergyResponse` turns them into effective areas
(cm2) with one scale, ``area_scale`` (cm2 per unit of the file): the file carries no unit,
and the default makes the on-axis effective area of the 480-520 keV photo-peak equal to
the toy instrument's at 511 keV and 33 km (23.7 cm2, :func:`bayesbg.cosi.response.
effective_area`), so that the 511 keV analyses and this one describe one instrument.

Along a pointing history (:class:`bayesbg.cosi.pointing.Pointing`), the exposure of a
source at Galactic (lon, lat) is

    R[t, e, j] = sum_{k in t} live_k A_ej(z_k, a_k) T_j(z_k, h_k)          (cm2 s)

with (z_k, a_k) the source's zenith and azimuth in the instrument frame at sub-pointing
k (nearest pixel of the matrices) and ``T_j`` the change of the atmospheric transmission
from the matrices' 33 km to the altitude h_k, ``exp(-mu_j (X(h_k) - X(33 km)) / cos z_k)``
with the mass attenuation of air ``mu_j`` at the bin's centre (NIST XCOM, total with
coherent scattering) and the isothermal column depth ``X`` of :mod:`bayesbg.cosi.response`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike, NDArray

from bayesbg.cosi.io.classic import ClassicRMF, read_classic_rmf
from bayesbg.cosi.pointing import Pointing
from bayesbg.cosi.response import unit_vectors

__all__ = [
    "AIR_ATTENUATION",
    "DEFAULT_AREA_SCALE",
    "EnergyResponse",
    "air_attenuation",
    "atmospheric_depth",
    "source_direction",
]

log = logging.getLogger(__name__)

AIR_ATTENUATION = np.array([
    (100.0, 0.1541), (150.0, 0.1356), (200.0, 0.1233), (300.0, 0.1067), (400.0, 0.0955),
    (500.0, 0.0870), (600.0, 0.0805), (800.0, 0.0707), (1000.0, 0.0636), (1250.0, 0.0569),
    (1500.0, 0.0518), (2000.0, 0.0445), (3000.0, 0.0358), (4000.0, 0.0308),
    (5000.0, 0.0275), (6000.0, 0.0252),
])
"""(keV, cm2 g-1): mass attenuation coefficient of dry air with coherent scattering
(NIST XCOM / Hubbell & Seltzer)."""
DEFAULT_AREA_SCALE = 1.8722e5
"""cm2 per unit of the 2016 matrices' values: the on-axis 480-520 keV photo-peak (true and
measured bin 480-520 keV, zenith 0-6 deg, mean over azimuth: 1.26646e-4) then equals the
toy instrument's 511 keV effective area at 33 km, 23.71 cm2 (a test checks it)."""
REFERENCE_ALTITUDE = 33.0
"""km, the altitude of the simulation behind the 2016 matrices ([COSI-PS] 4.1)."""
_SEA_LEVEL_DEPTH = 1030.0  # g cm-2, as bayesbg.cosi.response
_SCALE_HEIGHT = 6.9  # km


def air_attenuation(energy: ArrayLike) -> NDArray[np.float64]:
    """Mass attenuation coefficient of air, cm2 g-1, log-log interpolated in `AIR_ATTENUATION`."""
    e = np.asarray(energy, dtype=float)
    table = AIR_ATTENUATION
    return np.exp(np.interp(np.log(e), np.log(table[:, 0]), np.log(table[:, 1])))


def atmospheric_depth(altitude: ArrayLike) -> NDArray[np.float64]:
    """Column depth above an altitude (km) of the isothermal atmosphere, g cm-2."""
    return _SEA_LEVEL_DEPTH * np.exp(-np.asarray(altitude, dtype=float) / _SCALE_HEIGHT)


def source_direction(pointing: Pointing, lon: float, lat: float
                     ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Zenith and azimuth (deg) of a Galactic direction in the instrument frame, per
    sub-pointing (azimuth from the instrument x axis towards y, in [0, 360))."""
    galactic = unit_vectors(90.0 - lat, lon)
    local = np.einsum("kji,j->ki", pointing.rotation, galactic)
    zenith = np.degrees(np.arccos(np.clip(local[:, 2], -1.0, 1.0)))
    azimuth = np.mod(np.degrees(np.arctan2(local[:, 1], local[:, 0])), 360.0)
    return zenith, azimuth


@dataclass(frozen=True, eq=False)
class EnergyResponse:
    """Effective area from true-energy bin j to measured-energy bin e per direction.

    Parameters
    ----------
    area : array_like, shape (n_measured, n_true, n_azimuth, n_zenith)
        cm2.
    energy_edges : array_like, shape (n_true + 1,)
        keV, true and measured energy bins alike (the 2016 matrices'), unless
        ``measured_edges`` is given.
    azimuth_edges, zenith_edges : array_like
        deg.
    measured_edges : array_like, optional
        keV, edges of the measured bands when they were merged (:meth:`merge_measured`).
    """

    area: NDArray[np.float64]
    energy_edges: NDArray[np.float64]
    azimuth_edges: NDArray[np.float64]
    zenith_edges: NDArray[np.float64]
    measured_edges: NDArray[np.float64] | None = None

    def __post_init__(self) -> None:
        area = np.asarray(self.area, dtype=float)
        edges = np.asarray(self.energy_edges, dtype=float)
        measured = edges if self.measured_edges is None else \
            np.asarray(self.measured_edges, dtype=float)
        expected = (measured.size - 1, edges.size - 1, np.size(self.azimuth_edges) - 1,
                    np.size(self.zenith_edges) - 1)
        if area.shape != expected:
            raise ValueError(f"area: expected shape {expected}, found {area.shape}")
        if not np.all(np.isfinite(area)) or np.any(area < 0):
            raise ValueError("area: expected finite non-negative cm2")
        object.__setattr__(self, "area", area)
        object.__setattr__(self, "energy_edges", edges)
        object.__setattr__(self, "measured_edges", measured)

    @classmethod
    def from_rmf(cls, rmf: ClassicRMF, *, area_scale: float | None = None) -> EnergyResponse:
        """The matrices times ``area_scale`` (cm2 per unit; default `DEFAULT_AREA_SCALE`)."""
        scale = DEFAULT_AREA_SCALE if area_scale is None else float(area_scale)
        if not scale > 0:
            raise ValueError(f"area_scale: expected a positive number, found {scale}")
        return cls(rmf.matrix * scale, rmf.energy_edges, rmf.azimuth_edges, rmf.zenith_edges)

    @classmethod
    def read(cls, path: str | Path, *, area_scale: float | None = None) -> EnergyResponse:
        """Read the 2016 matrices (:func:`bayesbg.cosi.io.read_classic_rmf`)."""
        return cls.from_rmf(read_classic_rmf(path), area_scale=area_scale)

    @property
    def n_measured(self) -> int:
        """Measured-energy bands."""
        return int(self.area.shape[0])

    @property
    def n_true(self) -> int:
        """True-energy bins."""
        return int(self.area.shape[1])

    @property
    def true_centres(self) -> NDArray[np.float64]:
        """Geometric centres of the true-energy bins, keV."""
        return np.sqrt(self.energy_edges[:-1] * self.energy_edges[1:])

    def merge_measured(self, edges: ArrayLike) -> EnergyResponse:
        """The response with measured bands merged into ``edges`` (keV), which must be
        edges of the current measured bands (e.g. ``[325, 480, 520]``)."""
        edges = np.asarray(edges, dtype=float)
        index = np.searchsorted(self.measured_edges, edges)
        index = np.clip(index, 0, self.measured_edges.size - 1)
        if not np.allclose(self.measured_edges[index], edges) or np.any(np.diff(index) <= 0):
            raise ValueError(f"edges: {edges.tolist()} keV must be increasing edges of the "
                             f"measured bands {self.measured_edges.tolist()}")
        area = np.stack([self.area[a:b].sum(axis=0) for a, b in
                         zip(index[:-1], index[1:], strict=True)])
        return EnergyResponse(area, self.energy_edges, self.azimuth_edges, self.zenith_edges,
                              measured_edges=edges)

    def effective_area(self, zenith: ArrayLike, azimuth: ArrayLike,
                       altitude: ArrayLike | None = None) -> NDArray[np.float64]:
        """Effective area (cm2) per direction, shape (n_direction, n_measured, n_true).

        Parameters
        ----------
        zenith, azimuth : array_like, shape (n,)
            Instrument-frame direction, deg (nearest pixel).
        altitude : array_like, shape (n,), optional
            km; the transmission is corrected from 33 km to it (module docstring).
        """
        zenith = np.atleast_1d(np.asarray(zenith, dtype=float))
        azimuth = np.atleast_1d(np.asarray(azimuth, dtype=float))
        z = np.clip(np.searchsorted(self.zenith_edges, zenith, side="right") - 1, 0,
                    self.zenith_edges.size - 2)
        a = np.clip(np.searchsorted(self.azimuth_edges, np.mod(azimuth, 360.0),
                                    side="right") - 1, 0, self.azimuth_edges.size - 2)
        area = np.moveaxis(self.area[:, :, a, z], -1, 0)  # (n, measured, true)
        if altitude is not None:
            depth = atmospheric_depth(altitude) - atmospheric_depth(REFERENCE_ALTITUDE)
            cos_z = np.maximum(np.cos(np.radians(zenith)), 0.05)
            mu = air_attenuation(self.true_centres)
            area = area * np.exp(-np.outer(depth / cos_z, mu))[:, None, :]
        return area

    def exposure(self, pointing: Pointing, lon: float, lat: float, *, n_time: int,
                 altitude: bool = True) -> NDArray[np.float64]:
        """``R[t, e, j]``: exposure (cm2 s) of a source at Galactic (lon, lat) per time bin,
        measured band and true-energy bin, summed over the sub-pointings of each time bin
        weighted with their live time.

        Parameters
        ----------
        pointing : `bayesbg.cosi.pointing.Pointing`
        lon, lat : float
            deg.
        n_time : int
            Time bins of the dataset.
        altitude : bool
            Correct the transmission for the sub-pointings' altitude. Default is True.
        """
        zenith, azimuth = source_direction(pointing, lon, lat)
        area = self.effective_area(zenith, azimuth,
                                   pointing.altitude if altitude else None)
        weighted = area * pointing.live_time[:, None, None]
        out = np.zeros((n_time, self.n_measured, self.n_true))
        np.add.at(out, pointing.time_bin, weighted)
        return out

