"""Fits of the sky models of [COSI-511] Table 3: fluxes, limits, pulls, the table.

Each model (:class:`~bayesbg.cosi.skymodels.config.SkyModel`: bulge alone, bulge + thin
disk, bulge + thick disk) is fitted twice on the same data and background model: by
maximum likelihood (priors off; ``ln L_max``, AIC, BIC, recorded in the run directory
for `bayesbg.report.compare_runs`) and with NUTS (:func:`bayesbg.cosi.fit_cosi`,
truncated-normal priors per template). From the draws: every template's flux and the
total with their 68.3 % intervals, the limits as a posterior quantile beside the same
quantile of the prior alone (and optionally of a fit with a wider prior), and, on a
simulation, the pulls ``(median - truth) / sd``.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bayesbg.config import SamplerConfig
from bayesbg.cosi.data import CosiDataset
from bayesbg.cosi.fit import CosiFitResult, fit_cosi, maximum_likelihood
from bayesbg.cosi.model.background import BackgroundModel
from bayesbg.cosi.model.fit_data import CosiFitData, prepare_fit_data
from bayesbg.cosi.skymodels.config import SkyModel
from bayesbg.cosi.skymodels.limits import (
    ONE_SIDED_3_SIGMA,
    FluxInterval,
    flux_interval,
    truncated_normal_quantile,
    upper_limit,
)
from bayesbg.stan import SamplerWarning

__all__ = ["SkyModelFit", "fit_sky_model", "model_table"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SkyModelFit:
    """One fitted sky model (:func:`fit_sky_model`).

    Attributes
    ----------
    model : `SkyModel`
    result : `bayesbg.cosi.CosiFitResult`
        The NUTS fit (its ``run_dir`` if written).
    max_likelihood : dict
        ``log_likelihood``, ``n_parameters``, ``aic``, ``bic``, ``flux`` (template ->
        ph cm-2 s-1) at the maximum of the likelihood.
    fluxes : dict of str to `FluxInterval`
        Per template and ``"total"``, ph cm-2 s-1.
    limits : dict of str to dict
        Per limit template: ``quantile``, ``upper_limit`` (posterior), ``prior_upper``
        (the same quantile of the prior), ``prior_upper_3sigma`` (its 99.865 %
        quantile), and with a wider-prior refit ``wide_prior_sd`` and
        ``wide_prior_upper_limit``.
    """

    model: SkyModel
    result: CosiFitResult
    max_likelihood: dict[str, Any]
    fluxes: dict[str, FluxInterval]
    limits: dict[str, dict[str, float]] = field(default_factory=dict)

    def flux_draws(self, template: str) -> np.ndarray:
        """Posterior draws of one template's flux (or ``"total"``), ph cm-2 s-1."""
        flux = self.result.inference_data.posterior["flux"]
        if template == "total":
            return flux.sum(dim="template").values.ravel()
        index = list(self.model.templates).index(template)
        return flux.isel(template=index).values.ravel()


def _fit_data(dataset: CosiDataset, background_model: BackgroundModel, model: SkyModel,
              priors: Mapping[str, tuple[float, float]], background_prior_sd: float,
              scale: Mapping[str, float] | None = None) -> CosiFitData:
    scale = scale or {}
    return prepare_fit_data(
        dataset, background_model, templates=model.templates,
        flux_prior_mean=[priors[t][0] for t in model.templates],
        flux_prior_sd=[priors[t][1] * scale.get(t, 1.0) for t in model.templates],
        background_prior_sd=background_prior_sd)


