"""Template-width scan of the COSI fit: a likelihood profile over Gaussian bulge widths.

[COSI-511] 4.3 scans the widths ``(sigma_l, sigma_b)`` of a 2D Gaussian bulge template:
for every grid point the template is built (:func:`bayesbg.cosi.model.gaussian_sky`
through the instrument, :meth:`bayesbg.cosi.model.TemplateBuilder.template`) and fitted
with all background amplitudes free by maximum likelihood; ``-2 delta ln L`` over the
grid is a likelihood profile with (Wilks) contours at 2.30, 6.18 and 11.83 (68.3, 95.4,
99.7 % for two parameters), and its minimum the best width.

The instrument enters through the :class:`~bayesbg.cosi.model.TemplateBuilder`: for
simulated data :meth:`~bayesbg.cosi.model.TemplateBuilder.simulated` rebuilds the
instrument of :func:`bayesbg.cosi.simulate_cosi` from the simulation's seed; for real
data :meth:`~bayesbg.cosi.model.TemplateBuilder.for_dataset` takes the pointing of an
orientation file (:meth:`bayesbg.cosi.pointing.Pointing.from_orientation`); for
flight-like data :meth:`bayesbg.cosi.flight.FlightGeometry.template_builder`.

With ``symmetric=True`` only the widths ``sigma_l = sigma_b`` are fitted (the symmetric
Gaussian [COSI-511] settles on). :func:`width_interval` turns a symmetric profile into
the fitted width: ``-2 delta ln L`` is interpolated between the grid points with a cubic
spline; its minimum is the maximum-likelihood width (the width free, profiled over the
flux and background amplitudes), the crossings of 1 and 4 above it the 68.3 and 95.4 %
intervals (Wilks, one parameter). The likelihood is interpolated, not the templates: a
template of an interpolated width is never used.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.interpolate import CubicSpline

from bayesbg.cosi.data import CosiDataset
from bayesbg.cosi.model.background import BackgroundModel
from bayesbg.cosi.model.sky import TemplateBuilder, template_dataset
from bayesbg.cosi.scan.points import (
    dataset_fingerprint,
    maximum_likelihood_point,
    result_columns,
)
from bayesbg.cosi.scan.runner import fingerprint, run_points

__all__ = [
    "CONTOUR_LEVELS",
    "TemplateScanResult",
    "WidthInterval",
    "fit_template_point",
    "scan_template",
    "width_interval",
]

log = logging.getLogger(__name__)

CONTOUR_LEVELS = (2.30, 6.18, 11.83)
"""``-2 delta ln L`` of the 68.3, 95.4 and 99.7 % regions for two parameters (Wilks)."""


@dataclass(frozen=True)
class TemplateScanResult:
    """Outcome of :func:`scan_template`.

    Attributes
    ----------
    table : `pandas.DataFrame`
        One row per grid point: ``sigma_l``, ``sigma_b`` (deg), ``log_likelihood``,
        ``aic``, ``bic``, ``delta`` (``-2 delta ln L`` to the best point),
        ``flux_<template>`` (ph cm-2 s-1), ``error``.
    sigma_l, sigma_b : `numpy.ndarray`
        The grid axes, deg.
    best : tuple of float
        ``(sigma_l, sigma_b)`` of maximum likelihood, deg.
    best_flux : float
        Flux of the scanned template at the best width, ph cm-2 s-1.
    template : str
        Name of the scanned template.
    fitted : tuple of str
        Keys of the grid points fitted in this call.
    """

    table: pd.DataFrame
    sigma_l: NDArray[np.float64]
    sigma_b: NDArray[np.float64]
    best: tuple[float, float]
    best_flux: float
    template: str
    fitted: tuple[str, ...]

    def profile_map(self) -> NDArray[np.float64]:
        """``-2 delta ln L`` on the grid, shape (n_sigma_b, n_sigma_l); NaN where failed."""
        grid = np.full((self.sigma_b.size, self.sigma_l.size), np.nan)
        for row in self.table.itertuples():
            grid[np.searchsorted(self.sigma_b, row.sigma_b),
                 np.searchsorted(self.sigma_l, row.sigma_l)] = row.delta
        return grid

    def symmetric_profile(self) -> pd.DataFrame:
        """Rows with ``sigma_l == sigma_b``: the symmetric-width profile (``sigma``, ``delta``).

        ``delta`` is relative to the best point of the whole grid; ``delta_symmetric``
        relative to the best symmetric point.
        """
        rows = self.table.loc[np.isclose(self.table["sigma_l"], self.table["sigma_b"])]
        profile = pd.DataFrame({"sigma": rows["sigma_l"].to_numpy(),
                                "log_likelihood": rows["log_likelihood"].to_numpy(),
                                "delta": rows["delta"].to_numpy(),
                                f"flux_{self.template}":
                                    rows[f"flux_{self.template}"].to_numpy()})
        profile["delta_symmetric"] = profile["delta"] - profile["delta"].min()
        return profile.sort_values("sigma").reset_index(drop=True)


def scan_template(
    dataset: CosiDataset,
    background_model: BackgroundModel,
    builder: TemplateBuilder,
    *,
    sigma_l: Sequence[float],
    sigma_b: Sequence[float],
    seed: int,
    template: str = "bulge",
    templates: Sequence[str] | None = None,
    symmetric: bool = False,
    work_dir: str | Path | None = None,
    overwrite: bool = False,
    scheduler: Any = None,
    workers: int = 2,
    processes: bool = True,
    show_progress: bool | None = None,
) -> TemplateScanResult:
    """Fit a Gaussian template on a ``(sigma_l, sigma_b)`` grid by maximum likelihood.

    Parameters
    ----------
    dataset : `CosiDataset`
    background_model : `BackgroundModel`
        The background model (all its block amplitudes are fitted at every point).
    builder : `bayesbg.cosi.model.TemplateBuilder`
        Instrument making the templates (e.g. :meth:`TemplateBuilder.simulated`).
    sigma_l, sigma_b : sequence of float
        Grid of widths, deg, each strictly increasing.
    seed : int
        Seed of the optimiser runs.
    template : str
        Name of the scanned template (replaces the dataset's template of that name).
        Default ``"bulge"``.
    templates : sequence of str, optional
        All templates fitted; default the dataset's, with ``template`` among them.
    symmetric : bool
        Fit only ``sigma_l = sigma_b`` for each width of ``sigma_l`` (``sigma_b`` must then
        equal ``sigma_l``). Default is False: the whole grid.
    work_dir, overwrite, scheduler, workers, processes, show_progress
        As in :func:`bayesbg.cosi.scan.scan_background`.

    Returns
    -------
    result : `TemplateScanResult`
    """
    axes = []
    for name, values in (("sigma_l", sigma_l), ("sigma_b", sigma_b)):
        array = np.asarray(values, dtype=np.float64)
        if array.ndim != 1 or array.size < 1 or not np.all(np.isfinite(array)) \
                or np.any(array <= 0) or np.any(np.diff(array) <= 0):
            raise ValueError(f"{name}: expected strictly increasing positive widths (deg), "
                             f"found {values!r}")
        axes.append(array)
    grid_l, grid_b = axes
    if symmetric and not np.array_equal(grid_l, grid_b):
        raise ValueError("sigma_b: a symmetric scan takes the widths of sigma_l; give the "
                         "same list or none")
    names = tuple(templates) if templates is not None else \
        tuple(dict.fromkeys((*dataset.template_names, template)))
    if template not in names:
        raise ValueError(f"templates: expected the scanned template {template!r} among "
                         f"{names}")
    # check the shapes once here, not on every worker
    if builder.n_time != dataset.n_time or builder.n_data_bin != dataset.n_data_bin:
        template_dataset(dataset, builder, 1.0, 1.0)
    shared = {"dataset": dataset, "templates": names, "builder": builder,
              "background_model": background_model}
    observation = builder.observation
    digest = fingerprint(dataset_fingerprint(dataset), list(names), template, int(seed),
                         background_model.blocks, background_model.tracer,
                         background_model.response, observation.pointing.rotation,
                         observation.pointing.altitude, observation.pointing.live_time,
                         observation.pointing.time_bin, observation.instrument.to_dict(),
                         [builder.lon, builder.lat], np.asarray(builder.response.data))
    pairs = [(w, w) for w in grid_l] if symmetric else \
        [(w_l, w_b) for w_l in grid_l for w_b in grid_b]
    points = {f"l{w_l:g}-b{w_b:g}": {"sigma_l": float(w_l), "sigma_b": float(w_b),
                                     "seed": int(seed)} for w_l, w_b in pairs}
    run = run_points(fit_template_point, points, shared=shared, work_dir=work_dir,
                     fingerprint=digest, overwrite=overwrite, scheduler=scheduler,
                     workers=workers, processes=processes, show_progress=show_progress,
                     description="template scan")
    rows = []
    for key, point in points.items():
        row: dict[str, Any] = {"sigma_l": point["sigma_l"], "sigma_b": point["sigma_b"]}
        row.update(result_columns(run.results[key], names,
                                  columns=("log_likelihood", "aic", "bic")))
        rows.append(row)
    table = pd.DataFrame(rows)
    if table["log_likelihood"].isna().all():
        raise ValueError(f"sigma_l, sigma_b: every grid point failed, e.g. "
                         f"{table['error'].iloc[0]}")
    table["delta"] = 2.0 * (table["log_likelihood"].max() - table["log_likelihood"])
    best = table.loc[table["log_likelihood"].idxmax()]
    return TemplateScanResult(
        table=table, sigma_l=grid_l, sigma_b=grid_b,
        best=(float(best["sigma_l"]), float(best["sigma_b"])),
        best_flux=float(best[f"flux_{template}"]), template=template, fitted=run.fitted,
    )


def fit_template_point(shared: dict[str, Any], point: dict[str, Any]) -> dict[str, Any]:
    """One grid point (runs on a Dask worker): its template, maximum likelihood.

    Parameters
    ----------
    shared : dict
        ``dataset``, ``templates``, ``builder`` and ``background_model``.
    point : dict
        ``sigma_l``, ``sigma_b`` (deg) and ``seed``.

    Returns
    -------
    result : dict
        See :func:`bayesbg.cosi.scan.points.maximum_likelihood_point`.
    """
    dataset = template_dataset(shared["dataset"], shared["builder"], point["sigma_l"],
                               point["sigma_b"])
    return maximum_likelihood_point(dataset, shared["background_model"],
                                    templates=shared["templates"], seed=point["seed"])


@dataclass(frozen=True)
class WidthInterval:
    """The fitted symmetric width of a scan (:func:`width_interval`).

    Attributes
    ----------
    best : float
        Maximum-likelihood width, deg (minimum of the interpolated profile).
    best_grid : float
        Best grid width, deg.
    intervals : dict of float to (float, float)
        ``-2 delta ln L`` level -> (lower, upper) width, deg. A bound the profile does
        not reach inside the grid is the grid's end, flagged in ``open_ends``.
    open_ends : dict of float to list of str
        Per level, ``"lower"``/``"upper"`` where the interval runs into the grid's end.
    flux : float
        Flux of the template at ``best`` (linear in the grid fluxes), ph cm-2 s-1.
    flux_range : (float, float)
        Lowest and highest flux over the 68.3 % width interval, ph cm-2 s-1 (the flux's
        dependence on the width, an error term).
    """

    best: float
    best_grid: float
    intervals: dict[float, tuple[float, float]]
    open_ends: dict[float, list[str]]
    flux: float
    flux_range: tuple[float, float]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields (levels as strings)."""
        return {"best": self.best, "best_grid": self.best_grid,
                "intervals": {f"{k:g}": list(v) for k, v in self.intervals.items()},
                "open_ends": {f"{k:g}": v for k, v in self.open_ends.items()},
                "flux": self.flux, "flux_range": list(self.flux_range)}


def width_interval(
    sigma: Sequence[float],
    log_likelihood: Sequence[float],
    flux: Sequence[float],
    *,
    levels: Sequence[float] = (1.0, 4.0),
    step: float = 0.01,
) -> WidthInterval:
    """Maximum-likelihood width and its intervals from a symmetric likelihood profile.

    Parameters
    ----------
    sigma : sequence of float
        Widths, deg, strictly increasing (at least 3).
    log_likelihood : sequence of float
        ``ln L`` at each width (profiled over the other parameters).
    flux : sequence of float
        Fitted flux of the template at each width, ph cm-2 s-1.
    levels : sequence of float
        ``-2 delta ln L`` levels of the intervals. Default (1, 4): 68.3 and 95.4 %.
    step : float
        Resolution of the search on the spline, deg. Default is 0.01.

    Returns
    -------
    interval : `WidthInterval`

    Examples
    --------
    >>> result = width_interval([6, 8, 10, 12, 14], [-8, -2, 0, -2, -8], [1, 1, 1, 1, 1])
    >>> round(result.best, 2), [round(v, 2) for v in result.intervals[1.0]]
    (10.0, [9.0, 11.0])
    """
    widths = np.asarray(sigma, dtype=np.float64)
    values = np.asarray(log_likelihood, dtype=np.float64)
    fluxes = np.asarray(flux, dtype=np.float64)
    good = np.isfinite(values) & np.isfinite(fluxes)
    widths, values, fluxes = widths[good], values[good], fluxes[good]
    if widths.size < 3 or np.any(np.diff(widths) <= 0):
        raise ValueError(f"sigma: expected at least 3 increasing widths with a finite ln L, "
                         f"found {widths.tolist()}")
    profile = 2.0 * (values.max() - values)
    spline = CubicSpline(widths, profile)
    fine = np.linspace(widths[0], widths[-1], int(round((widths[-1] - widths[0]) / step)) + 1)
    curve = spline(fine)
    best_index = int(np.argmin(curve))
    best = float(fine[best_index])
    minimum = float(curve[best_index])
    intervals: dict[float, tuple[float, float]] = {}
    open_ends: dict[float, list[str]] = {}
    for level in levels:
        inside = curve <= minimum + float(level)
        # the connected run of widths around the best one
        lower = best_index
        while lower > 0 and inside[lower - 1]:
            lower -= 1
        upper = best_index
        while upper < fine.size - 1 and inside[upper + 1]:
            upper += 1
        target = minimum + float(level)

        def crossing(inner: int, outer: int, target: float = target) -> float:
            a, b = curve[inner], curve[outer]
            share = (target - a) / (b - a) if b != a else 0.0
            return float(fine[inner] + share * (fine[outer] - fine[inner]))

        intervals[float(level)] = (crossing(lower, lower - 1) if lower > 0 else float(fine[0]),
                                   crossing(upper, upper + 1) if upper < fine.size - 1
                                   else float(fine[-1]))
        open_ends[float(level)] = [name for name, edge in (("lower", lower == 0),
                                                           ("upper", upper == fine.size - 1))
                                   if edge]
    flux_curve = np.interp(fine, widths, fluxes)
    low, high = intervals[float(levels[0])]
    span = flux_curve[(fine >= low) & (fine <= high)]
    best = round(best, 6)
    return WidthInterval(best=best, best_grid=float(widths[int(np.argmax(values))]),
                         intervals=intervals, open_ends=open_ends,
                         flux=float(flux_curve[best_index]),
                         flux_range=(float(span.min()), float(span.max())))
