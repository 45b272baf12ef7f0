"""Spectra in Crab units: component models, the IPM, simulation, Stan fits, comparison.

docs/equations.md section 4 ([ISGRI] 4.3 and Appendix C, [COSI-PS] 5); docs/spectra.md.

The rooms, by stage:

- data: :mod:`~bayesbg.spectra.data` (`SpectralData` and its ECSV format),
  :mod:`~bayesbg.spectra.crab_units` (the Crab spectrum, mCrab conversions),
  :mod:`~bayesbg.spectra.simulate` (ISGRI-like spectra with the paper's errors);
- model: :mod:`~bayesbg.spectra.spectral_model` (`SpectralModel`: components, fixed
  parameters, priors), :mod:`~bayesbg.spectra.models` (the component types),
  :mod:`~bayesbg.spectra.band_integrals` and :mod:`~bayesbg.spectra.ipm` (numpy twins of
  the Stan functions, the IPM table), :mod:`~bayesbg.spectra.likelihood` (Stan data,
  predictions, chi2);
- fit: :mod:`~bayesbg.spectra.fit` (`fit_spectrum`: NUTS and maximum likelihood);
- checks: :mod:`~bayesbg.spectra.compare` (PSIS-LOO, AIC, BIC over fits);
- report pieces: :mod:`~bayesbg.spectra.tables`, :mod:`~bayesbg.spectra.figures`;
- :mod:`~bayesbg.spectra.config` (the fit's TOML file), :mod:`~bayesbg.spectra.cli`.

Examples
--------
>>> from bayesbg.spectra import SpectralModel, simulate_spectrum, REFERENCE_FITS
>>> ref = REFERENCE_FITS["GB"]
>>> model = SpectralModel.parse(ref["model"], fixed=ref["fixed"])
>>> data = simulate_spectrum(1, spectral_model=model, truth=ref["truth"])
>>> data.n_band
21
>>> result = fit_spectrum(data, spectral_model=model, seed=1)  # doctest: +SKIP
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
from bayesbg.spectra.spectral_model import Component, SpectralModel
from bayesbg.spectra.tables import spectral_table

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
