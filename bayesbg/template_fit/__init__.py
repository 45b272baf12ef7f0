"""Binned Poisson template fitting: sky-template fluxes plus blocked background amplitudes.

``m[i] = sum_k F_k S[k, i] + A_b(i) Bg[i]`` with ``counts[i] ~ Poisson(m[i])``
(docs/equations.md section 1; ``stan_models/template_fit.stan``).

Examples
--------
>>> from bayesbg.template_fit import fit_templates, simulate_template_data
>>> data, truth = simulate_template_data(42)
>>> result = fit_templates(data, seed=42, truth=truth)  # doctest: +SKIP
"""

from bayesbg.template_fit.data import BinnedCounts
from bayesbg.template_fit.fit import (
    PARAMETERS,
    TemplateFitResult,
    fit_templates,
    template_fit_model,
)
from bayesbg.template_fit.simulate import simulate_template_data

__all__ = [
    "PARAMETERS",
    "BinnedCounts",
    "TemplateFitResult",
    "fit_templates",
    "simulate_template_data",
    "template_fit_model",
]
