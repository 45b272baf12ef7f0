"""Run directories: everything needed to inspect, check or redo a fit, written atomically.

Layout::

    <run_dir>/
        posterior.nc     ArviZ InferenceData (netCDF4 via h5netcdf): posterior,
                         log_likelihood, posterior_predictive, observed_data,
                         constant_data, sample_stats
        summary.json     per-parameter mean, sd, 5/50/95 % quantiles, R-hat, ESS (and truth
                         when known); diagnostics; seed; bayesbg / CmdStan / stanc /
                         cmdstanpy / ArviZ versions; SHA-256 of the inputs and of config.toml
        config.toml      the sampler configuration used (`bayesbg.config.SamplerConfig`)
        csv/             the CmdStan output CSV files, one per chain

The directory is built under a hidden temporary name beside the target and renamed into
place when complete, so a run directory that exists is a finished run; ``summary.json``
is its last file. An existing non-empty directory is never replaced unless
``overwrite=True`` (``--overwrite`` on the command line).
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
import math
import os
import platform
import secrets
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import arviz as az
import cmdstanpy
import numpy as np
import pandas as pd

import bayesbg
from bayesbg.config import SamplerConfig
from bayesbg.stan.diagnostics import Diagnostics

__all__ = [
    "RunDirectory",
    "check_run_dir",
    "load_run",
    "sha256_stan_data",
    "sha256_stan_program",
    "write_run_dir",
]

log = logging.getLogger(__name__)

POSTERIOR_FILE = "posterior.nc"
SUMMARY_FILE = "summary.json"
CONFIG_FILE = "config.toml"
CSV_DIR = "csv"


@dataclass(frozen=True, eq=False)
class RunDirectory:
    """A finished run directory read back by :func:`load_run`.

    Attributes
    ----------
    path : `~pathlib.Path`
    inference_data : `arviz.InferenceData`
    summary : dict
        Contents of ``summary.json``.
    config : `bayesbg.config.SamplerConfig`
    """

    path: Path
    inference_data: az.InferenceData
    summary: dict[str, Any]
    config: SamplerConfig


def check_run_dir(run_dir: str | Path, *, overwrite: bool = False) -> Path:
    """Fail early if ``run_dir`` holds something that must not be overwritten.

    Parameters
    ----------
    run_dir : str or `~pathlib.Path`
        Intended run directory.
    overwrite : bool
        Allow replacing an existing run. Default is False.

    Returns
    -------
    run_dir : `~pathlib.Path`
        Absolute path.

    Raises
    ------
    FileExistsError
        If ``run_dir`` exists, is not an empty directory, and ``overwrite`` is False.
    """
    path = Path(run_dir).expanduser().absolute()
    if path.exists() and not overwrite:
        if not path.is_dir():
            raise FileExistsError(f"run directory {path} exists and is not a directory")
        if any(path.iterdir()):
            what = "a finished run" if (path / SUMMARY_FILE).is_file() else "files"
            raise FileExistsError(
                f"run directory {path} already exists and holds {what}; choose another "
                "directory or pass overwrite=True (--overwrite on the command line) to "
                "replace it"
            )
    return path


def sha256_stan_data(data: Mapping[str, Any]) -> str:
    """SHA-256 of Stan data as canonical JSON (sorted keys, arrays as nested lists).

    Parameters
    ----------
    data : mapping
        Stan data dictionary.

    Returns
    -------
    digest : str
        64 hex digits.
    """
    text = json.dumps(_jsonable(dict(data)), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def sha256_stan_program(model: cmdstanpy.CmdStanModel) -> dict[str, str]:
    """SHA-256 of a model's Stan program and of the files it includes.

    For a model from `bayesbg.stan.compile_model` the includes are the copies in the
    cache directory's ``include/`` folder, i.e. exactly what was compiled.

    Parameters
    ----------
    model : `cmdstanpy.CmdStanModel`
        A model with a ``stan_file``.

    Returns
    -------
    digests : dict of str to str
        ``{file name: hex digest}``, the program first.
    """
    if model.stan_file is None:
        return {}
    program = Path(model.stan_file)
    digests = {program.name: hashlib.sha256(program.read_bytes()).hexdigest()}
    include_dir = program.parent / "include"
    if include_dir.is_dir():
        for path in sorted(p for p in include_dir.rglob("*") if p.is_file()):
            name = str(path.relative_to(include_dir))
            digests[name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digests


def write_run_dir(
    run_dir: str | Path,
    *,
    inference_data: az.InferenceData,
    fit: cmdstanpy.CmdStanMCMC,
    diagnostics: Diagnostics,
    config: SamplerConfig,
    seed: int,
    summary_table: pd.DataFrame,
    inputs: Mapping[str, str],
    overwrite: bool = False,
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Write a run directory atomically (see the module docstring for the layout).

    Parameters
    ----------
    run_dir : str or `~pathlib.Path`
        Destination.
    inference_data : `arviz.InferenceData`
        Written to ``posterior.nc``.
    fit : `cmdstanpy.CmdStanMCMC`
        Source of the CSV files and of the CmdStan / stanc versions.
    diagnostics : `bayesbg.stan.Diagnostics`
        Sampler checks, stored in ``summary.json``.
    config : `bayesbg.config.SamplerConfig`
        Written to ``config.toml``.
    seed : int
        The run's seed.
    summary_table : `pandas.DataFrame`
        From `bayesbg.stan.parameter_summary`; one entry per row in ``summary.json``.
    inputs : mapping of str to str
        SHA-256 digests of the inputs, e.g. ``{"stan_data": sha256_stan_data(data),
        "template_fit.stan": ...}``.
    overwrite : bool
        Replace an existing run. Default is False.
    extra : mapping, optional
        More JSON-ready entries for ``summary.json`` (e.g. the model name).

    Returns
    -------
    run_dir : `~pathlib.Path`
        Absolute path of the finished directory.

    Raises
    ------
    FileExistsError
        If ``run_dir`` holds a run (or other files) and ``overwrite`` is False.
    """
    target = check_run_dir(run_dir, overwrite=overwrite)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.partial-{secrets.token_hex(4)}"
    staging.mkdir()
    try:
        inference_data.to_netcdf(str(staging / POSTERIOR_FILE), engine="h5netcdf")
        config_text = config.to_toml()
        (staging / CONFIG_FILE).write_text(config_text, encoding="utf-8")
        csv_files = _copy_csv_files(fit, staging / CSV_DIR)
        summary = {
            "bayesbg_version": bayesbg.__version__,
            "created_utc": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "seed": int(seed),
            "versions": _versions(fit),
            "inputs_sha256": dict(inputs),
            "config_sha256": hashlib.sha256(config_text.encode()).hexdigest(),
            "files": {
                "inference_data": POSTERIOR_FILE,
                "config": CONFIG_FILE,
                "csv": [f"{CSV_DIR}/{name}" for name in csv_files],
            },
            **dict(extra or {}),
            "parameters": _table_to_json(summary_table),
            "diagnostics": diagnostics.to_dict(),
        }
        (staging / SUMMARY_FILE).write_text(
            json.dumps(summary, indent=2, allow_nan=False) + "\n", encoding="utf-8"
        )
        _move_into_place(staging, target, overwrite=overwrite)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    log.info("wrote run directory %s", target)
    return target


