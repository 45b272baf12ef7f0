"""Fit spectra in Crab units with ``spectral_fit.stan``: NUTS, then the maximum likelihood.

`fit_spectrum` samples the posterior (docs/equations.md section 4), finds the maximum likelihood
(priors off, started from the posterior medians) for AIC and BIC, computes chi2 at the
posterior median, and writes a run directory (`bayesbg.stan.write_run_dir`) with
``spectrum_table.txt`` (`bayesbg.spectra.tables.spectral_table`) and the figure
``spectrum.png`` (`bayesbg.spectra.figures.plot_spectrum`) added beside it.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import arviz as az
import cmdstanpy
import numpy as np
import pandas as pd

from bayesbg.config import SamplerConfig, check_seed
from bayesbg.spectra.crab_units import FLUX_UNIT
from bayesbg.spectra.data import SpectralData
from bayesbg.spectra.likelihood import ChiSquare, Prepared, chi_square, prepare
from bayesbg.spectra.spectral_model import SpectralModel
from bayesbg.spectra.tables import spectral_table
from bayesbg.stan import (
    FitResult,
    OptimizeResult,
    StanRunError,
    check_run_dir,
    compile_model,
    conclude_fit,
    optimize,
    sample,
    stan_model_file,
    to_inference_data,
)

__all__ = [
    "FIGURE_FILE",
    "TABLE_FILE",
    "SpectralFitResult",
    "fit_spectrum",
    "posterior_median",
    "spectral_fit_model",
]

log = logging.getLogger(__name__)

TABLE_FILE = "spectrum_table.txt"
"""The fit as an [ISGRI]-style table, in the run directory."""
FIGURE_FILE = "spectrum.png"
"""The spectrum figure, in the run directory."""


@dataclass(frozen=True, eq=False)
class SpectralFitResult(FitResult):
    """Outcome of `fit_spectrum`: a `bayesbg.stan.FitResult` with the spectral pieces.

    Attributes
    ----------
    inference_data : `arviz.InferenceData`
        ``posterior`` holds ``flux`` (over ``component``), ``flux_total``,
        ``flux_fraction``, ``cross_norm`` (over ``dataset``), one variable per shape
        parameter named ``<component>.<parameter>``, ``model_mcrab`` and
        ``component_mcrab``; ``log_likelihood`` holds ``log_lik`` (over ``band``).
    summary : `pandas.DataFrame`
        `bayesbg.stan.parameter_summary` of the parameters (with ``truth`` if given).
    diagnostics, seed, config, run_dir, fit
        As in `bayesbg.stan.FitResult`.
    spectral_model : `SpectralModel`
    data : `SpectralData`
    prepared : `bayesbg.spectra.likelihood.Prepared`
        Stan data, quadrature and IPM table used.
    chi_square : `bayesbg.spectra.likelihood.ChiSquare`
        chi2 at the posterior median, dof, p-value.
    max_likelihood : `bayesbg.stan.OptimizeResult` or None
        Maximum-likelihood point with ``log_likelihood``, ``aic``, ``bic``.
    """

    spectral_model: SpectralModel | None = None
    data: SpectralData | None = None
    prepared: Prepared | None = None
    chi_square: ChiSquare | None = None
    max_likelihood: OptimizeResult | None = None

    def median(self) -> dict[str, Any]:
        """Posterior medians as ``{"<component>.<parameter>": value, "cross_norm": ...}``."""
        return posterior_median(self.inference_data, spectral_model=self.spectral_model)

    def table(self) -> pd.DataFrame:
        """This fit as a one-column [ISGRI]-style table
        (`bayesbg.spectra.tables.spectral_table`)."""
        return spectral_table({"fit": self})


def spectral_fit_model() -> cmdstanpy.CmdStanModel:
    """The compiled ``stan_models/spectral_fit.stan`` (cached).

    Returns
    -------
    model : `cmdstanpy.CmdStanModel`
    """
    return compile_model(stan_model_file("spectral_fit"))


def posterior_median(idata: az.InferenceData, *, spectral_model: SpectralModel
                     ) -> dict[str, Any]:
    """Posterior medians of fluxes, shapes and cross-normalisations, by label.

    Parameters
    ----------
    idata : `arviz.InferenceData`
    spectral_model : `SpectralModel`

    Returns
    -------
    values : dict
    """
    post = idata.posterior
    values: dict[str, Any] = {}
    flux = post["flux"].median(dim=("chain", "draw")).values
    for k, name in enumerate(spectral_model.component_names):
        values[f"{name}.flux"] = float(flux[k])
    for label in spectral_model.free_shape_names:
        values[label] = float(post[label].median(dim=("chain", "draw")).values)
    values["cross_norm"] = post["cross_norm"].median(dim=("chain", "draw")).values
    return values


def fit_spectrum(
    data: SpectralData,
    *,
    spectral_model: SpectralModel,
    seed: int,
    config: SamplerConfig | None = None,
    run_dir: str | Path | None = None,
    overwrite: bool = False,
    truth: Mapping[str, float] | None = None,
    model: cmdstanpy.CmdStanModel | None = None,
    max_likelihood: bool = True,
    figure: bool = True,
) -> SpectralFitResult:
    """Sample the posterior of a spectral model and optionally write a run directory.

    Parameters
    ----------
    data : `SpectralData`
        Band values in mCrab.
    spectral_model : `SpectralModel`
        Components, fixed parameters, priors.
    seed : int
        Random seed (sampler, initial values, optimiser).
    config : `bayesbg.config.SamplerConfig`, optional
        Default ``SamplerConfig()``.
    run_dir : str or `~pathlib.Path`, optional
        Where to write the run directory. Default: nothing written.
    overwrite : bool
        Replace an existing run directory. Default False.
    truth : mapping, optional
        Known values by label (``"cutoffpl.ecut"``, ``"cutoffpl.flux"``, ...), added to
        the summary.
    model : `cmdstanpy.CmdStanModel`, optional
        Compiled ``spectral_fit``; default `spectral_fit_model`.
    max_likelihood : bool
        Also find the maximum likelihood (for AIC/BIC). Default True.
    figure : bool
        Write ``spectrum.png`` into the run directory. Default True.

    Returns
    -------
    result : `SpectralFitResult`

    Raises
    ------
    FileExistsError
        If ``run_dir`` holds a run and ``overwrite`` is False (checked first).
    bayesbg.stan.StanRunError
        If CmdStan fails.
    """
    seed = check_seed(seed)
    if not isinstance(data, SpectralData):
        raise TypeError(f"data: expected SpectralData, found {type(data).__name__}")
    if not isinstance(spectral_model, SpectralModel):
        raise TypeError(f"spectral_model: expected SpectralModel, found "
                        f"{type(spectral_model).__name__}")
    config = config if config is not None else SamplerConfig()
    target = check_run_dir(run_dir, overwrite=overwrite) if run_dir is not None else None
    model = model if model is not None else spectral_fit_model()
    prepared = prepare(data, spectral_model=spectral_model)
    inits = _inits(prepared, chains=config.chains, seed=seed)
    fit = sample(model, prepared.stan_data, seed=seed, inits=inits, **config.to_kwargs())
    idata = _inference_data(fit, prepared)
    names = ["flux", *spectral_model.free_shape_names]
    if data.n_dataset > 1:
        names.append("cross_norm")
    median = posterior_median(idata, spectral_model=spectral_model)
    chi2 = chi_square(prepared, median)
    ml = _max_likelihood(model, prepared, median, seed) if max_likelihood else None
    return conclude_fit(
        SpectralFitResult, fit, idata, model=model, stan_data=prepared.stan_data,
        config=config, seed=seed, parameters=names,
        summary_parameters=[*names, "flux_total", "flux_fraction"],
        units=_units(spectral_model),
        truth=_truth_by_variable(truth, spectral_model), run_dir=target, overwrite=overwrite,
        fields={"spectral_model": spectral_model, "data": data, "prepared": prepared,
                "chi_square": chi2, "max_likelihood": ml},
        extra=partial(_run_dir_entries, figure=figure),
        files=partial(_run_dir_files, figure=figure),
    )


def _units(spectral_model: SpectralModel) -> dict[str, str]:
    """Unit of every summarised variable (component fluxes in 1e-10 erg s-1 cm-2)."""
    flux = f"{FLUX_UNIT.value:g} {FLUX_UNIT.unit.to_string('cds').replace('.', ' ')}"
    units = {"flux": flux, "flux_total": flux, "flux_fraction": "", "cross_norm": ""}
    for component in spectral_model.components:
        for parameter in component.free_parameters:
            units[f"{component.name}.{parameter.name}"] = parameter.unit
    return units


def _run_dir_files(result: SpectralFitResult, *, figure: bool) -> dict[str, Any]:
    """``spectrum_table.txt`` and, if asked, ``spectrum.png`` of a run directory."""
    files: dict[str, Any] = {TABLE_FILE: (result.table().to_string() + "\n").encode()}
    if figure:
        from bayesbg.spectra.figures import plot_spectrum

        files[FIGURE_FILE] = lambda path: plot_spectrum(result, path=path)
    return files


def _run_dir_entries(result: SpectralFitResult, *, figure: bool) -> dict[str, Any]:
    """``summary.json`` entries of a spectral fit."""
    model, data = result.spectral_model, result.data
    chi2, ml = result.chi_square, result.max_likelihood
    table = result.table()
    figures = [{"file": FIGURE_FILE, "caption": "Data, total model, components and residuals "
                "in mCrab (left) and E^2 F(E) (right)"}] if figure else []
    return {
        "model": "spectral_fit",
        "spectral_model": model.expression,
        "components": list(model.component_names),
        "fixed": {f"{c.name}.{k}": v for c in model.components for k, v in c.fixed.items()},
        "flux_band_kev": list(model.flux_band),
        "datasets": list(data.dataset_names),
        "systematic": [float(s) for s in data.systematic],
        "chi_square": {"chi2": chi2.chi2, "dof": chi2.dof, "reduced": _finite(chi2.reduced),
                       "p_value": _finite(chi2.p_value)},
        "max_likelihood": None if ml is None else {
            "log_likelihood": ml.log_likelihood, "n_parameters": ml.n_parameters,
            "n_observations": ml.n_observations, "aic": ml.aic, "bic": ml.bic},
        "tables": [{"title": f"Spectral fit: {model.expression} (68 % intervals)",
                    "columns": ["quantity", "value"],
                    "rows": [[str(k), str(v)] for k, v in table.iloc[:, 0].items()]}],
        "figures": figures,
    }


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def _inference_data(fit: cmdstanpy.CmdStanMCMC, prepared: Prepared) -> az.InferenceData:
    data, model = prepared.data, prepared.spectral_model
    stan_data = prepared.stan_data
    constant = {k: stan_data[k] for k in ("energy_min", "energy_max", "error", "upper_limit",
                                          "dataset", "systematic")}
    idata = to_inference_data(
        fit,
        log_likelihood="log_lik",
        posterior_predictive="value_rep",
        observed_data={"value": data.value},
        constant_data=constant,
        coords={"component": list(model.component_names), "band": list(range(data.n_band)),
                "dataset": list(data.dataset_names)},
        dims={"flux": ["component"], "flux_fraction": ["component"],
              "cross_norm": ["dataset"], "cross_norm_free": ["dataset_free"],
              "model_mcrab": ["band"], "component_mcrab": ["component", "band"],
              "log_lik": ["band"], "value_rep": ["band"], "value": ["band"],
              "energy_min": ["band"], "energy_max": ["band"], "error": ["band"],
              "upper_limit": ["band"], "dataset": ["band"], "systematic": ["dataset"]},
    )
    post = idata.posterior
    for k, component in enumerate(model.components):
        for i, parameter in enumerate(component.parameters):
            if parameter.name not in component.fixed:
                label = f"{component.name}.{parameter.name}"
                post[label] = post["shape"][..., k, i].drop_vars(
                    [c for c in post["shape"][..., k, i].coords if c not in ("chain", "draw")])
    drop = [v for v in ("shape", "shape_free_value", "cross_norm_free") if v in post]
    idata.posterior = post.drop_vars(drop)
    return idata


def _truth_by_variable(truth: Mapping[str, Any] | None,
                       model: SpectralModel) -> dict[str, Any] | None:
    if truth is None:
        return None
    out: dict[str, Any] = {}
    fluxes = [truth.get(f"{name}.flux", np.nan) for name in model.component_names]
    out["flux"] = np.asarray(fluxes, dtype=float)
    if all(np.isfinite(fluxes)):
        out["flux_total"] = float(np.sum(fluxes))
        out["flux_fraction"] = np.asarray(fluxes) / np.sum(fluxes)
    for label in model.free_shape_names:
        if label in truth:
            out[label] = float(truth[label])
    if "cross_norm" in truth:
        out["cross_norm"] = np.asarray(truth["cross_norm"], dtype=float)
    return out


def _inits(prepared: Prepared, *, chains: int, seed: int) -> list[dict[str, Any]]:
    """Per-chain initial values: typical shapes jittered, fluxes from the data."""
    generator = np.random.default_rng([int(seed), 0x5BEC])
    data, model = prepared.data, prepared.spectral_model
    reference = data.dataset == 0
    detected = reference & ~data.upper_limit
    level = np.median(np.abs(data.value[detected])) if detected.any() else 100.0
    # 1 mCrab over 30-80 keV is ~0.106 x 1e-10 erg s-1 cm-2
    total = max(0.106 * level, 1e-3)
    inits = []
    for _ in range(chains):
        shapes = []
        for component in model.components:
            for parameter in component.free_parameters:
                span = parameter.upper - parameter.lower
                value = parameter.typical + 0.05 * span * generator.uniform(-1, 1)
                value = min(max(value, parameter.lower + 0.01 * span),
                            parameter.upper - 0.01 * span)
                shapes.append(value)
        flux = total / len(model.components) * np.exp(generator.uniform(-0.5, 0.5,
                                                                         len(model.components)))
        inits.append({
            "flux": flux.tolist(),
            "shape_free_value": shapes,
            "cross_norm_free": np.exp(generator.uniform(-0.1, 0.1,
                                                        data.n_dataset - 1)).tolist(),
        })
    return inits


def _max_likelihood(stan_model: cmdstanpy.CmdStanModel, prepared: Prepared,
                    median: Mapping[str, Any], seed: int) -> OptimizeResult | None:
    data = {**prepared.stan_data, "use_priors": 0}
    model = prepared.spectral_model
    init = {
        "flux": [max(median[f"{n}.flux"], 1e-6) for n in model.component_names],
        "shape_free_value": [median[label] for label in model.free_shape_names],
        "cross_norm_free": list(np.asarray(median["cross_norm"])[1:]),
    }
    try:
        result = optimize(stan_model, data, seed=int(seed), inits=init, iter=5000)
    except StanRunError as err:
        warnings.warn(f"maximum-likelihood fit failed, no AIC/BIC: {err}", stacklevel=2)
        return None
    # the run layer counts the parameters in the output, where cmdstanpy leaves out
    # zero-size variables (cross_norm_free with one dataset); the model knows them all
    return replace(result, n_parameters=prepared.n_free)
