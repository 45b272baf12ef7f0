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
  :mod:`~bayesbg.isgri.pipeline` (screening to the Table-1 fluxes);
- checks: :mod:`~bayesbg.isgri.checks` (after a run);
- report pieces: :mod:`~bayesbg.isgri.figures`, :mod:`~bayesbg.isgri.rundir` (the run
  directory);
- :mod:`~bayesbg.isgri.config` (the run's TOML file), :mod:`~bayesbg.isgri.cli`.

Examples
--------
>>> from bayesbg.isgri import run_pipeline, simulate_isgri
>>> table, truth = simulate_isgri(1)  # doctest: +SKIP
>>> result = run_pipeline(table)  # doctest: +SKIP
>>> print(result.table)  # doctest: +SKIP
"""

from bayesbg.isgri.checks import isgri_checks
from bayesbg.isgri.config import IsgriRunConfig
from bayesbg.isgri.fit import FluxMixtureResult, fit_flux_mixture, flux_mixture_model
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
    CollimatorResponse,
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
from bayesbg.isgri.pipeline import PipelineResult, measure_pointing_fluxes, run_pipeline
from bayesbg.isgri.pointings import (
    BANDS,
    BROAD_BANDS,
    Band,
    PointingTable,
    read_pointings,
    write_pointings,
)
from bayesbg.isgri.rundir import write_isgri_run_dir
from bayesbg.isgri.screening import ScreeningCriteria, ScreeningResult, screen
from bayesbg.isgri.simulate import TABLE1_FLUX, IsgriTruth, simulate_isgri
from bayesbg.isgri.sky import PAPER_REGIONS, SkyRegion, longitude_bins, paper_regions

__all__ = [
    "BANDS",
    "BROAD_BANDS",
    "BackgroundPrediction",
    "BackgroundSettings",
    "Band",
    "CollimatorResponse",
    "CrabCalibration",
    "FluxGroups",
    "FluxMixtureResult",
    "GaussianEstimate",
    "IsgriRunConfig",
    "IsgriTruth",
    "MixtureEstimate",
    "OrbitBackgroundModel",
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
    "fit_background",
    "fit_crab_calibration",
    "fit_flux_mixture",
    "fit_mixture_ml",
    "fit_profile_scale",
    "flux_mixture_model",
    "gaussian_histogram_estimate",
    "isgri_checks",
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
    "write_isgri_run_dir",
    "write_pointings",
]
