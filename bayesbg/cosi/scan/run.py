"""``bayesbg cosi scan-background|scan-template CONFIG``: configuration -> scan -> run directory.

Each writes a run directory without posterior draws
(`bayesbg.stan.write_analysis_run_dir`): the scan table as CSV, the figure, and
``summary.json`` with the table and the selected variant or best width (shown by
``bayesbg report``). Finished scan points are kept in a working area beside the run
directory, ``.<run dir name>.points/``, until the run directory is written, so an
interrupted scan resumes; ``overwrite=True`` starts over: it deletes the finished points
and a finished run directory before fitting.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bayesbg.cosi.config import CosiFitConfig
from bayesbg.cosi.flight import load_flight_geometry
from bayesbg.cosi.model.background import read_background_response
from bayesbg.cosi.model.sky import TemplateBuilder
from bayesbg.cosi.scan.background import (
    BackgroundScanResult,
    background_variants,
    scan_background,
)
from bayesbg.cosi.scan.config import ScanConfig
from bayesbg.cosi.scan.figures import background_scan_figure, template_scan_figure
from bayesbg.cosi.scan.loo import background_loo
from bayesbg.cosi.scan.template import TemplateScanResult, scan_template, width_interval
from bayesbg.stan import check_run_dir, stan_versions, write_analysis_run_dir

__all__ = [
    "background_scan_checks",
    "points_dir",
    "run_scan_background_config",
    "run_scan_template_config",
    "template_scan_checks",
]

log = logging.getLogger(__name__)


def points_dir(run_dir: str | Path) -> Path:
    """The working area of a scan's finished points: ``.<name>.points`` beside ``run_dir``."""
    path = Path(run_dir).expanduser().absolute()
    return path.parent / f".{path.name}.points"


