"""The binding of ``stan_models/cosi_template_fit.stan``: program, parameters, initial
values and the ArviZ groups of its draws (docs/equations.md section 1).

The program's data come from :meth:`bayesbg.cosi.model.CosiFitData.to_stan_data`; its
parameters are :data:`PARAMETERS`, the fluxes ``F_k`` (ph cm-2 s-1) and the background
amplitudes ``A_b`` (dimensionless).
"""

from __future__ import annotations

import logging
from typing import Any

import arviz as az
import cmdstanpy
import numpy as np

from bayesbg.cosi.model.fit_data import CosiFitData
from bayesbg.stan import compile_model, stan_model_file, to_inference_data

__all__ = [
    "MODEL_NAME",
    "PARAMETERS",
    "cosi_fit_model",
    "inference_data",
    "maximum_likelihood_initial_values",
    "prior_initial_values",
]

log = logging.getLogger(__name__)

PARAMETERS = ("flux", "background_amplitude")
"""Parameters of ``cosi_template_fit.stan``: F_k (ph cm-2 s-1) and A_b (dimensionless)."""
MODEL_NAME = "cosi_template_fit"
"""Name of the Stan program (``stan_models/cosi_template_fit.stan``)."""


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


def maximum_likelihood_initial_values(data: CosiFitData) -> dict[str, list[float]]:
    """Initial values of the optimiser: the prior means (fluxes kept above 1e-3 of the
    prior sd), background amplitudes 1.

    Parameters
    ----------
    data : `CosiFitData`

    Returns
    -------
    inits : dict
        ``flux`` (ph cm-2 s-1) and ``background_amplitude``.
    """
    return {
        "flux": [float(max(m, 1e-3 * s)) for m, s in
                 zip(data.flux_prior_mean, data.flux_prior_sd, strict=True)],
        "background_amplitude": [1.0] * data.n_block,
    }


def inference_data(fit: cmdstanpy.CmdStanMCMC, data: CosiFitData) -> az.InferenceData:
    """The draws of ``cosi_template_fit.stan`` with the fit data, as ArviZ groups.

    Parameters
    ----------
    fit : `cmdstanpy.CmdStanMCMC`
        NUTS draws of the program on ``data``.
    data : `CosiFitData`

    Returns
    -------
    idata : `arviz.InferenceData`
        ``posterior`` (``flux`` over ``template``, ``background_amplitude`` over
        ``block``, ``sky_counts_time`` and ``background_counts_time`` over ``time``),
        ``log_likelihood`` (``log_lik`` per time bin), ``posterior_predictive``
        (``counts_time_rep``), ``observed_data`` (``counts_time``), ``constant_data``
        (per-time totals, blocks, time edges, flux priors), ``sample_stats``.
    """
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
