"""Forward-folded spectral fits: maximum likelihood and NUTS through
``stan_models/cosi_spectral_fit.stan`` (docs/cosi_spectral.md).

:func:`maximum_likelihood_forward_folded` maximises the likelihood (priors off) with
L-BFGS; :func:`fit_forward_folded` samples the posterior from jittered copies of that
estimate and ends in `bayesbg.stan.conclude_fit`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import cmdstanpy
import numpy as np
from numpy.typing import NDArray

from bayesbg.config import SamplerConfig
from bayesbg.cosi.spectral.program import (
    ForwardFoldProblem,
    amplitude_log_scale,
    forward_fold_model,
)
from bayesbg.stan import (
    FitResult,
    OptimizeResult,
    StanData,
    StanRunError,
    check_run_dir,
    conclude_fit,
    laplace,
    optimize,
    sample,
)

__all__ = [
    "LAPLACE_METRIC_WINDOW",
    "ForwardFoldResult",
    "data_scaled_start",
    "fit_forward_folded",
    "laplace_inverse_metric",
    "maximum_likelihood_forward_folded",
    "shapes_on_bound",
    "summary_parameters",
]

log = logging.getLogger(__name__)

LAPLACE_METRIC_WINDOW = 100
"""Iterations of the first metric window of warm-up when NUTS starts from the Laplace
metric (Stan's default 25)."""


def summary_parameters(problem: ForwardFoldProblem) -> tuple[str, ...]:
    """Posterior variables of the summary: photon flux, free shapes, normalisation,
    cross-normalisations (when there are several datasets) and report-band fluxes."""
    names = ["photon_flux", *problem.spectrum.free_parameters, "norm"]
    if len(problem.dataset_names) > 1:
        names.append("cross_norm")
    if problem.report_bands:
        names.append("report_flux")
    return tuple(names)


def _estimate_inits(problem: ForwardFoldProblem, estimate: Mapping[str, Any]) -> dict[str, Any]:
    spectrum = problem.spectrum
    free = np.atleast_1d(np.asarray(estimate.get("shape_free", []), dtype=float))
    shape = {name: float(free[q]) for q, name in enumerate(spectrum.free_parameters)}
    inits = problem.initial_values(photon_flux=float(estimate["photon_flux"]), shape=shape)
    inits["cross_norm_free"] = np.atleast_1d(
        np.asarray(estimate.get("cross_norm_free", []), dtype=float)).tolist()
    inits["log_background_amplitude"] = np.log(np.atleast_1d(
        np.asarray(estimate.get("background_amplitude", []), dtype=float))).tolist()
    return inits


def data_scaled_start(problem: ForwardFoldProblem) -> dict[str, Any]:
    """Initial values with the photon flux scaled to the data: the reference dataset's
    observed counts (less the known background) over its prediction for a unit photon
    flux with every shape at its prior location (COSI alone: the counts above the
    background totals). Falls back to the prior's flux when there is no excess."""
    spectrum = problem.spectrum
    start = problem.initial_values()
    values = dict(zip(spectrum.free_parameters, start["shape_free"], strict=True))
    lo, hi, slices = problem.true_bins()
    unit = np.array([spectrum.bin_flux([a, b], 1.0, values)[0] for a, b in zip(lo, hi,
                                                                            strict=True)])
    if problem.instruments:
        reference = problem.instruments[0]
        columns = slices[1] if problem.cosi is not None else slices[0]
        predicted = float(reference.predict(unit[columns]).sum())
        background = reference.background.sum() if reference.background is not None else 0.0
        observed = float(reference.value.sum() - background)
    else:
        assert problem.cosi is not None
        cosi = problem.cosi
        predicted = float(cosi.source_counts(unit[slices[0]]) @ cosi.pattern_total)
        observed = float(cosi.counts.sum() - cosi.background_total.sum())
    if predicted > 0 and observed > 0:
        start["photon_flux"] = observed / predicted
    return start


def maximum_likelihood_forward_folded(
    problem: ForwardFoldProblem,
    *,
    seed: int,
    model: cmdstanpy.CmdStanModel | None = None,
    start: Mapping[str, Any] | None = None,
    fused: bool = True,
    **kwargs: Any,
) -> OptimizeResult:
    """Maximum-likelihood forward-folded fit (priors off), L-BFGS.

    Parameters
    ----------
    problem : `ForwardFoldProblem`
    seed : int
    model : `cmdstanpy.CmdStanModel`, optional
        Default :func:`forward_fold_model`.
    start : mapping, optional
        Initial values. Default: two starts, :func:`data_scaled_start` and the priors'
        locations (:meth:`ForwardFoldProblem.initial_values`); the higher ln L is kept.
    fused : bool
        The fused COSI likelihood. Default True.
    **kwargs
        More keywords of `bayesbg.stan.optimize`.

    Returns
    -------
    result : `bayesbg.stan.OptimizeResult`
        ``estimate`` holds ``photon_flux``, ``shape_free``, ``cross_norm_free``,
        ``background_amplitude`` (arrays), the transformed parameters and generated
        quantities; ``log_likelihood`` the full Poisson (and Gaussian) ln L.
    """
    if not isinstance(problem, ForwardFoldProblem):
        raise TypeError(f"problem: expected ForwardFoldProblem, found {type(problem).__name__}")
    model = model if model is not None else forward_fold_model()
    kwargs.setdefault("iter", 20000)
    kwargs.setdefault("algorithm", "lbfgs")
    kwargs.setdefault("tol_rel_grad", 1e3)
    kwargs.setdefault("require_converged", False)
    starts = [dict(start)] if start else [data_scaled_start(problem),
                                          problem.initial_values()]
    best: OptimizeResult | None = None
    with StanData(problem.to_stan_data(use_priors=False, fused=fused)) as data:
        for inits in starts:
            try:
                result = optimize(model, data, seed=seed, jacobian=False, inits=inits,
                                  **kwargs)
            except RuntimeError as err:  # a start that fails is skipped
                log.info("optimisation from %s failed: %s", inits.get("photon_flux"), err)
                continue
            if best is None or result.log_likelihood > best.log_likelihood:
                best = result
    if best is None:
        raise RuntimeError("maximum_likelihood_forward_folded: every start failed")
    return best


def laplace_inverse_metric(
    problem: ForwardFoldProblem,
    mode: OptimizeResult,
    *,
    seed: int,
    model: cmdstanpy.CmdStanModel | None = None,
    metric: str = "diag_e",
    draws: int = 300,
    fused: bool = True,
    data: Mapping[str, Any] | None = None,
) -> NDArray[np.float64] | None:
    """NUTS's starting inverse metric from the Laplace approximation at the
    maximum-likelihood estimate.

    Stan's warm-up starts from the unit metric. Here the unconstrained scales differ by
    a factor ~15 (ln of the background amplitudes, sd ~0.003 at full exposure, against
    ~0.05 for a spectral index), so the first warm-up window creeps at step sizes of
    ~0.002 and ~100 leapfrog steps per iteration: at full scale (603 h, 4.4 M populated
    bins) that window cost 38 % of a 500 + 500 chain. CmdStan's ``laplace`` gives the
    covariance of the normal approximation at the estimate: the inverse Hessian of the
    log posterior density (priors on, so that weakly constrained directions keep their
    prior's scale; without the Jacobian, as the estimate was found) on the unconstrained
    scale, from finite differences of two gradients per parameter; its
    draws, mapped to the unconstrained scale (ln for positive parameters, logit for the
    bounded shapes, ln A over its multiplier), give the variances (or the covariance for
    ``dense_e``). Warm-up still adapts the metric from there.

    A shape whose estimate lies on its prior's bound (common in COSI-only fits, where
    the likelihood hardly constrains a cut-off energy or an index) sits at infinity on
    the unconstrained scale, where no Hessian exists: NUTS then starts from the unit
    metric, without a CmdStan run that must fail. (Holding such shapes at the bound and
    approximating the rest was measured and dropped: for Cyg X-1 alone at full exposure,
    index and E_cut both on bounds, it made the 4-chain fit 2.2 times slower than the
    unit start, 532 s against 245 s, warm-up 190 s against 60 s per chain; the
    sampler's coordinates of the amplitudes are of order 1 by their multiplier, so the
    unit start is already good for them.)

    Parameters
    ----------
    problem : `ForwardFoldProblem`
    mode : `bayesbg.stan.OptimizeResult`
        From :func:`maximum_likelihood_forward_folded` (priors off, no Jacobian).
    seed : int
    model : `cmdstanpy.CmdStanModel`, optional
        Default :func:`forward_fold_model`.
    metric : {"diag_e", "dense_e"}
        The sampler's metric: variances or the full covariance.
    draws : int
        Draws of the approximation (the variances to ~8 %). Default 300.
    fused : bool
        The fused COSI likelihood. Default True.
    data : mapping, optional
        The problem's Stan data with priors on; default
        ``problem.to_stan_data(use_priors=True, fused=fused)``. A `bayesbg.stan.StanData`
        shares its file with the sampler that follows.

    Returns
    -------
    inverse_metric : `numpy.ndarray` or None
        (n,) or (n, n), in the program's parameter order (``photon_flux``,
        ``shape_free``, ``cross_norm_free``, ``log_background_amplitude`` over its
        multiplier); None for a shape on its bound or when the approximation fails (a
        Hessian that is not negative definite or not finite): NUTS then starts from the
        unit metric, as without it.
    """
    if metric not in ("diag_e", "dense_e"):
        raise ValueError(f"metric: expected 'diag_e' or 'dense_e', found {metric!r}")
    if data is not None and data.get("use_priors") != 1:
        raise ValueError("data: expected the problem's Stan data with priors on "
                         f"(use_priors = 1), found use_priors = {data.get('use_priors')!r}")
    model = model if model is not None else forward_fold_model()
    estimate = np.atleast_1d(np.asarray(mode.estimate.get("shape_free", []), dtype=float))
    on_bound = shapes_on_bound(problem, estimate)
    if on_bound:
        log.info("no Laplace metric, NUTS starts from the unit metric: shapes on their "
                 "bounds at the maximum likelihood (%s)",
                 ", ".join(f"{k} = {v:g}" for k, v in on_bound.items()))
        return None
    if data is None:
        data = problem.to_stan_data(use_priors=True, fused=fused)
    covariance = _laplace_covariance(problem, mode, data, seed=seed, model=model,
                                     draws=draws)
    if covariance is None:
        return None
    return np.diag(covariance).copy() if metric == "diag_e" else covariance


def shapes_on_bound(problem: ForwardFoldProblem, shape_free: NDArray[np.float64], *,
                    tolerance: float = 1e-5) -> dict[str, float]:
    """Free shapes of ``problem`` whose values lie on their prior's bounds, by name (e.g.
    a cut-off energy that COSI alone runs to the top of its range).

    Parameters
    ----------
    problem : `ForwardFoldProblem`
    shape_free : ndarray
        Values of the free shapes (their units, e.g. keV), in
        ``problem.spectrum.free_parameters`` order.
    tolerance : float
        Distance from a bound that counts as on it, in units of the prior's width
        (CmdStan writes estimates with 6 significant digits, so an estimate within
        ~1e-6 of a bound reads back as the bound). Default 1e-5.

    Returns
    -------
    on_bound : dict of str to float
    """
    out = {}
    for q, name in enumerate(problem.spectrum.free_parameters):
        prior = problem.spectrum.prior(name)
        margin = tolerance * (prior.upper - prior.lower)
        value = float(shape_free[q])
        if value <= prior.lower + margin or value >= prior.upper - margin:
            out[name] = value
    return out


def _laplace_covariance(problem: ForwardFoldProblem, mode: OptimizeResult,
                        data: Mapping[str, Any], *, seed: int,
                        model: cmdstanpy.CmdStanModel, draws: int
                        ) -> NDArray[np.float64] | None:
    """Covariance of the Laplace draws at ``mode`` on the sampler's unconstrained scale
    (:func:`laplace_inverse_metric`); None when CmdStan's approximation fails."""
    try:
        approximation = laplace(model, data, mode, seed=seed, draws=draws)
    except StanRunError as err:
        log.info("no Laplace metric, NUTS starts from the unit metric: %s", err)
        return None
    spectrum = problem.spectrum
    columns = [np.log(approximation.stan_variable("photon_flux")).reshape(draws, 1)]
    if spectrum.free_parameters:
        shape = np.asarray(approximation.stan_variable("shape_free")).reshape(draws, -1)
        for q, name in enumerate(spectrum.free_parameters):
            prior = spectrum.prior(name)
            unit = np.clip((shape[:, q] - prior.lower) / (prior.upper - prior.lower),
                           1e-12, 1 - 1e-12)  # draws that round onto a bound
            columns.append((np.log(unit) - np.log1p(-unit)).reshape(draws, 1))
    if len(problem.dataset_names) > 1:
        values = approximation.stan_variable("cross_norm_free")
        columns.append(np.log(np.asarray(values)).reshape(draws, -1))
    if problem.cosi is not None:  # ln A on its multiplier (amplitude_log_scale)
        values = approximation.stan_variable("log_background_amplitude")
        columns.append(np.asarray(values).reshape(draws, -1)
                       / amplitude_log_scale(problem.cosi)[None, :])
    with np.errstate(divide="ignore", invalid="ignore"):
        unconstrained = np.hstack(columns)
        covariance = np.atleast_2d(np.cov(unconstrained, rowvar=False))
    variance = np.diag(covariance)
    if not (np.all(np.isfinite(covariance)) and np.all(variance > 0)):
        log.info("no Laplace metric (non-finite or zero variances); NUTS starts from the "
                 "unit metric")
        return None
    return covariance


class ForwardFoldResult(FitResult):
    """Outcome of :func:`fit_forward_folded`.

    Attributes
    ----------
    inference_data : `arviz.InferenceData`
        ``posterior``: ``photon_flux`` (ph cm-2 s-1 in the spectrum's flux band), one
        variable per free shape parameter (``index``, ``ecut``, ...), ``norm`` (ph cm-2 s-1
        keV-1 at 1 keV, Band: at the pivot), ``cross_norm`` over ``dataset``,
        ``background_amplitude``, ``bin_flux``, ``report_flux`` over ``report_band``,
        ``cosi_source_counts`` and ``cosi_background_counts`` per band; ``log_likelihood``
        (``log_lik`` per COSI band and channel), ``posterior_predictive``
        (``cosi_counts_rep``), ``sample_stats``.
    diagnostics, summary, seed, config, run_dir, fit
        As `bayesbg.stan.FitResult`.
    """


def fit_forward_folded(
    problem: ForwardFoldProblem,
    *,
    seed: int,
    config: SamplerConfig | None = None,
    run_dir: str | Path | None = None,
    overwrite: bool = False,
    truth: Mapping[str, Any] | None = None,
    model: cmdstanpy.CmdStanModel | None = None,
    fused: bool = True,
    grainsize: int = 0,
    laplace_metric: bool = True,
    extra: Mapping[str, Any] | None = None,
) -> ForwardFoldResult:
    """Sample the posterior of a forward-folded spectral fit with NUTS.

    The chains start at the maximum-likelihood estimate (found first), each jittered by a
    few per cent (seeded from ``seed``), with the metric of the Laplace approximation there
    (:func:`laplace_inverse_metric`); warm-up adapts it further, its first metric window
    ``LAPLACE_METRIC_WINDOW`` iterations long (unless ``config`` sets one) so that the first
    update does not replace a good metric by one estimated from 25 draws.

    Parameters
    ----------
    problem : `ForwardFoldProblem`
    seed : int
    config : `bayesbg.config.SamplerConfig`, optional
        Default ``SamplerConfig()`` (4 chains, 1000 + 1000).
    run_dir : str or `~pathlib.Path`, optional
    overwrite : bool
    truth : mapping, optional
        Known values (``photon_flux``, shape names, ``cross_norm``, ``report_flux``, ...).
    model : `cmdstanpy.CmdStanModel`, optional
    fused : bool
        The fused COSI likelihood (default) or the plain Stan expression.
    grainsize : int
        Populated bins per chunk of the fused pass (0: 8,192).
    laplace_metric : bool
        Start NUTS from the Laplace metric (default) or from the unit metric.
    extra : mapping, optional
        More entries for ``summary.json``.

    Returns
    -------
    result : `ForwardFoldResult`
    """
    if not isinstance(problem, ForwardFoldProblem):
        raise TypeError(f"problem: expected ForwardFoldProblem, found {type(problem).__name__}")
    config = config if config is not None else SamplerConfig()
    target = check_run_dir(run_dir, overwrite=overwrite) if run_dir is not None else None
    model = model if model is not None else forward_fold_model()
    mle = maximum_likelihood_forward_folded(problem, seed=seed, model=model, fused=fused)
    start = _estimate_inits(problem, mle.estimate)
    rng = np.random.default_rng([int(seed), 0xF01D])
    inits = []
    for _ in range(config.chains):
        chain = problem.initial_values(
            photon_flux=start["photon_flux"] * float(np.exp(0.02 * rng.standard_normal())),
            shape={n: v for n, v in zip(problem.spectrum.free_parameters,
                                        start["shape_free"], strict=True)},
            rng=rng, jitter=0.0)
        chain["shape_free"] = [
            float(np.clip(v + 0.002 * (p.upper - p.lower) * rng.standard_normal(),
                          p.lower + 1e-3 * (p.upper - p.lower),
                          p.upper - 1e-3 * (p.upper - p.lower)))
            for v, p in zip(start["shape_free"], (problem.spectrum.prior(n) for n in
                                                  problem.spectrum.free_parameters),
                            strict=True)]
        chain["cross_norm_free"] = (np.asarray(start["cross_norm_free"]) * np.exp(
            0.02 * rng.standard_normal(len(start["cross_norm_free"])))).tolist()
        chain["log_background_amplitude"] = (
            np.asarray(start["log_background_amplitude"])
            + 0.01 * rng.standard_normal(len(start["log_background_amplitude"]))).tolist()
        inits.append(chain)
    kwargs = config.to_kwargs()
    inverse_metric = None
    # one data file for the Laplace approximation and the sampler (same data, priors on)
    with StanData(problem.to_stan_data(fused=fused, grainsize=grainsize)) as stan_data:
        if laplace_metric and config.adapt_engaged and config.metric in ("diag_e",
                                                                          "dense_e"):
            inverse_metric = laplace_inverse_metric(problem, mle, seed=seed, model=model,
                                                    metric=config.metric, data=stan_data)
        if inverse_metric is not None:
            kwargs["inv_metric"] = inverse_metric
            if config.iter_warmup >= 75 + LAPLACE_METRIC_WINDOW + 50:  # Stan's buffers fit
                kwargs.setdefault("adapt_metric_window", LAPLACE_METRIC_WINDOW)
        fit = sample(model, stan_data, seed=seed, inits=inits, **kwargs)
    idata = problem.inference_data(fit)
    names = summary_parameters(problem)
    sampled = ["photon_flux", *problem.spectrum.free_parameters]
    if len(problem.dataset_names) > 1:
        sampled.append("cross_norm")
    if problem.cosi is not None:
        sampled.append("background_amplitude")
    units = {"photon_flux": "ph cm-2 s-1", "norm": "ph cm-2 s-1 keV-1",
             "report_flux": "ph cm-2 s-1", "cross_norm": ""}
    units.update({n: problem.spectrum.prior(n).unit for n in problem.spectrum.free_parameters})
    return conclude_fit(
        ForwardFoldResult, fit, idata, model=model, stan_data=stan_data, config=config,
        seed=seed, parameters=sampled, summary_parameters=names, units=units,
        truth={k: v for k, v in truth.items() if k in names} if truth else None,
        run_dir=target, overwrite=overwrite,
        extra={
            "model": "cosi_spectral_fit",
            "spectrum": problem.spectrum.to_dict(),
            "datasets": list(problem.dataset_names),
            "report_bands_keV": [list(b) for b in problem.report_bands],
            "fused_likelihood": bool(fused),
            "laplace_metric": inverse_metric is not None,
            "maximum_likelihood": {"log_likelihood": mle.log_likelihood,
                                   "photon_flux": float(mle.estimate["photon_flux"])},
            "problem": {
                "n_populated": problem.cosi.n_nonzero if problem.cosi else 0,
                "n_segments": problem.cosi.n_segment if problem.cosi else 0,
                "n_amplitudes": problem.cosi.n_amplitude if problem.cosi else 0,
                "channels": {i.name: i.n_channel for i in problem.instruments},
            },
            **dict(extra or {}),
        },
    )
