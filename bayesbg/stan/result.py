"""The result every NUTS fit of bayesbg returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import arviz as az
import cmdstanpy
import pandas as pd

from bayesbg.config import SamplerConfig
from bayesbg.stan.diagnostics import Diagnostics

__all__ = ["FitResult"]


@dataclass(frozen=True, eq=False)
class FitResult:
    """Outcome of a posterior fit (the analyses subclass it to document their groups).

    Attributes
    ----------
    inference_data : `arviz.InferenceData`
        ``posterior``, ``log_likelihood``, ``posterior_predictive``, ``observed_data``,
        ``constant_data`` and ``sample_stats`` groups.
    diagnostics : `bayesbg.stan.Diagnostics`
        Sampler checks.
    summary : `pandas.DataFrame`
        Per parameter: ``truth`` (if given), ``mean``, ``sd``, ``q5``, ``q50``, ``q95``,
        ``r_hat``, ``ess_bulk``, ``ess_tail``.
    seed : int
        The run's seed.
    config : `bayesbg.config.SamplerConfig`
        Sampler settings used.
    run_dir : `~pathlib.Path` or None
        The run directory written, if any.
    fit : `cmdstanpy.CmdStanMCMC`
        The cmdstanpy result.
    """

    inference_data: az.InferenceData
    diagnostics: Diagnostics
    summary: pd.DataFrame
    seed: int
    config: SamplerConfig
    run_dir: Path | None
    fit: cmdstanpy.CmdStanMCMC = field(repr=False)
