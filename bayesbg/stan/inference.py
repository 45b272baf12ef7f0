"""Convert cmdstanpy fits to ArviZ ``InferenceData`` with named groups, dims and coords."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import arviz as az
import cmdstanpy
import numpy as np

import bayesbg

__all__ = ["to_inference_data"]

log = logging.getLogger(__name__)


def to_inference_data(
    fit: cmdstanpy.CmdStanMCMC,
    *,
    log_likelihood: str | None = "log_lik",
    posterior_predictive: str | Sequence[str] | None = None,
    observed_data: Mapping[str, Any] | None = None,
    constant_data: Mapping[str, Any] | None = None,
    coords: Mapping[str, Sequence[Any]] | None = None,
    dims: Mapping[str, Sequence[str]] | None = None,
) -> az.InferenceData:
    """ArviZ ``InferenceData`` from a NUTS fit.

    Groups: ``posterior`` (parameters and other generated quantities),
    ``log_likelihood`` (the pointwise variable, for ``az.loo``), ``posterior_predictive``,
    ``observed_data``, ``constant_data`` and ``sample_stats`` (``diverging``,
    ``tree_depth``, ``energy``, ...).

    Parameters
    ----------
    fit : `cmdstanpy.CmdStanMCMC`
        The sampler output.
    log_likelihood : str or None
        Name of the pointwise log-likelihood variable, moved to the ``log_likelihood``
        group under the same name. Default is ``"log_lik"``; ``None`` for none.
    posterior_predictive : str or sequence of str, optional
        Posterior predictive variables, e.g. ``"counts_rep"``.
    observed_data : mapping, optional
        Observed data, e.g. ``{"counts": counts}``.
    constant_data : mapping, optional
        Other data the model was conditioned on.
    coords : mapping, optional
        Coordinate values per dimension name, e.g. ``{"template": ["bulge", "disk"]}``.
    dims : mapping, optional
        Dimension names per variable, e.g. ``{"flux": ["template"], "log_lik": ["bin"]}``;
        give the same names to the observed variable and its replicate.

    Returns
    -------
    idata : `arviz.InferenceData`
        With ``bayesbg_version`` added to the attributes of every group.
    """
    idata = az.from_cmdstanpy(
        posterior=fit,
        log_likelihood=log_likelihood,
        posterior_predictive=posterior_predictive,
        observed_data=_as_arrays(observed_data),
        constant_data=_as_arrays(constant_data),
        coords={k: list(v) for k, v in (coords or {}).items()},
        dims={k: list(v) for k, v in (dims or {}).items()},
    )
    for group in idata.groups():
        idata[group].attrs["bayesbg_version"] = bayesbg.__version__
    return idata


def _as_arrays(values: Mapping[str, Any] | None) -> dict[str, np.ndarray] | None:
    if values is None:
        return None
    return {name: np.asarray(value) for name, value in values.items()}
