"""Simulated COSI balloon data of the [COSI-511] design, with known truth (``docs/cosi.md``).

A zenith-pointing balloon drifts north-east across the southern hemisphere for
``n_time`` one-hour bins, turning slowly during the day (a rotator follows the Sun) and
freely at night, when the altitude drops from about 33 km to as low as 22 km. The sky, a
2D Gaussian 511 keV bulge at the Galactic centre or a point source, is sampled on a
HEALPix grid (`astropy_healpix`), carried into instrument coordinates for four
sub-pointings per hour, weighted with the zenith- and altitude-dependent effective area
(:func:`bayesbg.cosi.response.effective_area`), pushed onto an instrument-frame HEALPix
grid with bilinear weights and convolved with the toy Compton response
(:func:`bayesbg.cosi.response.compton_response`) into the template ``S[t, c]``: the
instrument and its exposure are :class:`bayesbg.cosi.exposure.BalloonObservation`, the
sky models those of :mod:`bayesbg.cosi.model.sky`.

The background has a time-constant data-space shape ``Bhat[c]`` and a rate that rises
as the altitude drops, drifts slowly, and jumps at a few change points that the tracers
do not see; its total is ``background_to_sky`` times the sky counts.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from bayesbg.config import random_generator
from bayesbg.cosi.data import CosiDataset
from bayesbg.cosi.exposure import BalloonObservation, InstrumentSettings
from bayesbg.cosi.model.sky import gaussian_sky, point_source_sky
from bayesbg.cosi.pointing import HOUR, balloon_pointing
from bayesbg.cosi.response import convolve_sky

__all__ = ["simulate_cosi"]

log = logging.getLogger(__name__)


def simulate_cosi(
    rng: np.random.Generator | int,
    *,
    n_time: int = 603,
    bin_size: float = 6.0,
    sky: str = "bulge",
    flux: float = 1e-3,
    sigma: float = 10.0,
    source_lon: float = 0.0,
    source_lat: float = 0.0,
    background_to_sky: float = 100.0,
    n_change_points: int = 3,
    instrument: InstrumentSettings | None = None,
) -> tuple[CosiDataset, dict[str, Any]]:
    """Simulate binned COSI 511 keV data: one sky template plus an empirical-style background.

    Parameters
    ----------
    rng : `numpy.random.Generator` or int
        Random generator, or a seed for one.
    n_time : int
        One-hour time bins. Default is 603 ([COSI-511]).
    bin_size : float
        Size of the phi and (psi, chi) bins, deg: 6 gives 30 x 1,144 bins (the default),
        5 gives the [COSI-511] layout 36 x 1,652.
    sky : {"bulge", "point"}
        A 2D Gaussian of width ``sigma`` at (``source_lon``, ``source_lat``), or a point
        source there. Default is ``"bulge"`` at the Galactic centre.
    flux : float
        True sky flux, ph cm-2 s-1. Default is 1e-3.
    sigma : float
        Gaussian width (both axes), deg. Default is 10.
    source_lon, source_lat : float
        Galactic position of the source, deg. Default is (0, 0).
    background_to_sky : float
        Total background counts over total sky counts. Default is 100.
    n_change_points : int
        Jumps of the background rate (by 8-20 % up or down) missed by the tracers.
        Default is 3.
    instrument : `bayesbg.cosi.exposure.InstrumentSettings`, optional
        Instrument grid, sky sampling, resolution, area and pointings per hour. Default
        ``InstrumentSettings()``.

    Returns
    -------
    dataset : `CosiDataset`
        Counts, time edges, tracers ``photo_event_rate`` (counts s-1), ``shield_rate``
        (counts s-1) and ``inverse_altitude`` (km-1), altitude, the template (named
        ``"bulge"`` or ``"point_source"``) and the true background response.
    truth : dict
        ``flux`` (1,), ``template`` name, ``sky_counts`` and ``background_counts`` per time
        bin (expected), ``change_points`` (time-bin indices where a jump starts),
        ``observation`` (the instrument and its pointing,
        :class:`~bayesbg.cosi.exposure.BalloonObservation`; the same as
        ``simulated_observation(rng, ...)`` for an integer ``rng``).

    Examples
    --------
    >>> from bayesbg.cosi.exposure import InstrumentSettings
    >>> dataset, truth = simulate_cosi(1, n_time=24, bin_size=15.0,
    ...                                instrument=InstrumentSettings(instrument_nside=8))
    >>> dataset.n_time, dataset.n_phi
    (24, 12)
    """
    generator = random_generator(rng)
    instrument = instrument if instrument is not None else InstrumentSettings()
    if isinstance(n_time, bool) or not isinstance(n_time, int) or n_time < 1:
        raise ValueError(f"n_time: expected a positive integer, found {n_time!r}")
    if sky not in ("bulge", "point"):
        raise ValueError(f"sky: expected 'bulge' or 'point', found {sky!r}")
    if not flux > 0 or not background_to_sky > 0:
        raise ValueError("flux, background_to_sky: expected positive numbers")
    if isinstance(n_change_points, bool) or not isinstance(n_change_points, int) \
            or n_change_points < 0:
        raise ValueError(f"n_change_points: expected a non-negative integer, found "
                         f"{n_change_points!r}")
    if n_change_points >= max(n_time // 4, 1):
        most = max(n_time // 4 - 1, 0)
        raise ValueError(
            f"n_time: {n_time} time bins leave room for at most {most} change point(s) "
            f"(n_time // 4 - 1), found n_change_points = {n_change_points}; simulate at "
            f"least {4 * (n_change_points + 1)} time bins or fewer change points")

    pointing = balloon_pointing(generator, n_time=n_time, substeps=instrument.substeps)
    observation = BalloonObservation(pointing, n_time=n_time, bin_size=bin_size,
                                     instrument=instrument)
    phi_edges = observation.phi_edges
    centres = observation.psi_chi_centres
    n_psi_chi = len(centres)
    if sky == "bulge":
        points, fraction = gaussian_sky(sigma_l=sigma, sigma_b=sigma, lon=source_lon,
                                        lat=source_lat, nside=instrument.sky_nside)
    else:
        points, fraction = point_source_sky(source_lon, source_lat)
    template = convolve_sky(observation.detector_response(), observation.exposure(points, fraction))
    template_name = "bulge" if sky == "bulge" else "point_source"

    altitude = pointing.altitude.reshape(n_time, instrument.substeps).mean(axis=1)
    background_shape = _background_shape(phi_edges, centres, generator)
    hours = np.arange(n_time)
    base_rate = np.exp((33.0 - altitude) / 6.0) * (1.0 + 0.15 * np.sin(2 * np.pi * hours / 103.0))
    change_points = np.sort(generator.choice(
        np.arange(max(1, n_time // 20), n_time - max(1, n_time // 20)), n_change_points,
        replace=False,
    )) if n_change_points else np.array([], dtype=int)
    jumps = generator.uniform(1.08, 1.2, n_change_points) ** generator.choice([-1, 1],
                                                                              n_change_points)
    untracked = np.ones(n_time)
    for start, factor in zip(change_points, jumps, strict=True):
        untracked[start:] *= factor
    sky_time = flux * template.sum(axis=1, dtype=np.float64)
    scale = background_to_sky * sky_time.sum() / np.sum(base_rate * untracked)
    background_time = scale * base_rate * untracked

    expected = flux * template.astype(np.float64)
    expected += background_time[:, None] * background_shape[None, :]
    counts = generator.poisson(expected)
    del expected
    rows, cols = np.nonzero(counts)
    count_matrix = sparse.coo_array((counts[rows, cols], (rows, cols)), shape=counts.shape)
    del counts
    photo_events = generator.poisson(10.0 * scale * base_rate) / HOUR
    shield = 4000.0 * base_rate**0.7 * (1.0 + 0.02 * generator.standard_normal(n_time))
    dataset = CosiDataset(
        counts=count_matrix,
        time_edges=HOUR * np.arange(n_time + 1, dtype=np.float64),
        phi_edges=phi_edges,
        n_psi_chi=n_psi_chi,
        tracers={"photo_event_rate": photo_events, "shield_rate": shield,
                 "inverse_altitude": 1.0 / altitude},
        templates={template_name: template},
        background_response=background_shape,
        altitude=altitude,
        psi_chi_centres=centres,
    )
    truth = {
        "flux": np.array([flux]),
        "template": template_name,
        "sky_counts": sky_time,
        "background_counts": background_time,
        "change_points": change_points,
        "observation": observation,
    }
    log.info("simulated %d x %d bins: %d non-zero, %.0f sky and %.0f background counts "
             "expected", n_time, dataset.n_data_bin, dataset.n_nonzero, sky_time.sum(),
             background_time.sum())
    return dataset, truth


def _background_shape(
    phi_edges: NDArray[np.float64], centres: NDArray[np.float64], rng: np.random.Generator,
) -> NDArray[np.float64]:
    """Toy background response ``Bhat[c]``: smooth in phi and psi times a lognormal texture."""
    phi = 0.5 * (phi_edges[:-1] + phi_edges[1:])
    in_phi = np.sin(np.radians(phi)) * np.exp(-(((phi - 45.0) / 50.0) ** 2))
    in_psi = 0.3 + np.cos(np.radians(centres[:, 0])) ** 2
    texture = rng.lognormal(0.0, 0.7, size=(phi.size, centres.shape[0]))
    shape = (in_phi[:, None] * in_psi[None, :] * texture).ravel()
    return shape / shape.sum()
