"""``bayesbg cosi sky-models CONFIG``: the models of [COSI-511] Table 3, fitted and compared.

:func:`run_sky_models_config` reads a COSI configuration with a ``[sky_models]`` table
(:mod:`bayesbg.cosi.skymodels.config`), rebuilds the bulge at the width the template
scan fitted, fits every model (:func:`~bayesbg.cosi.skymodels.fit.fit_sky_model`: one
run directory each, ``<run_dir>-<model>``, with its predictive checks and report),
compares them (`bayesbg.report.compare_runs`: PSIS-LOO, AIC, BIC) and writes the table
into its own run directory (``run_type = "cosi_sky_models"``).

The model reported as *chosen* is the one of highest ``elpd_loo`` unless a model with
fewer templates lies within two standard errors of the difference (``dse``) of it: then
the simplest such model (parsimony; the data do not prefer the extra component).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from bayesbg.cosi.checks import check_cosi_fit
from bayesbg.cosi.flight import SkyComponent, load_flight_geometry, read_truth
from bayesbg.cosi.skymodels.config import SkyModelsConfig, read_width
from bayesbg.cosi.skymodels.fit import SkyModelFit, fit_sky_model, model_table
from bayesbg.report import compare_runs, write_report
from bayesbg.stan import check_run_dir, stan_versions, write_analysis_run_dir

__all__ = ["SkyModelsRun", "choose_model", "run_sky_models_config"]

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class SkyModelsRun:
    """Outcome of :func:`run_sky_models_config`.

    Attributes
    ----------
    fits : tuple of `SkyModelFit`
    table : `pandas.DataFrame`
        Table 3 (:func:`~bayesbg.cosi.skymodels.fit.model_table`).
    comparison : `pandas.DataFrame` or None
        `bayesbg.report.compare_runs` table by model name (None for one model).
    chosen : str
        Name of the chosen model (module docstring).
    width : dict or None
        The bulge width used (the template scan's ``summary["width"]``, or fixed).
    run_dir : `~pathlib.Path`
    """

    fits: tuple[SkyModelFit, ...]
    table: pd.DataFrame
    comparison: pd.DataFrame | None
    chosen: str
    width: dict[str, Any] | None
    run_dir: Path


def choose_model(comparison: pd.DataFrame, n_templates: dict[str, int]) -> str:
    """Highest ``elpd_loo``, or the simplest model within ``2 dse`` of it (module doc)."""
    best = str(comparison["elpd_loo"].idxmax())
    candidates = [name for name in comparison.index
                  if n_templates[name] < n_templates[best] and
                  comparison.loc[best, "elpd_loo"] - comparison.loc[name, "elpd_loo"]
                  < 2.0 * float(comparison.loc[name, "dse"])]
    if not candidates:
        return best
    return str(min(candidates, key=lambda name: (n_templates[name],
                                                 -comparison.loc[name, "elpd_loo"])))


def run_sky_models_config(
    path: str | Path,
    *,
    run_dir: str | Path | None = None,
    overwrite: bool = False,
    seed: int | None = None,
    report: bool = True,
) -> SkyModelsRun:
    """Fit, check and compare the sky models of a configuration; write the table's run.

    Parameters
    ----------
    path : str or `~pathlib.Path`
        TOML configuration with ``[data]``, ``[background]``, ``[sampler]`` and
        ``[sky_models]``.
    run_dir : str or `~pathlib.Path`, optional
        The table's run directory; default ``[sky_models] run_dir``. The models' fits go
        beside it, ``<run_dir>-<model>``.
    overwrite : bool
        Replace existing run directories (all are checked before fitting).
    seed : int, optional
        Overrides the configuration's seed.
    report : bool
        Write each fit's ``report.html``. Default is True.

    Returns
    -------
    run : `SkyModelsRun`
    """
    started = time.perf_counter()
    config = SkyModelsConfig.read(path)
    fit_config = config.fit.resolved()
    target = Path(run_dir) if run_dir is not None else config.run_dir
    assert target is not None
    model_dirs = {model.name: target.with_name(f"{target.name}-{model.slug}")
                  for model in config.models}
    for directory in (target, *model_dirs.values()):
        check_run_dir(directory, overwrite=overwrite)
    seed = fit_config.seed if seed is None else seed
    dataset = fit_config.load_dataset()
    background = fit_config.background_model(dataset)
    width: dict[str, Any] | None = None
    if config.width_scan is not None:
        width = read_width(config.width_scan)
    elif config.width is not None:
        width = {"best": float(config.width)}
    width_error = None
    if width is not None:
        assert config.geometry is not None
        geometry = load_flight_geometry(config.geometry)
        component = SkyComponent(config.bulge, "gaussian", 0.0, 0.0, width["best"],
                                 width["best"])
        templates = dict(dataset.templates)
        templates[config.bulge] = geometry.template(component)
        dataset = dataclasses.replace(dataset, templates=templates)
        if "flux_range" in width:
            width_error = 0.5 * (width["flux_range"][1] - width["flux_range"][0])
    injected = read_truth(fit_config.dataset)
    truth = dict(injected["flux"]) if injected else None
    fits = []
    for model in config.models:
        log.info("sky model %s: templates %s", model.name, ", ".join(model.templates))
        fit = fit_sky_model(
            dataset, background, model, priors=config.priors, seed=seed,
            config=fit_config.sampler, background_prior_sd=fit_config.background_prior_sd,
            limits=config.limits, quantile=config.quantile,
            prior_sd_scale=config.prior_sd_scale, run_dir=model_dirs[model.name],
            overwrite=overwrite, truth=truth,
            extra={"cosi_config": fit_config.to_dict(),
                   "bulge_width": width["best"] if width else None})
        check_cosi_fit(fit.result)
        if report:
            write_report(model_dirs[model.name])
        fits.append(fit)
    comparison = None
    chosen = config.models[0].name
    if len(fits) > 1:
        names = [fit.model.name for fit in fits]
        comparison = compare_runs([model_dirs[name] for name in names], names=names).table
        chosen = choose_model(comparison, {fit.model.name: len(fit.model.templates)
                                           for fit in fits})
    table = model_table(fits, bulge=config.bulge, comparison=comparison, truth=truth,
                        width_error=width_error)
    summary = _summary(config, fits, table, comparison, chosen, width, truth, target,
                       model_dirs)
    figure = _flux_figure(fits, config.bulge, truth)
    written = write_analysis_run_dir(
        target, run_type="cosi_sky_models", summary=summary,
        files={"table3.csv": table.to_csv(index=False).encode(),
               "sky_model_fluxes.png": lambda p: figure.savefig(p, dpi=110),
               **({"comparison.csv": comparison.to_csv().encode()}
                  if comparison is not None else {})},
        inputs={"dataset": fit_config.dataset, "config": Path(path)},
        config={"cosi": fit_config.to_dict(), "sky_models": config.to_dict()},
        seed=seed, overwrite=overwrite, wall_time_s=time.perf_counter() - started,
        stan_versions=stan_versions())
    return SkyModelsRun(fits=tuple(fits), table=table, comparison=comparison, chosen=chosen,
                        width=width, run_dir=written)


def _summary(config: SkyModelsConfig, fits: list[SkyModelFit], table: pd.DataFrame,
             comparison: pd.DataFrame | None, chosen: str, width: dict[str, Any] | None,
             truth: dict[str, float] | None, target: Path,
             model_dirs: dict[str, Path]) -> dict[str, Any]:
    chosen_fit = next(fit for fit in fits if fit.model.name == chosen)
    bulge = chosen_fit.fluxes.get(config.bulge)
    headline = f"chosen model {chosen}"
    if bulge is not None:
        headline += (f": bulge {bulge.median * 1e3:.2f} (+{(bulge.upper - bulge.median) * 1e3:.2f}"
                     f" -{(bulge.median - bulge.lower) * 1e3:.2f})e-3 ph cm-2 s-1")
    columns = ["model", "bulge", "disk", "total", "disk_limit"]
    rows = [[row["model"], row["bulge"], row["disk"], row["total"],
             None if not np.isfinite(row["disk_limit"]) else float(f"{row['disk_limit']:.4g}")]
            for _, row in table.iterrows()]
    tables = [{"title": f"[COSI-511] Table 3: fluxes in 1e-3 ph cm-2 s-1, posterior median "
                        f"(68.3 % interval); disk limit: {config.quantile:.5g} quantile, "
                        "ph cm-2 s-1",
               "columns": columns, "rows": rows}]
    if comparison is not None:
        shown = comparison.reset_index()
        keep = [c for c in ("run", "elpd_loo", "se", "elpd_diff", "dse", "pareto_k_bad",
                            "log_lik_max", "n_parameters", "dAIC", "dBIC") if c in shown]
        tables.append({"title": "Model comparison (PSIS-LOO per time bin; AIC, BIC at the "
                                "maximum likelihood)", "columns": keep,
                       "rows": [[_plain(v) for v in row] for row in shown[keep].itertuples(
                           index=False)]})
    limits = [[fit.model.name, name, values["quantile"], values["upper_limit"],
               values["prior_upper"], values.get("wide_prior_upper_limit")]
              for fit in fits for name, values in fit.limits.items()]
    if limits:
        tables.append({"title": "Upper limits (ph cm-2 s-1): posterior quantile, the same "
                                "quantile of the prior alone, and the posterior quantile "
                                "with the prior sd scaled by "
                                f"{config.prior_sd_scale:g}",
                       "columns": ["model", "template", "quantile", "upper limit",
                                   "prior quantile", "wider prior"],
                       "rows": [[_plain(v) for v in row] for row in limits]})
    relative = {name: _relative(path, target) for name, path in model_dirs.items()}
    return {
        "key_result": headline,
        "chosen_model": chosen,
        "choice_rule": "highest elpd_loo, or the simplest model within 2 dse of it",
        "bulge_width": width,
        "truth": truth,
        "models": {
            fit.model.name: {
                "templates": list(fit.model.templates),
                "run_dir": relative[fit.model.name],
                "fluxes": {k: v.to_dict() for k, v in fit.fluxes.items()},
                "limits": fit.limits,
                "max_likelihood": fit.max_likelihood,
                "diagnostics_passed": bool(fit.result.diagnostics.passed),
            } for fit in fits},
        "table3": table.replace({np.nan: None}).to_dict(orient="records"),
        "tables": tables,
        "figures": [{"file": "sky_model_fluxes.png",
                     "caption": "Posterior of the bulge and disk fluxes per model (boxes: "
                                "68.3 %, whiskers: 95.4 %), the disk limits and, on a "
                                "simulation, the injected fluxes."}],
    }


def _flux_figure(fits: list[SkyModelFit], bulge: str, truth: dict[str, float] | None
                 ) -> Figure:
    fig = Figure(figsize=(7.5, 0.9 * len(fits) + 1.6))
    ax = fig.subplots()
    for row, fit in enumerate(fits):
        for offset, name in ((0.15, bulge), (-0.15, None)):
            template = name or next((t for t in fit.model.templates if t != bulge), None)
            if template is None or template not in fit.fluxes:
                continue
            draws = fit.flux_draws(template) * 1e3
            q = np.quantile(draws, [0.0228, 0.1587, 0.5, 0.8413, 0.9772])
            color = "tab:blue" if template == bulge else "tab:orange"
            y = row + offset
            ax.plot([q[0], q[4]], [y, y], color=color, lw=1)
            ax.plot([q[1], q[3]], [y, y], color=color, lw=6, alpha=0.6)
            ax.plot(q[2], y, "o", color=color, label=template if row == 0 or
                    template != bulge else None)
            if template in fit.limits:
                ax.plot(fit.limits[template]["upper_limit"] * 1e3, y, "<", color=color)
            if truth and template in truth:
                ax.plot(truth[template] * 1e3, y, "k|", markersize=14)
    ax.set_yticks(range(len(fits)), [fit.model.name for fit in fits])
    ax.set_xlabel("flux (1e-3 ph cm-2 s-1)")
    ax.axvline(0.0, color="0.8", lw=0.8)
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles, strict=False))
    ax.legend(unique.values(), unique.keys(), loc="best", fontsize=8)
    ax.invert_yaxis()
    fig.tight_layout()
    return fig


def _relative(path: Path, base: Path) -> str:
    try:
        return str(Path(path).absolute().relative_to(Path(base).absolute().parent))
    except ValueError:
        return str(Path(path).absolute())


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value