def run_scan_background_config(
    path: str | Path,
    *,
    run_dir: str | Path | None = None,
    overwrite: bool = False,
    seed: int | None = None,
    scheduler: Any = None,
    workers: int = 2,
    processes: bool = True,
    show_progress: bool | None = None,
) -> tuple[BackgroundScanResult, Path]:
    """Scan the background variants of a configuration's ``[scan_background]`` table.

    Parameters
    ----------
    path : str or `~pathlib.Path`
        TOML configuration with ``[data]``, optional ``[background]`` (the default
        tracer and response) and ``[scan_background]``.
    run_dir : str or `~pathlib.Path`, optional
        Output; default ``<config run_dir>-scan-background``.
    overwrite : bool
        Start over: delete the finished points and an existing finished run directory
        first. Default is False.
    seed : int, optional
        Overrides the configuration's seed.
    scheduler, workers, processes, show_progress
        Dask and progress settings, as in :func:`bayesbg.cosi.scan.scan_background`.

    Returns
    -------
    result : `BackgroundScanResult`
    run_dir : `~pathlib.Path`
    """
    started = time.perf_counter()
    config, scan, target = _open_scan(path, "scan_background", run_dir, overwrite=overwrite)
    dataset = config.load_dataset()
    tracers = scan.tracers if scan.tracers is not None else (config.tracer,)
    for tracer in tracers:
        if tracer not in dataset.tracers:
            raise ValueError(f"scan_background.tracers: {tracer!r} is not one of the "
                             f"dataset's tracers {sorted(dataset.tracers)}")
    variants = background_variants(tracers=tracers, n_blocks=scan.n_blocks,
                                   altitude_step=scan.altitude_step, sigma=scan.sigma,
                                   detrend=scan.detrend)
    response = None
    if config.response is not None:
        response = read_background_response(config.response, n_data_bin=dataset.n_data_bin)
    seed = config.seed if seed is None else seed
    work = points_dir(target)
    result = scan_background(
        dataset, variants, seed=seed, templates=config.templates, response=response,
        work_dir=work, scheduler=scheduler, workers=workers,
        processes=processes, show_progress=show_progress,
    )
    table = result.table
    loo_note = []
    if scan.loo_top:
        ranked = [result.variants[i] for i in np.argsort(table["aic"].to_numpy())
                  if np.isfinite(table["aic"].iloc[i])][:scan.loo_top]
        loo = background_loo(
            dataset, ranked, seed=seed, config=config.sampler, templates=config.templates,
            response=response, flux_prior_mean=config.flux_prior_mean,
            flux_prior_sd=config.flux_prior_sd, background_prior_sd=config.background_prior_sd,
            work_dir=work / "loo", scheduler=scheduler, workers=1, processes=processes,
            show_progress=show_progress)
        table = table.merge(loo.drop(columns="error"), on="key", how="left")
        table["delta_elpd_loo"] = table["elpd_loo"] - table["elpd_loo"].max()
        result = dataclasses.replace(result, table=table)
        loo_note = [f"PSIS-LOO (NUTS, {config.sampler.chains} chains x "
                    f"{config.sampler.iter_sampling} draws, per time bin) of the "
                    f"{len(ranked)} variants of lowest AIC"]
    figure = background_scan_figure(result)
    best = result.selected_row
    fluxes = ", ".join(f"{name} {best[f'flux_{name}']:.4g} +- {best[f'flux_error_{name}']:.2g}"
                       for name in result.template_names)
    summary = {
        "key_result": f"selected {result.selected.key}: {int(best['n_block'])} blocks, "
                      f"flux {fluxes} ph cm-2 s-1",
        "selected": {**result.selected.to_dict(), "key": result.selected.key,
                     "n_block": int(best["n_block"]), "aic": float(best["aic"]),
                     "log_likelihood": float(best["log_likelihood"]),
                     "flux": {name: float(best[f"flux_{name}"])
                              for name in result.template_names},
                     "flux_error": {name: float(best[f"flux_error_{name}"])
                                    for name in result.template_names}},
        "checks": background_scan_checks(result),
        "tables": [_table_entry("Background variants (maximum likelihood; AIC = 2k - 2 ln L"
                                + "".join(f"; {note}" for note in loo_note) + ")",
                                result.table)],
        "figures": [{"file": "scan_background.png",
                     "caption": "Delta AIC against the number of parameters, coloured by the "
                                "fitted flux; the selected variant (minimum AIC) ringed."}],
    }
    written = _write_scan_run(target, "background", result.table, figure, summary,
                              config=config, scan=scan.to_dict(), path=path,
                              scheduler=scheduler, workers=workers, seed=seed,
                              overwrite=overwrite, started=started)
    shutil.rmtree(work, ignore_errors=True)
    return result, written


