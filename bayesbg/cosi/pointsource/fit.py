"""Band spectral fit of a COSI point source: maximum likelihood and NUTS through
``stan_models/cosi_point_source_spectrum.stan`` (docs/cosi_io.md, "Band spectral fit").

:func:`maximum_likelihood_spectrum` keeps the best of several L-BFGS starts (the Band
likelihood can have separate local maxima); :func:`fit_point_source_spectrum` samples the
posterior from jittered copies of that estimate and ends in `bayesbg.stan.conclude_fit`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import cmdstanpy
import numpy as np

from bayesbg.config import SamplerConfig, check_seed
from bayesbg.cosi.pointsource.data import SpectrumFitData
from bayesbg.cosi.pointsource.likelihood import expected_counts
from bayesbg.cosi.pointsource.program import (
    BAND_PARAMETERS,
    MODEL_NAME,
    PARAMETERS,
    inference_data,
    inner_bounds,
    point_source_spectrum_model,
    stan_initial_values,
)
from bayesbg.cosi.pointsource.spectrum import band, band_bin_integrals
from bayesbg.stan import (
    FitResult,
    OptimizeResult,
    check_run_dir,
    conclude_fit,
    optimize,
    sample,
)

__all__ = [
    "DEFAULT_ADAPT_DELTA",
    "PointSourceFitResult",
    "fit_point_source_spectrum",
    "maximum_likelihood_spectrum",
]

log = logging.getLogger(__name__)

DEFAULT_ADAPT_DELTA = 0.95
"""``adapt_delta`` of the default sampler settings (curved Band parameters)."""


_STARTS = (
    {"K": 1.0, "alpha": -1.0, "beta": -2.5, "xp": 300.0, "bkg_norm": 1.0},
    {"K": 1e-3, "alpha": -0.5, "beta": -2.2, "xp": 1000.0, "bkg_norm": 1.0},
    {"K": 1e-1, "alpha": 0.5, "beta": -3.0, "xp": 150.0, "bkg_norm": 0.5},
    {"K": 10.0, "alpha": -1.5, "beta": -2.1, "xp": 2000.0, "bkg_norm": 2.0},
)


def _start_values(data: SpectrumFitData, start: Mapping[str, float]) -> dict[str, float]:
    """A starting point inside the bounds with K scaled to the observed excess."""
    values = dict(start)
    values["alpha"] = float(np.clip(values["alpha"], *inner_bounds(data.alpha_bounds)))
    values["beta"] = float(np.clip(values["beta"], *inner_bounds(data.beta_bounds)))
    values["xp"] = float(np.clip(values["xp"], *inner_bounds(data.xp_bounds)))
    source, _ = expected_counts(data, {**values, "K": 1.0, "bkg_norm": 0.0})
    excess = max(data.counts.sum() - values["bkg_norm"] * data.background.sum(),
                 0.1 * data.counts.sum())
    if source.sum() > 0:
        values["K"] = float(excess / source.sum())
    return values


@contextmanager
def _quiet_cmdstanpy() -> Iterator[None]:
    """Silence cmdstanpy's warnings about L-BFGS runs that end in a failed line search
    (expected at a flat maximum; the estimate is kept and compared across starts)."""
    logger = logging.getLogger("cmdstanpy")
    disabled = logger.disabled
    logger.disabled = True
    try:
        yield
    finally:
        logger.disabled = disabled


def maximum_likelihood_spectrum(
    data: SpectrumFitData,
    *,
    seed: int,
    model: cmdstanpy.CmdStanModel | None = None,
    starts: Sequence[Mapping[str, float]] | None = None,
    **kwargs: Any,
) -> OptimizeResult:
    """Maximum-likelihood Band fit (priors off), best of several L-BFGS starts.

    The Band likelihood can have separate local maxima (cosipy's own test moved from one
    to another between versions), so the optimiser is started from several points (K
    scaled to the observed excess) and the highest ``ln L`` is kept.

    Parameters
    ----------
    data : `SpectrumFitData`
    seed : int
    model : `cmdstanpy.CmdStanModel`, optional
        Default :func:`point_source_spectrum_model`.
    starts : sequence of mappings, optional
        Starting values (``K, alpha, beta, xp, bkg_norm``); default four spread points.
    **kwargs
        More keywords of `bayesbg.stan.optimize`.

    Returns
    -------
    result : `bayesbg.stan.OptimizeResult`
        ``log_likelihood`` is the full Poisson ``ln L`` (with ``-sum lgamma(d + 1)``);
        :func:`cosipy_log_like` gives cosipy's convention.
    """
    seed = check_seed(seed)
    if not isinstance(data, SpectrumFitData):
        raise TypeError(f"data: expected SpectrumFitData, found {type(data).__name__}")
    model = model if model is not None else point_source_spectrum_model()
    stan_data = data.to_stan_data(use_priors=False)
    kwargs.setdefault("iter", 20000)
    kwargs.setdefault("sig_figs", 15)
    kwargs.setdefault("algorithm", "lbfgs")
    kwargs.setdefault("tol_rel_grad", 1e2)  # tighter than CmdStan's 1e7: a flat maximum
    kwargs.setdefault("tol_rel_obj", 1.0)
    # L-BFGS often ends with "line search failed" at a flat maximum; keep that estimate
    kwargs.setdefault("require_converged", False)
    best: OptimizeResult | None = None
    for start in starts if starts is not None else _STARTS:
        try:
            with _quiet_cmdstanpy():
                result = optimize(model, stan_data, seed=seed, jacobian=False,
                                  inits=stan_initial_values(data, _start_values(data, start)),
                                  **kwargs)
        except RuntimeError as err:  # a start that fails is skipped
            log.info("optimisation from %s failed: %s", dict(start), err)
            continue
        log.debug("start %s: ln L = %.6f", dict(start), result.log_likelihood)
        if best is None or result.log_likelihood > best.log_likelihood:
            best = result
    if best is None:
        raise RuntimeError("maximum_likelihood_spectrum: every optimisation start failed")
    return best


class PointSourceFitResult(FitResult):
    """Outcome of :func:`fit_point_source_spectrum`.

    Attributes
    ----------
    inference_data : `arviz.InferenceData`
        ``posterior`` (``photon_flux`` (the sampled amplitude, ph cm-2 s-1 in the flux
        band), ``log_xp``, ``K, alpha, beta, xp, bkg_norm``, ``flux_at_pivot``
        (ph cm-2 s-1 keV-1), ``bin_flux`` over ``energy_true``, ``source_counts``,
        ``background_counts`` over ``energy``), ``log_likelihood`` (``log_lik`` per Em bin),
        ``posterior_predictive`` (``counts_rep``), ``observed_data`` (``counts`` per Em
        bin), ``constant_data``, ``sample_stats``.
    diagnostics, summary, seed, config, run_dir, fit
        As `bayesbg.stan.FitResult`.
    """


def fit_point_source_spectrum(
    data: SpectrumFitData,
    *,
    seed: int,
    config: SamplerConfig | None = None,
    run_dir: str | Path | None = None,
    overwrite: bool = False,
    truth: Mapping[str, float] | None = None,
    model: cmdstanpy.CmdStanModel | None = None,
    extra: Mapping[str, Any] | None = None,
) -> PointSourceFitResult:
    """Sample the posterior of the Band point-source fit with NUTS.

    Chains start near the maximum-likelihood estimate (found first, priors off),
    each jittered independently by a few per cent (seeded from ``seed``).

    Parameters
    ----------
    data : `SpectrumFitData`
    seed : int
    config : `bayesbg.config.SamplerConfig`, optional
        Default ``SamplerConfig(adapt_delta=0.95)``: the Band shape parameters are
        curved against each other when the data are few, and the smaller steps avoid
        divergent transitions.
    run_dir : str or `~pathlib.Path`, optional
        Write a run directory.
    overwrite : bool
        Replace an existing run directory. Default is False.
    truth : mapping, optional
        Known values of the Band parameters (``K, alpha, beta, xp, bkg_norm``) for the
        summary; ``photon_flux`` and ``flux_at_pivot`` are computed from them.
    model : `cmdstanpy.CmdStanModel`, optional
    extra : mapping, optional
        More entries for ``summary.json``.

    Returns
    -------
    result : `PointSourceFitResult`
        Its summary holds :data:`~bayesbg.cosi.pointsource.program.PARAMETERS`; K (heavy
        tailed, see there) is in the posterior and, as quantiles, in ``summary.json``
        (``derived``).
    """
    seed = check_seed(seed)
    if not isinstance(data, SpectrumFitData):
        raise TypeError(f"data: expected SpectrumFitData, found {type(data).__name__}")
    config = config if config is not None else SamplerConfig(adapt_delta=DEFAULT_ADAPT_DELTA)
    target = check_run_dir(run_dir, overwrite=overwrite) if run_dir is not None else None
    model = model if model is not None else point_source_spectrum_model()
    mle = maximum_likelihood_spectrum(data, seed=seed, model=model)
    inits = _jittered_inits(data, mle, chains=config.chains, seed=seed)
    stan_data = data.to_stan_data()
    fit = sample(model, stan_data, seed=seed, inits=inits, **config.to_kwargs())
    idata = inference_data(fit, data)
    k_draws = idata.posterior["K"].values.ravel()
    return conclude_fit(
        PointSourceFitResult, fit, idata, model=model, stan_data=stan_data, config=config,
        seed=seed, parameters=PARAMETERS,
        truth=_summary_truth(data, truth) if truth else None,
        run_dir=target, overwrite=overwrite,
        extra={
            "model": MODEL_NAME,
            "inits": "maximum-likelihood estimate, jittered per chain",
            "maximum_likelihood": {name: float(mle.estimate[name])
                                   for name in (*BAND_PARAMETERS, "photon_flux")},
            "derived": {"K": {"q5": float(np.quantile(k_draws, 0.05)),
                              "q50": float(np.median(k_draws)),
                              "q95": float(np.quantile(k_draws, 0.95)),
                              "unit": "ph cm-2 s-1 keV-1 at the pivot"}},
            "photon_flux_band_keV": list(data.photon_flux_band),
            "problem": {
                "source_lon_deg": data.response.lon,
                "source_lat_deg": data.response.lat,
                "coordsys": data.response.coordsys,
                "n_populated": int(np.count_nonzero(data.counts)),
                "total_counts": float(data.counts.sum()),
                "pivot_keV": data.pivot,
            },
            **dict(extra or {}),
        },
    )


def _summary_truth(data: SpectrumFitData, truth: Mapping[str, float]) -> dict[str, float]:
    """Truth for the summary: the given values plus photon_flux and flux_at_pivot."""
    values = {k: float(v) for k, v in truth.items() if k in PARAMETERS}
    if all(name in truth for name in ("K", "alpha", "beta", "xp")):
        args = (float(truth["K"]), float(truth["alpha"]), float(truth["beta"]),
                float(truth["xp"]), data.pivot)
        values["photon_flux"] = float(band_bin_integrals(
            np.asarray(data.photon_flux_band), *args, n_sub=data.n_sub).sum())
        values["flux_at_pivot"] = float(band(np.array([data.pivot]), *args)[0])
    return values


def _jittered_inits(data: SpectrumFitData, mle: OptimizeResult, *, chains: int,
                    seed: int) -> list[dict[str, float]]:
    generator = np.random.default_rng([int(seed), 0xBA4D])
    inits = []
    for _ in range(chains):
        jitter = generator.normal(0.0, 0.03, 5)
        values = {
            "K": float(mle.estimate["K"]) * math.exp(jitter[0]),
            "alpha": float(np.clip(mle.estimate["alpha"] + jitter[1],
                                   *inner_bounds(data.alpha_bounds))),
            "beta": float(np.clip(mle.estimate["beta"] + jitter[2],
                                  *inner_bounds(data.beta_bounds))),
            "xp": float(np.clip(mle.estimate["xp"] * math.exp(jitter[3]),
                                *inner_bounds(data.xp_bounds))),
            "bkg_norm": float(max(mle.estimate["bkg_norm"], 1e-3)) * math.exp(jitter[4]),
        }
        inits.append(stan_initial_values(data, values))
    return inits
