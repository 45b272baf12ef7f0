"""Flight-like multi-band observations of a point source (docs/cosi_spectral.md,
"Flight-like simulations").

Built on the flight-like pieces of :mod:`bayesbg.cosi.flight` (the real 2016 day's
orientation and tracer repeated, the measured background response of each band as data
space and event selection, the flight-like background rate, :func:`simulate_flight`):

- :func:`flight_band_edges`: the 2016 response's measured bands moved to the nearest
  edges of the background file (its bins are ~10 keV; 150 -> 153, 325 -> 320, ...);
- :class:`SourceObservation` (:func:`source_observation`): a source at Galactic (lon, lat)
  seen over the geometry, with the pointing cut of [COSI-PS] 3.1 (time bins where the
  source is more than ``pointing_cut`` deg from the zenith are dropped: no counts, zero
  tracer and exposure, as the paper's time cut leaves them): the energy response along
  its path ``R[t, e, j]`` (:meth:`EnergyResponse.exposure`) and the imaging pattern of
  each band ``P[e, t, c]`` (the geometry's point-source template of the band, rows
  normalised over the selected bins: the 2016 response's effective areas already count
  the events that survive the selection, the toy Compton response only places them);
- :func:`atmospheric_correction`: the factors of [COSI-PS] 4.2 (a toy of Karwin et al.
  2024: scattering in the atmosphere removes up to ~10 % of a point source's flux, more
  at low energy and large zenith angle);
- :func:`simulate_source_observation`: :func:`bayesbg.cosi.flight.simulate_flight` with the
  source's forward-folded counts as its template, the pointing cut applied, and one
  photo-event tracer per band.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import sparse

from bayesbg.cosi.data import CosiDataset
from bayesbg.cosi.flight import FlightGeometry, point_source, simulate_flight
from bayesbg.cosi.io.classic import ClassicBackgroundResponse
from bayesbg.cosi.spectral.data import band_tracer_name
from bayesbg.cosi.spectral.response import EnergyResponse, source_direction
from bayesbg.cosi.spectral.spectrum import PhotonSpectrum

__all__ = [
    "SourceObservation",
    "atmospheric_correction",
    "flight_band_edges",
    "simulate_source_observation",
    "source_observation",
]

log = logging.getLogger(__name__)


def flight_band_edges(background: ClassicBackgroundResponse, edges: ArrayLike) -> NDArray[
        np.float64]:
    """The edges of the background file nearest to ``edges`` (keV), e.g. the 2016
    response's 150, 220, 325, ... -> 153, 220, 320, ... (ties to the lower edge)."""
    wanted = np.asarray(edges, dtype=float)
    file_edges = background.energy_edges
    index = np.argmin(np.abs(file_edges[None, :] - wanted[:, None]), axis=1)
    out = file_edges[index]
    if np.any(np.diff(out) <= 0):
        raise ValueError(f"edges: {wanted.tolist()} keV collapse onto the same file edges")
    return out


def atmospheric_correction(energy: ArrayLike, mean_zenith: float, *,
                           strength: float = 0.08) -> NDArray[np.float64]:
    """Toy atmospheric-scattering correction factors ([COSI-PS] 4.2): the fraction of a
    point source's flux that the response predicts and the data keep,
    ``1 - strength (1 - cos z) sqrt(300 keV / E)``, clipped to [0.8, 1].

    Parameters
    ----------
    energy : array_like
        Band centres, keV.
    mean_zenith : float
        The source's mean zenith angle over the observation, deg.
    strength : float
        Loss at 300 keV and z = 90 deg. Default 0.08 (a few per cent for the paper's
        sources, "<~10 %").
    """
    e = np.asarray(energy, dtype=float)
    loss = strength * (1.0 - np.cos(np.radians(mean_zenith))) * np.sqrt(300.0 / e)
    return np.clip(1.0 - loss, 0.8, 1.0)


