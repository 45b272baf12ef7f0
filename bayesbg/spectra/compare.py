"""Compare spectral models: PSIS-LOO (with Pareto-k warnings), AIC and BIC at the maximum.

PSIS-LOO uses the pointwise ``log_lik`` per band (Vehtari, Gelman, Gabry 2017) through
`arviz.loo` / `arviz.compare`; a Pareto k above 0.7 means the importance-sampling
estimate for that band is unreliable and is reported with a warning. AIC and BIC are
``2k - 2 ln L_max`` and ``k ln n - 2 ln L_max`` with ``ln L_max`` from the maximum-
likelihood fit (priors off) and ``k`` the free parameters (fluxes, free shape
parameters, cross-normalisations), ``n`` the bands.

References
----------
Vehtari, Gelman, Gabry (2017), Statistics and Computing 27, 1413.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import arviz as az
import numpy as np
import pandas as pd

from bayesbg.stan import SamplerWarning, load_run

__all__ = ["PARETO_K_THRESHOLD", "compare_fits", "compare_runs"]

log = logging.getLogger(__name__)

PARETO_K_THRESHOLD = 0.7
"""Pareto k above which a band's PSIS-LOO term is unreliable."""


def compare_fits(
    fits: Mapping[str, Any],
    information: Mapping[str, Mapping[str, float] | None] | None = None,
) -> pd.DataFrame:
    """Rank models by PSIS-LOO and list AIC/BIC at the maximum likelihood.

    Parameters
    ----------
    fits : mapping of str to `bayesbg.spectra.SpectralFitResult` or `arviz.InferenceData`
        Fits of the same data, by name.
    information : mapping, optional
        ``{name: {"aic": ..., "bic": ..., "log_likelihood": ..., "n_parameters": ...}}``
        when ``fits`` holds InferenceData; taken from the results otherwise.

    Returns
    -------
    table : `pandas.DataFrame`
        Index: model names, best LOO first. Columns ``elpd_loo``, ``se``, ``p_loo``,
        ``elpd_diff``, ``dse`` (from `arviz.compare`), ``n_bad_k`` (bands with
        k > 0.7), ``max_k``, ``log_likelihood_max``, ``n_parameters``, ``aic``,
        ``delta_aic``, ``bic``, ``delta_bic``.
    """
    if len(fits) < 2:
        raise ValueError(f"fits: expected at least two models to compare, found {len(fits)}")
    idatas: dict[str, az.InferenceData] = {}
    info: dict[str, Mapping[str, float] | None] = {}
    for name, fit in fits.items():
        if isinstance(fit, az.InferenceData):
            idatas[name] = fit
            info[name] = (information or {}).get(name)
        else:
            idatas[name] = fit.inference_data
            ml = fit.max_likelihood
            info[name] = None if ml is None else {
                "aic": ml.aic, "bic": ml.bic, "log_likelihood": ml.log_likelihood,
                "n_parameters": ml.n_parameters}
    sizes = {name: idata.log_likelihood["log_lik"].shape[-1] for name, idata in idatas.items()}
    if len(set(sizes.values())) != 1:
        raise ValueError(f"fits: models must be fitted to the same bands, found {sizes}")
    pareto: dict[str, np.ndarray] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for name, idata in idatas.items():
            loo = az.loo(idata, var_name="log_lik", pointwise=True)
            pareto[name] = np.asarray(loo.pareto_k)
        table = az.compare(idatas, ic="loo", var_name="log_lik")
    for name, k in pareto.items():
        bad = int(np.sum(k > PARETO_K_THRESHOLD))
        if bad:
            warnings.warn(
                f"{name}: {bad} band(s) with Pareto k > {PARETO_K_THRESHOLD} (max "
                f"{k.max():.2f}); PSIS-LOO is unreliable for them", SamplerWarning,
                stacklevel=2)
    out = table[["elpd_loo", "se", "p_loo", "elpd_diff", "dse"]].copy()
    out["n_bad_k"] = [int(np.sum(pareto[n] > PARETO_K_THRESHOLD)) for n in out.index]
    out["max_k"] = [float(pareto[n].max()) for n in out.index]
    for column, key in (("log_likelihood_max", "log_likelihood"),
                        ("n_parameters", "n_parameters"), ("aic", "aic"), ("bic", "bic")):
        out[column] = [float(info[n][key]) if info[n] else np.nan for n in out.index]
    out["delta_aic"] = out["aic"] - out["aic"].min()
    out["delta_bic"] = out["bic"] - out["bic"].min()
    out = out[["elpd_loo", "se", "p_loo", "elpd_diff", "dse", "n_bad_k", "max_k",
               "log_likelihood_max", "n_parameters", "aic", "delta_aic", "bic", "delta_bic"]]
    out.index.name = "model"
    return out


def compare_runs(run_dirs: Sequence[str | Path]) -> pd.DataFrame:
    """Compare run directories written by `bayesbg.spectra.fit_spectrum`.

    Checks that every run is a spectral fit, then ranks them with
    `bayesbg.report.compare_runs` (PSIS-LOO, WAIC, AIC and BIC at the maximum;
    runs of different data are refused).

    Parameters
    ----------
    run_dirs : sequence of path
        Two or more run directories of fits to the same spectrum, named by directory.

    Returns
    -------
    table : `pandas.DataFrame`
        The comparison table, best first (see `bayesbg.report.ComparisonResult`).
    """
    from bayesbg.report import compare_runs as compare_run_dirs  # noqa: PLC0415

    for path in run_dirs:
        summary = load_run(path).summary
        if summary.get("model") != "spectral_fit":
            raise ValueError(f"run_dirs: {path} is not a spectral fit "
                             f"(model {summary.get('model')!r})")
    result = compare_run_dirs(list(run_dirs))
    for message in result.warnings:
        log.warning(message)
    return result.table
