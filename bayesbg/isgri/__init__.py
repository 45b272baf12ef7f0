"""INTEGRAL/IBIS-ISGRI as a collimator: per-orbit background, Crab calibration, flux per
field of view (DOMAIN.md section 3, [ISGRI] Appendix A, B).

Examples
--------
>>> from bayesbg.isgri import run_pipeline, simulate_isgri
>>> table, truth = simulate_isgri(1)  # doctest: +SKIP
>>> result = run_pipeline(table)  # doctest: +SKIP
>>> print(result.table)  # doctest: +SKIP
"""

from bayesbg.isgri.background import (
    BackgroundModel,
    BackgroundPrediction,
    BackgroundSettings,
    background_pointings,
    fit_background,
    orbit_correlated_variance,
    sigma_clip_orbits,
)
from bayesbg.isgri.collimator import CollimatorResponse, convolve_sky_map, fit_profile_scale
from bayesbg.isgri.crab import (
    CrabCalibration,
    crab_energy_flux,
    crab_photon_flux,
    fit_crab_calibration,
    mcrab_to_energy_flux,
)
from bayesbg.isgri.fov_flux import (
    FluxGroups,
    FluxMixtureResult,
    GaussianEstimate,
    MixtureEstimate,
    bin_probability,
    fit_flux_mixture,
    fit_mixture_ml,
    flux_mixture_model,
    gaussian_histogram_estimate,
    systematic_variance,
)
from bayesbg.isgri.pipeline import PipelineResult, measure_pointing_fluxes, run_pipeline
from bayesbg.isgri.regions import PAPER_REGIONS, SkyRegion, longitude_bins, paper_regions
from bayesbg.isgri.scw import (
    BANDS,
    BROAD_BANDS,
    Band,
    PointingTable,
    ScreeningCriteria,
    ScreeningResult,
    read_pointings,
    screen,
    write_pointings,
)
from bayesbg.isgri.simulate import TABLE1_FLUX, IsgriTruth, simulate_isgri
from bayesbg.isgri.skymodel import stellar_fov_maps

__all__ = [
    "BANDS",
    "BROAD_BANDS",
    "BackgroundModel",
    "BackgroundPrediction",
    "BackgroundSettings",
    "Band",
    "CollimatorResponse",
    "CrabCalibration",
    "FluxGroups",
    "FluxMixtureResult",
    "GaussianEstimate",
    "IsgriTruth",
    "MixtureEstimate",
    "PAPER_REGIONS",
    "PipelineResult",
    "PointingTable",
    "ScreeningCriteria",
    "ScreeningResult",
    "SkyRegion",
    "TABLE1_FLUX",
    "background_pointings",
    "bin_probability",
    "convolve_sky_map",
    "crab_energy_flux",
    "crab_photon_flux",
    "fit_background",
    "fit_crab_calibration",
    "fit_flux_mixture",
    "fit_mixture_ml",
    "fit_profile_scale",
    "flux_mixture_model",
    "gaussian_histogram_estimate",
    "longitude_bins",
    "mcrab_to_energy_flux",
    "measure_pointing_fluxes",
    "orbit_correlated_variance",
    "paper_regions",
    "read_pointings",
    "run_pipeline",
    "screen",
    "sigma_clip_orbits",
    "simulate_isgri",
    "stellar_fov_maps",
    "systematic_variance",
    "write_pointings",
]
