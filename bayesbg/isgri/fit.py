"""NUTS fit of the flux mixture of every region x band in one Stan run
(``stan_models/isgri_flux_mixture.stan``; the model and its likelihood are described in
`bayesbg.isgri.model.mixture_likelihood`, its data in `bayesbg.isgri.model.flux_groups`).

Priors (weakly informative, from robust statistics of each group, ``m`` the median and
``s = 1.4826 MAD``): ``mu ~ N(m, 10 s)``, ``sigma ~ N+(0, 5 s)``,
``(w_c, w_lo, w_hi) ~ Dirichlet(5, 1, 1)``. The groups are independent.

A single Gaussian core is an approximation: the core width varies from pointing to
pointing (source confusion towards the bulge), so the posterior sd of ``mu`` is
corrected to the sandwich (misspecification-robust) sd, ``Sigma V Sigma`` with
``Sigma`` the posterior covariance of ``(mu, sigma, w_lo, w_hi)`` and ``V`` the
variance of the per-pointing score ``grad log P_j`` at the posterior mean (column
``mu_sd_robust``; equal to ``mu_sd`` when the model is right).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import arviz as az
import cmdstanpy
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from bayesbg.config import SamplerConfig, check_seed
from bayesbg.isgri.model.flux_groups import FluxGroups
from bayesbg.isgri.model.mixture_likelihood import bin_scores, score_variance
from bayesbg.stan import (
    FitResult,
    check_run_dir,
    compile_model,
    conclude_fit,
    sample,
    stan_model_file,
    to_inference_data,
)

__all__ = [
    "MIXTURE_PARAMETERS",
    "FluxMixtureResult",
    "fit_flux_mixture",
    "flux_mixture_model",
    "mixture_initial_values",
]

log = logging.getLogger(__name__)

MIXTURE_PARAMETERS = ("mu", "sigma", "weight_low", "weight_high")
"""Reported quantities: flux per FOV and core width (mCrab), wing weights."""


@dataclass(frozen=True, eq=False)
class FluxMixtureResult(FitResult):
    """Outcome of :func:`fit_flux_mixture`: a `bayesbg.stan.FitResult` with the flux table.

    Attributes
    ----------
    table : `pandas.DataFrame`
        Index: group names. Columns ``mu`` (posterior mean, mCrab), ``mu_sd``,
        ``mu_sd_robust`` (sandwich-corrected sd, module docstring), ``mu_q5``,
        ``mu_q95``, ``sigma``, ``weight_low``, ``weight_high`` (posterior means),
        ``n`` (pointings), ``r_hat`` (largest over the group's quantities).
    inference_data, diagnostics, seed, config, run_dir, fit
        As in `bayesbg.stan.FitResult`.
    summary : `pandas.DataFrame`
        `bayesbg.stan.parameter_summary` of the mixture parameters.
    """

    table: pd.DataFrame | None = None


def flux_mixture_model() -> cmdstanpy.CmdStanModel:
    """The compiled ``stan_models/isgri_flux_mixture.stan`` (cached).

    Returns
    -------
    model : `cmdstanpy.CmdStanModel`
    """
    return compile_model(stan_model_file("isgri_flux_mixture"))


def fit_flux_mixture(
    groups: FluxGroups,
    *,
    seed: int,
    config: SamplerConfig | None = None,
    run_dir: str | Path | None = None,
    overwrite: bool = False,
    model: cmdstanpy.CmdStanModel | None = None,
    save_log_lik: bool = False,
) -> FluxMixtureResult:
    """Sample the mixture posterior of every group (one Stan run).

    Parameters
    ----------
    groups : `FluxGroups`
    seed : int
        Random seed.
    config : `bayesbg.config.SamplerConfig`, optional
        Default: 2 chains, 500 + 500 iterations.
    run_dir : str or `~pathlib.Path`, optional
        Write a run directory (`bayesbg.stan.write_run_dir`).
    overwrite : bool
        Replace an existing run directory. Default is False.
    model : `cmdstanpy.CmdStanModel`, optional
        Compiled ``isgri_flux_mixture``; default :func:`flux_mixture_model`.
    save_log_lik : bool
        Keep the pointwise log-likelihood (for ``az.loo``). Default is False.

    Returns
    -------
    result : `FluxMixtureResult`
    """
    seed = check_seed(seed)
    if not isinstance(groups, FluxGroups):
        raise TypeError(f"groups: expected FluxGroups, found {type(groups).__name__}")
    config = config if config is not None else SamplerConfig(chains=2, iter_warmup=500,
                                                             iter_sampling=500)
    target = check_run_dir(run_dir, overwrite=overwrite) if run_dir is not None else None
    model = model if model is not None else flux_mixture_model()
    data = groups.to_stan_data(save_log_lik=save_log_lik)
    inits = mixture_initial_values(data, chains=config.chains, seed=seed)
    fit = sample(model, data, seed=seed, inits=inits, **config.to_kwargs())
    coords = {"group": list(groups.names), "component": ["core", "low", "high"]}
    dims = {"mu": ["group"], "sigma": ["group"], "weight": ["group", "component"],
            "weight_low": ["group"], "weight_high": ["group"]}
    if save_log_lik:
        coords["pointing"] = list(range(groups.flux.size))
        dims["log_lik"] = ["pointing"]
    idata = to_inference_data(fit, log_likelihood="log_lik" if save_log_lik else None,
                              coords=coords, dims=dims)
    if not save_log_lik and "log_lik" in idata.posterior:
        idata.posterior = idata.posterior.drop_vars("log_lik")
    with warnings.catch_warnings():  # constant draws (weights at a bound) in R-hat and ESS
        warnings.simplefilter("ignore", RuntimeWarning)
        return conclude_fit(
            FluxMixtureResult, fit, idata, model=model, stan_data=data, config=config,
            seed=seed, parameters=("mu", "sigma", "weight"),
            summary_parameters=MIXTURE_PARAMETERS, run_dir=target, overwrite=overwrite,
            units={"mu": "mCrab", "sigma": "mCrab", "weight": "", "weight_low": "",
                   "weight_high": ""},
            fields=lambda _, summary: {"table": _flux_table(groups, idata, summary)},
            extra={"model": "isgri_flux_mixture", "groups": list(groups.names)},
        )


def _flux_table(groups: FluxGroups, idata: az.InferenceData,
                summary: pd.DataFrame) -> pd.DataFrame:
    """Per group: posterior mean, sd (plain and sandwich), quantiles of mu; R-hat."""
    post = idata.posterior
    mu = post["mu"].values.reshape(-1, groups.n_group)
    sigma = post["sigma"].values.reshape(-1, groups.n_group)
    low = post["weight_low"].values.reshape(-1, groups.n_group)
    high = post["weight_high"].values.reshape(-1, groups.n_group)
    rows = {
        "mu": mu.mean(axis=0), "mu_sd": mu.std(axis=0, ddof=1),
        "mu_q5": np.quantile(mu, 0.05, axis=0), "mu_q95": np.quantile(mu, 0.95, axis=0),
        "sigma": sigma.mean(axis=0), "weight_low": low.mean(axis=0),
        "weight_high": high.mean(axis=0), "n": groups.group_size,
    }
    rows["mu_sd_robust"] = [
        _sandwich_sd(groups, name, np.stack([mu[:, g], sigma[:, g], low[:, g], high[:, g]],
                                            axis=1))
        for g, name in enumerate(groups.names)]
    table = pd.DataFrame(rows, index=pd.Index(groups.names, name="group"))
    table["r_hat"] = [
        float(np.nanmax(summary.loc[[f"{p}[{name}]" for p in MIXTURE_PARAMETERS], "r_hat"]))
        for name in groups.names
    ]
    return table


def _sandwich_sd(groups: FluxGroups, name: str, draws: NDArray[np.float64]) -> float:
    """Sandwich sd of ``mu`` from draws of ``(mu, sigma, w_lo, w_hi)`` (module docstring)."""
    edges, counts = groups.bins(name)
    theta = draws.mean(axis=0)
    covariance = np.cov(draws, rowvar=False)
    if not np.all(np.isfinite(covariance)) or covariance[0, 0] <= 0:
        return float("nan")
    score = bin_scores(edges, theta, 1e-3 * np.sqrt(np.diag(covariance)))
    adjusted = covariance @ score_variance(counts, score) @ covariance
    return float(np.sqrt(max(adjusted[0, 0], 0.0)))


def mixture_initial_values(data: Mapping[str, Any], *, chains: int, seed: int
                           ) -> list[dict[str, Any]]:
    """Per-chain initial values near the robust centre and scale of each group.

    Parameters
    ----------
    data : mapping
        Stan data of `FluxGroups.to_stan_data` (``mu_prior_mean``, ``sigma_prior_sd``,
        ``flux_min``, ``flux_max``).
    chains : int
    seed : int

    Returns
    -------
    inits : list of dict
        ``mu``, ``sigma`` (mCrab) and ``weight`` per group, one dict per chain.
    """
    generator = np.random.default_rng([int(seed), 0x15A1])
    centre = np.asarray(data["mu_prior_mean"])
    scale = np.asarray(data["sigma_prior_sd"]) / 5
    inits = []
    for _ in range(chains):
        mu = centre + 0.1 * scale * generator.standard_normal(centre.size)
        mu = np.clip(mu, np.asarray(data["flux_min"]) + 1e-6, np.asarray(data["flux_max"]) - 1e-6)
        weight = [[0.9, 0.05, 0.05]] * centre.size
        inits.append({"mu": mu.tolist(),
                      "sigma": (scale * np.exp(0.1 * generator.standard_normal(centre.size))
                                ).tolist(),
                      "weight": weight})
    return inits
