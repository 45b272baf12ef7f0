"""COSI binned template fitting at scale (DOMAIN.md section 1).

Datasets (:class:`CosiDataset`, sparse counts over time x Compton data space), empirical
background models (:func:`build_background_model` with equidistant, altitude or Bayesian
-block time nodes), a simulator of balloon data with a toy Compton response
(:func:`simulate_cosi`), and fits with ``stan_models/cosi_template_fit.stan``
(:func:`fit_cosi` for NUTS, :func:`maximum_likelihood` for ln L and AIC).

Examples
--------
>>> from bayesbg.cosi import (simulate_cosi, build_background_model, equidistant_blocks,
...                           prepare_fit_data, fit_cosi)
>>> dataset, truth = simulate_cosi(1, n_time=48, bin_size=15.0, instrument_nside=8)
>>> background = build_background_model(dataset, blocks=equidistant_blocks(48, 4),
...                                     tracer="photo_event_rate")
>>> data = prepare_fit_data(dataset, background)
>>> result = fit_cosi(data, seed=1, truth=truth)  # doctest: +SKIP
"""

from bayesbg.cosi.background import (
    BackgroundModel,
    altitude_blocks,
    background_response_from_counts,
    bayesian_blocks,
    build_background_model,
    equidistant_blocks,
    false_alarm_probability,
    merge_blocks,
    read_background_response,
)
from bayesbg.cosi.config import SCHEMES, CosiFitConfig
from bayesbg.cosi.data import CosiDataset, load_dataset
from bayesbg.cosi.fit import (
    PARAMETERS,
    CosiFitResult,
    cosi_fit_model,
    fit_cosi,
    fit_data_from_config,
    maximum_likelihood,
    prior_initial_values,
    run_fit_config,
)
from bayesbg.cosi.likelihood import CosiFitData, prepare_fit_data
from bayesbg.cosi.pointsource import PointSourceResponse, point_source_response
from bayesbg.cosi.pointsource_fit import (
    SpectrumFitData,
    fit_point_source_spectrum,
    load_cosipy_fit_data,
    maximum_likelihood_spectrum,
)
from bayesbg.cosi.ppc import (
    PredictiveCheck,
    TimePredictiveCheck,
    predictive_check,
    predictive_checks,
    time_predictive_check,
)
from bayesbg.cosi.response import (
    compton_response,
    convolve_sky,
    effective_area,
    klein_nishina,
    psi_chi_grid,
)
from bayesbg.cosi.scan import BackgroundVariant, background_variants, scan_background
from bayesbg.cosi.scan_template import TemplateBuilder, scan_template
from bayesbg.cosi.simulate import (
    BalloonObservation,
    balloon_aspect,
    gaussian_sky,
    point_source_sky,
    simulate_cosi,
    simulated_observation,
)

__all__ = [
    "BackgroundModel",
    "BackgroundVariant",
    "BalloonObservation",
    "CosiDataset",
    "CosiFitConfig",
    "CosiFitData",
    "CosiFitResult",
    "PARAMETERS",
    "PointSourceResponse",
    "PredictiveCheck",
    "SCHEMES",
    "SpectrumFitData",
    "TemplateBuilder",
    "TimePredictiveCheck",
    "altitude_blocks",
    "background_response_from_counts",
    "background_variants",
    "balloon_aspect",
    "bayesian_blocks",
    "build_background_model",
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
    "maximum_likelihood",
    "prior_initial_values",
    "maximum_likelihood_spectrum",
    "merge_blocks",
    "point_source_response",
    "point_source_sky",
    "predictive_check",
    "predictive_checks",
    "prepare_fit_data",
    "psi_chi_grid",
    "read_background_response",
    "run_fit_config",
    "scan_background",
    "scan_template",
    "simulate_cosi",
    "simulated_observation",
    "time_predictive_check",
]
