"""Fit COSI sky-template fluxes and background amplitudes: NUTS or maximum likelihood.

The program is ``stan_models/cosi_template_fit.stan`` (DOMAIN.md section 1); its input
is a `CosiFitData` from :func:`bayesbg.cosi.prepare_fit_data`, or a TOML configuration
read by :class:`CosiFitConfig` and turned into one by :func:`fit_data_from_config`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import arviz as az
import cmdstanpy
import numpy as np
from numpy.typing import ArrayLike

from bayesbg.config import SamplerConfig
from bayesbg.cosi.config import CosiFitConfig
from bayesbg.cosi.likelihood import CosiFitData, prepare_fit_data
from bayesbg.stan import (
    OptimizeResult,
    check_run_dir,
    compile_model,
    optimize,
    sample,
    stan_model_file,
    to_inference_data,
)
from bayesbg.stan.result import FitResult, conclude_fit

__all__ = [
    "PARAMETERS",
    "CosiFitResult",
    "cosi_fit_model",
    "fit_cosi",
    "fit_data_from_config",
    "maximum_likelihood",
    "prior_initial_values",
    "run_fit_config",
]

log = logging.getLogger(__name__)

PARAMETERS = ("flux", "background_amplitude")
"""Parameters of ``cosi_template_fit.stan``: F_k (ph cm-2 s-1) and A_b (dimensionless)."""
MODEL_NAME = "cosi_template_fit"
#: Copy of the configuration file in a run directory of `run_fit_config`.
CONFIG_COPY = "cosi.toml"


class CosiFitResult(FitResult):
    """Outcome of :func:`fit_cosi`.

    Attributes
    ----------
    inference_data : `arviz.InferenceData`
        ``posterior`` (``flux`` over ``template``, ``background_amplitude`` over ``block``,
        ``sky_counts_time`` and ``background_counts_time`` over ``time``),
        ``log_likelihood`` (``log_lik`` per time bin), ``posterior_predictive``
        (``counts_time_rep``), ``observed_data`` (``counts_time``), ``constant_data``,
        ``sample_stats``.
    diagnostics : `bayesbg.stan.Diagnostics`
    summary : `pandas.DataFrame`
        Per parameter ``[truth,] mean, sd, q5, q50, q95, r_hat, ess_bulk, ess_tail``.
    seed : int
    config : `bayesbg.config.SamplerConfig`
    run_dir : `~pathlib.Path` or None
    fit : `cmdstanpy.CmdStanMCMC`
    """


def cosi_fit_model(*, threads: bool = False, native: bool = False) -> cmdstanpy.CmdStanModel:
    """The compiled ``stan_models/cosi_template_fit.stan`` (cached).

    Parameters
    ----------
    threads : bool
        Compile with ``STAN_THREADS``: the fused likelihood's chunks (and the plain
        program's ``reduce_sum``) then run on ``threads_per_chain`` threads.
        Default is False.
    native : bool
        Compile with ``CXXFLAGS=-march=native``. Since the fused likelihood picks
        its AVX2 code at run time, this no longer speeds up this program (about 2 ms
        per gradient either way at full scale, docs/cosi.md); it is kept for
        experiments. The first such build takes a few minutes longer (CmdStan builds a
        driver object and a precompiled header for this flag set), and the executable
        runs only on CPUs like this one: the cache key holds the CPU's model name and
        flags. Default is False.
    """
    cpp_options = {"CXXFLAGS": "-march=native"} if native else None
    return compile_model(stan_model_file(MODEL_NAME), threads=threads, cpp_options=cpp_options)


def fit_cosi(
    data: CosiFitData,
    *,
    seed: int,
    config: SamplerConfig | None = None,
    run_dir: str | Path | None = None,
    overwrite: bool = False,
    truth: Mapping[str, ArrayLike] | None = None,
    model: cmdstanpy.CmdStanModel | None = None,
    grainsize: int = 0,
    extra: Mapping[str, Any] | None = None,
    files: Mapping[str, Any] | None = None,
    predictive_checks: bool = True,
) -> CosiFitResult:
    """Sample the posterior of the COSI template fit with NUTS.

    Chains start from independent draws (seeded from ``seed``): fluxes from their
    truncated-normal prior, amplitudes from ``N(1, 0.02)`` (the likelihood pins them to
    about 1 % around 1, so prior draws would only lengthen the warm-up).

    Parameters
    ----------
    data : `CosiFitData`
        From :func:`bayesbg.cosi.prepare_fit_data`.
    seed : int
        Random seed of the run.
    config : `bayesbg.config.SamplerConfig`, optional
        Sampler settings. Default ``SamplerConfig()``.
    run_dir : str or `~pathlib.Path`, optional
        Write a run directory (see `bayesbg.stan.write_run_dir`). Default: none.
    overwrite : bool
        Replace an existing run directory. Default is False.
    truth : mapping, optional
        Known parameter values for the summary (e.g. ``{"flux": [1e-3]}``).
    model : `cmdstanpy.CmdStanModel`, optional
        Compiled program; default :func:`cosi_fit_model` (threaded if
        ``config.threads_per_chain > 1``).
    grainsize : int
        Chunk size in populated bins (see `CosiFitData.to_stan_data`); 0: the
        default (8,192 bins per chunk of the fused C++ pass). Default is 0.
    extra : mapping, optional
        More entries for ``summary.json``.
    files : mapping of str to bytes or callable, optional
        More files for the run directory (see `bayesbg.stan.write_run_dir`), e.g. the
        configuration file.
    predictive_checks : bool
        With ``run_dir``: posterior predictive checks along time, phi and psi-chi
        (`bayesbg.cosi.predictive_check`), summarised in ``summary.json`` as
        ``predictive_checks`` and drawn in ``ppc_time.png``, ``ppc_phi.png`` and
        ``ppc_psi_chi.png``. Default is True.

    Returns
    -------
    result : `CosiFitResult`

    Raises
    ------
    FileExistsError
        If ``run_dir`` holds a run and ``overwrite`` is False (checked before sampling).
    bayesbg.stan.StanRunError
        If CmdStan fails.
    """
    if not isinstance(data, CosiFitData):
        raise TypeError(f"data: expected CosiFitData, found {type(data).__name__}")
    config = config if config is not None else SamplerConfig()
    target = check_run_dir(run_dir, overwrite=overwrite) if run_dir is not None else None
    if model is None:
        model = cosi_fit_model(threads=config.threads_per_chain > 1)
    stan_data = data.to_stan_data(grainsize=grainsize)
    inits = prior_initial_values(data, chains=config.chains, seed=seed)
    fit = sample(model, stan_data, seed=seed, inits=inits, **config.to_kwargs())
    idata = _inference_data(fit, data)
    ppc_summary, ppc_files = {}, {}
    if target is not None and predictive_checks:
        from bayesbg.cosi.ppc_figures import predictive_check_outputs

        ppc_summary, ppc_files = predictive_check_outputs(idata, data, seed=seed)
    return conclude_fit(
        CosiFitResult, fit, idata, model=model, stan_data=stan_data, config=config, seed=seed,
        parameters=PARAMETERS, truth=_truth(truth), run_dir=target, overwrite=overwrite,
        extra={
            "model": MODEL_NAME,
            "inits": "independent draws from the priors",
            "problem": {
                "n_time": data.n_time,
                "n_data_bin": data.dataset.n_data_bin,
                "n_nonzero": data.n_nonzero,
                "n_block": data.n_block,
                "templates": list(data.template_names),
                "tracer": data.background_model.tracer_name,
            },
            **ppc_summary,
            **dict(extra or {}),
        },
        files={**ppc_files, **dict(files or {})},
    )


def maximum_likelihood(
    data: CosiFitData,
    *,
    seed: int,
    model: cmdstanpy.CmdStanModel | None = None,
    **kwargs: Any,
) -> OptimizeResult:
    """Maximum-likelihood fit (priors off, no Jacobian) with ``log L``, AIC and BIC.

    ``log_likelihood`` of the result is the full Poisson ``ln L`` (with the ``log d!``
    terms), the sum of the per-time-bin ``log_lik``; ``n_parameters`` is
    ``n_template + n_block``, so ``aic = 2 n_par - 2 ln L`` as in [COSI-511] eq. 5.

    Parameters
    ----------
    data : `CosiFitData`
    seed : int
        Seed of the optimiser's initial values.
    model : `cmdstanpy.CmdStanModel`, optional
        Compiled program; default :func:`cosi_fit_model`.
    **kwargs
        More keywords of `bayesbg.stan.optimize` (``algorithm``, ``iter``, ...);
        ``sig_figs`` defaults to 15 so that ``ln L`` is exact to well below 1.

    Returns
    -------
    result : `bayesbg.stan.OptimizeResult`
    """
    model = model if model is not None else cosi_fit_model()
    stan_data = data.to_stan_data(use_priors=False)
    inits = {
        "flux": [float(max(m, 1e-3 * s)) for m, s in
                 zip(data.flux_prior_mean, data.flux_prior_sd, strict=True)],
        "background_amplitude": [1.0] * data.n_block,
    }
    kwargs.setdefault("iter", 10000)
    kwargs.setdefault("sig_figs", 15)  # AIC differences of O(1) on ln L of O(1e6)
    return optimize(model, stan_data, seed=seed, jacobian=False, inits=inits, **kwargs)


def fit_data_from_config(config: CosiFitConfig) -> CosiFitData:
    """Load the dataset of a configuration, build its background model and fit data.

    Parameters
    ----------
    config : `CosiFitConfig`

    Returns
    -------
    data : `CosiFitData`
    """
    dataset = config.load_dataset()
    background_model = config.background_model(dataset)
    return prepare_fit_data(
        dataset,
        background_model,
        templates=config.templates,
        flux_prior_mean=config.flux_prior_mean,
        flux_prior_sd=config.flux_prior_sd,
        background_prior_sd=config.background_prior_sd,
    )


def run_fit_config(
    path: str | Path,
    *,
    run_dir: str | Path | None = None,
    overwrite: bool = False,
    seed: int | None = None,
    native: bool | None = None,
) -> CosiFitResult:
    """``bayesbg cosi fit CONFIG``: read a TOML configuration, fit, write a run directory.

    The run directory holds a copy of the configuration file as ``cosi.toml``;
    ``summary.json`` holds it resolved (absolute paths) as ``cosi_config``.

    Parameters
    ----------
    path : str or `~pathlib.Path`
        TOML configuration (see `CosiFitConfig`).
    run_dir : str or `~pathlib.Path`, optional
        Run directory; default the configuration's ``run_dir`` or ``runs/<config stem>``.
    overwrite : bool
        Replace an existing run directory. Default is False.
    seed : int, optional
        Overrides the configuration's seed.
    native : bool, optional
        Overrides the configuration's ``native``: use the ``-march=native`` build
        (:func:`cosi_fit_model`).

    Returns
    -------
    result : `CosiFitResult`
    """
    config = CosiFitConfig.read(path)
    native = config.native if native is None else native
    target = Path(run_dir) if run_dir is not None else config.run_dir
    check_run_dir(target, overwrite=overwrite)
    data = fit_data_from_config(config)
    return fit_cosi(
        data,
        seed=config.seed if seed is None else seed,
        config=config.sampler,
        run_dir=target,
        overwrite=overwrite,
        grainsize=config.grainsize,
        model=cosi_fit_model(threads=config.sampler.threads_per_chain > 1, native=True)
        if native else None,
        extra={"cosi_config": config.to_dict(), "cosi_config_file": CONFIG_COPY},
        files={CONFIG_COPY: Path(path).read_bytes()},
    )


def _inference_data(fit: cmdstanpy.CmdStanMCMC, data: CosiFitData) -> az.InferenceData:
    return to_inference_data(
        fit,
        log_likelihood="log_lik",
        posterior_predictive="counts_time_rep",
        observed_data={"counts_time": data.dataset.counts_per_time()},
        constant_data={
            "sky_per_time": data.sky_per_time,
            "background_per_time": data.background_per_time,
            "time_block": data.time_block,
            "time_edges": data.dataset.time_edges,
            "flux_prior_mean": data.flux_prior_mean,
            "flux_prior_sd": data.flux_prior_sd,
        },
        coords={
            "template": list(data.template_names),
            "block": list(range(1, data.n_block + 1)),
            "time": list(range(data.n_time)),
            "time_edge": list(range(data.n_time + 1)),
        },
        dims={
            "flux": ["template"],
            "background_amplitude": ["block"],
            "sky_counts_time": ["time"],
            "background_counts_time": ["time"],
            "log_lik": ["time"],
            "counts_time_rep": ["time"],
            "counts_time": ["time"],
            "sky_per_time": ["time", "template"],
            "background_per_time": ["time"],
            "time_block": ["time"],
            "time_edges": ["time_edge"],
            "flux_prior_mean": ["template"],
            "flux_prior_sd": ["template"],
        },
    )


def _truth(truth: Mapping[str, ArrayLike] | None) -> dict[str, Any] | None:
    if truth is None:
        return None
    return {name: value for name, value in truth.items() if name in PARAMETERS}


def prior_initial_values(data: CosiFitData, *, chains: int, seed: int
                         ) -> list[dict[str, Any]]:
    """Per-chain initial values, as :func:`fit_cosi` uses them.

    Parameters
    ----------
    data : `CosiFitData`
        The fit data (for the priors and the number of blocks).
    chains : int
        Number of chains.
    seed : int
        Seed; the same seed gives the same values.

    Returns
    -------
    inits : list of dict
        Per chain, ``flux`` (ph cm-2 s-1; drawn from the prior, kept above 1 % of
        ``max(prior mean, prior sd)``) and ``background_amplitude`` (dimensionless,
        normal around 1 with sd 0.02, clipped to [0.5, 1.5]).
    """
    generator = np.random.default_rng([int(seed), 0xC051])
    inits = []
    for _ in range(chains):
        flux = generator.normal(data.flux_prior_mean, data.flux_prior_sd)
        floor = 1e-2 * np.maximum(data.flux_prior_sd, data.flux_prior_mean)
        flux = np.where(flux > floor, flux, np.abs(flux) + floor)
        amplitude = np.clip(generator.normal(1.0, 0.02, data.n_block), 0.5, 1.5)
        inits.append({"flux": flux.tolist(), "background_amplitude": amplitude.tolist()})
    return inits
