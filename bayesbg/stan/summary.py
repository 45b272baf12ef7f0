"""Per-parameter posterior summary table (mean, sd, equal-tailed quantiles, R-hat, ESS), and
its fixed-width text for the command line."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from typing import Any

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

__all__ = ["format_summary", "parameter_summary"]

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


def format_summary(summary: pd.DataFrame, *, title: str = "Posterior summary") -> str:
    """Fixed-width text of a summary table (as from :func:`parameter_summary`).

    Parameters
    ----------
    summary : `pandas.DataFrame`
        With columns ``mean, sd, q5, q95, r_hat, ess_bulk, ess_tail`` and optionally
        ``truth``.
    title : str
        First line, e.g. naming the units of the parameters. Default
        ``"Posterior summary"``.

    Returns
    -------
    text : str
        The title, a header and one line per parameter; with ``truth`` a last line
        counting the truths inside the 90 % intervals.
    """
    has_truth = "truth" in summary.columns
    header = f"{'parameter':<28}"
    if has_truth:
        header += f" {'truth':>10}"
    header += (f" {'mean':>10} {'sd':>10} {'5%':>10} {'95%':>10} {'R-hat':>7} "
               f"{'ESS bulk':>9} {'ESS tail':>9}")
    lines = [title, header]
    inside = 0
    for label, row in summary.iterrows():
        line = f"{label!s:<28}"
        if has_truth:
            line += f" {_number(row['truth']):>10}"
            inside += int(row["q5"] <= row["truth"] <= row["q95"])
        line += (
            f" {_number(row['mean']):>10} {_number(row['sd']):>10} {_number(row['q5']):>10}"
            f" {_number(row['q95']):>10} {row['r_hat']:>7.3f} {row['ess_bulk']:>9.0f}"
            f" {row['ess_tail']:>9.0f}"
        )
        lines.append(line)
    if has_truth:
        lines.append(f"Truth inside the 90 % interval for {inside} of {len(summary)} parameters.")
    return "\n".join(lines)


def _number(value: float) -> str:
    if not math.isfinite(value):
        return "-"
    if value != 0 and (abs(value) < 1e-2 or abs(value) >= 1e4):
        return f"{value:.3e}"
    return f"{value:.4f}"
