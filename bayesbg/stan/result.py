"""The result every NUTS fit of bayesbg returns."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
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

    @property
    def idata(self) -> az.InferenceData:
        """The `arviz.InferenceData` (``inference_data``), by the name ArviZ users use."""
        return self.inference_data


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
    summary_parameters: Sequence[str] | None = None,
    units: Mapping[str, str] | None = None,
    truth: Mapping[str, Any] | None = None,
    run_dir: str | Path | None = None,
    overwrite: bool = False,
    fields: Mapping[str, Any] | Callable[[Diagnostics, pd.DataFrame], Mapping[str, Any]]
    | None = None,
    extra: Mapping[str, Any] | Callable[[ResultT], Mapping[str, Any]] | None = None,
    files: Mapping[str, FileContent] | Callable[[ResultT], Mapping[str, FileContent]]
    | None = None,
) -> ResultT:
    """Check the sampler, summarise the parameters and write the run directory.

    The one end of every NUTS fit of bayesbg (template, COSI, point-source spectrum,
    spectra, ISGRI mixture): `diagnose` over ``parameters``, `parameter_summary` over
    ``summary_parameters``, the result built, then `write_run_dir` (with the data and
    program hashes) when ``run_dir`` is given.

    Parameters
    ----------
    result_type : type
        `FitResult` or a subclass (its extra fields come from ``fields``).
    fit : `cmdstanpy.CmdStanMCMC`
    inference_data : `arviz.InferenceData`
    model : `cmdstanpy.CmdStanModel`
        The program that was sampled (hashed into ``summary.json``).
    stan_data : mapping
        The data it was given (hashed).
    config : `bayesbg.config.SamplerConfig`
    seed : int
    parameters : sequence of str
        Variables whose sampler diagnostics are checked.
    summary_parameters : sequence of str, optional
        Variables of the summary table; default ``parameters``.
    units : mapping of str to str, optional
        Unit of each variable (astropy notation, ``""`` for dimensionless), written to
        ``summary.json`` as ``units`` and shown by the report.
    truth : mapping, optional
        Known values, a ``truth`` column of the summary.
    run_dir : str or `~pathlib.Path`, optional
        Write the run directory here (checked with `check_run_dir` before sampling by
        the caller). Default: nothing written.
    overwrite : bool
        Replace an existing run directory.
    fields : mapping or callable, optional
        More fields of ``result_type``, or a function of the diagnostics and the summary
        that returns them.
    extra, files : mapping or callable, optional
        More ``summary.json`` entries and more files of the run directory
        (`write_run_dir`), or functions of the finished result that return them.

    Returns
    -------
    result : ``result_type``
    """
    diagnostics = diagnose(inference_data, max_treedepth=config.max_treedepth,
                           var_names=list(parameters))
    summary = parameter_summary(inference_data, var_names=list(summary_parameters or parameters),
                                truth=truth)
    more = fields(diagnostics, summary) if callable(fields) else dict(fields or {})
    result = result_type(inference_data=inference_data, diagnostics=diagnostics,
                         summary=summary, seed=seed, config=config, run_dir=None, fit=fit,
                         **more)
    if run_dir is None:
        return result
    written = write_run_dir(
        run_dir, inference_data=inference_data, fit=fit, diagnostics=diagnostics,
        config=config, seed=seed, summary_table=summary,
        inputs={"stan_data": sha256_stan_data(stan_data), **sha256_stan_program(model)},
        overwrite=overwrite,
        extra={**({"units": dict(units)} if units else {}),
               **dict((extra(result) if callable(extra) else extra) or {})},
        files=files(result) if callable(files) else files,
    )
    return dataclasses.replace(result, run_dir=written)
