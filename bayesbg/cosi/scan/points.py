"""One scan point: a maximum-likelihood fit on a Dask worker, and the identity of its inputs.

Both scans (:mod:`~bayesbg.cosi.scan.background`, :mod:`~bayesbg.cosi.scan.template`)
fit each point with :func:`maximum_likelihood_point` (fit data, then
:func:`bayesbg.cosi.maximum_likelihood`, priors off), fingerprint the dataset with
:func:`dataset_fingerprint` (so resumed points belong to the same data) and turn each
point's result into table columns with :func:`result_columns`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from bayesbg.cosi.data import CosiDataset
from bayesbg.cosi.fit import maximum_likelihood
from bayesbg.cosi.model.background import BackgroundModel
from bayesbg.cosi.model.fit_data import CosiFitData, prepare_fit_data
from bayesbg.cosi.scan.runner import fingerprint

__all__ = [
    "FIT_COLUMNS",
    "dataset_fingerprint",
    "flux_errors",
    "maximum_likelihood_point",
    "result_columns",
]

log = logging.getLogger(__name__)

FIT_COLUMNS = ("n_block", "n_parameters", "log_likelihood", "aic", "bic")
"""Table columns of a point's fit, besides ``flux_<template>`` and ``error``."""


def dataset_fingerprint(dataset: CosiDataset) -> str:
    """SHA-256 of a dataset's counts, time axis and tracers (identity of resumed points)."""
    counts = dataset.counts
    return fingerprint(np.asarray(counts.row), np.asarray(counts.col), np.asarray(counts.data),
                       dataset.time_edges, *(dataset.tracers[name] for name in
                                             sorted(dataset.tracers)), sorted(dataset.tracers))


def maximum_likelihood_point(
    dataset: CosiDataset,
    background_model: BackgroundModel,
    *,
    templates: Sequence[str],
    seed: int,
) -> dict[str, Any]:
    """Fit data of one point, fitted by maximum likelihood (on a Dask worker).

    Parameters
    ----------
    dataset : `CosiDataset`
        With the point's templates.
    background_model : `BackgroundModel`
        The point's background model.
    templates : sequence of str
        Templates fitted.
    seed : int
        Seed of the optimiser.

    Returns
    -------
    result : dict
        ``log_likelihood``, ``aic``, ``bic``, ``n_parameters``, ``n_block``, ``flux``
        (list, ph cm-2 s-1), JSON-ready.
    """
    data = prepare_fit_data(dataset, background_model, templates=templates)
    result = maximum_likelihood(data, seed=int(seed))
    flux = np.ravel(result.estimate["flux"])
    return {
        "log_likelihood": float(result.log_likelihood),
        "aic": float(result.aic),
        "bic": float(result.bic),
        "n_parameters": int(result.n_parameters),
        "n_block": int(data.n_block),
        "flux": [float(v) for v in flux],
        "flux_error": [float(v) for v in flux_errors(
            data, flux, np.ravel(result.estimate["background_amplitude"]))],
    }


def flux_errors(data: CosiFitData, flux: NDArray[np.float64],
                amplitude: NDArray[np.float64]) -> NDArray[np.float64]:
    """1-sigma errors of the fluxes at the maximum likelihood, ph cm-2 s-1.

    From the inverse observed Fisher information (`CosiFitData.fisher_information`), the
    background amplitudes profiled (their covariance with the fluxes included). NaN when
    the information is singular.
    """
    information = data.fisher_information(flux, amplitude)
    try:
        covariance = np.linalg.inv(information)
    except np.linalg.LinAlgError:
        return np.full(flux.size, np.nan)
    variance = np.diag(covariance)[: flux.size]
    return np.sqrt(np.where(variance > 0, variance, np.nan))


def result_columns(result: Mapping[str, Any], names: Sequence[str], *,
                   columns: Sequence[str] = FIT_COLUMNS) -> dict[str, Any]:
    """A point's table columns: ``columns``, ``flux_<name>`` and ``flux_error_<name>`` per
    template, and ``error``.

    A failed point (``{"error": message}``) gets NaN everywhere and its message.
    """
    if "error" in result:
        row: dict[str, Any] = dict.fromkeys(columns, np.nan)
        row.update({f"flux_{name}": np.nan for name in names})
        row.update({f"flux_error_{name}": np.nan for name in names})
        row["error"] = result["error"]
        return row
    row = {name: result[name] for name in columns}
    errors = result.get("flux_error", [np.nan] * len(names))
    for name, value, error in zip(names, result["flux"], errors, strict=True):
        row[f"flux_{name}"] = value
        row[f"flux_error_{name}"] = error
    row["error"] = ""
    return row