@dataclass(frozen=True, eq=False)
class SourceObservation:
    """A point source seen over a flight-like geometry, with the pointing cut.

    Attributes
    ----------
    geometry : `bayesbg.cosi.flight.FlightGeometry`
    lon, lat : float
        Galactic position, deg.
    pointing_cut : float
        deg; time bins with the source's mean zenith angle above it are cut.
    visible : `numpy.ndarray` of bool, shape (n_time,)
        Time bins kept.
    exposure : `numpy.ndarray`, shape (n_time, n_band, n_true)
        ``R[t, e, j]``, cm2 s (zero in cut bins).
    energy_true_edges : `numpy.ndarray`
        keV.
    mean_zenith : float
        Live-time weighted mean zenith angle of the source in the kept bins, deg.
    """

    geometry: FlightGeometry
    lon: float
    lat: float
    pointing_cut: float
    visible: NDArray[np.bool_]
    exposure: NDArray[np.float64]
    energy_true_edges: NDArray[np.float64]
    mean_zenith: float
    _patterns: dict[int, sparse.csr_array] = field(default_factory=dict, repr=False)

    @property
    def observation_time(self) -> float:
        """Time in the kept bins, s."""
        return float(np.diff(self.geometry.time_edges)[self.visible].sum())

    def pattern(self, band: int) -> tuple[sparse.csr_array, NDArray[np.bool_]]:
        """``(P[t, c], exposed[t])`` of a band: the point-source template's rows over the
        selected bins normalised to 1, zero in cut bins (kept after the first call)."""
        if band not in self._patterns:
            template = sparse.csr_array(self.geometry.band_template(
                point_source(self.lon, self.lat), band), dtype=np.float64)
            total = np.asarray(template.sum(axis=1)).ravel()
            keep = self.visible & (total > 0)
            scale = np.where(keep, 1.0 / np.where(total > 0, total, 1.0), 0.0)
            pattern = sparse.csr_array(sparse.diags_array(scale) @ template)
            pattern.eliminate_zeros()
            self._patterns[band] = pattern
            self.geometry.__dict__["_responses"].pop(band, None)  # ~100 MB per band
        pattern = self._patterns[band]
        return pattern, np.asarray(pattern.sum(axis=1)).ravel() > 0

    def source_counts(self, bin_flux: ArrayLike, correction: ArrayLike | None = None
                      ) -> NDArray[np.float64]:
        """Expected source counts per band and time bin, ``a[e] sum_j R[t, e, j] F[j]``."""
        counts = np.einsum("tej,j->et", self.exposure, np.asarray(bin_flux, dtype=float))
        if correction is not None:
            counts *= np.asarray(correction, dtype=float)[:, None]
        return counts


def source_observation(geometry: FlightGeometry, energy_response: EnergyResponse, *,
                       lon: float, lat: float, pointing_cut: float = 90.0
                       ) -> SourceObservation:
    """A point source over a flight-like geometry with the pointing cut.

    Parameters
    ----------
    geometry : `bayesbg.cosi.flight.FlightGeometry`
        Its bands must match ``energy_response``'s measured bands in number (the
        geometry's edges are the background file's nearest ones, :func:`flight_band_edges`).
    energy_response : `EnergyResponse`
    lon, lat : float
        deg.
    pointing_cut : float
        deg. Default 90 ([COSI-PS] 3.1 for spectra).
    """
    if energy_response.n_measured != geometry.n_energy:
        raise ValueError(f"energy_response: {energy_response.n_measured} measured bands, the "
                         f"geometry has {geometry.n_energy}")
    pointing = geometry.pointing
    zenith, _ = source_direction(pointing, lon, lat)
    weight = np.bincount(pointing.time_bin, weights=pointing.live_time,
                         minlength=geometry.period)
    day_zenith = np.bincount(pointing.time_bin, weights=zenith * pointing.live_time,
                             minlength=geometry.period) / np.where(weight > 0, weight, 1.0)
    visible = (day_zenith < pointing_cut)[geometry.day_index]
    day_exposure = energy_response.exposure(pointing, lon, lat, n_time=geometry.period)
    exposure = day_exposure[geometry.day_index] * visible[:, None, None]
    kept = np.flatnonzero(visible)
    if kept.size == 0:
        raise ValueError(f"pointing_cut: the source at ({lon}, {lat}) is never within "
                         f"{pointing_cut} deg of the zenith")
    day_weight = weight[geometry.day_index][kept]
    mean_zenith = float(np.sum(day_zenith[geometry.day_index][kept] * day_weight)
                        / day_weight.sum())
    return SourceObservation(geometry=geometry, lon=float(lon), lat=float(lat),
                             pointing_cut=float(pointing_cut), visible=visible,
                             exposure=exposure,
                             energy_true_edges=energy_response.energy_edges.copy(),
                             mean_zenith=mean_zenith)


