"""Flight-like simulation: a known sky and background on the 2016 flight's geometry.

:func:`simulate_flight` injects sky components (:mod:`bayesbg.cosi.flight.sky`, fluxes in
ph cm-2 s-1, one or several energy bands) and a background of the measured data-space
shape with a flight-like time profile (:mod:`bayesbg.cosi.flight.background`) into a
:class:`~bayesbg.cosi.flight.FlightGeometry`, and draws Poisson counts. The dataset
carries three tracers, as [COSI-511] 3.3.3:

- ``photo_event_rate``: photo events in the bands, counts s-1, a Poisson draw of
  ``photo_ratio`` (10, [COSI-511]) times the background rate *without* the change points
  (it follows the tracer and the drift, misses the steps);
- ``flight_tracer``: the flight's measured rate tracer (``tracer.npz``, the day repeated;
  misses the drift and the steps);
- ``inverse_altitude``: 1 / altitude, km-1.

The background response of the dataset is the measured one (the truth: a fit's
background shape is exact by construction on these data).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import sparse

from bayesbg.cosi.data import CosiDataset
from bayesbg.cosi.flight.background import background_rate
from bayesbg.cosi.flight.geometry import FlightGeometry
from bayesbg.cosi.flight.sky import SkyComponent

__all__ = ["TRACERS", "simulate_flight", "truth_to_json"]

log = logging.getLogger(__name__)

TRACERS = ("photo_event_rate", "flight_tracer", "inverse_altitude")
"""Tracers of a flight-like dataset."""


def simulate_flight(
    rng: np.random.Generator | int,
    geometry: FlightGeometry,
    background_response: ArrayLike,
    *,
    sky: Sequence[tuple[SkyComponent, float | ArrayLike]],
    mean_background_rate: float,
    templates: Mapping[str, Any] | None = None,
    extra_templates: Mapping[str, Any] | None = None,
    photo_ratio: float = 10.0,
    drift: float = 0.15,
    n_change_points: int = 3,
    change_points: ArrayLike | None = None,
    factors: ArrayLike | None = None,
) -> tuple[CosiDataset, dict[str, Any]]:
    """Simulate flight-like binned counts with known truth.

    Random draws, in order: the change points and their factors (unless given), the
    counts, the photo-event tracer.

    Parameters
    ----------
    rng : `numpy.random.Generator` or int
    geometry : `FlightGeometry`
    background_response : array_like, shape (n_data_bin,)
        ``Bhat[c]``, sums to 1 (:func:`bayesbg.cosi.flight.flight_background_response`).
    sky : sequence of (`SkyComponent`, flux)
        Injected components; flux in ph cm-2 s-1, one value (one band) or one per band.
    mean_background_rate : float
        Mean background counts per time bin over all bands
        (:func:`bayesbg.cosi.flight.default_background_rate`).
    templates : mapping of str to template, optional
        Templates of the sky components by name (``geometry.template(component,
        spectrum)``), to reuse across simulations; computed where missing.
    extra_templates : mapping of str to template, optional
        More templates stored in the dataset (e.g. models to compare).
    photo_ratio : float
        Photo events per background Compton event. Default is 10.
    drift, n_change_points, change_points, factors
        Of :func:`bayesbg.cosi.flight.background_rate`.

    Returns
    -------
    dataset : `bayesbg.cosi.CosiDataset`
        Counts, tracers (`TRACERS`), altitude, the templates of the injected components
        and ``extra_templates``, the background response.
    truth : dict
        ``flux`` (name -> total ph cm-2 s-1), ``band_flux`` (name -> per band),
        ``components`` (their fields), ``sky_counts`` and ``background_counts`` per time
        bin (expected), ``change_points``, ``factors``, ``mean_background_rate``,
        ``photo_ratio``, ``drift``.
    """
    generator = np.random.default_rng(rng)
    response = np.asarray(background_response, dtype=np.float64)
    if response.shape != (geometry.n_data_bin,) or np.any(response < 0) or \
            not np.isclose(response.sum(), 1.0, atol=1e-6):
        raise ValueError(f"background_response: expected {geometry.n_data_bin} non-negative "
                         "values summing to 1")
    if not sky:
        raise ValueError("sky: expected at least one (component, flux) pair")
    names = [component.name for component, _ in sky]
    if len(set(names)) != len(names):
        raise ValueError(f"sky: component names must differ, found {names}")
    if photo_ratio <= 0:
        raise ValueError(f"photo_ratio: expected a positive number, found {photo_ratio!r}")
    fluxes: dict[str, NDArray[np.float64]] = {}
    made = dict(templates or {})
    for component, flux in sky:
        band_flux = np.broadcast_to(np.asarray(flux, dtype=np.float64),
                                    (geometry.n_energy,)).copy() \
            if np.ndim(flux) == 0 and geometry.n_energy == 1 else \
            np.asarray(flux, dtype=np.float64)
        if band_flux.shape != (geometry.n_energy,) or np.any(band_flux < 0) or \
                not np.all(np.isfinite(band_flux)) or band_flux.sum() <= 0:
            raise ValueError(f"sky[{component.name!r}]: expected a positive flux "
                             f"(ph cm-2 s-1) or one per band ({geometry.n_energy}), "
                             f"found {flux!r}")
        fluxes[component.name] = band_flux
        if component.name not in made:
            made[component.name] = geometry.template(component, band_flux)
        if made[component.name].shape != (geometry.n_time, geometry.n_data_bin):
            raise ValueError(f"templates[{component.name!r}]: expected shape "
                             f"{(geometry.n_time, geometry.n_data_bin)}")

    rate = background_rate(geometry, generator, mean_rate=mean_background_rate, drift=drift,
                           n_change_points=n_change_points, change_points=change_points,
                           factors=factors)
    sky_templates = {name: sparse.csr_array(made[name]) for name in names}
    support = response > 0
    for template in sky_templates.values():
        support[np.unique(template.indices)] = True
    columns = np.flatnonzero(support)
    expected = np.outer(rate.rate, response[columns])
    sky_counts = np.zeros(geometry.n_time)
    for name, template in sky_templates.items():
        total = float(fluxes[name].sum())
        part = total * template[:, columns].toarray().astype(np.float64)
        expected += part
        sky_counts += part.sum(axis=1)
    drawn = generator.poisson(expected)
    rows, cols = np.nonzero(drawn)
    counts = sparse.coo_array((drawn[rows, cols], (rows, columns[cols])),
                              shape=(geometry.n_time, geometry.n_data_bin))
    width = np.diff(geometry.time_edges)
    photo = generator.poisson(photo_ratio * rate.tracked) / width
    dataset = geometry.dataset(
        counts,
        tracers={"photo_event_rate": photo, "flight_tracer": geometry.tracer,
                 "inverse_altitude": 1.0 / geometry.altitude},
        templates={**sky_templates, **dict(extra_templates or {})},
        background_response=response)
    truth = {
        "flux": {name: float(value.sum()) for name, value in fluxes.items()},
        "band_flux": {name: value.tolist() for name, value in fluxes.items()},
        "components": [component.to_dict() for component, _ in sky],
        "sky_counts": sky_counts,
        "background_counts": rate.rate,
        "change_points": rate.change_points,
        "factors": rate.factors,
        "mean_background_rate": float(mean_background_rate),
        "photo_ratio": float(photo_ratio),
        "drift": float(drift),
    }
    log.info("flight-like simulation: %d x %d bins, %d populated; %.0f sky and %.0f "
             "background counts expected", geometry.n_time, geometry.n_data_bin,
             dataset.n_nonzero, sky_counts.sum(), rate.rate.sum())
    return dataset, truth


def truth_to_json(truth: Mapping[str, Any]) -> str:
    """The truth of :func:`simulate_flight` as JSON text (arrays as lists)."""
    def plain(value: Any) -> Any:
        if isinstance(value, np.ndarray):
            return value.tolist()
        if isinstance(value, np.generic):
            return value.item()
        if isinstance(value, Mapping):
            return {str(k): plain(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        return value
    return json.dumps(plain(truth), sort_keys=True)
