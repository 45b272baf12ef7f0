"""Fit sky-template fluxes and background amplitudes with NUTS (docs/equations.md section 1)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cmdstanpy
import numpy as np
from numpy.typing import ArrayLike

from bayesbg.config import SamplerConfig, check_seed
from bayesbg.stan import (
    FitResult,
    check_run_dir,
    compile_model,
    conclude_fit,
    sample,
    stan_model_file,
    to_inference_data,
)
from bayesbg.template_fit.data import BinnedCounts

__all__ = ["PARAMETERS", "TemplateFitResult", "fit_templates", "template_fit_model"]

log = logging.getLogger(__name__)

PARAMETERS = ("flux", "background_amplitude")
"""Parameters of ``template_fit.stan``: F_k (ph cm-2 s-1) and A_b (dimensionless)."""


@dataclass(frozen=True, eq=False)
class TemplateFitResult(FitResult):
    """Outcome of :func:`fit_templates`.

    Attributes
    ----------
    inference_data : `arviz.InferenceData`
        Groups ``posterior`` (``flux`` over ``template``, ``background_amplitude`` over
        ``block``), ``log_likelihood`` (``log_lik`` over ``bin``),
        ``posterior_predictive`` (``counts_rep``), ``observed_data`` (``counts``),
        ``constant_data`` and ``sample_stats``.
    diagnostics : `bayesbg.stan.Diagnostics`
        Sampler checks.
    summary : `pandas.DataFrame`
        Per parameter: ``truth`` (if given), ``mean``, ``sd``, ``q5``, ``q50``, ``q95``,
        ``r_hat``, ``ess_bulk``, ``ess_tail``; fluxes in ph cm-2 s-1.
    seed : int
        The run's seed.
    config : `bayesbg.config.SamplerConfig`
        Sampler settings used.
    run_dir : `~pathlib.Path` or None
        The run directory written, if any.
    fit : `cmdstanpy.CmdStanMCMC`
        The cmdstanpy result.
    """


def template_fit_model(*, threads: bool = False) -> cmdstanpy.CmdStanModel:
    """The compiled ``stan_models/template_fit.stan`` (from the compile cache when unchanged).

    Parameters
    ----------
    threads : bool
        Compile with ``STAN_THREADS``. Default is False.

    Returns
    -------
    model : `cmdstanpy.CmdStanModel`
    """
    return compile_model(stan_model_file("template_fit"), threads=threads)


def fit_templates(
    data: BinnedCounts,
    *,
    seed: int,
    config: SamplerConfig | None = None,
    run_dir: str | Path | None = None,
    overwrite: bool = False,
    truth: Mapping[str, ArrayLike] | None = None,
    model: cmdstanpy.CmdStanModel | None = None,
) -> TemplateFitResult:
    """Sample the posterior of the template fit and optionally write a run directory.

    Model ([COSI-511] eqs. 3, 11; docs/equations.md section 1)::

        counts[i] ~ Poisson(sum_k F_k S[k, i] + A_b(i) Bg[i])
        F_k ~ N+(flux_prior_mean[k], flux_prior_sd[k]),  A_b ~ N+(1, background_prior_sd)

    Chains start from independent draws of the priors (seeded from ``seed``), which
    puts them on the scale of the fluxes (~1e-3) instead of Stan's default
    ``exp(uniform(-2, 2))``.

    Parameters
    ----------
    data : `BinnedCounts`
        Counts, responses and priors.
    seed : int
        Random seed of the run (sampler and initial values).
    config : `bayesbg.config.SamplerConfig`, optional
        Sampler settings. Default is ``SamplerConfig()`` (4 chains, 1000 + 1000).
    run_dir : str or `~pathlib.Path`, optional
        Write the run directory here (``posterior.nc``, ``summary.json``,
        ``config.toml``, ``csv/``; see `bayesbg.stan.write_run_dir`). Default: nothing is
        written.
    overwrite : bool
        Replace an existing run directory. Default is False.
    truth : mapping, optional
        Known parameter values (e.g. from `simulate_template_data`), added to the summary.
    model : `cmdstanpy.CmdStanModel`, optional
        Compiled ``template_fit`` model; default :func:`template_fit_model`.

    Returns
    -------
    result : `TemplateFitResult`

    Raises
    ------
    FileExistsError
        If ``run_dir`` holds a run and ``overwrite`` is False (checked before sampling).
    bayesbg.toolchain.CmdStanNotFoundError
        If CmdStan is not installed (run ``bayesbg setup``).
    bayesbg.stan.StanRunError
        If CmdStan fails.

    Examples
    --------
    >>> data, truth = simulate_template_data(42)  # doctest: +SKIP
    >>> result = fit_templates(data, seed=42, truth=truth)  # doctest: +SKIP
    >>> print(result.diagnostics)  # doctest: +SKIP
    """
    seed = check_seed(seed)
    if not isinstance(data, BinnedCounts):
        raise TypeError(f"data: expected BinnedCounts, found {type(data).__name__}")
    config = config if config is not None else SamplerConfig()
    target = check_run_dir(run_dir, overwrite=overwrite) if run_dir is not None else None
    model = model if model is not None else template_fit_model()
    stan_data = data.to_stan_data()
    inits = _prior_inits(data, chains=config.chains, seed=seed)
    fit = sample(model, stan_data, seed=seed, inits=inits, **config.to_kwargs())

    idata = to_inference_data(
        fit,
        log_likelihood="log_lik",
        posterior_predictive="counts_rep",
        observed_data={"counts": data.counts},
        constant_data={k: v for k, v in stan_data.items() if k != "counts"},
        coords={
            "template": list(data.template_names),
            "block": list(range(1, data.n_block + 1)),
            "bin": list(range(data.n_bin)),
        },
        dims={
            "flux": ["template"],
            "background_amplitude": ["block"],
            "log_lik": ["bin"],
            "counts_rep": ["bin"],
            "counts": ["bin"],
            "sky_response": ["template", "bin"],
            "background": ["bin"],
            "block": ["bin"],
            "flux_prior_mean": ["template"],
            "flux_prior_sd": ["template"],
        },
    )
    return conclude_fit(
        TemplateFitResult, fit, idata, model=model, stan_data=stan_data, config=config,
        seed=seed, parameters=PARAMETERS, truth=truth, run_dir=target, overwrite=overwrite,
        units={"flux": "ph cm-2 s-1", "background_amplitude": ""},
        extra={"model": "template_fit", "inits": "independent draws from the priors"},
    )


def _prior_inits(data: BinnedCounts, *, chains: int, seed: int) -> list[dict[str, Any]]:
    """Per-chain initial values drawn from the (truncated-normal) priors."""
    generator = np.random.default_rng([int(seed), 0x1A17])
    inits = []
    for _ in range(chains):
        inits.append({
            "flux": _positive_normal(generator, data.flux_prior_mean, data.flux_prior_sd),
            "background_amplitude": _positive_normal(
                generator, np.ones(data.n_block), np.full(data.n_block, data.background_prior_sd)
            ),
        })
    return inits


def _positive_normal(
    generator: np.random.Generator, mean: np.ndarray, sd: np.ndarray
) -> list[float]:
    """Normal draws truncated at a small positive floor (rejection, then clipping)."""
    draws = generator.normal(mean, sd)
    for _ in range(100):
        bad = draws <= 0
        if not bad.any():
            break
        draws[bad] = generator.normal(mean[bad], sd[bad])
    floor = 1e-3 * np.maximum(sd, np.abs(mean))
    return [float(x) for x in np.maximum(draws, floor)]
