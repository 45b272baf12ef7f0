"""The COSI template fit as an SBC model (`bayesbg.sbc`; docs/equations.md section 1).

Prior draws use exactly the fit's priors: ``F_k ~ N+(mu_k, sigma_k)`` and
``A_b ~ N+(1, sigma_A)``, normals truncated at 0 (as the Stan program's ``<lower=0>``
declarations do). Data are simulated from the fit's own forward model with the
templates and background model held fixed,

    d[t, c] ~ Poisson(sum_k F_k S[k, t, c] + A_b(t) Bg[t, c]),

over every (time, data-space) bin, so the simulated data follow the fitted model exactly
(``Bg`` is not re-derived from the simulated counts). Fits run the Stan program as
:func:`bayesbg.cosi.fit_cosi` does.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse, stats

from bayesbg.config import SamplerConfig
from bayesbg.cosi.model.fit_data import CosiFitData, prepare_fit_data
from bayesbg.cosi.model.program import cosi_fit_model, prior_initial_values
from bayesbg.sbc import PosteriorDraws
from bayesbg.stan import sample

__all__ = ["CosiSbcModel"]

_DEFAULT_CONFIG = SamplerConfig(chains=2, parallel_chains=1, iter_warmup=300,
                                iter_sampling=500, show_progress=False)


@dataclass(frozen=True, eq=False)
class CosiSbcModel:
    """A reduced COSI problem for :func:`bayesbg.sbc.run_sbc`.

    Parameters
    ----------
    data : `CosiFitData`
        Templates, background model and priors of the fit (its counts are not used).
    config : `bayesbg.config.SamplerConfig`
        NUTS settings of each fit. Default 2 chains x (300 + 500), one at a time.
    blocks : sequence of int, optional
        Background blocks (1-based) whose amplitudes are tracked. Default: all.
    prior_data : `CosiFitData`, optional
        Draw the parameters from this one's priors instead of ``data``'s (a deliberately
        wrong simulating prior, to check that SBC detects it).
    max_bins : int
        Refuse problems with more (time x data-space) bins than this (the simulation is
        dense). Default is 2,000,000.
    model : `cmdstanpy.CmdStanModel`, optional
        Compiled ``cosi_template_fit.stan``; default :func:`bayesbg.cosi.model.cosi_fit_model`,
        resolved once here so that every replication runs the same executable.
    """

    data: CosiFitData
    config: SamplerConfig = field(default=_DEFAULT_CONFIG)
    blocks: Sequence[int] | None = None
    prior_data: CosiFitData | None = None
    max_bins: int = 2_000_000
    model: Any = None

    def __post_init__(self) -> None:
        if not isinstance(self.data, CosiFitData):
            raise TypeError(f"data: expected CosiFitData, found {type(self.data).__name__}")
        n_bin = self.data.n_time * self.data.dataset.n_data_bin
        if n_bin > self.max_bins:
            raise ValueError(f"data: {n_bin} (time x data-space) bins; the SBC simulation is "
                             f"dense and allows at most max_bins = {self.max_bins}")
        blocks = tuple(range(1, self.data.n_block + 1)) if self.blocks is None \
            else tuple(int(b) for b in self.blocks)
        if not blocks or min(blocks) < 1 or max(blocks) > self.data.n_block:
            raise ValueError(f"blocks: expected block numbers in 1..{self.data.n_block}, "
                             f"found {blocks}")
        prior = self.prior_data if self.prior_data is not None else self.data
        if prior.n_template != self.data.n_template or prior.n_block != self.data.n_block:
            raise ValueError("prior_data: expected the same templates and blocks as data")
        object.__setattr__(self, "blocks", blocks)
        if self.model is None:
            object.__setattr__(self, "model", cosi_fit_model())

    @property
    def parameter_names(self) -> tuple[str, ...]:
        """``flux[<template>]`` for each template and ``background_amplitude[<b>]``."""
        assert self.blocks is not None
        return tuple(f"flux[{name}]" for name in self.data.template_names) + tuple(
            f"background_amplitude[{b}]" for b in self.blocks)

    def draw_prior(self, rng: np.random.Generator) -> dict[str, float]:
        """Fluxes and all amplitudes from the truncated-normal priors."""
        prior = self.prior_data if self.prior_data is not None else self.data
        flux = _truncated_normal(prior.flux_prior_mean, prior.flux_prior_sd, rng)
        amplitude = _truncated_normal(np.ones(prior.n_block),
                                      np.full(prior.n_block, prior.background_prior_sd), rng)
        values = {f"flux[{name}]": float(f) for name, f in
                  zip(self.data.template_names, flux, strict=True)}
        values.update({f"background_amplitude[{b + 1}]": float(a)
                       for b, a in enumerate(amplitude)})
        return values

    def expected_counts(self, parameters: Mapping[str, float]) -> NDArray[np.float64]:
        """``m[t, c]`` over every bin, shape (n_time, n_data_bin), counts."""
        data = self.data
        dataset = data.dataset
        profile = data.background_per_time
        amplitude = np.array([parameters[f"background_amplitude[{b}]"]
                              for b in range(1, data.n_block + 1)])
        expected = (amplitude[data.time_block - 1] * profile)[:, None] \
            * data.background_model.response[None, :]
        for name in data.template_names:
            template = dataset.templates[name]
            dense = template.toarray() if sparse.issparse(template) else np.asarray(template)
            expected += parameters[f"flux[{name}]"] * dense.astype(np.float64)
        return expected

    def simulate(self, parameters: Mapping[str, float],
                 rng: np.random.Generator) -> CosiFitData:
        """Poisson counts from the fit's forward model, as new fit data."""
        counts = rng.poisson(self.expected_counts(parameters))
        dataset = dataclasses.replace(self.data.dataset, counts=sparse.coo_array(counts))
        return prepare_fit_data(
            dataset, self.data.background_model, templates=self.data.template_names,
            flux_prior_mean=self.data.flux_prior_mean, flux_prior_sd=self.data.flux_prior_sd,
            background_prior_sd=self.data.background_prior_sd,
        )

    def fit(self, data: CosiFitData, *, seed: int) -> PosteriorDraws:
        """NUTS on ``cosi_template_fit.stan`` as :func:`bayesbg.cosi.fit_cosi` runs it.

        Same program, data, initial values and sampler settings as ``fit_cosi``, without
        building the InferenceData and summaries (about 0.3 s per small fit).
        """
        inits = prior_initial_values(data, chains=self.config.chains, seed=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # sampler warnings: divergences are counted
            fit = sample(self.model, data.to_stan_data(), seed=seed, inits=inits,
                         **self.config.to_kwargs())
        values = fit.draws(concat_chains=False)  # (draw, chain, column)
        column = {name: j for j, name in enumerate(fit.column_names)}
        draws = {}
        for k, name in enumerate(self.data.template_names):
            draws[f"flux[{name}]"] = values[:, :, column[f"flux[{k + 1}]"]].T
        assert self.blocks is not None
        for b in self.blocks:
            draws[f"background_amplitude[{b}]"] = \
                values[:, :, column[f"background_amplitude[{b}]"]].T
        divergent = values[:, :, column["divergent__"]]
        return PosteriorDraws(draws=draws, n_divergent=int(np.count_nonzero(divergent)))


def _truncated_normal(mean: NDArray[np.float64], sd: NDArray[np.float64],
                      rng: np.random.Generator) -> NDArray[np.float64]:
    """Normal(mean, sd) truncated to [0, inf), one draw per element."""
    lower = (0.0 - mean) / sd
    return np.asarray(stats.truncnorm.rvs(lower, np.inf, loc=mean, scale=sd,
                                          random_state=rng), dtype=np.float64).reshape(-1)
