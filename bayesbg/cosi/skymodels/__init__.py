"""The sky models of [COSI-511] Table 3: fits, limits, comparison (``bayesbg cosi sky-models``).

- :mod:`~bayesbg.cosi.skymodels.config`: the ``[sky_models]`` table (models, per-template
  priors, limits, the bulge's width from the template scan);
- :mod:`~bayesbg.cosi.skymodels.limits`: posterior intervals, upper limits as posterior
  quantiles and the same quantile of the prior;
- :mod:`~bayesbg.cosi.skymodels.fit`: one model by maximum likelihood and NUTS
  (:func:`fit_sky_model`), Table 3 (:func:`model_table`);
- :mod:`~bayesbg.cosi.skymodels.run`: configuration to run directories, with PSIS-LOO,
  AIC and BIC in one table (:func:`run_sky_models_config`).
"""

from bayesbg.cosi.skymodels.config import SkyModel, SkyModelsConfig, read_width
from bayesbg.cosi.skymodels.fit import SkyModelFit, fit_sky_model, model_table
from bayesbg.cosi.skymodels.limits import (
    ONE_SIDED_2_SIGMA,
    ONE_SIDED_3_SIGMA,
    FluxInterval,
    flux_interval,
    truncated_normal_quantile,
    upper_limit,
)
from bayesbg.cosi.skymodels.run import SkyModelsRun, choose_model, run_sky_models_config

__all__ = [
    "ONE_SIDED_2_SIGMA",
    "ONE_SIDED_3_SIGMA",
    "FluxInterval",
    "SkyModel",
    "SkyModelFit",
    "SkyModelsConfig",
    "SkyModelsRun",
    "choose_model",
    "fit_sky_model",
    "flux_interval",
    "model_table",
    "read_width",
    "run_sky_models_config",
    "truncated_normal_quantile",
    "upper_limit",
]
