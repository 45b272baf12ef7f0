"""The instrument and its exposure: one model for the simulator, the templates and imaging.

:class:`InstrumentSettings` holds the settings of the toy instrument (``docs/cosi.md``):
instrument-frame HEALPix grid, sky sampling, scatter-angle resolution, geometric area and
the pointing cadence of a simulated aspect. :class:`BalloonObservation` is a
:class:`~bayesbg.cosi.pointing.Pointing` on a dataset's time bins seen by that instrument:
its detector response (:func:`bayesbg.cosi.response.compton_response`) and the exposure of
sky points (:meth:`BalloonObservation.exposure`, ``W[s, t]``) or sky pixels
(:meth:`BalloonObservation.pixel_exposure`, ``E[(s, t), j]``). :func:`bayesbg.cosi.simulate_cosi`,
:class:`bayesbg.cosi.model.TemplateBuilder` and the imaging response
(:func:`bayesbg.cosi.imaging.build_imaging_response`) all compute exposure through it, so
templates, forward projections and simulated data agree bit for bit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import astropy.units as u
import astropy_healpix as ahp
import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import sparse

from bayesbg.config import TomlTable
from bayesbg.cosi.pointing import Pointing, balloon_pointing
from bayesbg.cosi.response import compton_response, effective_area, psi_chi_grid, unit_vectors

__all__ = [
    "BalloonObservation",
    "InstrumentSettings",
    "instrument_grid",
    "simulated_observation",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class InstrumentSettings:
    """Settings of the toy instrument, shared by the simulator, templates and imaging.

    Parameters
    ----------
    instrument_nside : int
        HEALPix resolution (ring order) of the instrument-frame source grid of the
        detector response; a power of 2. Default is 16.
    sky_nside : int
        HEALPix resolution of sky models turned into templates (Gaussian bulge). Default
        is 32 (1.8 deg pixels).
    resolution : float
        Scatter-angle resolution (Gaussian sigma of phi), deg. Default is 2.5.
    area : float
        Geometric on-axis area, cm2. Default is 50.
    substeps : int
        Sub-pointings per one-hour time bin of a simulated aspect
        (:func:`bayesbg.cosi.pointing.balloon_pointing`). Default is 4.
    """

    instrument_nside: int = 16
    sky_nside: int = 32
    resolution: float = 2.5
    area: float = 50.0
    substeps: int = 4

    KEYS = ("instrument_nside", "sky_nside", "resolution", "area", "substeps")
    """Names of the settings, also their TOML keys."""

    def __post_init__(self) -> None:
        for name in ("instrument_nside", "sky_nside", "substeps"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise ValueError(f"{name}: expected a positive integer, found {value!r}")
            object.__setattr__(self, name, int(value))
        if self.instrument_nside & (self.instrument_nside - 1):
            raise ValueError(f"instrument_nside: expected a power of 2, found "
                             f"{self.instrument_nside!r}")
        for name in ("resolution", "area"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float | np.floating) \
                    or not np.isfinite(value) or value <= 0:
                raise ValueError(f"{name}: expected a positive number, found {value!r}")

    @classmethod
    def from_table(cls, table: TomlTable, *, keys: tuple[str, ...] = KEYS
                   ) -> InstrumentSettings:
        """The settings among ``keys`` present in a TOML table; defaults for the others.

        Parameters
        ----------
        table : `bayesbg.config.TomlTable`
            E.g. ``[scan_template]``; its keys are checked by the caller.
        keys : tuple of str
            Which settings the table may hold. Default: all of `KEYS`.

        Raises
        ------
        bayesbg.config.ConfigError
            Naming the file, table and key at fault.
        """
        values: dict[str, Any] = {}
        for key in keys:
            if key not in table:
                continue
            if key in ("resolution", "area"):
                values[key] = table.number(key, positive=True)
            else:
                values[key] = table.integer(key, minimum=1)
        return table.build(cls, values)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready settings."""
        return {key: getattr(self, key) for key in self.KEYS}