def run_scan_template_config(
    path: str | Path,
    *,
    run_dir: str | Path | None = None,
    overwrite: bool = False,
    seed: int | None = None,
    scheduler: Any = None,
    workers: int = 2,
    processes: bool = True,
    show_progress: bool | None = None,
) -> tuple[TemplateScanResult, Path]:
    """Scan the Gaussian-template widths of a configuration's ``[scan_template]`` table.

    The background model is the configuration's ``[background]`` one; all its block
    amplitudes are fitted at every grid point.

    Parameters
    ----------
    path : str or `~pathlib.Path`
        TOML configuration with ``[data]``, ``[background]`` and ``[scan_template]``.
    run_dir : str or `~pathlib.Path`, optional
        Output; default ``<config run_dir>-scan-template``.
    overwrite, seed, scheduler, workers, processes, show_progress
        As in :func:`run_scan_background_config`.

    Returns
    -------
    result : `TemplateScanResult`
    run_dir : `~pathlib.Path`
    """
    started = time.perf_counter()
    config, scan, target = _open_scan(path, "scan_template", run_dir, overwrite=overwrite)
    config = config.resolved()
    dataset = config.load_dataset()
    background = config.background_model(dataset)
    builder: TemplateBuilder
    if scan.geometry is not None:
        builder = load_flight_geometry(scan.geometry).template_builder(lon=scan.lon,
                                                                       lat=scan.lat)
    else:
        bin_size = scan.bin_size if scan.bin_size is not None else 180.0 / dataset.n_phi
        builder = TemplateBuilder.simulated(
            scan.simulation_seed, n_time=dataset.n_time, bin_size=bin_size,
            instrument=scan.instrument, lon=scan.lon, lat=scan.lat,
        )
    seed = config.seed if seed is None else seed
    work = points_dir(target)
    result = scan_template(
        dataset, background, builder, sigma_l=scan.sigma_l, sigma_b=scan.sigma_b, seed=seed,
        template=scan.template, templates=config.templates, symmetric=scan.symmetric,
        work_dir=work,
        scheduler=scheduler, workers=workers, processes=processes,
        show_progress=show_progress,
    )
    figure = template_scan_figure(result)
    profile = result.symmetric_profile()
    summary: dict[str, Any] = {
        "key_result": f"best width sigma_l = {result.best[0]:g}, sigma_b = {result.best[1]:g} "
                      f"deg, flux {result.best_flux:.4g} ph cm-2 s-1",
        "best": {"sigma_l": result.best[0], "sigma_b": result.best[1],
                 "flux": result.best_flux, "template": result.template},
        "checks": template_scan_checks(result),
        "tables": [_table_entry("Width grid (maximum likelihood; delta = -2 delta ln L)",
                                result.table)],
        "figures": [{"file": "scan_template.png",
                     "caption": "-2 delta ln L over (sigma_l, sigma_b) with contours at 2.30, "
                                "6.18, 11.83 (68.3/95.4/99.7 % for two parameters), and the "
                                "profile along sigma_l = sigma_b."}],
    }
    if len(profile):
        summary["tables"].append(_table_entry("Symmetric widths (sigma_l = sigma_b)", profile))
    if len(profile) >= 3:
        width = width_interval(profile["sigma"], profile["log_likelihood"],
                               profile[f"flux_{result.template}"])
        summary["width"] = width.to_dict()
        low, high = width.intervals[1.0]
        summary["key_result"] += (f"; symmetric width {width.best:.2f} deg "
                                  f"(68 % {low:.2f}-{high:.2f})")
    written = _write_scan_run(target, "template", result.table, figure, summary,
                              config=config, scan=scan.to_dict(), path=path,
                              scheduler=scheduler, workers=workers, seed=seed,
                              overwrite=overwrite, started=started)
    shutil.rmtree(work, ignore_errors=True)
    return result, written


def background_scan_checks(result: BackgroundScanResult) -> list[dict[str, Any]]:
    """Checks of a background scan: every variant fitted; the minimum inside the ranges.

    A selected variant at the largest number of blocks of its scheme (or the finest
    setting) says the scan may not have reached the minimum: more nodes could be better.
    """
    table = result.table
    failed = table.loc[table["error"] != "", "key"].tolist()
    checks = [{"name": "every variant fitted",
               "status": "fail" if failed else "pass",
               "detail": f"{len(table) - len(failed)} of {len(table)} fitted"
                         + (f"; failed: {', '.join(failed)}" if failed else ""),
               "advice": "read the failed variants' errors in the table"}]
    selected = result.selected
    same = table[(table["scheme"] == selected.scheme) & (table["tracer"] == selected.tracer)]
    n_block = int(result.selected_row["n_block"])
    at_edge = len(same) > 1 and n_block == int(same["n_block"].max())
    checks.append({"name": "AIC minimum inside the scanned range",
                   "status": "warn" if at_edge else "pass",
                   "detail": f"selected {selected.key} with {n_block} blocks; its scheme "
                             f"spans {int(same['n_block'].min())}-"
                             f"{int(same['n_block'].max())} blocks",
                   "advice": "extend [scan_background] towards more time nodes"})
    return checks


