"""Spectral fits as tables like [ISGRI] Tables 2 and 3: shape parameters, component fluxes,
total, fractions, cross-normalisations, chi2, AIC and BIC; one column per fit."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from bayesbg.spectra.spectral_model import SpectralModel

__all__ = ["spectral_table"]


def spectral_table(results: Mapping[str, Any], *, interval: float = 0.68) -> pd.DataFrame:
    """Parameters, component fluxes, total, fractions and chi2 like [ISGRI] Tables 2-3.

    Parameters
    ----------
    results : mapping of str to `bayesbg.spectra.SpectralFitResult`
        One column per fit (e.g. ``{"GB": ..., "L+20": ...}``).
    interval : float
        Central posterior interval of the quoted errors. Default 0.68.

    Returns
    -------
    table : `pandas.DataFrame`
        Strings ``"median +upper -lower"``; fixed parameters as ``"value (fixed)"``;
        fluxes in 1e-10 erg s-1 cm-2 in the flux band; last rows ``chi2_red/dof`` and
        ``p-value`` at the posterior median.
    """
    q = (0.5 - interval / 2, 0.5, 0.5 + interval / 2)
    columns: dict[str, dict[str, str]] = {}
    for column, result in results.items():
        model: SpectralModel = result.spectral_model
        post = result.inference_data.posterior
        band = f"{model.flux_band[0]:g}-{model.flux_band[1]:g} keV"
        rows: dict[str, str] = {}
        for k, component in enumerate(model.components):
            for parameter in component.parameters:
                unit = f", {parameter.unit}" if parameter.unit else ""
                label = f"{component.name}.{parameter.name}{unit}"
                if parameter.name in component.fixed:
                    rows[label] = f"{component.fixed[parameter.name]:g} (fixed)"
                else:
                    rows[label] = _quote(post[f"{component.name}.{parameter.name}"], q)
            rows[f"F_{component.name} ({band})"] = _quote(post["flux"][..., k], q)
        rows[f"F_total ({band})"] = _quote(post["flux_total"], q)
        for k, component in enumerate(model.components):
            rows[f"F_{component.name}/F_total"] = _quote(post["flux_fraction"][..., k], q)
        for d, name in enumerate(result.data.dataset_names[1:], start=1):
            rows[f"C_{name}"] = _quote(post["cross_norm"][..., d], q)
        chi2 = result.chi_square
        rows["chi2_red/dof"] = f"{chi2.reduced:.2f}/{chi2.dof}"
        rows["p-value"] = f"{chi2.p_value:.3g}"
        if result.max_likelihood is not None:
            rows["AIC (max. likelihood)"] = f"{result.max_likelihood.aic:.2f}"
            rows["BIC (max. likelihood)"] = f"{result.max_likelihood.bic:.2f}"
        columns[column] = rows
    return pd.DataFrame(columns).fillna("")


def _quote(draws: Any, q: tuple[float, float, float]) -> str:
    values = np.asarray(draws).ravel()
    lo, mid, hi = np.quantile(values, q)
    digits = _digits(min(hi - mid, mid - lo))
    return f"{mid:.{digits}f} +{hi - mid:.{digits}f} -{mid - lo:.{digits}f}"


def _digits(error: float) -> int:
    if not np.isfinite(error) or error <= 0:
        return 3
    return int(min(max(1 - np.floor(np.log10(error)), 0), 6))
