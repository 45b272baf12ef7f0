"""COSI binned template fitting at scale (docs/equations.md section 1), in rooms by stage.

- data in: :mod:`~bayesbg.cosi.io` (MEGAlib, cosipy and classic files),
  :mod:`~bayesbg.cosi.data` (:class:`CosiDataset`, sparse counts over time x Compton data
  space, and its netCDF format);
- the instrument: :mod:`~bayesbg.cosi.response` (toy Compton response),
  :mod:`~bayesbg.cosi.pointing` (pointing histories, simulated or from ``.ori`` files),
  :mod:`~bayesbg.cosi.exposure` (:class:`InstrumentSettings`, :class:`BalloonObservation`);
- the model: :mod:`~bayesbg.cosi.model` (background with equidistant, altitude or
  Bayesian-block time nodes, sky templates, the fit's data and its Stan program);
- the fit: :mod:`~bayesbg.cosi.fit` (:func:`fit_cosi` for NUTS, :func:`maximum_likelihood`
  for ln L and AIC), configured by :mod:`~bayesbg.cosi.config`;
- after the fit: :mod:`~bayesbg.cosi.checks` (predictive checks, SBC);
- over many fits: :mod:`~bayesbg.cosi.scan` (background and template-width scans);
- beside: :mod:`~bayesbg.cosi.simulate` (data with known truth),
  :mod:`~bayesbg.cosi.imaging` (Richardson-Lucy images), :mod:`~bayesbg.cosi.pointsource`
  (Band fit on cosipy files), :mod:`~bayesbg.cosi.cli` (``bayesbg cosi ...``).

Examples
--------
>>> from bayesbg.cosi import (InstrumentSettings, simulate_cosi, build_background_model,
...                           equidistant_blocks, prepare_fit_data, fit_cosi, check_cosi_fit)
>>> dataset, truth = simulate_cosi(1, n_time=48, bin_size=15.0,
...                                instrument=InstrumentSettings(instrument_nside=8))
>>> background = build_background_model(dataset, blocks=equidistant_blocks(48, 4),
...                                     tracer="photo_event_rate")
>>> data = prepare_fit_data(dataset, background)
>>> result = fit_cosi(data, seed=1, truth=truth)  # doctest: +SKIP
>>> checks = check_cosi_fit(result)  # doctest: +SKIP
"""

from bayesbg.cosi.checks import (
    CosiSbcModel,
    PredictiveCheck,
    TimePredictiveCheck,
    check_cosi_fit,
    predictive_check,
    predictive_checks,
    time_predictive_check,
)
from bayesbg.cosi.config import CosiFitConfig
from bayesbg.cosi.data import CosiDataset, load_dataset
from bayesbg.cosi.exposure import BalloonObservation, InstrumentSettings, simulated_observation
from bayesbg.cosi.fit import (
    CosiFitResult,
    fit_cosi,
    fit_data_from_config,
    maximum_likelihood,
    run_fit_config,
)
from bayesbg.cosi.model import (
    PARAMETERS,
    SCHEMES,
    BackgroundModel,
    CosiFitData,
    TemplateBuilder,
    altitude_blocks,
    background_response_from_counts,
    bayesian_blocks,
    build_background_model,
    cosi_fit_model,
    equidistant_blocks,
    false_alarm_probability,
    gaussian_sky,
    merge_blocks,
    point_source_sky,
    prepare_fit_data,
    prior_initial_values,
    read_background_response,
)
from bayesbg.cosi.pointing import Pointing, balloon_aspect, balloon_pointing, load_pointing
from bayesbg.cosi.pointsource import (
    PointSourceResponse,
    SpectrumFitData,
    fit_point_source_spectrum,
    load_cosipy_fit_data,
    maximum_likelihood_spectrum,
    point_source_response,
)
from bayesbg.cosi.response import (
    compton_response,
    convolve_sky,
    effective_area,
    klein_nishina,
    psi_chi_grid,
)
from bayesbg.cosi.scan import (
    BackgroundVariant,
    ScanConfig,
    background_variants,
    scan_background,
    scan_template,
)
from bayesbg.cosi.simulate import simulate_cosi

__all__ = [
    "PARAMETERS",
    "SCHEMES",
    "BackgroundModel",
    "BackgroundVariant",
    "BalloonObservation",
    "CosiDataset",
    "CosiFitConfig",
    "CosiFitData",
    "CosiFitResult",
    "CosiSbcModel",
    "InstrumentSettings",
    "Pointing",
    "PointSourceResponse",
    "PredictiveCheck",
    "ScanConfig",
    "SpectrumFitData",
    "TemplateBuilder",
    "TimePredictiveCheck",
    "altitude_blocks",
    "background_response_from_counts",
    "background_variants",
    "balloon_aspect",
    "balloon_pointing",
    "bayesian_blocks",
    "build_background_model",
    "check_cosi_fit",
    "compton_response",
    "convolve_sky",
    "cosi_fit_model",
    "effective_area",
    "equidistant_blocks",
    "false_alarm_probability",
    "fit_cosi",
    "fit_data_from_config",
    "fit_point_source_spectrum",
    "gaussian_sky",
    "klein_nishina",
    "load_cosipy_fit_data",
    "load_dataset",
    "load_pointing",
    "maximum_likelihood",
    "maximum_likelihood_spectrum",
    "merge_blocks",
    "point_source_response",
    "point_source_sky",
    "predictive_check",
    "predictive_checks",
    "prepare_fit_data",
    "prior_initial_values",
    "psi_chi_grid",
    "read_background_response",
    "run_fit_config",
    "scan_background",
    "scan_template",
    "simulate_cosi",
    "simulated_observation",
    "time_predictive_check",
]
