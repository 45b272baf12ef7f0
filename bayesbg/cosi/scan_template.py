"""Template-width scan of the COSI fit: a likelihood profile over Gaussian bulge widths.

[COSI-511] 4.3 scans the widths ``(sigma_l, sigma_b)`` of a 2D Gaussian bulge template:
for every grid point the template is built (:func:`bayesbg.cosi.gaussian_sky` convolved
with the instrument, :func:`bayesbg.cosi.convolve_sky`) and fitted with all background
amplitudes free by maximum likelihood; ``-2 delta ln L`` over the grid is a likelihood
profile with (Wilks) contours at 2.30, 6.18 and 11.83 (68.3, 95.4, 99.7 % for two
parameters), and its minimum the best width.

The instrument enters through a :class:`TemplateBuilder`: a
:class:`bayesbg.cosi.simulate.BalloonObservation` (aspect, live time and altitude per
sub-pointing, effective area; the simulator's own exposure code) and its detector
response. For simulated data :meth:`TemplateBuilder.simulated` rebuilds the instrument of
:func:`bayesbg.cosi.simulate_cosi` from the simulation's seed (the aspect is the first
thing its generator draws); for real data :meth:`TemplateBuilder.for_dataset` takes the
pointing of an orientation file (:meth:`bayesbg.cosi.imaging.Pointing.from_orientation`).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import sparse

from bayesbg.cosi.background import BackgroundModel
from bayesbg.cosi.data import CosiDataset
from bayesbg.cosi.response import convolve_sky
from bayesbg.cosi.scan import dataset_fingerprint, fit_point
from bayesbg.cosi.scan_runner import fingerprint, run_points
from bayesbg.cosi.simulate import BalloonObservation, gaussian_sky, simulated_observation

__all__ = [
    "CONTOUR_LEVELS",
    "TemplateBuilder",
    "TemplateScanResult",
    "scan_template",
    "template_dataset",
]

log = logging.getLogger(__name__)

CONTOUR_LEVELS = (2.30, 6.18, 11.83)
"""``-2 delta ln L`` of the 68.3, 95.4 and 99.7 % regions for two parameters (Wilks)."""


@dataclass(frozen=True, eq=False)
class TemplateBuilder:
    """The instrument that turns a sky model into a template ``S[t, c]``.

    Attributes
    ----------
    observation : `bayesbg.cosi.simulate.BalloonObservation`
        Aspect, live time and altitude per sub-pointing, time bins and response settings.
    response : `scipy.sparse.csr_array`, shape (n_data_bin, n_source)
        Detector response on the instrument-frame HEALPix grid (columns: pixels in view).
    sky_nside : int
        HEALPix resolution of the sky model.
    lon, lat : float
        Centre of the Gaussian, Galactic deg.
    """

    observation: BalloonObservation
    response: sparse.csr_array
    sky_nside: int = 32
    lon: float = 0.0
    lat: float = 0.0

    @classmethod
    def simulated(
        cls,
        seed: int,
        *,
        n_time: int,
        bin_size: float = 6.0,
        instrument_nside: int = 16,
        sky_nside: int = 32,
        resolution: float = 2.5,
        area: float = 50.0,
        substeps: int = 4,
        lon: float = 0.0,
        lat: float = 0.0,
    ) -> TemplateBuilder:
        """The instrument of ``simulate_cosi(seed, ...)`` with the same keywords.

        Parameters
        ----------
        seed : int
            Seed of the simulation (an integer: the aspect is redrawn from it).
        n_time, bin_size, instrument_nside, sky_nside, resolution, area, substeps
            As in :func:`bayesbg.cosi.simulate_cosi`.
        lon, lat : float
            Centre of the scanned Gaussian, Galactic deg. Default (0, 0).

        Returns
        -------
        builder : `TemplateBuilder`
        """
        if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
            raise ValueError(f"simulation_seed: expected an integer seed, found {seed!r}")
        observation = simulated_observation(
            seed, n_time=n_time, bin_size=bin_size, instrument_nside=instrument_nside,
            resolution=resolution, area=area, substeps=substeps)
        return cls.from_observation(observation, sky_nside=sky_nside, lon=lon, lat=lat)

    @classmethod
    def from_observation(
        cls,
        observation: BalloonObservation,
        *,
        phi_edges: NDArray[np.float64] | None = None,
        psi_chi_centres: NDArray[np.float64] | None = None,
        energy: float = 511.0,
        sky_nside: int = 32,
        lon: float = 0.0,
        lat: float = 0.0,
    ) -> TemplateBuilder:
        """Templates of an instrument, on its own or a given data-space binning.

        Parameters
        ----------
        observation : `bayesbg.cosi.simulate.BalloonObservation`
        phi_edges, psi_chi_centres : `numpy.ndarray`, optional
            Data-space binning, deg; default the observation's ``bin_size`` grid.
        energy : float
            Photon energy, keV. Default 511.
        sky_nside : int
            HEALPix resolution of the Gaussian sky model. Default 32.
        lon, lat : float
            Centre of the scanned Gaussian, Galactic deg. Default (0, 0).

        Returns
        -------
        builder : `TemplateBuilder`
        """
        if not isinstance(observation, BalloonObservation):
            raise TypeError(f"observation: expected a BalloonObservation, found "
                            f"{type(observation).__name__} (a Pointing: use "
                            "pointing.observation(...) or TemplateBuilder.for_dataset)")
        response = observation.detector_response(phi_edges, psi_chi_centres, energy=energy)
        return cls(observation=observation, response=response, sky_nside=sky_nside, lon=lon,
                   lat=lat)

    @classmethod
    def for_dataset(
        cls,
        dataset: CosiDataset,
        pointing: Any,
        *,
        instrument_nside: int = 16,
        resolution: float = 2.5,
        area: float = 50.0,
        energy: float = 511.0,
        sky_nside: int = 32,
        lon: float = 0.0,
        lat: float = 0.0,
    ) -> TemplateBuilder:
        """Templates on a dataset's time bins and data-space binning from a pointing history.

        Parameters
        ----------
        dataset : `CosiDataset`
            One energy bin; needs ``psi_chi_centres``.
        pointing : `bayesbg.cosi.imaging.Pointing`
            E.g. ``Pointing.from_orientation(read_ori(path), dataset.time_edges,
            altitude=33.0)`` for real data.
        instrument_nside, resolution, area, energy, sky_nside, lon, lat
            As in :meth:`simulated` and :meth:`from_observation`.

        Returns
        -------
        builder : `TemplateBuilder`
        """
        if dataset.psi_chi_centres is None:
            raise ValueError("dataset.psi_chi_centres: needed to build the detector response")
        if not callable(getattr(pointing, "observation", None)):
            raise TypeError(f"pointing: expected a bayesbg.cosi.imaging.Pointing, found "
                            f"{type(pointing).__name__}")
        bin_size = 180.0 / dataset.n_phi
        observation = pointing.observation(n_time=dataset.n_time, bin_size=bin_size,
                                           instrument_nside=instrument_nside,
                                           resolution=resolution, area=area)
        return cls.from_observation(observation, phi_edges=dataset.phi_edges,
                                    psi_chi_centres=dataset.psi_chi_centres, energy=energy,
                                    sky_nside=sky_nside, lon=lon, lat=lat)

    @property
    def n_time(self) -> int:
        """Time bins of the templates."""
        return self.observation.n_time

    @property
    def n_data_bin(self) -> int:
        """Data-space bins of the response."""
        return int(self.response.shape[0])

    @property
    def rotation(self) -> NDArray[np.float64]:
        """Instrument -> Galactic rotation per sub-pointing, shape (n_step, 3, 3)."""
        return self.observation.rotation

    @property
    def altitude(self) -> NDArray[np.float64]:
        """Altitude per sub-pointing, km."""
        return self.observation.altitude

    @property
    def nside(self) -> int:
        """Instrument HEALPix resolution."""
        return self.observation.instrument_nside

    @property
    def substeps(self) -> int | None:
        """Sub-pointings per time bin (simulations), None for irregular ones."""
        return self.observation.substeps

    @property
    def area(self) -> float:
        """Geometric on-axis area, cm2."""
        return self.observation.area

    @property
    def column(self) -> NDArray[np.int64]:
        """Response column of each instrument HEALPix pixel, -1 if not in view."""
        return self.observation.instrument_grid()[1]

    def template(self, sigma_l: float, sigma_b: float) -> NDArray[np.float32]:
        """Template of a 2D Gaussian of widths ``(sigma_l, sigma_b)`` deg at (lon, lat).

        Returns
        -------
        template : `numpy.ndarray` of float32, shape (n_time, n_data_bin)
            Expected counts per ph cm-2 s-1.
        """
        for name, value in (("sigma_l", sigma_l), ("sigma_b", sigma_b)):
            if not np.isfinite(value) or value <= 0:
                raise ValueError(f"{name}: expected a positive width in deg, found {value!r}")
        points, fraction = gaussian_sky(sigma_l=sigma_l, sigma_b=sigma_b, lon=self.lon,
                                        lat=self.lat, nside=self.sky_nside)
        return convolve_sky(self.response, self.observation.exposure(points, fraction))


def template_dataset(dataset: CosiDataset, builder: TemplateBuilder, sigma_l: float,
                     sigma_b: float, *, name: str = "bulge") -> CosiDataset:
    """``dataset`` with template ``name`` replaced by (or added as) a Gaussian of the widths.

    Raises
    ------
    ValueError
        If the builder's time bins or data-space bins differ from the dataset's.
    """
    if builder.n_time != dataset.n_time or builder.n_data_bin != dataset.n_data_bin:
        raise ValueError(
            f"builder: makes templates of {builder.n_time} x {builder.n_data_bin} bins, the "
            f"dataset has {dataset.n_time} x {dataset.n_data_bin} (check bin_size and the "
            "instrument settings)"
        )
    templates = dict(dataset.templates)
    templates[name] = builder.template(sigma_l, sigma_b)
    return dataclasses.replace(dataset, templates=templates)


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
    builder : `TemplateBuilder`
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
    digest = fingerprint(dataset_fingerprint(dataset), list(names), template, int(seed),
                         background_model.blocks, background_model.tracer,
                         background_model.response, builder.rotation, builder.altitude,
                         builder.observation.live_time, builder.observation.time_bin,
                         [builder.nside, builder.substeps, builder.area, builder.sky_nside,
                          builder.lon, builder.lat],
                         np.asarray(builder.response.data))
    points = {f"l{l:g}-b{b:g}": {"kind": "template", "sigma_l": float(l), "sigma_b": float(b),
                                 "seed": int(seed)}
              for l in grid_l for b in grid_b}  # noqa: E741
    run = run_points(fit_point, points, shared=shared, work_dir=work_dir, fingerprint=digest,
                     overwrite=overwrite, scheduler=scheduler, workers=workers,
                     processes=processes, show_progress=show_progress,
                     description="template scan")
    rows = []
    for key, point in points.items():
        result = run.results[key]
        row: dict[str, Any] = {"sigma_l": point["sigma_l"], "sigma_b": point["sigma_b"]}
        if "error" in result:
            row.update({"log_likelihood": np.nan, "aic": np.nan, "bic": np.nan,
                        **{f"flux_{n}": np.nan for n in names}, "error": result["error"]})
        else:
            row.update({"log_likelihood": result["log_likelihood"], "aic": result["aic"],
                        "bic": result["bic"],
                        **{f"flux_{n}": v for n, v in zip(names, result["flux"], strict=True)},
                        "error": ""})
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
