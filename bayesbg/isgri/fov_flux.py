"""Flux per IBIS field of view: the Gaussian-plus-flat-wings mixture and the paper's
histogram estimator ([ISGRI] Appendix A, DOMAIN.md 3).

The per-pointing residual fluxes ``r`` (mCrab per FOV) of the pointings in a sky region
are modelled as (``stan_models/isgri_flux_mixture.stan``)

.. math:: p(r) = w_c N(r | \\mu, \\sigma) + w_{lo} U(r | r_{min}, \\mu)
                 + w_{hi} U(r | \\mu, r_{max}),

with ``mu`` the flux per FOV; ``r_min``/``r_max`` just below/above the smallest/largest
residual (the wings span the data). Priors (weakly informative, from robust statistics
of each group, ``m`` the median and ``s = 1.4826 MAD``):
``mu ~ N(m, 10 s)``, ``sigma ~ N+(0, 5 s)``, ``(w_c, w_lo, w_hi) ~ Dirichlet(5, 1, 1)``.
Many groups (regions x bands) are fitted in one Stan run, independently.

The likelihood is that of the **binned** residuals (multinomial over bins, exact for the
histogram): bins of ``s / 5`` within ``m +- 6 s`` and 20 equal bins over each wing out
to ``r_min`` and ``r_max``, about 100 bins per group whatever the number of pointings.
Bins of a fifth of the core width change the information on ``mu`` by well under 1 %
(Sheppard: a relative variance of ``h**2 / (12 sigma**2)``).

A single Gaussian core is an approximation: the core width varies from pointing to
pointing (source confusion towards the bulge), so the posterior sd of ``mu`` is
corrected to the sandwich (misspecification-robust) sd, ``Sigma V Sigma`` with
``Sigma`` the posterior covariance of ``(mu, sigma, w_lo, w_hi)`` and ``V`` the
variance of the per-pointing score ``grad log P_j`` at the posterior mean (column
``mu_sd_robust``; equal to ``mu_sd`` when the model is right).

The paper's estimator fits a Gaussian (optionally plus two constants below and above
``mu``) to the histogram of ``r`` and quotes ``sigma / sqrt(N)`` as the error
(:func:`gaussian_histogram_estimate`, which adds the sandwich error of its fit).
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
from numpy.typing import ArrayLike, NDArray

from bayesbg.config import SamplerConfig
from bayesbg.isgri.background import orbit_correlated_variance
from bayesbg.isgri.crab import CrabCalibration
from bayesbg.isgri.flux_groups import MIN_GROUP_SIZE, FluxGroups, robust_scale
from bayesbg.isgri.histogram_estimate import GaussianEstimate, gaussian_histogram_estimate
from bayesbg.isgri.mixture_likelihood import (
    MixtureEstimate,
    bin_probability,
    bin_scores,
    fit_mixture_ml,
    score_variance,
)
from bayesbg.stan import (
    FitResult,
    check_run_dir,
    compile_model,
    conclude_fit,
    sample,
    stan_model_file,
    to_inference_data,
)

# The data (flux_groups), the maximum-likelihood fit (mixture_likelihood) and the
# paper's histogram estimator (histogram_estimate) have their own modules; their names
# are re-exported here, where they were defined before.
__all__ = [
    "MIN_GROUP_SIZE",
    "MIXTURE_PARAMETERS",
    "FluxGroups",
    "FluxMixtureResult",
    "GaussianEstimate",
    "MixtureEstimate",
    "bin_probability",
    "fit_flux_mixture",
    "fit_mixture_ml",
    "flux_mixture_model",
    "gaussian_histogram_estimate",
    "mixture_initial_values",
    "robust_scale",
    "systematic_variance",
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
    model: cmdstanpy.CmdStanModel | None = None,
    save_log_lik: bool = False,
    run_dir: str | Path | None = None,
    overwrite: bool = False,
) -> FluxMixtureResult:
    """Sample the mixture posterior of every group (one Stan run).

    Parameters
    ----------
    groups : `FluxGroups`
    seed : int
        Random seed.
    config : `bayesbg.config.SamplerConfig`, optional
        Default: 2 chains, 500 + 500 iterations.
    model : `cmdstanpy.CmdStanModel`, optional
        Default :func:`flux_mixture_model`.
    save_log_lik : bool
        Keep the pointwise log-likelihood (for ``az.loo``). Default is False.
    run_dir : str or `~pathlib.Path`, optional
        Write a run directory (`bayesbg.stan.write_run_dir`).
    overwrite : bool
        Replace an existing run directory. Default is False.

    Returns
    -------
    result : `FluxMixtureResult`
    """
    if not isinstance(groups, FluxGroups):
        raise TypeError(f"groups: expected FluxGroups, found {type(groups).__name__}")
    config = config if config is not None else SamplerConfig(chains=2, iter_warmup=500,
                                                             iter_sampling=500)
    target = check_run_dir(run_dir, overwrite=overwrite) if run_dir is not None else None
    model = model if model is not None else flux_mixture_model()
    data = groups.to_stan_data(save_log_lik=save_log_lik)
    fit = sample(model, data, seed=seed, inits=mixture_initial_values(data, config.chains, seed),
                 **config.to_kwargs())
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


def systematic_variance(
    flux: float, orbit: ArrayLike, background_error: ArrayLike, calibration: CrabCalibration,
    band: int,
) -> tuple[float, float]:
    """Orbit-level error terms of a region's mean flux, mCrab**2 (docs/isgri.md).

    The statistical error of ``mu`` treats the pointings as independent; two error
    sources are shared by many pointings and add to it:

    - the background model, shared by the pointings of an orbit:
      ``sum_o (sum_{i in o} e_i / N)**2`` with ``e_i`` the model error of pointing
      ``i`` in mCrab (`bayesbg.isgri.background.orbit_correlated_variance`);
    - the Crab calibration, shared by all pointings
      (`bayesbg.isgri.CrabCalibration.flux_variance`).

    Both enter the mean linearly, so they add in quadrature to the statistical
    variance: ``error**2 = stat**2 + background + calibration``. For the mixture this
    is the posterior of ``mu`` convolved with the (Gaussian, first-order) shift the
    shared errors cause; the mixture itself needs no per-orbit offsets, which would
    be weakly identified and tie the likelihood to individual pointings.

    Parameters
    ----------
    flux : float
        The region's flux, mCrab.
    orbit : array_like of int, shape (N,)
        Orbits of the region's pointings.
    background_error : array_like, shape (N,)
        Background model error of each pointing converted to mCrab
        (``1000 model_error / P(orbit)``).
    calibration : `bayesbg.isgri.CrabCalibration`
    band : int
        Index of the band in ``calibration.bands``.

    Returns
    -------
    background, calibration : float
        Variances, mCrab**2.
    """
    return (orbit_correlated_variance(orbit, background_error),
            calibration.flux_variance(flux, orbit, band))


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


def mixture_initial_values(data: Mapping[str, Any], chains: int, seed: int
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
