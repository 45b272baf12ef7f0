"""The result every NUTS fit of bayesbg returns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import arviz as az
import cmdstanpy
import pandas as pd

from bayesbg.config import SamplerConfig
from bayesbg.stan.diagnostics import Diagnostics, diagnose
from bayesbg.stan.rundir import (
    FileContent,
    sha256_stan_data,
    sha256_stan_program,
    write_run_dir,
)
from bayesbg.stan.summary import parameter_summary

ResultT = TypeVar("ResultT", bound="FitResult")

__all__ = ["FitResult", "conclude_fit"]


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


def conclude_fit(
    result_type: type[ResultT],
    fit: cmdstanpy.CmdStanMCMC,
    inference_data: az.InferenceData,
    *,
    model: cmdstanpy.CmdStanModel,
    stan_data: Mapping[str, Any],
    config: SamplerConfig,
    seed: int,
    parameters: Sequence[str],
    truth: Mapping[str, Any] | None = None,
    run_dir: Path | None = None,
    overwrite: bool = False,
    extra: Mapping[str, Any] | None = None,
    files: Mapping[str, FileContent] | None = None,
) -> ResultT:
    """Check the sampler, summarise the parameters and write the run directory.

    The common end of every NUTS fit: `diagnose` and `parameter_summary` over
    ``parameters``, then `write_run_dir` (with the data and program hashes) when
    ``run_dir`` is given (already checked with `check_run_dir`); ``extra`` and
    ``files`` are passed on to `write_run_dir`.

    Returns
    -------
    result : ``result_type``
    """
    diagnostics = diagnose(inference_data, max_treedepth=config.max_treedepth,
                           var_names=list(parameters))
    summary = parameter_summary(inference_data, var_names=list(parameters), truth=truth)
    written = None
    if run_dir is not None:
        written = write_run_dir(
            run_dir, inference_data=inference_data, fit=fit, diagnostics=diagnostics,
            config=config, seed=seed, summary_table=summary,
            inputs={"stan_data": sha256_stan_data(stan_data), **sha256_stan_program(model)},
            overwrite=overwrite, extra=extra, files=files,
        )
    return result_type(inference_data=inference_data, diagnostics=diagnostics,
                       summary=summary, seed=seed, config=config, run_dir=written, fit=fit)
