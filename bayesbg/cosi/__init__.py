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
    run_fit_config,
)
from bayesbg.cosi.likelihood import CosiFitData, prepare_fit_data
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
from bayesbg.cosi.simulate import balloon_aspect, gaussian_sky, point_source_sky, simulate_cosi

__all__ = [
    "PARAMETERS",
    "SCHEMES",
    "PredictiveCheck",
    "TimePredictiveCheck",
    "BackgroundModel",
    "CosiDataset",
    "CosiFitConfig",
    "CosiFitData",
    "CosiFitResult",
    "altitude_blocks",
    "background_response_from_counts",
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
    "gaussian_sky",
    "klein_nishina",
    "load_dataset",
    "maximum_likelihood",
    "merge_blocks",
    "point_source_sky",
    "predictive_check",
    "predictive_checks",
    "prepare_fit_data",
    "psi_chi_grid",
    "read_background_response",
    "run_fit_config",
    "simulate_cosi",
    "time_predictive_check",
]