def instrument_grid(nside: int) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Instrument-frame source directions in view and the response column of each pixel.

    The instrument-frame HEALPix grid (ring order) of the toy response: pixels with
    ``z > -0.2`` are in view (some below the horizon catch bilinear weights).

    Parameters
    ----------
    nside : int
        HEALPix resolution of the instrument-frame grid.

    Returns
    -------
    sources : `numpy.ndarray`, shape (n_source, 3)
        Instrument-frame unit vectors of the pixels in view.
    column : `numpy.ndarray` of int, shape (n_pixel,)
        Response column of each pixel, -1 if not in view.
    """
    grid = ahp.HEALPix(nside=nside, order="ring")
    grid_lon, grid_lat = grid.healpix_to_lonlat(np.arange(grid.npix))
    vectors = unit_vectors(90.0 - grid_lat.to_value(u.deg), grid_lon.to_value(u.deg))
    in_view = vectors[:, 2] > -0.2
    column = np.full(grid.npix, -1)
    column[in_view] = np.arange(in_view.sum())
    return vectors[in_view], column


@dataclass(frozen=True, eq=False)
class BalloonObservation:
    """A pointing history on a dataset's time bins, seen by the toy instrument.

    Build it from a :class:`~bayesbg.cosi.pointing.Pointing` (simulated:
    :func:`simulated_observation`; real: :meth:`Pointing.from_orientation`).

    Parameters
    ----------
    pointing : `bayesbg.cosi.pointing.Pointing`
        Rotation, altitude, live time and time bin per sub-pointing (validated there).
    n_time : int
        Time bins of the dataset (at least those the pointing covers).
    bin_size : float
        Size of the phi and (psi, chi) bins of the toy response's own data space, deg
        (:attr:`phi_edges`, :attr:`psi_chi_centres`). Default is 6.
    instrument : `InstrumentSettings`
        Default ``InstrumentSettings()``.
    """

    pointing: Pointing
    n_time: int
    bin_size: float = 6.0
    instrument: InstrumentSettings = field(default_factory=InstrumentSettings)

    def __post_init__(self) -> None:
        if not isinstance(self.pointing, Pointing):
            raise TypeError(f"pointing: expected a bayesbg.cosi.pointing.Pointing, found "
                            f"{type(self.pointing).__name__}")
        if not isinstance(self.instrument, InstrumentSettings):
            raise TypeError(f"instrument: expected InstrumentSettings, found "
                            f"{type(self.instrument).__name__}")
        n_time = self.n_time
        if isinstance(n_time, bool) or not isinstance(n_time, int | np.integer) or n_time < 1:
            raise ValueError(f"n_time: expected a positive integer, found {n_time!r}")
        if n_time < self.pointing.n_time:
            raise ValueError(f"time_bin: the pointing covers {self.pointing.n_time} time bins, "
                             f"the dataset {n_time}")
        if isinstance(self.bin_size, bool) or not np.isfinite(self.bin_size) or \
                self.bin_size <= 0:
            raise ValueError(f"bin_size: expected a positive number, found {self.bin_size!r}")
        object.__setattr__(self, "n_time", int(n_time))

    @property
    def n_step(self) -> int:
        """Number of sub-pointings."""
        return self.pointing.n_step

    @property
    def phi_edges(self) -> NDArray[np.float64]:
        """Compton scatter-angle bin edges of the toy response, deg."""
        n_phi = max(1, round(180.0 / self.bin_size))
        return np.linspace(0.0, 180.0, n_phi + 1)

    @property
    def psi_chi_centres(self) -> NDArray[np.float64]:
        """(psi, chi) bin centres of the toy response, deg, shape (n_psi_chi, 2)."""
        return psi_chi_grid(self.bin_size)[0]

    def instrument_grid(self) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
        """Source directions in view and column per pixel (:func:`instrument_grid`)."""
        return instrument_grid(self.instrument.instrument_nside)

    def detector_response(
        self,
        phi_edges: NDArray[np.float64] | None = None,
        psi_chi_centres: NDArray[np.float64] | None = None,
        *,
        energy: float = 511.0,
    ) -> sparse.csr_array:
        """Toy Compton response ``R_det[c, s]`` on the instrument grid.

        Parameters
        ----------
        phi_edges, psi_chi_centres : `numpy.ndarray`, optional
            Data-space binning, deg; default :attr:`phi_edges` and :attr:`psi_chi_centres`
            (a dataset's own binning for real data).
        energy : float
            Photon energy, keV. Default is 511.

        Returns
        -------
        response : `scipy.sparse.csr_array`, shape (n_data_bin, n_source)
        """
        sources, _ = self.instrument_grid()
        return sparse.csr_array(compton_response(
            self.phi_edges if phi_edges is None else phi_edges,
            self.psi_chi_centres if psi_chi_centres is None else psi_chi_centres,
            sources, resolution=self.instrument.resolution, energy=energy))

    def _project(
        self, step: slice, points: NDArray[np.float64], fraction: NDArray[np.float64] | None,
        column: NDArray[np.int64],
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
        """Sky points seen in sub-pointings ``step``: bilinear instrument-pixel weights.

        Returns the sub-pointing (relative to ``step``) and point of each visible pair and,
        shape (4, n_visible), the response column (-1: not in view) and the exposure
        (effective area x flux fraction x live time, cm2 s).
        """
        pointing = self.pointing
        rotation = pointing.rotation[step]
        local = np.einsum("kji,pj->kpi", rotation, points)  # Galactic -> instrument
        zenith = np.degrees(np.arccos(np.clip(local[..., 2], -1.0, 1.0)))
        weight = effective_area(zenith, pointing.altitude[step][:, None],
                                area=self.instrument.area)
        live = pointing.live_time[step][:, None]
        weight *= live if fraction is None else fraction[None, :] * live
        visible = weight > 0
        which_step, which_point = np.nonzero(visible)
        # longitudes in [0, 2 pi): astropy-healpix 2.0.1 returns infinite weights for some
        # negative ones at ring boundaries
        lon = np.mod(np.arctan2(local[..., 1], local[..., 0])[visible], 2 * np.pi)
        lat = np.arcsin(np.clip(local[..., 2], -1.0, 1.0))[visible]
        nside = self.instrument.instrument_nside
        index, share = ahp.bilinear_interpolation_weights(lon * u.rad, lat * u.rad,
                                                          nside=nside, order="ring")
        broken = ~np.all(np.isfinite(share), axis=0)
        if broken.any():  # fall back to the nearest pixel
            nearest = ahp.lonlat_to_healpix(lon[broken] * u.rad, lat[broken] * u.rad,
                                            nside=nside, order="ring")
            index[:, broken] = nearest[None, :]
            share[:, broken] = 0.25
        return which_step, which_point, column[index], share * weight[visible][None, :]

    def exposure(self, points: ArrayLike, fraction: ArrayLike) -> NDArray[np.float64]:
        """Exposure ``W[s, t]`` of a sky model on the instrument grid, cm2 s per unit flux.

        Per sub-pointing each sky point is carried into instrument coordinates, weighted
        with the effective area (:func:`bayesbg.cosi.response.effective_area`), its flux
        fraction and the live time, and spread over the four nearest instrument pixels
        with bilinear weights (the nearest pixel where astropy-healpix returns non-finite
        weights). ``convolve_sky(detector_response(), W)`` is the template ``S[t, c]``.

        Parameters
        ----------
        points : array_like, shape (n_point, 3)
            Galactic unit vectors of the sky points.
        fraction : array_like, shape (n_point,)
            Fraction of the flux in each point.

        Returns
        -------
        exposure : `numpy.ndarray`, shape (n_source, n_time)
        """
        points = np.asarray(points, dtype=np.float64)
        fraction = np.asarray(fraction, dtype=np.float64)
        if points.ndim != 2 or points.shape[1] != 3 or fraction.shape != points.shape[:1]:
            raise ValueError(f"points, fraction: expected shapes (n, 3) and (n,), found "
                             f"{points.shape} and {fraction.shape}")
        _, column = self.instrument_grid()
        n_source = int(column.max()) + 1
        step, _, target, value = self._project(slice(None), points, fraction, column)
        time = np.broadcast_to(self.pointing.time_bin[step], target.shape)
        keep = target >= 0
        flat = target[keep] * self.n_time + time[keep]
        exposure = np.bincount(flat, weights=value[keep], minlength=n_source * self.n_time)
        return exposure.reshape(n_source, self.n_time)

    def pixel_exposure(self, sky_vectors: ArrayLike, *, chunk: int = 64) -> sparse.csr_array:
        """Exposure ``E[(s, t), j]`` of each sky pixel ``j`` (unit flux), cm2 s.

        :meth:`exposure` for every sky pixel at once, as a sparse matrix: row
        ``s * n_time + t`` (the layout of ``convolve_sky``'s exposure), column ``j``.

        Parameters
        ----------
        sky_vectors : array_like, shape (n_pixel, 3)
            Galactic unit vectors of the sky pixels.
        chunk : int
            Sub-pointings processed at once (memory ~ chunk x n_pixel x 100 bytes).

        Returns
        -------
        exposure : `scipy.sparse.csr_array`, shape (n_source * n_time, n_pixel)
        """
        points = np.asarray(sky_vectors, dtype=np.float64)
        if points.ndim != 2 or points.shape[1] != 3:
            raise ValueError(f"sky_vectors: expected shape (n_pixel, 3), found {points.shape}")
        _, column = self.instrument_grid()
        shape = ((int(column.max()) + 1) * self.n_time, points.shape[0])
        exposure = sparse.csr_array(shape)
        pieces = []
        for start in range(0, self.n_step, chunk):
            step = slice(start, min(start + chunk, self.n_step))
            which_step, pixel, target, value = self._project(step, points, None, column)
            time = np.broadcast_to(self.pointing.time_bin[step][which_step], target.shape)
            keep = target >= 0
            rows = target[keep] * self.n_time + time[keep]
            cols = np.broadcast_to(pixel, target.shape)[keep]
            pieces.append(sparse.coo_array((value[keep], (rows, cols)), shape=shape).tocsr())
        if pieces:
            exposure = pieces[0]
            for piece in pieces[1:]:
                exposure = exposure + piece
        exposure.sum_duplicates()
        return sparse.csr_array(exposure)


def simulated_observation(
    seed: int,
    *,
    n_time: int,
    bin_size: float = 6.0,
    instrument: InstrumentSettings | None = None,
) -> BalloonObservation:
    """The instrument of ``simulate_cosi(seed, ...)`` with the same keywords.

    ``simulate_cosi`` draws the aspect first from a fresh generator, so an integer seed
    fixes it.

    Parameters
    ----------
    seed : int
        The integer ``rng`` seed given to :func:`bayesbg.cosi.simulate_cosi`.
    n_time, bin_size, instrument
        As in :func:`bayesbg.cosi.simulate_cosi`.

    Returns
    -------
    observation : `BalloonObservation`
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise TypeError(f"seed: expected the integer seed given to simulate_cosi, found "
                        f"{type(seed).__name__} (a Generator's state has moved on)")
    instrument = instrument if instrument is not None else InstrumentSettings()
    pointing = balloon_pointing(seed, n_time=n_time, substeps=instrument.substeps)
    return BalloonObservation(pointing, n_time=n_time, bin_size=bin_size,
                              instrument=instrument)
