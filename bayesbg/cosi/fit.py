"""Fit COSI sky-template fluxes and background amplitudes: NUTS or maximum likelihood.

The program is ``stan_models/cosi_template_fit.stan`` (docs/equations.md section 1,
:mod:`bayesbg.cosi.model.program`); its input is a `CosiFitData` from
:func:`bayesbg.cosi.model.prepare_fit_data`, or a TOML configuration read by
:class:`CosiFitConfig` and turned into one by :func:`fit_data_from_config`. A NUTS fit
ends in `bayesbg.stan.conclude_fit` (diagnostics, summary, run directory); its checks
(:func:`bayesbg.cosi.checks.check_cosi_fit`) are a later stage.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cmdstanpy
from numpy.typing import ArrayLike

from bayesbg.config import SamplerConfig, check_seed
from bayesbg.cosi.config import CosiFitConfig
from bayesbg.cosi.model.fit_data import CosiFitData, prepare_fit_data
from bayesbg.cosi.model.program import (
    MODEL_NAME,
    PARAMETERS,
    cosi_fit_model,
    inference_data,
    maximum_likelihood_initial_values,
    prior_initial_values,
)
from bayesbg.stan import FitResult, OptimizeResult, check_run_dir, conclude_fit, optimize, sample

__all__ = [
    "CONFIG_COPY",
    "CosiFitResult",
    "fit_cosi",
    "fit_data_from_config",
    "maximum_likelihood",
    "run_fit_config",
]

log = logging.getLogger(__name__)

#: Copy of the configuration file in a run directory of `run_fit_config`.
CONFIG_COPY = "cosi.toml"


@dataclass(frozen=True, eq=False)
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
    data : `CosiFitData`
        The data fitted (for the checks after the fit,
        :func:`bayesbg.cosi.checks.check_cosi_fit`).
    """

    data: CosiFitData = field(repr=False)


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
) -> CosiFitResult:
    """Sample the posterior of the COSI template fit with NUTS.

    Chains start from independent draws (seeded from ``seed``): fluxes from their
    truncated-normal prior, amplitudes from ``N(1, 0.02)`` (the likelihood pins them to
    about 1 % around 1, so prior draws would only lengthen the warm-up). The predictive
    checks are the next stage: :func:`bayesbg.cosi.checks.check_cosi_fit` on the result.

    Parameters
    ----------
    data : `CosiFitData`
        From :func:`bayesbg.cosi.model.prepare_fit_data`.
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
        Compiled program; default :func:`bayesbg.cosi.model.cosi_fit_model` (threaded
        if ``config.threads_per_chain > 1``).
    grainsize : int
        Chunk size in populated bins (see `CosiFitData.to_stan_data`); 0: the
        default (8,192 bins per chunk of the fused C++ pass). Default is 0.
    extra : mapping, optional
        More entries for ``summary.json``.
    files : mapping of str to bytes or callable, optional
        More files for the run directory (see `bayesbg.stan.write_run_dir`), e.g. the
        configuration file.

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
    seed = check_seed(seed)
    if not isinstance(data, CosiFitData):
        raise TypeError(f"data: expected CosiFitData, found {type(data).__name__}")
    config = config if config is not None else SamplerConfig()
    target = check_run_dir(run_dir, overwrite=overwrite) if run_dir is not None else None
    if model is None:
        model = cosi_fit_model(threads=config.threads_per_chain > 1)
    stan_data = data.to_stan_data(grainsize=grainsize)
    inits = prior_initial_values(data, chains=config.chains, seed=seed)
    fit = sample(model, stan_data, seed=seed, inits=inits, **config.to_kwargs())
    return conclude_fit(
        CosiFitResult, fit, inference_data(fit, data), model=model, stan_data=stan_data,
        config=config, seed=seed, parameters=PARAMETERS, truth=_truth(truth), run_dir=target,
        overwrite=overwrite, fields={"data": data},
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
            **dict(extra or {}),
        },
        files=files,
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
        Compiled program; default :func:`bayesbg.cosi.model.cosi_fit_model`.
    **kwargs
        More keywords of `bayesbg.stan.optimize` (``algorithm``, ``iter``, ...);
        ``sig_figs`` defaults to 15 so that ``ln L`` is exact to well below 1, the
        algorithm to L-BFGS with ``tol_rel_grad = 1e3`` (CmdStan's 1e7 can stop at the
        start when the source is weak).

    Returns
    -------
    result : `bayesbg.stan.OptimizeResult`
    """
    seed = check_seed(seed)
    model = model if model is not None else cosi_fit_model()
    stan_data = data.to_stan_data(use_priors=False)
    inits = maximum_likelihood_initial_values(data)
    kwargs.setdefault("iter", 10000)
    kwargs.setdefault("sig_figs", 15)  # AIC differences of O(1) on ln L of O(1e6)
    # CmdStan's default relative-gradient tolerance (1e7 x machine epsilon, relative to
    # |ln L| ~ 1e5-1e7) can stop L-BFGS after one step when the start's gradient is
    # small on the unconstrained (log) scale: measured on a band-flux fit (Cyg X-1 of
    # the bright-source study, seed 3; 80,701 bins, 9 blocks), the flux stayed at its
    # start 1e-4 with TS 4.4 where the maximum is at 1.44e-3 with TS 22.8. 1e3 finds it
    # from every start tried (1e-4 to 1e-2), in the same time.
    kwargs.setdefault("algorithm", "lbfgs")
    kwargs.setdefault("tol_rel_grad", 1e3)
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
    ``summary.json`` holds it resolved (absolute paths, and with ``[background]
    from_scan`` the scan's selected variant as ``scan_selection``) as ``cosi_config``.
    The checks are the next stage: ``bayesbg cosi fit`` then runs
    :func:`bayesbg.cosi.checks.check_cosi_fit` on the result.

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
        (:func:`bayesbg.cosi.model.cosi_fit_model`).

    Returns
    -------
    result : `CosiFitResult`
    """
    config = CosiFitConfig.read(path).resolved()
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


def _truth(truth: Mapping[str, ArrayLike] | None) -> dict[str, Any] | None:
    if truth is None:
        return None
    return {name: value for name, value in truth.items() if name in PARAMETERS}
