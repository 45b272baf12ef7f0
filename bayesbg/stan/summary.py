"""Per-parameter posterior summary table (mean, sd, equal-tailed quantiles, R-hat, ESS)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

__all__ = ["parameter_summary"]

log = logging.getLogger(__name__)

QUANTILES = (0.05, 0.5, 0.95)


def parameter_summary(
    idata: az.InferenceData,
    *,
    var_names: Sequence[str] | None = None,
    truth: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """One row per scalar posterior entry, labelled ``name[coord, ...]``.

    Parameters
    ----------
    idata : `arviz.InferenceData`
        With a ``posterior`` group.
    var_names : sequence of str, optional
        Variables to summarise; default all in ``posterior``.
    truth : mapping, optional
        Known values, ``{name: array broadcastable to the variable's shape}``; adds a
        ``truth`` column (NaN where not given).

    Returns
    -------
    table : `pandas.DataFrame`
        Columns ``[truth,] mean, sd, q5, q50, q95, r_hat, ess_bulk, ess_tail``; the
        quantiles are equal-tailed 5 / 50 / 95 % posterior quantiles, in the
        variables' own units.
    """
    posterior = idata.posterior
    names = list(var_names) if var_names is not None else list(posterior.data_vars)
    missing = [n for n in names if n not in posterior]
    if missing:
        raise ValueError(f"var_names: {missing[0]!r} is not in the posterior")
    with np.errstate(divide="ignore", invalid="ignore"):  # constant entries give NaN
        rhat = az.rhat(idata, var_names=names)
        ess_bulk = az.ess(idata, var_names=names, method="bulk")
        ess_tail = az.ess(idata, var_names=names, method="tail")
    rows: list[dict[str, Any]] = []
    labels: list[str] = []
    for name in names:
        draws = posterior[name]
        sample_dims = ("chain", "draw")
        mean = draws.mean(dim=sample_dims).values
        sd = draws.std(dim=sample_dims, ddof=1).values
        quantiles = draws.quantile(list(QUANTILES), dim=sample_dims).values
        true_values = _truth(truth, name, mean.shape)
        for index in np.ndindex(mean.shape):
            labels.append(_label(draws, index))
            row: dict[str, Any] = {}
            if truth is not None:
                row["truth"] = float(true_values[index])
            row.update(
                mean=float(mean[index]),
                sd=float(sd[index]),
                q5=float(quantiles[(0, *index)]),
                q50=float(quantiles[(1, *index)]),
                q95=float(quantiles[(2, *index)]),
                r_hat=float(np.asarray(rhat[name].values)[index]),
                ess_bulk=float(np.asarray(ess_bulk[name].values)[index]),
                ess_tail=float(np.asarray(ess_tail[name].values)[index]),
            )
            rows.append(row)
    return pd.DataFrame(rows, index=pd.Index(labels, name="parameter"))


def _truth(truth: Mapping[str, Any] | None, name: str, shape: tuple[int, ...]) -> np.ndarray:
    if truth is None or name not in truth:
        return np.full(shape, np.nan)
    values = np.asarray(truth[name], dtype=float)
    try:
        return np.broadcast_to(values, shape)
    except ValueError as err:
        raise ValueError(
            f"truth: {name!r} has shape {values.shape}, expected {shape}"
        ) from err


def _label(draws: xr.DataArray, index: tuple[int, ...]) -> str:
    if not index:
        return str(draws.name)
    dims = [d for d in draws.dims if d not in ("chain", "draw")]
    parts = [
        str(draws[dim].values[i]) if dim in draws.coords else str(i)
        for dim, i in zip(dims, index, strict=True)
    ]
    return f"{draws.name}[{', '.join(parts)}]"
