"""Spectra in Crab units: component models, the IPM, simulation, Stan fits, comparison.

DOMAIN.md section 4 ([ISGRI] 4.3 and Appendix C, [COSI-PS] 5); docs/spectra.md.

Examples
--------
>>> from bayesbg.spectra import SpectralModel, simulate_spectrum, REFERENCE_FITS
>>> ref = REFERENCE_FITS["GB"]
>>> model = SpectralModel.parse(ref["model"], fixed=ref["fixed"])
>>> data = simulate_spectrum(1, model=model, truth=ref["truth"])
>>> data.n_band
21
>>> result = fit_spectrum(data, model, seed=1)  # doctest: +SKIP
"""

from bayesbg.spectra.compare import compare_fits, compare_runs
from bayesbg.spectra.crab_units import (
    FLUX_UNIT,
    crab_energy_flux,
    crab_photon_flux,
    mcrab_to_photon_flux,
    photon_flux_to_mcrab,
)
from bayesbg.spectra.data import SpectralData, read_spectrum, write_spectrum
from bayesbg.spectra.fit import (
    SpectralFitResult,
    fit_spectrum,
    posterior_median,
    spectral_fit_model,
    spectral_table,
)
from bayesbg.spectra.ipm import ipm_band_table, ipm_photon_spectrum, shock_temperature
from bayesbg.spectra.likelihood import chi_square, predict_components, prepare
from bayesbg.spectra.models import COMPONENT_TYPES
from bayesbg.spectra.simulate import (
    REFERENCE_FITS,
    isgri_bands,
    isgri_errors,
    simulate_spectrum,
)
from bayesbg.spectra.spec import Component, SpectralModel

__all__ = [
    "COMPONENT_TYPES",
    "FLUX_UNIT",
    "REFERENCE_FITS",
    "Component",
    "SpectralData",
    "SpectralFitResult",
    "SpectralModel",
    "chi_square",
    "compare_fits",
    "compare_runs",
    "crab_energy_flux",
    "crab_photon_flux",
    "fit_spectrum",
    "ipm_band_table",
    "ipm_photon_spectrum",
    "isgri_bands",
    "isgri_errors",
    "mcrab_to_photon_flux",
    "photon_flux_to_mcrab",
    "posterior_median",
    "predict_components",
    "prepare",
    "read_spectrum",
    "shock_temperature",
    "simulate_spectrum",
    "spectral_fit_model",
    "spectral_table",
    "write_spectrum",
]
