"""Stan run layer: compile cache, sampling and optimisation, InferenceData, diagnostics,
run directories.

Examples
--------
>>> from bayesbg.stan import compile_model, sample, stan_model_file  # doctest: +SKIP
>>> model = compile_model(stan_model_file("template_fit"))  # doctest: +SKIP
>>> fit = sample(model, data, seed=1)  # doctest: +SKIP
"""

from bayesbg.stan.compile import ProgramStatus, check_programs, compile_model, model_cache_key
from bayesbg.stan.diagnostics import Check, Diagnostics, Thresholds, diagnose
from bayesbg.stan.errors import SamplerWarning, StanRunError
from bayesbg.stan.inference import to_inference_data
from bayesbg.stan.programs import (
    PROGRAMS,
    program_names,
    stan_model_file,
    stan_models_dir,
)
from bayesbg.stan.result import FitResult, conclude_fit
from bayesbg.stan.run import (
    PRIOR_SWITCH,
    OptimizeResult,
    StanData,
    generate_quantities,
    laplace,
    optimize,
    sample,
)
from bayesbg.stan.rundir import (
    RunDirectory,
    add_to_run_dir,
    check_run_dir,
    load_run,
    sha256_file,
    sha256_stan_data,
    sha256_stan_program,
    stan_versions,
    write_analysis_run_dir,
    write_run_dir,
)
from bayesbg.stan.summary import format_summary, parameter_summary

__all__ = [
    "PRIOR_SWITCH",
    "PROGRAMS",
    "Check",
    "Diagnostics",
    "FitResult",
    "OptimizeResult",
    "ProgramStatus",
    "RunDirectory",
    "SamplerWarning",
    "StanData",
    "StanRunError",
    "Thresholds",
    "add_to_run_dir",
    "check_programs",
    "check_run_dir",
    "compile_model",
    "conclude_fit",
    "diagnose",
    "format_summary",
    "generate_quantities",
    "laplace",
    "load_run",
    "model_cache_key",
    "optimize",
    "parameter_summary",
    "program_names",
    "sample",
    "sha256_file",
    "sha256_stan_data",
    "sha256_stan_program",
    "stan_model_file",
    "stan_models_dir",
    "stan_versions",
    "to_inference_data",
    "write_analysis_run_dir",
    "write_run_dir",
]