def fit_sky_model(
    dataset: CosiDataset,
    background_model: BackgroundModel,
    model: SkyModel,
    *,
    priors: Mapping[str, tuple[float, float]],
    seed: int,
    config: SamplerConfig | None = None,
    background_prior_sd: float = 0.1,
    limits: Sequence[str] = (),
    quantile: float = 0.97725,
    prior_sd_scale: float = 0.0,
    run_dir: str | Path | None = None,
    overwrite: bool = False,
    truth: Mapping[str, float] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> SkyModelFit:
    """Fit one sky model by maximum likelihood and NUTS; its fluxes and limits.

    Parameters
    ----------
    dataset : `bayesbg.cosi.CosiDataset`
        Holds the model's templates.
    background_model : `bayesbg.cosi.BackgroundModel`
    model : `SkyModel`
    priors : mapping of str to (float, float)
        ``N+(mean, sd)`` of each template's flux, ph cm-2 s-1.
    seed : int
    config : `bayesbg.config.SamplerConfig`, optional
    background_prior_sd : float
        ``sigma_A``. Default is 0.1.
    limits : sequence of str
        Templates of this model reported as upper limits (others are skipped).
    quantile : float
        Posterior quantile of a limit. Default 0.97725 (one-sided 2 sigma).
    prior_sd_scale : float
        If positive and the model has limits, fit again with their prior sd times this
        (no run directory) and report that limit too. Default 0.
    run_dir, overwrite
        The NUTS fit's run directory (`bayesbg.cosi.fit_cosi`).
    truth : mapping of str to float, optional
        Injected flux per template, for the summary's truth column.
    extra : mapping, optional
        More entries for ``summary.json``.

    Returns
    -------
    fit : `SkyModelFit`
    """
    data = _fit_data(dataset, background_model, model, priors, background_prior_sd)
    ml = maximum_likelihood(data, seed=seed)
    optimum = {"log_likelihood": float(ml.log_likelihood), "n_parameters": int(ml.n_parameters),
               "aic": float(ml.aic), "bic": float(ml.bic),
               "flux": {name: float(value) for name, value in
                        zip(model.templates, np.ravel(ml.estimate["flux"]), strict=True)}}
    known = {name: [float(truth[name])] for name in model.templates
             if truth is not None and name in truth}
    result = fit_cosi(
        data, seed=seed, config=config, run_dir=run_dir, overwrite=overwrite,
        truth={"flux": [known.get(name, [np.nan])[0] for name in model.templates]}
        if known else None,
        extra={"max_likelihood": optimum, "sky_model": {"name": model.name,
                                                       "templates": list(model.templates)},
               **dict(extra or {})})
    fit = SkyModelFit(model=model, result=result, max_likelihood=optimum, fluxes={})
    fluxes = {name: flux_interval(fit.flux_draws(name)) for name in model.templates}
    fluxes["total"] = flux_interval(fit.flux_draws("total"))
    object.__setattr__(fit, "fluxes", fluxes)
    own = [name for name in limits if name in model.templates]
    reported: dict[str, dict[str, float]] = {}
    for name in own:
        mean, sd = priors[name]
        reported[name] = {
            "quantile": float(quantile),
            "upper_limit": upper_limit(fit.flux_draws(name), quantile),
            "prior_upper": truncated_normal_quantile(mean, sd, quantile),
            "prior_upper_3sigma": truncated_normal_quantile(mean, sd, ONE_SIDED_3_SIGMA),
        }
    if own and prior_sd_scale > 0:
        wide = _fit_data(dataset, background_model, model, priors, background_prior_sd,
                         scale=dict.fromkeys(own, prior_sd_scale))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SamplerWarning)
            again = fit_cosi(wide, seed=seed, config=config)
        draws = again.inference_data.posterior["flux"]
        for name in own:
            index = list(model.templates).index(name)
            reported[name]["wide_prior_sd"] = float(priors[name][1] * prior_sd_scale)
            reported[name]["wide_prior_upper_limit"] = upper_limit(
                draws.isel(template=index).values.ravel(), quantile)
    object.__setattr__(fit, "limits", reported)
    return fit


def _cell(interval: FluxInterval | None) -> str:
    if interval is None:
        return "-"
    return (f"{interval.median * 1e3:.2f} (+{(interval.upper - interval.median) * 1e3:.2f} "
            f"-{(interval.median - interval.lower) * 1e3:.2f})")


def model_table(
    fits: Sequence[SkyModelFit],
    *,
    bulge: str = "bulge",
    comparison: pd.DataFrame | None = None,
    truth: Mapping[str, float] | None = None,
    width_error: float | None = None,
) -> pd.DataFrame:
    """[COSI-511] Table 3: one row per model, fluxes in 1e-3 ph cm-2 s-1.

    Parameters
    ----------
    fits : sequence of `SkyModelFit`
    bulge : str
        The bulge template; any other template of a model is its disk.
    comparison : `pandas.DataFrame`, optional
        `bayesbg.report.compare_runs` table indexed by model name (``elpd_loo``, ``se``,
        ``elpd_diff``, ``dse``, ``dAIC``, ``dBIC``, ``log_lik_max``).
    truth : mapping of str to float, optional
        Injected flux per template name (a simulation): pulls ``(median - truth) / sd``.
    width_error : float, optional
        Half the bulge flux's spread over the width's 68 % interval, ph cm-2 s-1: added
        as a column (the flux's dependence on the fitted width).

    Returns
    -------
    table : `pandas.DataFrame`
        Columns ``model``, ``bulge``, ``disk``, ``total`` (median and 68.3 % interval as
        text), ``disk_limit`` (the posterior quantile), numeric ``*_median``, ``*_sd``,
        ``*_pull``, and the comparison's columns.
    """
    rows = []
    for fit in fits:
        disks = [name for name in fit.model.templates if name != bulge]
        disk = disks[0] if disks else None
        row: dict[str, Any] = {"model": fit.model.name}
        for column, name in (("bulge", bulge if bulge in fit.fluxes else None),
                             ("disk", disk), ("total", "total")):
            interval = fit.fluxes.get(name) if name else None
            row[column] = _cell(interval)
            row[f"{column}_median"] = interval.median if interval else np.nan
            row[f"{column}_sd"] = interval.sd if interval else np.nan
            expected = np.nan
            if truth is not None and interval is not None:
                if column == "total":
                    expected = float(sum(truth.values()))
                elif name in truth:
                    expected = float(truth[name])
            row[f"{column}_truth"] = expected
            row[f"{column}_pull"] = (interval.median - expected) / interval.sd \
                if interval is not None and np.isfinite(expected) else np.nan
        limit = fit.limits.get(disk) if disk else None
        row["disk_limit"] = limit["upper_limit"] if limit else np.nan
        row["ln_L_max"] = fit.max_likelihood["log_likelihood"]
        row["n_parameters"] = fit.max_likelihood["n_parameters"]
        if width_error is not None:
            row["bulge_width_error"] = width_error
        rows.append(row)
    table = pd.DataFrame(rows)
    if comparison is not None:
        keep = [c for c in ("elpd_loo", "se", "elpd_diff", "dse", "pareto_k_bad", "AIC",
                            "BIC", "dAIC", "dBIC") if c in comparison.columns]
        table = table.merge(comparison[keep], left_on="model", right_index=True, how="left")
    return table
