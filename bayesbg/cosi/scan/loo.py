"""PSIS-LOO of background variants, beside the AIC of the background scan.

AIC ranks the variants by their maximum likelihood ([COSI-511] eq. 5). PSIS-LOO
(Vehtari, Gelman & Gabry 2017) ranks them by their expected log predictive density,
from posterior draws: :func:`background_loo` fits the given variants with NUTS
(:func:`bayesbg.cosi.fit_cosi`, the fit's priors and sampler settings) on a Dask
cluster and computes ``az.loo`` on the per-time-bin log-likelihood ``log_lik`` (leaving
out one time bin at a time; docs/equations.md section 1). The Pareto k diagnostic is
kept: above 0.7 for a time bin, leaving that bin out moves the posterior too far for
importance sampling (typical of blocks of a few bins, whose amplitude one bin pins).
"""

from __future__ import annotations

import dataclasses
import logging
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import arviz as az
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from bayesbg.config import SamplerConfig
from bayesbg.cosi.data import CosiDataset
from bayesbg.cosi.fit import fit_cosi
from bayesbg.cosi.model.background import build_background_model
from bayesbg.cosi.model.fit_data import prepare_fit_data
from bayesbg.cosi.scan.background import BackgroundVariant
from bayesbg.cosi.scan.points import dataset_fingerprint
from bayesbg.cosi.scan.runner import fingerprint, run_points
from bayesbg.stan import SamplerWarning

__all__ = ["LOO_COLUMNS", "PARETO_K_BAD", "background_loo", "fit_loo_point"]

log = logging.getLogger(__name__)

PARETO_K_BAD = 0.7
"""Pareto k above which PSIS-LOO is unreliable for a time bin."""
LOO_COLUMNS = ("elpd_loo", "se_loo", "p_loo", "pareto_k_bad", "max_r_hat")
"""Columns :func:`background_loo` adds per variant."""


def background_loo(
    dataset: CosiDataset,
    variants: Sequence[BackgroundVariant],
    *,
    seed: int,
    config: SamplerConfig | None = None,
    templates: Sequence[str] | None = None,
    response: NDArray[np.float64] | None = None,
    flux_prior_mean: float | ArrayLike = 1e-3,
    flux_prior_sd: float | ArrayLike = 3e-3,
    background_prior_sd: float = 0.1,
    work_dir: str | Path | None = None,
    overwrite: bool = False,
    scheduler: Any = None,
    workers: int = 1,
    processes: bool = True,
    show_progress: bool | None = None,
) -> pd.DataFrame:
    """PSIS-LOO of each variant's NUTS fit, on a Dask cluster, resumable.

    Parameters
    ----------
    dataset : `CosiDataset`
    variants : sequence of `BackgroundVariant`
    seed : int
        Seed of every fit.
    config : `bayesbg.config.SamplerConfig`, optional
        Sampler settings. Default ``SamplerConfig()``.
    templates, response
        As in :func:`bayesbg.cosi.scan.scan_background`.
    flux_prior_mean, flux_prior_sd, background_prior_sd
        The fit's priors (:func:`bayesbg.cosi.model.prepare_fit_data`).
    work_dir, overwrite, scheduler, workers, processes, show_progress
        As in :func:`bayesbg.cosi.scan.scan_background`; default one worker (each fit
        runs its chains in parallel already).

    Returns
    -------
    table : `pandas.DataFrame`
        One row per variant: ``key``, ``elpd_loo``, ``se_loo``, ``p_loo``,
        ``pareto_k_bad`` (time bins with k > 0.7), ``max_r_hat``, ``error``.
    """
    variants = tuple(variants)
    if not variants:
        raise ValueError("variants: expected at least one background variant")
    config = config if config is not None else SamplerConfig()
    names = tuple(templates) if templates is not None else dataset.template_names
    shared = {"dataset": dataset, "templates": names, "response": response,
              "config": {**dataclasses.asdict(config), "show_progress": False},
              "priors": (np.atleast_1d(np.asarray(flux_prior_mean, dtype=float)).tolist(),
                         np.atleast_1d(np.asarray(flux_prior_sd, dtype=float)).tolist(),
                         float(background_prior_sd))}
    digest = fingerprint("loo", dataset_fingerprint(dataset), list(names), int(seed),
                         shared["config"], shared["priors"],
                         response if response is not None else "default")
    points = {variant.key: {**variant.to_dict(), "seed": int(seed)} for variant in variants}
    run = run_points(fit_loo_point, points, shared=shared, work_dir=work_dir,
                     fingerprint=digest, overwrite=overwrite, scheduler=scheduler,
                     workers=workers, processes=processes, show_progress=show_progress,
                     description="background PSIS-LOO")
    rows = []
    for variant in variants:
        result = run.results[variant.key]
        row: dict[str, Any] = {"key": variant.key}
        if "error" in result:
            row.update(dict.fromkeys(LOO_COLUMNS, np.nan))
            row["error"] = result["error"]
        else:
            row.update({name: result[name] for name in LOO_COLUMNS})
            row["error"] = ""
        rows.append(row)
    return pd.DataFrame(rows)


def fit_loo_point(shared: dict[str, Any], point: dict[str, Any]) -> dict[str, Any]:
    """One variant (on a Dask worker): NUTS fit, then PSIS-LOO over the time bins."""
    dataset: CosiDataset = shared["dataset"]
    variant = BackgroundVariant(point["scheme"], point["setting"], point["tracer"],
                                point["detrend"])
    background = build_background_model(dataset, blocks=variant.blocks(dataset),
                                        tracer=variant.tracer, response=shared["response"])
    mean, sd, background_sd = shared["priors"]
    data = prepare_fit_data(dataset, background, templates=shared["templates"],
                            flux_prior_mean=mean if len(mean) > 1 else mean[0],
                            flux_prior_sd=sd if len(sd) > 1 else sd[0],
                            background_prior_sd=background_sd)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplerWarning)
        result = fit_cosi(data, seed=int(point["seed"]),
                          config=SamplerConfig.from_dict(shared["config"]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loo = az.loo(result.inference_data, var_name="log_lik", pointwise=True)
    r_hat = result.summary["r_hat"].dropna()
    return {"elpd_loo": float(loo.elpd_loo), "se_loo": float(loo.se),
            "p_loo": float(loo.p_loo),
            "pareto_k_bad": int(np.sum(np.asarray(loo.pareto_k) > PARETO_K_BAD)),
            "max_r_hat": float(r_hat.max()) if len(r_hat) else float("nan")}
