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

The paper's estimator fits a Gaussian (optionally plus two constants below and above
``mu``) to the histogram of ``r`` and quotes ``sigma / sqrt(N)`` as the error
(:func:`gaussian_histogram_estimate`).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import arviz as az
import cmdstanpy
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import curve_fit

from bayesbg.config import SamplerConfig
from bayesbg.stan import (
    Diagnostics,
    check_run_dir,
    compile_model,
    diagnose,
    parameter_summary,
    sample,
    sha256_stan_data,
    sha256_stan_program,
    stan_model_file,
    to_inference_data,
    write_run_dir,
)

__all__ = [
    "MIXTURE_PARAMETERS",
    "FluxGroups",
    "FluxMixtureResult",
    "GaussianEstimate",
    "fit_flux_mixture",
    "flux_mixture_model",
    "gaussian_histogram_estimate",
    "robust_scale",
]

log = logging.getLogger(__name__)

MIXTURE_PARAMETERS = ("mu", "sigma", "weight_low", "weight_high")
"""Reported quantities: flux per FOV and core width (mCrab), wing weights."""
MIN_GROUP_SIZE = 5
"""Fewest pointings in a group."""


def robust_scale(values: ArrayLike) -> float:
    """``1.4826 * median(|x - median(x)|)``, the Gaussian-equivalent scale.

    Parameters
    ----------
    values : array_like

    Returns
    -------
    scale : float
    """
    x = np.asarray(values, dtype=float)
    return float(1.4826 * np.median(np.abs(x - np.median(x))))


@dataclass(frozen=True)
class FluxGroups:
    """Residual fluxes of several groups (e.g. region x band), the mixture's Stan data.

    Parameters
    ----------
    names : tuple of str
        Group labels, e.g. ``"GB 25-60"``.
    flux : array_like, shape (N,)
        Residual fluxes of all groups concatenated in the order of ``names``, mCrab.
    group_size : array_like of int, shape (G,)
        Pointings per group (>= 5).
    weight_prior : tuple of float
        Dirichlet concentration of (core, low wing, high wing). Default is (5, 1, 1).

    Raises
    ------
    ValueError
        Naming the field: non-finite fluxes, sizes not summing to ``N``, a group with
        fewer than 5 pointings or with all values equal, duplicate names.
    """

    names: tuple[str, ...]
    flux: NDArray[np.float64]  # (N,) mCrab
    group_size: NDArray[np.int64]  # (G,)
    weight_prior: tuple[float, float, float] = (5.0, 1.0, 1.0)

    def __post_init__(self) -> None:
        names = tuple(str(x) for x in self.names)
        flux = np.array(self.flux, dtype=float)
        size = np.array(self.group_size, dtype=np.int64)
        if len(set(names)) != len(names):
            raise ValueError("names: group names must be unique")
        if flux.ndim != 1 or not np.all(np.isfinite(flux)):
            raise ValueError("flux: expected a one-dimensional array of finite mCrab")
        if size.shape != (len(names),):
            raise ValueError(f"group_size: expected {len(names)} sizes, found {size.shape}")
        if int(size.sum()) != flux.size:
            raise ValueError(f"group_size: sizes sum to {int(size.sum())}, expected "
                             f"{flux.size} (len(flux))")
        small = np.flatnonzero(size < MIN_GROUP_SIZE)
        if small.size:
            raise ValueError(f"group_size: group {names[small[0]]!r} has {size[small[0]]} "
                             f"pointings, expected >= {MIN_GROUP_SIZE}")
        weight_prior = tuple(float(x) for x in self.weight_prior)
        if len(weight_prior) != 3 or min(weight_prior) <= 0:
            raise ValueError(f"weight_prior: expected 3 positive numbers, found {weight_prior}")
        for array in (flux, size):
            array.setflags(write=False)
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "flux", flux)
        object.__setattr__(self, "group_size", size)
        object.__setattr__(self, "weight_prior", weight_prior)
        for name in names:
            if np.ptp(self.group(name)) <= 0:
                raise ValueError(f"flux: all values of group {name!r} are equal")

    @classmethod
    def from_mapping(cls, groups: Mapping[str, ArrayLike], **kwargs: Any) -> FluxGroups:
        """Build from ``{name: residual fluxes (mCrab)}``.

        Parameters
        ----------
        groups : mapping of str to array_like
        **kwargs
            Other fields (``weight_prior``).

        Returns
        -------
        groups : `FluxGroups`
        """
        arrays = [np.asarray(v, dtype=float).ravel() for v in groups.values()]
        return cls(names=tuple(groups), flux=np.concatenate(arrays) if arrays else np.zeros(0),
                   group_size=np.array([a.size for a in arrays], dtype=np.int64), **kwargs)

    @property
    def n_group(self) -> int:
        """Number of groups ``G``."""
        return len(self.names)

    @property
    def group_start(self) -> NDArray[np.int64]:
        """0-based start of each group in ``flux``."""
        return np.concatenate([[0], np.cumsum(self.group_size)[:-1]]).astype(np.int64)

    def group(self, name: str) -> NDArray[np.float64]:
        """The residual fluxes of one group, mCrab.

        Parameters
        ----------
        name : str

        Returns
        -------
        flux : `numpy.ndarray`
        """
        index = self.names.index(name)
        start = int(self.group_start[index])
        return self.flux[start:start + int(self.group_size[index])]

    def to_stan_data(self, *, use_priors: bool = True, save_log_lik: bool = False
                     ) -> dict[str, Any]:
        """Data of ``isgri_flux_mixture.stan`` (priors from robust statistics).

        Parameters
        ----------
        use_priors : bool
            Priors on (posterior) or off (likelihood only). Default is True.
        save_log_lik : bool
            Write the pointwise ``log_lik`` (N values per draw). Default is False.

        Returns
        -------
        data : dict
        """
        centre, scale, low, high = self._robust()
        return {
            "N": int(self.flux.size), "G": self.n_group, "flux": self.flux,
            "group_start": self.group_start + 1, "group_size": self.group_size,
            "flux_min": low, "flux_max": high, "mu_prior_mean": centre,
            "mu_prior_sd": 10 * scale, "sigma_prior_sd": 5 * scale,
            "weight_prior": np.array(self.weight_prior),
            "use_priors": int(use_priors), "save_log_lik": int(save_log_lik),
        }

    def _robust(self) -> tuple[NDArray[np.float64], ...]:
        centre, scale, low, high = (np.zeros(self.n_group) for _ in range(4))
        for g, name in enumerate(self.names):
            values = self.group(name)
            centre[g] = np.median(values)
            spread = np.ptp(values)
            scale[g] = max(robust_scale(values), 1e-3 * spread)
            low[g] = values.min() - 1e-3 * spread
            high[g] = values.max() + 1e-3 * spread
        return centre, scale, low, high


