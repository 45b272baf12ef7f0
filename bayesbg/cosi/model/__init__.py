"""The COSI model: background, sky templates, the fit's data and its Stan program.

- :mod:`~bayesbg.cosi.model.background`: the empirical background model
  ``Bg[t, c] = Bhat[c] T[t] N_b / sum T`` (response, tracer, time nodes);
- :mod:`~bayesbg.cosi.model.sky`: sky models and the :class:`TemplateBuilder` that turns
  them into templates ``S[t, c]``;
- :mod:`~bayesbg.cosi.model.fit_data`: :class:`CosiFitData`, the populated bins with their
  models and totals, validated before Stan runs (:func:`prepare_fit_data`);
- :mod:`~bayesbg.cosi.model.program`: ``stan_models/cosi_template_fit.stan``, its
  parameters, initial values and ArviZ groups.
"""

from bayesbg.cosi.model.background import (
    SCHEMES,
    BackgroundModel,
    altitude_blocks,
    background_response_from_counts,
    bayesian_blocks,
    build_background_model,
    equidistant_blocks,
    false_alarm_probability,
    merge_blocks,
    read_background_response,
    scheme_blocks,
)
from bayesbg.cosi.model.fit_data import CosiFitData, prepare_fit_data
from bayesbg.cosi.model.program import (
    MODEL_NAME,
    PARAMETERS,
    cosi_fit_model,
    inference_data,
    maximum_likelihood_initial_values,
    prior_initial_values,
)
from bayesbg.cosi.model.sky import (
    TemplateBuilder,
    gaussian_sky,
    point_source_sky,
    template_dataset,
)

__all__ = [
    "MODEL_NAME",
    "PARAMETERS",
    "SCHEMES",
    "BackgroundModel",
    "CosiFitData",
    "TemplateBuilder",
    "altitude_blocks",
    "background_response_from_counts",
    "bayesian_blocks",
    "build_background_model",
    "cosi_fit_model",
    "equidistant_blocks",
    "false_alarm_probability",
    "gaussian_sky",
    "inference_data",
    "maximum_likelihood_initial_values",
    "merge_blocks",
    "point_source_sky",
    "prepare_fit_data",
    "prior_initial_values",
    "read_background_response",
    "scheme_blocks",
    "template_dataset",
]
