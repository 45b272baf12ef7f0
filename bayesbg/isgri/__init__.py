"""INTEGRAL/IBIS-ISGRI as a collimator: per-orbit background, Crab calibration, flux per
field of view (docs/equations.md section 3, [ISGRI] Appendix A, B; docs/isgri.md).

The rooms, by stage:

- data: :mod:`~bayesbg.isgri.pointings` (the pointing table, its bands and files),
  :mod:`~bayesbg.isgri.sky` (Galactic geometry, the BKG sky, regions),
  :mod:`~bayesbg.isgri.screening` (the cuts of [ISGRI] section 2),
  :mod:`~bayesbg.isgri.simulate` (full-size simulated tables with known truth);
- model: :mod:`bayesbg.isgri.model` (background per orbit, Crab calibration,
  collimator, stellar-mass sky, the flux mixture and its likelihood, error terms);
- fit: :mod:`~bayesbg.isgri.fit` (NUTS fit of the flux mixture),
  :mod:`~bayesbg.isgri.measure` (flux per FOV of a group and its error budget),
  :mod:`~bayesbg.isgri.pipeline` (screening to Table 1, spectra, profile, point sources),
  :mod:`~bayesbg.isgri.profile` (the profile against the stellar-mass model),
  :mod:`~bayesbg.isgri.paper_fits` (the spectral fits of Tables 2, 3, Appendix C);
- checks: :mod:`~bayesbg.isgri.checks` (after a run);
- report pieces: :mod:`~bayesbg.isgri.products` (spectra, orbit lists, Crab tables),
  :mod:`~bayesbg.isgri.paper` and :mod:`~bayesbg.isgri.paper_tables` (the paper's values
  beside bayesbg's), :mod:`~bayesbg.isgri.figures`, :mod:`~bayesbg.isgri.figures_paper`,
  :mod:`~bayesbg.isgri.rundir` (the run directory);
- :mod:`~bayesbg.isgri.config` (the run's TOML file), :mod:`~bayesbg.isgri.analysis`
  (one run from its configuration), :mod:`~bayesbg.isgri.cli`;
- data in from INTEGRAL files: :mod:`~bayesbg.isgri.index` (ScW index and rate tables
  to a pointing table).

Examples
--------
>>> from bayesbg.isgri import run_pipeline, simulate_isgri
>>> table, truth = simulate_isgri(1)  # doctest: +SKIP
>>> result = run_pipeline(table)  # doctest: +SKIP
>>> print(result.table)  # doctest: +SKIP
"""

from bayesbg.isgri.analysis import run_isgri
from bayesbg.isgri.checks import isgri_checks
from bayesbg.isgri.config import IsgriRunConfig
from bayesbg.isgri.fit import FluxMixtureResult, fit_flux_mixture, flux_mixture_model
from bayesbg.isgri.measure import GroupMeasurement, PointingFluxes
from bayesbg.isgri.model.background import (
    BackgroundPrediction,
    BackgroundSettings,
    OrbitBackgroundModel,
)
from bayesbg.isgri.model.background_fit import (
    background_pointings,
    fit_background,
    sigma_clip_orbits,
)
from bayesbg.isgri.model.collimator import (
    COLLIMATOR_SHAPES,
    CollimatorResponse,
    collimator_response,
    convolve_sky_map,
    fit_profile_scale,
)
from bayesbg.isgri.model.crab import CrabCalibration, fit_crab_calibration, mcrab_to_energy_flux
from bayesbg.isgri.model.error_budget import orbit_correlated_variance, systematic_variance
from bayesbg.isgri.model.flux_groups import FluxGroups
from bayesbg.isgri.model.histogram_estimate import GaussianEstimate, gaussian_histogram_estimate
from bayesbg.isgri.model.mixture_likelihood import (
    MixtureEstimate,
    bin_probability,
    fit_mixture_ml,
)
from bayesbg.isgri.model.skymodel import stellar_fov_maps
from bayesbg.isgri.paper_fits import PaperFits, fit_paper_spectra
from bayesbg.isgri.pipeline import (
    PipelineResult,
    PointSourceResult,
    measure_pointing_fluxes,
    run_pipeline,
)
from bayesbg.isgri.pointings import (
    BANDS,
    BROAD_BANDS,
    NARROW_BANDS,
    PIPELINE_BANDS,
    Band,
    PointingTable,
    read_pointings,
    write_pointings,
)
from bayesbg.isgri.products import orbit_table, region_spectrum, spectrum_table
from bayesbg.isgri.profile import ProfileFit, fit_longitude_profile
from bayesbg.isgri.rundir import write_isgri_run_dir
from bayesbg.isgri.screening import ScreeningCriteria, ScreeningResult, screen
from bayesbg.isgri.simulate import TABLE1_FLUX, IsgriTruth, simulate_isgri
from bayesbg.isgri.sky import (
    PAPER_REGIONS,
    POINT_SOURCES,
    SCO_X1,
    PointSource,
    SkyRegion,
    longitude_bins,
    paper_regions,
)

__all__ = [
    "BANDS",
    "BROAD_BANDS",
    "BackgroundPrediction",
    "BackgroundSettings",
    "Band",
    "COLLIMATOR_SHAPES",
    "CollimatorResponse",
    "CrabCalibration",
    "FluxGroups",
    "FluxMixtureResult",
    "GaussianEstimate",
    "GroupMeasurement",
    "IsgriRunConfig",
    "IsgriTruth",
    "MixtureEstimate",
    "NARROW_BANDS",
    "OrbitBackgroundModel",
    "PAPER_REGIONS",
    "PIPELINE_BANDS",
    "POINT_SOURCES",
    "PaperFits",
    "PipelineResult",
    "PointSource",
    "PointSourceResult",
    "PointingFluxes",
    "PointingTable",
    "ProfileFit",
    "SCO_X1",
    "ScreeningCriteria",
    "ScreeningResult",
    "SkyRegion",
    "TABLE1_FLUX",
    "background_pointings",
    "bin_probability",
    "collimator_response",
    "convolve_sky_map",
    "fit_background",
    "fit_crab_calibration",
    "fit_flux_mixture",
    "fit_longitude_profile",
    "fit_mixture_ml",
    "fit_paper_spectra",
    "fit_profile_scale",
    "flux_mixture_model",
    "gaussian_histogram_estimate",
    "isgri_checks",
    "longitude_bins",
    "mcrab_to_energy_flux",
    "measure_pointing_fluxes",
    "orbit_correlated_variance",
    "orbit_table",
    "paper_regions",
    "read_pointings",
    "region_spectrum",
    "run_isgri",
    "run_pipeline",
    "screen",
    "sigma_clip_orbits",
    "simulate_isgri",
    "spectrum_table",
    "stellar_fov_maps",
    "systematic_variance",
    "write_isgri_run_dir",
    "write_pointings",
]
