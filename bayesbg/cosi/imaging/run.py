"""From a configuration to a run directory: response, deconvolution, products, figures.

The run directory (written atomically by `bayesbg.stan.rundir.write_analysis_run_dir`)
holds ``summary.json`` (iteration choice, region flux, per-iteration table, checks),
``image_cube.fits`` (HEALPix maps of the chosen, curvature-maximum, extra and last
iterations, the sensitivity and the mask), ``history.csv`` (ln L, TS, flux, lambda,
background amplitudes and time per iteration), ``imaging_map.png`` (Mollweide and zoomed
view of the chosen iteration) and ``imaging_ts.png`` (the TS curve).
"""

from __future__ import annotations

import dataclasses
import io
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bayesbg.cosi.data import CosiDataset
from bayesbg.cosi.flight import load_flight_geometry
from bayesbg.cosi.imaging.config import DeconvolveConfig
from bayesbg.cosi.imaging.deconvolve import (
    DeconvolutionResult,
    DeconvolutionSettings,
    richardson_lucy,
)
from bayesbg.cosi.imaging.figures import figure_bytes, map_figure, ts_curve_figure
from bayesbg.cosi.imaging.products import RegionFlux, healpix_fits_bytes, region_flux
from bayesbg.cosi.imaging.projection import (
    MatrixFreeResponse,
    MatrixResponse,
    build_imaging_response,
)
from bayesbg.cosi.imaging.selection import IterationChoice, choose_iteration
from bayesbg.cosi.io.orientation import read_ori
from bayesbg.cosi.model.background import BackgroundModel
from bayesbg.cosi.pointing import Pointing, balloon_pointing, load_pointing