def simulate_source_observation(
    rng: np.random.Generator | int,
    observation: SourceObservation,
    *,
    name: str,
    spectrum: PhotonSpectrum,
    photon_flux: float,
    shape: dict[str, float],
    background_response: ArrayLike,
    mean_background_rate: float,
    correction: ArrayLike | None = None,
    n_change_points: int = 3,
) -> tuple[CosiDataset, dict[str, Any]]:
    """Flight-like counts of the source and the measured background, pointing cut applied.

    Parameters
    ----------
    rng : `numpy.random.Generator` or int
    observation : `SourceObservation`
    name : str
        The source's name (its template in the dataset).
    spectrum, photon_flux, shape
        The injected spectrum (:class:`PhotonSpectrum`, ph cm-2 s-1 in its flux band,
        shape values).
    background_response : array_like, shape (n_data_bin,)
        :func:`bayesbg.cosi.flight.flight_background_response`.
    mean_background_rate : float
        Counts per time bin, all bands, before the cut
        (:func:`bayesbg.cosi.flight.default_background_rate`).
    correction : array_like, shape (n_band,), optional
        Atmospheric correction factors applied to the source counts.
    n_change_points : int
        Background steps the tracers miss (:func:`bayesbg.cosi.flight.background_rate`).

    Returns
    -------
    dataset : `CosiDataset`
        Counts in the kept bins; tracers of :func:`simulate_flight` times the cut, plus
        ``photo_event_rate:<lo>-<hi>keV`` per band (Poisson photo events of the band,
        ``photo_ratio`` times its background without the steps, as ``photo_event_rate``).
    truth : dict
        Of :func:`simulate_flight`, plus ``photon_flux``, the shape values, ``bin_flux``
        (true bins), ``band_photon_flux`` (unabsorbed, per band), ``source_counts`` (band x
        time), ``correction``.
    """
    generator = np.random.default_rng(rng)
    geometry = observation.geometry
    bin_flux = spectrum.bin_flux(observation.energy_true_edges, photon_flux, shape)
    band_flux = spectrum.bin_flux(geometry.energy_edges, photon_flux, shape, absorbed=False)
    source = observation.source_counts(bin_flux, correction)
    blocks = []
    for e in range(geometry.n_energy):
        pattern, _ = observation.pattern(e)
        blocks.append(sparse.csr_array(sparse.diags_array(source[e]) @ pattern))
    template = sparse.csr_array(sparse.hstack(blocks, format="csr") / band_flux.sum(),
                                dtype=np.float32)
    dataset, truth = simulate_flight(
        generator, geometry, background_response,
        sky=[(point_source(observation.lon, observation.lat, name=name), band_flux)],
        mean_background_rate=mean_background_rate, templates={name: template},
        n_change_points=n_change_points)
    keep = observation.visible
    counts = sparse.csr_array(dataset.counts)
    counts = sparse.coo_array(sparse.diags_array(keep.astype(np.float64)) @ counts)
    counts.data = np.round(counts.data).astype(np.int64)
    counts.eliminate_zeros()
    share = np.asarray(background_response, dtype=float).reshape(
        geometry.n_energy, -1).sum(axis=1)
    width = np.diff(geometry.time_edges)
    tracers = {key: value * keep for key, value in dataset.tracers.items()}
    untracked = np.ones(geometry.n_time)  # the steps the tracers miss
    for node, factor in zip(truth["change_points"], truth["factors"], strict=True):
        untracked[node:] *= factor
    tracked = np.asarray(truth["background_counts"]) / untracked
    for e in range(geometry.n_energy):
        photo = generator.poisson(truth["photo_ratio"] * share[e] * tracked) / width
        tracers[band_tracer_name("photo_event_rate", geometry.energy_edges[e],
                                 geometry.energy_edges[e + 1])] = photo * keep
    dataset = geometry.dataset(counts, tracers=tracers,
                               background_response=dataset.background_response)
    truth.update({"photon_flux": float(photon_flux), **{k: float(v) for k, v in shape.items()},
                  "bin_flux": bin_flux, "band_photon_flux": band_flux,
                  "source_counts": source * keep[None, :],
                  "correction": None if correction is None else np.asarray(correction)})
    log.info("%s: %.0f source counts in %d kept time bins (%.0f ks), %d populated bins",
             name, float(source[:, keep].sum()), int(keep.sum()),
             observation.observation_time / 1e3, dataset.n_nonzero)
    return dataset, truth
