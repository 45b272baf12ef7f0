"""The binding of ``stan_models/cosi_point_source_spectrum.stan``: program, parameters,
initial values and the ArviZ groups of its draws.

The program samples the Band amplitude as the photon flux in a band (``photon_flux``,
ph cm-2 s-1, :attr:`SpectrumFitData.photon_flux_band`) and ``ln xp``, and derives ``K``
and ``flux_at_pivot``; :func:`stan_initial_values` turns values of the Band parameters
(:data:`BAND_PARAMETERS`) into its initial values. :data:`PARAMETERS` are the quantities
of the posterior summary.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping

import arviz as az
import cmdstanpy
import numpy as np

from bayesbg.cosi.pointsource.data import SpectrumFitData
from bayesbg.cosi.pointsource.spectrum import band_bin_integrals
from bayesbg.stan import compile_model, stan_model_file, to_inference_data

__all__ = [
    "BAND_PARAMETERS",
    "MODEL_NAME",
    "PARAMETERS",
    "inference_data",
    "inner_bounds",
    "point_source_spectrum_model",
    "stan_initial_values",
]

log = logging.getLogger(__name__)

BAND_PARAMETERS = ("K", "alpha", "beta", "xp", "bkg_norm")
"""The Band model's parameters as astromodels/cosipy name them: amplitude of the
low-energy law at the pivot (ph cm-2 s-1 keV-1), indices, peak energy (keV), background
normalisation; the maximum-likelihood estimate is given in these."""
PARAMETERS = ("photon_flux", "flux_at_pivot", "alpha", "beta", "xp", "bkg_norm")
"""Quantities of the posterior summary: photon flux in the flux band (ph cm-2 s-1, the
sampled amplitude), f(pivot) (ph cm-2 s-1 keV-1), indices, xp (keV), background
normalisation. K is kept in the posterior but not summarised: where xp falls below the
data's energy range K grows without bound at a fixed spectrum in the data's range, so its
mean and sd say nothing (docs/cosi_io.md)."""
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
        ``photon_flux`` (ph cm-2 s-1 in the flux band), ``alpha``, ``beta``, ``log_xp``
        (ln keV), ``bkg_norm``.
    """
    in_band = band_bin_integrals(np.asarray(data.photon_flux_band), 1.0, values["alpha"],
                                 values["beta"], values["xp"], data.pivot, n_sub=data.n_sub)
    inits = {name: float(values[name]) for name in ("alpha", "beta", "bkg_norm")}
    inits["log_xp"] = math.log(float(values["xp"]))
    inits["photon_flux"] = float(values["K"] * in_band.sum())
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
