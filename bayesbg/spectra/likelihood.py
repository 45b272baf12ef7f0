"""Stan data of ``spectral_fit.stan`` and the same model and likelihood in numpy.

``predict_components`` evaluates, with the numpy twins of `bayesbg.spectra.band_integrals`,
exactly what the Stan program computes (docs/equations.md section 4)::

    component_mcrab[k, j] = C[d(j)] 1000 F_k q exp(ratio_k[j]) / crab[j]
    sigma[j]^2 = error[j]^2 + (systematic[d(j)] model_mcrab[j])^2

with ``q`` = keV per 1e-10 erg. ``chi_square`` is the statistic of the detected bands
(upper limits left out) and its degrees of freedom.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from bayesbg.spectra.band_integrals import BandQuadrature, IpmTable, band_quadrature
from bayesbg.spectra.crab_units import KEV_PER_FLUX_UNIT, log_crab_photon_flux
from bayesbg.spectra.data import SpectralData
from bayesbg.spectra.ipm import ipm_band_table
from bayesbg.spectra.models import component_log_ratio
from bayesbg.spectra.spectral_model import SpectralModel

__all__ = ["ChiSquare", "Prepared", "chi_square", "predict_components", "prepare"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class Prepared:
    """A spectrum and a model made ready for Stan and for numpy predictions.

    Attributes
    ----------
    data : `SpectralData`
    spectral_model : `SpectralModel`
    quadrature : `BandQuadrature`
        Gauss-Legendre nodes of the bands.
    reference : `BandQuadrature`
        Nodes of the flux band.
    ipm : `IpmTable`
        IPM band table (a 2-point dummy when the model has no IPM).
    stan_data : dict
        Data of ``spectral_fit.stan``.
    """

    data: SpectralData
    spectral_model: SpectralModel
    quadrature: BandQuadrature
    reference: BandQuadrature
    ipm: IpmTable
    stan_data: dict[str, Any]

    @property
    def n_free(self) -> int:
        """Free parameters: fluxes, free shapes, cross-normalisations."""
        model = self.spectral_model
        return len(model.components) + len(model.free_shape_names) + self.data.n_dataset - 1


def prepare(data: SpectralData, *, spectral_model: SpectralModel, use_priors: bool = True
            ) -> Prepared:
    """Quadrature nodes, IPM table and the Stan data dictionary.

    Parameters
    ----------
    data : `SpectralData`
    spectral_model : `SpectralModel`
    use_priors : bool
        Value of the program's ``use_priors`` switch. Default is True.

    Returns
    -------
    prepared : `Prepared`
    """
    quadrature = band_quadrature(data.energy_min, data.energy_max)
    reference = band_quadrature([spectral_model.flux_band[0]], [spectral_model.flux_band[1]])
    if spectral_model.uses_ipm:
        ipm = ipm_band_table(data.energy_min, data.energy_max,
                             flux_band=spectral_model.flux_band)
    else:
        ipm = IpmTable(mass=np.array([0.0, 1.0]), table=np.zeros((2, data.n_band)),
                       table_d2=np.zeros((2, data.n_band)))
    stan_data = {
        "N": data.n_band,
        "D": data.n_dataset,
        "dataset": data.dataset + 1,
        "energy_min": data.energy_min,
        "energy_max": data.energy_max,
        "value": data.value,
        "error": data.error,
        "upper_limit": data.upper_limit.astype(np.int64),
        "systematic": data.systematic,
        "M": int(quadrature.node_log_energy.size),
        "node_log_energy": quadrature.node_log_energy,
        "node_log_weight": quadrature.node_log_weight,
        "node_start": quadrature.node_start,
        "node_count": quadrature.node_count,
        "M_ref": int(reference.node_log_energy.size),
        "ref_log_energy": reference.node_log_energy,
        "ref_log_weight": reference.node_log_weight,
        **spectral_model.stan_components(),
        "G": int(ipm.mass.size),
        "ipm_mass": ipm.mass,
        "ipm_table": ipm.table,
        "ipm_table_d2": ipm.table_d2,
        "use_priors": int(bool(use_priors)),
    }
    return Prepared(data, spectral_model, quadrature, reference, ipm, stan_data)


def predict_components(
    prepared: Prepared, values: Mapping[str, Any]
) -> NDArray[np.float64]:
    """mCrab of every component in every band (numpy twin of the Stan model).

    Parameters
    ----------
    prepared : `Prepared`
    values : mapping
        ``"<component>.flux"`` (1e-10 erg s-1 cm-2), free ``"<component>.<parameter>"``,
        and ``"cross_norm"`` (array over datasets, optional, default 1).

    Returns
    -------
    component_mcrab : `numpy.ndarray`, shape (K, N)
    """
    data, model = prepared.data, prepared.spectral_model
    log_crab = log_crab_photon_flux(data.energy_min, data.energy_max)
    cross = np.asarray(values.get("cross_norm", np.ones(data.n_dataset)), dtype=float)
    shapes = model.shapes(values)
    out = np.empty((len(model.components), data.n_band))
    for k, component in enumerate(model.components):
        ratio = component_log_ratio(component.type.code, shapes[k], data.energy_min,
                                    data.energy_max, prepared.quadrature, model.flux_band,
                                    prepared.reference, prepared.ipm)
        flux = float(values[f"{component.name}.flux"])
        out[k] = 1000.0 * flux * KEV_PER_FLUX_UNIT * np.exp(ratio - log_crab) \
            * cross[data.dataset]
    return out


@dataclass(frozen=True)
class ChiSquare:
    """chi2 of the detected bands at a parameter point.

    Attributes
    ----------
    chi2 : float
    dof : int
        Detected bands minus free parameters.
    p_value : float
        ``P(chi2_dof >= chi2)``.
    """

    chi2: float
    dof: int

    @property
    def reduced(self) -> float:
        """chi2 / dof."""
        return self.chi2 / self.dof if self.dof > 0 else float("nan")

    @property
    def p_value(self) -> float:
        """Upper-tail probability of chi2 with ``dof`` degrees of freedom."""
        return float(stats.chi2.sf(self.chi2, self.dof)) if self.dof > 0 else float("nan")


def chi_square(prepared: Prepared, values: Mapping[str, Any]) -> ChiSquare:
    """chi2 with the systematic in quadrature, over the bands that are not upper limits.

    Parameters
    ----------
    prepared : `Prepared`
    values : mapping
        As for `predict_components`.

    Returns
    -------
    result : `ChiSquare`
    """
    data = prepared.data
    model = predict_components(prepared, values).sum(axis=0)
    sigma2 = data.error**2 + (data.systematic[data.dataset] * model) ** 2
    detected = ~data.upper_limit
    chi2 = float(np.sum((data.value - model)[detected] ** 2 / sigma2[detected]))
    return ChiSquare(chi2=chi2, dof=int(detected.sum()) - prepared.n_free)