@dataclass(frozen=True, eq=False)
class FluxMixtureResult:
    """Outcome of :func:`fit_flux_mixture`.

    Attributes
    ----------
    table : `pandas.DataFrame`
        Index: group names. Columns ``mu`` (posterior mean, mCrab), ``mu_sd``, ``mu_q5``,
        ``mu_q95``, ``sigma``, ``weight_low``, ``weight_high`` (posterior means),
        ``n`` (pointings), ``r_hat`` (largest over the group's quantities).
    inference_data : `arviz.InferenceData`
    diagnostics : `bayesbg.stan.Diagnostics`
    summary : `pandas.DataFrame`
        `bayesbg.stan.parameter_summary` of the mixture parameters.
    seed : int
    run_dir : `~pathlib.Path` or None
    fit : `cmdstanpy.CmdStanMCMC`
    """

    table: pd.DataFrame
    inference_data: az.InferenceData
    diagnostics: Diagnostics
    summary: pd.DataFrame
    seed: int
    run_dir: Path | None
    fit: cmdstanpy.CmdStanMCMC = field(repr=False)


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
    fit = sample(model, data, seed=seed, inits=_inits(data, config.chains, seed),
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
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        diagnostics = diagnose(idata, max_treedepth=config.max_treedepth,
                               var_names=("mu", "sigma", "weight"))
        summary = parameter_summary(idata, var_names=MIXTURE_PARAMETERS)
    post = idata.posterior
    mu = post["mu"].values.reshape(-1, groups.n_group)
    rows = {
        "mu": mu.mean(axis=0), "mu_sd": mu.std(axis=0, ddof=1),
        "mu_q5": np.quantile(mu, 0.05, axis=0), "mu_q95": np.quantile(mu, 0.95, axis=0),
        "sigma": post["sigma"].values.reshape(-1, groups.n_group).mean(axis=0),
        "weight_low": post["weight_low"].values.reshape(-1, groups.n_group).mean(axis=0),
        "weight_high": post["weight_high"].values.reshape(-1, groups.n_group).mean(axis=0),
        "n": groups.group_size,
    }
    table = pd.DataFrame(rows, index=pd.Index(groups.names, name="group"))
    table["r_hat"] = [
        float(np.nanmax(summary.loc[[f"{p}[{name}]" for p in MIXTURE_PARAMETERS], "r_hat"]))
        for name in groups.names
    ]
    written = None
    if target is not None:
        written = write_run_dir(
            target, inference_data=idata, fit=fit, diagnostics=diagnostics, config=config,
            seed=seed, summary_table=summary,
            inputs={"stan_data": sha256_stan_data(data), **sha256_stan_program(model)},
            overwrite=overwrite, extra={"model": "isgri_flux_mixture",
                                        "groups": list(groups.names)},
        )
    return FluxMixtureResult(table, idata, diagnostics, summary, seed, written, fit)


def _inits(data: Mapping[str, Any], chains: int, seed: int) -> list[dict[str, Any]]:
    """Per-chain starts near the robust centre and scale of each group."""
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


@dataclass(frozen=True)
class GaussianEstimate:
    """The paper's estimate from a Gaussian fit to the histogram of residual fluxes.

    Attributes
    ----------
    mu, sigma : float
        Fitted centre and width, mCrab.
    error : float
        ``sigma / sqrt(n)``, mCrab.
    n : int
        Pointings.
    wings : bool
        Whether two constants below and above ``mu`` were fitted too.
    """

    mu: float
    sigma: float
    error: float
    n: int
    wings: bool


def gaussian_histogram_estimate(
    values: ArrayLike, *, wings: bool = False, half_range: float = 6.0,
    bins: int | None = None,
) -> GaussianEstimate:
    """Fit a Gaussian (optionally plus flat wings) to the histogram of residual fluxes.

    The histogram spans ``median +- half_range * s`` (``s`` the robust scale) with
    ``bins`` bins (default ``clip(sqrt(N), 20, 200)``); the fit is least squares with
    Poisson weights ``1 / max(count, 1)``. The error of ``mu`` is ``sigma / sqrt(N)``
    ([ISGRI] Appendix A).

    Parameters
    ----------
    values : array_like
        Residual fluxes, mCrab (at least 5).
    wings : bool
        Add two constants, below and above ``mu`` (the paper's variant for asymmetric
        wings). Default is False (Gaussian only).
    half_range : float
        Histogram half-width in robust scales. Default is 6.
    bins : int, optional
        Number of bins.

    Returns
    -------
    estimate : `GaussianEstimate`
    """
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if x.size < MIN_GROUP_SIZE:
        raise ValueError(f"values: expected >= {MIN_GROUP_SIZE} finite values, found {x.size}")
    centre, scale = float(np.median(x)), robust_scale(x)
    if scale <= 0:
        raise ValueError("values: zero spread")
    n_bins = bins if bins is not None else int(np.clip(np.sqrt(x.size), 20, 200))
    counts, edges = np.histogram(x, bins=n_bins,
                                 range=(centre - half_range * scale, centre + half_range * scale))
    mid = 0.5 * (edges[1:] + edges[:-1])
    weights = np.sqrt(np.maximum(counts, 1.0))
    peak = float(counts.max())

    def gaussian(e: NDArray[np.float64], amplitude: float, mu: float, sigma: float
                 ) -> NDArray[np.float64]:
        return amplitude * np.exp(-0.5 * ((e - mu) / sigma) ** 2)

    def with_wings(e: NDArray[np.float64], amplitude: float, mu: float, sigma: float,
                   low: float, high: float) -> NDArray[np.float64]:
        return gaussian(e, amplitude, mu, sigma) + np.where(e <= mu, low, high)

    if wings:
        p0 = [peak, centre, scale, 0.01 * peak, 0.01 * peak]
        params, _ = curve_fit(with_wings, mid, counts, p0=p0, sigma=weights, maxfev=20000,
                              bounds=([0, -np.inf, 1e-9, 0, 0], np.inf))
    else:
        params, _ = curve_fit(gaussian, mid, counts, p0=[peak, centre, scale], sigma=weights,
                              maxfev=20000, bounds=([0, -np.inf, 1e-9], np.inf))
    mu, sigma = float(params[1]), abs(float(params[2]))
    return GaussianEstimate(mu, sigma, sigma / np.sqrt(x.size), int(x.size), wings)