__all__ = ["DeconvolutionRun", "classic_settings", "run_deconvolve_config",
           "write_deconvolution_run"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class DeconvolutionRun:
    """A finished deconvolution with its chosen iteration and products.

    Attributes
    ----------
    result : `DeconvolutionResult`
    choice : `IterationChoice`
    region : `RegionFlux`
        Flux in the region at the chosen iteration.
    reference : `DeconvolutionResult` or None
        Classic Richardson-Lucy run for comparison.
    run_dir : `~pathlib.Path` or None
    """

    result: DeconvolutionResult
    choice: IterationChoice
    region: RegionFlux
    reference: DeconvolutionResult | None = None
    run_dir: Path | None = None


def classic_settings(iterations: int, settings: DeconvolutionSettings) -> DeconvolutionSettings:
    """Classic Richardson-Lucy with the same start, mask and background perturbation."""
    return DeconvolutionSettings(
        iterations=iterations, acceleration=False, smoothing_fwhm=0.0,
        refit_background=False, exposure_threshold=settings.exposure_threshold,
        background_perturbation=settings.background_perturbation,
        initial_flux=settings.initial_flux, show_progress=settings.show_progress)


def run_deconvolve_config(
    config: DeconvolveConfig | str | Path,
    *,
    run_dir: str | Path | None = None,
    overwrite: bool = False,
) -> DeconvolutionRun:
    """Run the deconvolution a configuration describes and write its run directory.

    Parameters
    ----------
    config : `DeconvolveConfig` or path of a TOML file
    run_dir : str or `~pathlib.Path`, optional
        Overrides the configuration's ``run_dir``.
    overwrite : bool
        Replace an existing run directory. Default is False.

    Returns
    -------
    run : `DeconvolutionRun`
    """
    from bayesbg.stan.rundir import check_run_dir

    if not isinstance(config, DeconvolveConfig):
        config = DeconvolveConfig.read(config)
    target = Path(run_dir) if run_dir is not None else config.run_dir
    if target is None:
        raise ValueError("run_dir: not given and not in the configuration")
    check_run_dir(target, overwrite=overwrite)
    started = time.perf_counter()
    config = dataclasses.replace(config, background=config.background.resolved())
    dataset = config.background.load_dataset()
    background = config.background.background_model(dataset)
    if config.geometry_file is not None:
        geometry = load_flight_geometry(config.geometry_file)
        if geometry.n_time != dataset.n_time or geometry.n_data_bin != dataset.n_data_bin:
            raise ValueError(f"pointing.geometry: {config.geometry_file} describes "
                             f"{geometry.n_time} x {geometry.n_data_bin} bins, the dataset "
                             f"has {dataset.n_time} x {dataset.n_data_bin}")
        response: MatrixFreeResponse | MatrixResponse = build_imaging_response(
            dataset, geometry.full_pointing(), nside=config.nside,
            instrument=geometry.instrument, energy=geometry.band_energy(0),
            selection=geometry.selection[0])
    else:
        response = build_imaging_response(dataset, _pointing(config, dataset),
                                          nside=config.nside, instrument=config.instrument)
    if config.application != "matrix_free":
        response = response.to_matrix(dense=config.application == "dense")
    result = richardson_lucy(dataset, response, background, settings=config.settings,
                             nside=config.nside)
    reference = None
    if config.reference_iterations:
        reference = richardson_lucy(
            dataset, response, background, nside=config.nside,
            settings=classic_settings(config.reference_iterations, config.settings))
    choice = choose_iteration(result.ts)
    region = region_flux(result.images[choice.iteration], config.nside,
                         centre=config.source if config.region_radius > 0 else None,
                         radius=config.region_radius)
    run = DeconvolutionRun(result, choice, region, reference)
    path = write_deconvolution_run(
        target, run, dataset=dataset, background=background, config=config,
        overwrite=overwrite, wall_time_s=time.perf_counter() - started)
    return DeconvolutionRun(result, choice, region, reference, path)


def write_deconvolution_run(
    run_dir: str | Path,
    run: DeconvolutionRun,
    *,
    dataset: CosiDataset,
    background: BackgroundModel,
    config: DeconvolveConfig,
    overwrite: bool = False,
    wall_time_s: float | None = None,
) -> Path:
    """Write the products of a deconvolution into a run directory (see the module)."""
    from bayesbg.stan.rundir import write_analysis_run_dir

    result, choice, region = run.result, run.choice, run.region
    nside = result.nside
    stored = sorted({choice.iteration, *choice.curvature_maxima[:3],
                     *(k for k in config.extra_iterations if 0 <= k <= result.n_iter),
                     result.n_iter})
    maps: dict[str, Any] = {f"ITER_{k}": result.images[k] for k in stored}
    maps["SENSITIVITY"] = result.sensitivity
    maps["MASK"] = result.mask
    units = {name: "ph cm-2 s-1" for name in maps if name.startswith("ITER_")}
    units["SENSITIVITY"] = "cm2 s"
    cube = healpix_fits_bytes(maps, nside, units=units,
                              header={"CHOSEN": choice.iteration, "BUNIT": "ph cm-2 s-1"})
    map_png = figure_bytes(map_figure(
        result.images[choice.iteration], nside, sensitivity=result.sensitivity,
        source=config.source, source_name=config.source_name, zoom_width=config.zoom_width,
        title=f"iteration {choice.iteration}, TS {result.ts[choice.iteration]:.1f}"))
    ts_png = figure_bytes(ts_curve_figure(
        result.ts, choice, reference=None if run.reference is None else run.reference.ts))
    history = _history_csv(result)
    steps = np.diff(result.log_likelihood)
    monotone = bool(np.all(steps >= -1e-9 * np.abs(result.log_likelihood[1:])))
    k = choice.iteration
    rows = [[int(i), round(float(result.log_likelihood[i]), 3), round(float(result.ts[i]), 2),
             float(f"{result.flux[i]:.4g}"),
             None if np.isnan(result.acceleration[i]) else round(float(result.acceleration[i]), 3),
             round(float(result.seconds[i]), 2)]
            for i in sorted({1, 2, 3, 5, 10, 20, 50, 100, 200, k, result.n_iter})
            if 0 < i <= result.n_iter]
    tables = [
        {"title": "Chosen iteration (first curvature maximum of TS(k))",
         "columns": ["quantity", "value"],
         "rows": [["chosen iteration", k],
                  ["curvature maxima (strongest first)", ", ".join(
                      map(str, choice.curvature_maxima)) or "none"],
                  ["inflection points", ", ".join(map(str, choice.inflection_points))
                   or "none"],
                  ["TS at the chosen iteration", round(float(result.ts[k]), 2)],
                  ["total flux (ph cm-2 s-1)", float(f"{result.flux[k]:.4g}")],
                  [f"region flux: {region.description} (ph cm-2 s-1)",
                   float(f"{region.flux:.4g}")],
                  ["region centre (l, b) deg", f"{region.centre[0]:.2f}, "
                                               f"{region.centre[1]:.2f}"]]},
        {"title": "Iterations", "columns": ["iteration", "ln L", "TS", "flux (ph cm-2 s-1)",
                                            "lambda", "time (s)"], "rows": rows},
    ]
    if run.reference is not None:
        target_ts = float(run.reference.ts[-1])
        reached = result.iterations_to_reach(target_ts)
        tables.append({
            "title": "Modified against classic Richardson-Lucy",
            "columns": ["quantity", "value"],
            "rows": [[f"classic RL: TS after {run.reference.n_iter} iterations",
                      round(target_ts, 2)],
                     ["classic RL: seconds", round(float(run.reference.seconds[-1]), 2)],
                     ["modified RL: iterations to reach it", reached],
                     ["modified RL: seconds to reach it", None if reached is None else
                      round(float(result.seconds[reached]), 2)]]})
    summary = {
        "key_result": f"RL image: chosen iteration {k}, TS {result.ts[k]:.1f}, region flux "
                      f"{region.flux:.3g} ph cm-2 s-1",
        "chosen_iteration": k,
        "curvature_maxima": list(choice.curvature_maxima),
        "inflection_points": list(choice.inflection_points),
        "region": {"flux": region.flux, "pixels": list(region.pixels),
                   "centre": list(region.centre), "description": region.description},
        "log_likelihood_background": result.log_likelihood_background,
        "ts": result.ts.tolist(),
        "flux": result.flux.tolist(),
        "acceleration": [None if np.isnan(v) else float(v) for v in result.acceleration],
        "background_amplitude": result.background_amplitude.tolist(),
        "n_block": int(background.n_block),
        "n_pixel": int(result.images.shape[1]),
        "n_masked": int((~result.mask).sum()),
        "stored_iterations": stored,
        "tables": tables,
        "figures": [
            {"file": "imaging_map.png", "caption": f"Image at iteration {k} (Galactic; "
             "Mollweide and zoom) with exposure contours at 10/50/90 % of the maximum."},
            {"file": "imaging_ts.png", "caption": "TS(k) with the curvature maxima, "
             "inflection points and the chosen iteration."},
        ],
        "checks": [{"name": "log-likelihood never decreases",
                    "status": "pass" if monotone else "fail",
                    "detail": f"smallest step {steps.min():.3g}",
                    "advice": "" if monotone else "report this: the step fit should never "
                    "lower ln L"}],
    }
    inputs: dict[str, str | Path] = {"dataset": config.background.dataset}
    if config.pointing_file is not None:
        inputs["pointing"] = config.pointing_file
    if config.orientation_file is not None:
        inputs["orientation"] = config.orientation_file
    if config.geometry_file is not None:
        inputs["geometry"] = config.geometry_file
    return write_analysis_run_dir(
        run_dir, run_type="cosi_deconvolution", summary=summary,
        files={"image_cube.fits": cube, "imaging_map.png": map_png,
               "imaging_ts.png": ts_png, "history.csv": history},
        inputs=inputs, config=config.to_dict(), seed=None, overwrite=overwrite,
        wall_time_s=wall_time_s)


def _pointing(config: DeconvolveConfig, dataset: CosiDataset) -> Pointing:
    """The pointing history named in the configuration."""
    if config.pointing_file is not None:
        return load_pointing(config.pointing_file)
    if config.orientation_file is not None:
        return Pointing.from_orientation(
            read_ori(config.orientation_file), dataset.time_edges, substeps=config.substeps,
            altitude=config.altitude, time_offset=config.time_offset)
    return balloon_pointing(config.balloon_seed, n_time=dataset.n_time,
                            substeps=config.substeps)


def _history_csv(result: DeconvolutionResult) -> bytes:
    stream = io.StringIO()
    blocks = [f"amplitude_{b + 1}" for b in range(result.background_amplitude.shape[1])]
    stream.write(",".join(["iteration", "log_likelihood", "ts", "flux", "acceleration",
                           "seconds", *blocks]) + "\n")
    for i in range(result.n_iter + 1):
        values = [str(i), f"{result.log_likelihood[i]:.6f}", f"{result.ts[i]:.4f}",
                  f"{result.flux[i]:.6g}", f"{result.acceleration[i]:.6g}",
                  f"{result.seconds[i]:.4f}",
                  *(f"{a:.6g}" for a in result.background_amplitude[i])]
        stream.write(",".join(values) + "\n")
    return stream.getvalue().encode()