def template_scan_checks(result: TemplateScanResult) -> list[dict[str, Any]]:
    """Checks of a width scan: every grid point fitted; the best width inside the grid."""
    table = result.table
    failed = int((table["error"] != "").sum()) if "error" in table else 0
    checks = [{"name": "every grid point fitted", "status": "fail" if failed else "pass",
               "detail": f"{len(table) - failed} of {len(table)} fitted",
               "advice": "read the failed points' errors in the table"}]
    edges = []
    for value, grid, name in ((result.best[0], result.sigma_l, "sigma_l"),
                              (result.best[1], result.sigma_b, "sigma_b")):
        if len(grid) > 1 and value in (min(grid), max(grid)):
            edges.append(f"{name} = {value:g} deg")
    checks.append({"name": "best width inside the grid", "status": "warn" if edges else "pass",
                   "detail": "on the edge: " + ", ".join(edges) if edges else
                   f"best ({result.best[0]:g}, {result.best[1]:g}) deg is interior",
                   "advice": "extend the sigma_l / sigma_b grid past the edge"})
    return checks


def _write_scan_run(target: Path, kind: str, table: pd.DataFrame, figure: Any,
                    summary: dict[str, Any], *, config: CosiFitConfig,
                    scan: dict[str, Any], path: str | Path, scheduler: Any, workers: int,
                    seed: int | None, overwrite: bool, started: float) -> Path:
    """The run directory of a ``kind`` ("background" or "template") scan: its table as
    CSV, its figure, and ``summary.json`` (see `bayesbg.stan.write_analysis_run_dir`)."""
    name = f"scan_{kind}"
    return write_analysis_run_dir(
        target, run_type=f"cosi_{name}", summary=summary,
        files={f"{name}.csv": table.to_csv(index=False).encode(),
               f"{name}.png": lambda p: figure.savefig(p, dpi=110)},
        inputs={"dataset": config.dataset, "config": Path(path)},
        config={"cosi": config.to_dict(), name: scan,
                "dask": {"scheduler": str(scheduler) if scheduler else None,
                         "workers": workers}},
        seed=seed, overwrite=overwrite, wall_time_s=time.perf_counter() - started,
        stan_versions=stan_versions(),
    )


def _open_scan(path: str | Path, table: str, run_dir: str | Path | None, *,
               overwrite: bool) -> tuple[CosiFitConfig, Any, Path]:
    """The configuration, its ``[table]`` settings and the checked run directory."""
    config = ScanConfig.read(path)
    scan = config.background if table == "scan_background" else config.template
    if scan is None:
        raise ValueError(f"{table}: {path} has no [{table}] table")
    kind = table.replace("_", "-")  # scan-background, scan-template
    return config.fit, scan, _start(_default(run_dir, config.fit, kind), overwrite=overwrite)


def _start(run_dir: Path, *, overwrite: bool) -> Path:
    """Check the run directory; with ``overwrite`` start over now.

    Starting over deletes the finished points and a finished run (a directory with
    ``summary.json``) at once, so that a re-run of an interrupted ``--overwrite`` run
    resumes without ``--overwrite``.
    """
    target = check_run_dir(run_dir, overwrite=overwrite)
    if overwrite:
        shutil.rmtree(points_dir(target), ignore_errors=True)
        if (target / "summary.json").is_file():
            log.info("overwrite: deleting the finished run %s", target)
            shutil.rmtree(target)
    return target


def _default(run_dir: str | Path | None, config: CosiFitConfig, suffix: str) -> Path:
    if run_dir is not None:
        return Path(run_dir)
    base = config.run_dir if config.run_dir is not None else Path("runs") / "cosi"
    return base.with_name(f"{base.name}-{suffix}")


def _table_entry(title: str, table: pd.DataFrame) -> dict[str, Any]:
    """A ``summary["tables"]`` entry; NaN -> None, numpy scalars -> Python."""
    rows = [[_plain(value) for value in row] for row in table.itertuples(index=False)]
    return {"title": title, "columns": [str(c) for c in table.columns], "rows": rows}


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value