def load_run(run_dir: str | Path) -> RunDirectory:
    """Read a finished run directory.

    Parameters
    ----------
    run_dir : str or `~pathlib.Path`

    Returns
    -------
    run : `RunDirectory`

    Raises
    ------
    FileNotFoundError
        If ``run_dir`` has no ``summary.json`` (not a finished run).
    """
    path = Path(run_dir)
    summary_path = path / SUMMARY_FILE
    if not summary_path.is_file():
        raise FileNotFoundError(f"run_dir: {path} is not a finished run (no {SUMMARY_FILE})")
    return RunDirectory(
        path=path,
        inference_data=az.from_netcdf(str(path / POSTERIOR_FILE), engine="h5netcdf"),
        summary=json.loads(summary_path.read_text(encoding="utf-8")),
        config=SamplerConfig.read(path / CONFIG_FILE),
    )


def _move_into_place(staging: Path, target: Path, *, overwrite: bool) -> None:
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        if not overwrite:  # appeared while we were writing
            check_run_dir(target, overwrite=False)
        retired = target.parent / f".{target.name}.old-{secrets.token_hex(4)}"
        os.rename(target, retired)
        os.rename(staging, target)
        if retired.is_dir():
            shutil.rmtree(retired, ignore_errors=True)
        else:
            retired.unlink()
        return
    if target.exists():  # empty directory: rename replaces it
        target.rmdir()
    os.rename(staging, target)


def _copy_csv_files(fit: cmdstanpy.CmdStanMCMC, destination: Path) -> list[str]:
    destination.mkdir()
    names = []
    model = fit.runset.model
    for chain, source in enumerate(fit.runset.csv_files, start=1):
        name = f"{model}-chain{chain}.csv"
        shutil.copyfile(source, destination / name)
        names.append(name)
    return names


def _versions(fit: cmdstanpy.CmdStanMCMC) -> dict[str, str]:
    config = fit.metadata.cmdstan_config
    parts = [config.get(f"stan_version_{p}") for p in ("major", "minor", "patch")]
    if all(p is not None for p in parts):
        cmdstan = ".".join(str(p) for p in parts)
    else:
        version = cmdstanpy.cmdstan_version()
        cmdstan = ".".join(str(v) for v in version) if version else "unknown"
    return {
        "bayesbg": bayesbg.__version__,
        "cmdstan": cmdstan,
        "stanc": str(config.get("stanc_version", "unknown")),
        "cmdstanpy": cmdstanpy.__version__,
        "arviz": az.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
    }


def _table_to_json(table: pd.DataFrame) -> dict[str, dict[str, float | None]]:
    return {
        str(label): {
            column: (None if not math.isfinite(value) else float(value))
            for column, value in row.items()
        }
        for label, row in table.iterrows()
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value
