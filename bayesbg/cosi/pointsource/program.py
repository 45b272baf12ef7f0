"""The binding of ``stan_models/cosi_point_source_spectrum.stan``: program, parameters,
initial values and the ArviZ groups of its draws.

The program samples the Band amplitude as the photon flux over the true-energy range
(``photon_flux``, ph cm-2 s-1) and derives ``K``; :func:`stan_initial_values` turns
values of :data:`PARAMETERS` into its initial values.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import arviz as az
import cmdstanpy

from bayesbg.cosi.pointsource.data import SpectrumFitData
from bayesbg.cosi.pointsource.spectrum import band_bin_integrals
from bayesbg.stan import compile_model, stan_model_file, to_inference_data

__all__ = [
    "MODEL_NAME",
    "PARAMETERS",
    "inference_data",
    "inner_bounds",
    "point_source_spectrum_model",
    "stan_initial_values",
]

log = logging.getLogger(__name__)

PARAMETERS = ("K", "alpha", "beta", "xp", "bkg_norm")
"""Band amplitude at the pivot (ph cm-2 s-1 keV-1), indices, peak energy (keV),
background normalisation."""
MODEL_NAME = "cosi_point_source_spectrum"
"""Name of the Stan program (``stan_models/cosi_point_source_spectrum.stan``)."""


def point_source_spectrum_model() -> cmdstanpy.CmdStanModel:
    """The compiled ``stan_models/cosi_point_source_spectrum.stan`` (cached)."""
    return compile_model(stan_model_file(MODEL_NAME))


def stan_initial_values(data: SpectrumFitData, values: Mapping[str, float]) -> dict[str, float]:
    """Initial values of the Stan parameters: K becomes the photon flux it implies.

    Parameters
    ----------
    data : `SpectrumFitData`
    values : mapping
        ``K, alpha, beta, xp, bkg_norm``.

    Returns
    -------
    inits : dict
        ``photon_flux`` (ph cm-2 s-1), ``alpha``, ``beta``, ``xp``, ``bkg_norm``.
    """
    shape = band_bin_integrals(data.energy_true_edges, 1.0, values["alpha"], values["beta"],
                               values["xp"], data.pivot, n_sub=data.n_sub)
    inits = {name: float(values[name]) for name in ("alpha", "beta", "xp", "bkg_norm")}
    inits["photon_flux"] = float(values["K"] * shape.sum())
    return inits


def inner_bounds(bounds: tuple[float, float]) -> tuple[float, float]:
    """``bounds`` moved inwards by 0.1 % of their width (starting points strictly inside)."""
    lo, hi = bounds
    pad = 1e-3 * (hi - lo)
    return lo + pad, hi - pad


def inference_data(fit: cmdstanpy.CmdStanMCMC, data: SpectrumFitData) -> az.InferenceData:
    """The draws of ``cosi_point_source_spectrum.stan`` with the fit data, as ArviZ groups.

    Returns
    -------
    idata : `arviz.InferenceData`
        See :class:`bayesbg.cosi.pointsource.fit.PointSourceFitResult`.
    """
    stan = data.to_stan_data()
    n_m = stan["M"]
    return to_inference_data(
        fit,
        log_likelihood="log_lik",
        posterior_predictive="counts_rep",
        observed_data={"counts": data.counts.sum(axis=(1, 2))},
        constant_data={
            "energy_true_edges": data.energy_true_edges,
            "energy_edges": data.response.energy_edges,
            "background_total": stan["background_total"],
        },
        coords={
            "energy": list(range(n_m)),
            "energy_true": list(range(stan["E"])),
            "energy_edge": list(range(n_m + 1)),
            "energy_true_edge": list(range(stan["E"] + 1)),
        },
        dims={
            "bin_flux": ["energy_true"],
            "source_counts": ["energy"],
            "background_counts": ["energy"],
            "log_lik": ["energy"],
            "counts_rep": ["energy"],
            "counts": ["energy"],
            "energy_true_edges": ["energy_true_edge"],
            "energy_edges": ["energy_edge"],
            "background_total": ["energy"],
        },
    )
