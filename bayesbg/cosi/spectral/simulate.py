"""Multi-band COSI counts of a point source with a known spectrum (docs/cosi_spectral.md).

The forward model of the forward-folded fit, run forwards: per measured band e and time
bin t the source gives ``g[e, t] = a[e] sum_j R[t, e, j] F[j]`` expected counts
(``R`` from :meth:`EnergyResponse.exposure`, ``F`` the spectrum's photon flux per
true-energy bin, ``a`` the atmospheric correction), spread over the data space with the
band's pattern ``P[e, t, c]``; the background gives ``b[e, t]`` counts spread with
``Bhat[e, c]``. Counts per (e, t) are Poisson, their split over the data space
multinomial, which is the same as Poisson per bin (:func:`simulate_band_counts`).

:func:`toy_patterns` makes the patterns of the toy instrument
(:class:`~bayesbg.cosi.exposure.BalloonObservation`) at each band's centre energy;
flight-like geometries give theirs from their own templates.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import sparse

from bayesbg.cosi.data import CosiDataset
from bayesbg.cosi.exposure import BalloonObservation
from bayesbg.cosi.model.sky import point_source_sky
from bayesbg.cosi.response import convolve_sky
from bayesbg.cosi.spectral.data import band_tracer_name, normalised_patterns
from bayesbg.cosi.spectral.response import EnergyResponse
from bayesbg.cosi.spectral.spectrum import PhotonSpectrum

__all__ = ["simulate_band_counts", "simulate_point_source_bands", "toy_patterns"]

log = logging.getLogger(__name__)

PatternFunction = Callable[[int], tuple[NDArray[np.float64], NDArray[np.float64]]]


def toy_patterns(observation: BalloonObservation, lon: float, lat: float,
                 energies: ArrayLike) -> PatternFunction:
    """Per band e, the toy instrument's point-source pattern at ``energies[e]`` (keV).

    Returns a function of the band index giving ``(P[t, c], exposed[t])``
    (:func:`~bayesbg.cosi.spectral.data.normalised_patterns`); each call computes one
    band (Klein-Nishina at that energy, the instrument's resolution).
    """
    energies = np.asarray(energies, dtype=float)
    points, fraction = point_source_sky(lon, lat)
    exposure = observation.exposure(points, fraction)

    def pattern(e: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        response = observation.detector_response(energy=float(energies[e]))
        return normalised_patterns(convolve_sky(response, exposure))

    return pattern


def simulate_band_counts(
    rng: np.random.Generator,
    *,
    source_counts: ArrayLike,
    patterns: PatternFunction | Sequence[NDArray[np.float64]],
    background_counts: ArrayLike,
    background_response: ArrayLike,
) -> sparse.coo_array:
    """Poisson counts over time x (band, spatial bin).

    Parameters
    ----------
    rng : `numpy.random.Generator`
    source_counts : array_like, shape (n_band, n_time)
        Expected source counts per band and time bin for patterns summing to 1 (times the
        pattern's sum, which is 0 where the source is out of view).
    patterns : callable or sequence
        Per band, ``P[t, c]`` (rows summing to 1 where there is exposure).
    background_counts : array_like, shape (n_band, n_time)
        Expected background counts.
    background_response : array_like, shape (n_band, n_spatial)
        ``Bhat[e, c]``, each row summing to 1.

    Returns
    -------
    counts : `scipy.sparse.coo_array`, shape (n_time, n_band * n_spatial)
    """
    source = np.asarray(source_counts, dtype=float)
    background = np.asarray(background_counts, dtype=float)
    shape_response = np.asarray(background_response, dtype=float)
    n_band, n_time = source.shape
    n_spatial = shape_response.shape[1]
    rows, cols, values = [], [], []
    for e in range(n_band):
        pattern = patterns(e)[0] if callable(patterns) else np.asarray(patterns[e])
        total = np.asarray(pattern.sum(axis=1)).ravel()
        n_source = rng.poisson(source[e] * total)  # no pattern, no counts (out of view)
        n_background = rng.poisson(background[e])
        for t in range(n_time):
            hits = np.zeros(n_spatial, dtype=np.int64)
            if n_source[t]:
                hits += rng.multinomial(n_source[t], pattern[t] / total[t])
            if n_background[t]:
                hits += rng.multinomial(n_background[t], shape_response[e])
            nonzero = np.flatnonzero(hits)
            rows.append(np.full(nonzero.size, t)), cols.append(e * n_spatial + nonzero)
            values.append(hits[nonzero])
    return sparse.coo_array((np.concatenate(values), (np.concatenate(rows),
                                                      np.concatenate(cols))),
                            shape=(n_time, n_band * n_spatial))


def simulate_point_source_bands(
    rng: np.random.Generator | int,
    *,
    spectrum: PhotonSpectrum,
    photon_flux: float,
    shape: Mapping[str, float],
    exposure: ArrayLike,
    energy_response: EnergyResponse,
    patterns: PatternFunction | Sequence[NDArray[np.float64]],
    background_response: ArrayLike,
    background_counts: ArrayLike,
    time_edges: ArrayLike,
    phi_edges: ArrayLike,
    psi_chi_centres: ArrayLike,
    atmospheric_correction: ArrayLike | None = None,
    tracer_noise: float = 0.1,
    altitude: ArrayLike | None = None,
) -> tuple[CosiDataset, dict[str, Any]]:
    """Simulate a multi-band dataset of one point source over a known background.

    Parameters
    ----------
    rng : `numpy.random.Generator` or int
    spectrum : `PhotonSpectrum`
    photon_flux : float
        ph cm-2 s-1 in ``spectrum.flux_band``.
    shape : mapping
        Free shape parameters.
    exposure : array_like, shape (n_time, n_band, n_true)
        ``R[t, e, j]``, cm2 s.
    energy_response : `EnergyResponse`
        For the measured and true energy bins.
    patterns : callable or sequence
        Per band ``P[t, c]`` (:func:`toy_patterns`).
    background_response : array_like, shape (n_band, n_spatial)
    background_counts : array_like, shape (n_band, n_time)
        Expected background counts.
    time_edges, phi_edges, psi_chi_centres : array_like
        The dataset's axes.
    atmospheric_correction : array_like, shape (n_band,), optional
    tracer_noise : float
        A band's tracer is its expected background rate times ``(1 + tracer_noise x
        N(0, 1))`` (the tracer's own counting noise), counts s-1. Default 0.1.
    altitude : array_like, shape (n_time,), optional

    Returns
    -------
    dataset : `CosiDataset`
        Energy bands of ``energy_response``'s measured edges; tracers
        ``photo_event_rate`` (all bands) and ``photo_event_rate:<lo>-<hi>keV`` per band.
    truth : dict
        ``photon_flux``, the shape values, ``bin_flux`` (true bins), ``source_counts`` and
        ``background_counts`` (band x time), ``band_photon_flux`` per measured band.
    """
    generator = np.random.default_rng(rng)
    response = np.asarray(exposure, dtype=float)
    n_time, n_band, _ = response.shape
    edges = energy_response.measured_edges
    true_edges = energy_response.energy_edges
    correction = np.ones(n_band) if atmospheric_correction is None else \
        np.asarray(atmospheric_correction, dtype=float)
    bin_flux = spectrum.bin_flux(true_edges, photon_flux, shape)
    source = correction[:, None] * np.einsum("tej,j->et", response, bin_flux)
    background = np.asarray(background_counts, dtype=float)
    counts = simulate_band_counts(generator, source_counts=source, patterns=patterns,
                                  background_counts=background,
                                  background_response=background_response)
    widths = np.diff(np.asarray(time_edges, dtype=float))
    tracers = {"photo_event_rate": background.sum(axis=0) / widths
               * (1 + tracer_noise * generator.standard_normal(n_time))}
    for e in range(n_band):
        tracers[band_tracer_name("photo_event_rate", edges[e], edges[e + 1])] = \
            np.maximum(background[e] / widths
                       * (1 + tracer_noise * generator.standard_normal(n_time)), 0.0)
    dataset = CosiDataset(
        counts=counts, time_edges=time_edges, phi_edges=phi_edges,
        n_psi_chi=len(psi_chi_centres), tracers=tracers,
        background_response=(np.asarray(background_response, dtype=float)
                             / n_band).ravel(),
        altitude=altitude, energy_edges=edges, psi_chi_centres=psi_chi_centres)
    truth = {"photon_flux": float(photon_flux), **{k: float(v) for k, v in shape.items()},
             "bin_flux": bin_flux, "source_counts": source, "background_counts": background,
             "band_photon_flux": spectrum.bin_flux(edges, photon_flux, shape,
                                                   absorbed=False)}
    log.info("simulated %d bands x %d time bins: %.0f source and %.0f background counts "
             "expected, %d populated bins", n_band, n_time, source.sum(), background.sum(),
             dataset.n_nonzero)
    return dataset, truth
