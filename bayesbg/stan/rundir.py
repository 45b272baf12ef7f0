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
        ...              any extra files of the run type (``files=``: figures, tables)

Runs without posterior draws (ISGRI flux tables, COSI scans, deconvolution) are written
by `write_analysis_run_dir`::

    <run_dir>/
        summary.json     run_type, created time, seed, wall time, versions, SHA-256 of
                         each input file, the configuration, and the run type's results
                         in the conventions `bayesbg report` reads: ``tables`` (list of
                         {title, columns, rows}), ``figures`` (list of {file, caption}),
                         ``checks`` (list of {name, status: pass|warn|fail, detail,
                         advice}) and ``key_result`` (one line for ``bayesbg runs``)
        ...              the run's files (``files=``), e.g. figures as PNG

The directory is built under a hidden temporary name beside the target and renamed into
place when complete, so a run directory that exists is a finished run; ``summary.json``
is its last file. A stage that runs after the fit or analysis (e.g. predictive checks)
adds its files and ``summary.json`` entries with `add_to_run_dir`, each file and then the
summary replaced atomically. An existing non-empty directory is never replaced unless
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
import shutil
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import arviz as az
import cmdstanpy
import numpy as np
import pandas as pd

import bayesbg
from bayesbg.atomic import atomic_file, partial_path, staging_directory, write_text_atomic
from bayesbg.config import SamplerConfig
from bayesbg.logs import session_log_text
from bayesbg.reading import reading
from bayesbg.stan.diagnostics import Diagnostics

__all__ = [
    "RunDirectory",
    "add_to_run_dir",
    "check_run_dir",
    "load_run",
    "sha256_file",
    "sha256_stan_data",
    "sha256_stan_program",
    "stan_versions",
    "write_analysis_run_dir",
    "write_run_dir",
]

log = logging.getLogger(__name__)

POSTERIOR_FILE = "posterior.nc"
SUMMARY_FILE = "summary.json"
CONFIG_FILE = "config.toml"
CSV_DIR = "csv"
LOG_FILE = "bayesbg.log"
"""The session log (`bayesbg.logs`) of the process that wrote the run, when there is one."""
_RESERVED = {POSTERIOR_FILE, SUMMARY_FILE, CONFIG_FILE, CSV_DIR, LOG_FILE}
#: Keys of ``summary.json`` that `write_analysis_run_dir` sets itself.
ANALYSIS_KEYS = ("run_type", "bayesbg_version", "created_utc", "seed", "wall_time_s",
                 "versions", "inputs_sha256", "config", "config_sha256", "files")
#: Status values of an entry of ``summary["checks"]``.
CHECK_STATUSES = ("pass", "warn", "fail")
#: Keys of a fit's ``summary.json`` that `write_run_dir` sets itself.
FIT_KEYS = ("bayesbg_version", "created_utc", "seed", "versions", "inputs_sha256",
            "config_sha256", "files", "parameters", "diagnostics")
#: Lists of ``summary.json`` whose entries name themselves, and the naming field.
_NAMED_ENTRIES = {"checks": "name", "figures": "file", "tables": "title"}

#: What `write_run_dir` and `write_analysis_run_dir` accept as an extra file: its bytes,
#: or a function writing the file at the path it is given (e.g. ``fig.savefig``).
FileContent = bytes | Callable[[Path], None]


@dataclass(frozen=True, eq=False)
class RunDirectory:
    """A finished run directory read back by :func:`load_run`.

    Attributes
    ----------
    path : `~pathlib.Path`
    inference_data : `arviz.InferenceData` or None
        None for a run without posterior draws (`write_analysis_run_dir`).
    summary : dict
        Contents of ``summary.json``.
    config : `bayesbg.config.SamplerConfig` or None
        None when the run has no ``config.toml`` (analysis runs keep their
        configuration in ``summary["config"]``).
    """

    path: Path
    inference_data: az.InferenceData | None
    summary: dict[str, Any]
    config: SamplerConfig | None

    @property
    def has_posterior(self) -> bool:
        """Whether the run holds posterior draws (``posterior.nc``)."""
        return self.inference_data is not None

    @property
    def run_type(self) -> str:
        """``summary["run_type"]``, else the fit's ``model``, else ``"fit"``."""
        return str(self.summary.get("run_type", self.summary.get("model", "fit")))


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
    """SHA-256 of Stan data in a canonical binary form.

    Keys are taken in sorted order; each value as an array of 64-bit little-endian
    integers (integer or boolean values) or floats (any other number), with its shape,
    so ``[1, 2]``, ``np.array([1, 2])`` and ``np.int32`` values of the same numbers hash
    alike and an integer ``3`` differs from a float ``3.0`` (as Stan's ``int`` and
    ``real``). A value that is not a rectangular numeric array (ragged nested lists) is
    hashed as canonical JSON. For the full-scale COSI spectral data (22 million numbers)
    this takes ~0.5 s where hashing JSON text took ~12 s.

    Parameters
    ----------
    data : mapping
        Stan data dictionary.

    Returns
    -------
    digest : str
        64 hex digits.
    """
    digest = hashlib.sha256(b"bayesbg stan data v2\0")
    for key, value in sorted(data.items(), key=lambda item: str(item[0])):
        digest.update(str(key).encode() + b"\0")
        digest.update(_canonical_bytes(value))
    return digest.hexdigest()


def _canonical_bytes(value: Any) -> bytes:
    try:
        array = np.asarray(value)
    except ValueError:  # ragged
        array = None
    if array is not None and array.dtype.kind in "biuf":
        dtype = "<i8" if array.dtype.kind in "biu" else "<f8"
        head = f"{dtype}:{','.join(map(str, array.shape))}:".encode()
        return head + np.ascontiguousarray(array, dtype=dtype).tobytes()
    text = json.dumps(_jsonable(value), sort_keys=True, separators=(",", ":"))
    return b"json:" + text.encode() + b"\0"


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


def sha256_file(path: str | Path) -> str:
    """SHA-256 of a file's bytes, read in 1 MiB blocks.

    Parameters
    ----------
    path : str or `~pathlib.Path`

    Returns
    -------
    digest : str
        64 hex digits.
    """
    digest = hashlib.sha256()
    with Path(path).open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def stan_versions(fit: cmdstanpy.CmdStanMCMC | None = None) -> dict[str, str]:
    """CmdStan, stanc and cmdstanpy versions, for runs that used a Stan program.

    Parameters
    ----------
    fit : `cmdstanpy.CmdStanMCMC`, optional
        Read the versions the run was made with from its CSV header. Default: ask the
        CmdStan installation cmdstanpy uses now.

    Returns
    -------
    versions : dict of str to str
        ``cmdstan``, ``stanc`` and ``cmdstanpy``; ``"unknown"`` where not found.
    """
    if fit is not None:
        versions = _versions(fit)
        return {k: versions[k] for k in ("cmdstan", "stanc", "cmdstanpy")}
    try:
        version = cmdstanpy.cmdstan_version()
        cmdstan = ".".join(str(v) for v in version) if version else "unknown"
        stanc_exe = Path(cmdstanpy.cmdstan_path()) / "bin" / "stanc"
    except (ValueError, RuntimeError, OSError):
        return {"cmdstan": "unknown", "stanc": "unknown", "cmdstanpy": cmdstanpy.__version__}
    stanc = "unknown"
    try:
        completed = subprocess.run([str(stanc_exe), "--version"], capture_output=True,
                                   text=True, timeout=30, check=False)
        if completed.returncode == 0 and completed.stdout.strip():
            stanc = completed.stdout.strip().splitlines()[0]
    except (OSError, subprocess.SubprocessError):
        pass
    return {"cmdstan": cmdstan, "stanc": stanc, "cmdstanpy": cmdstanpy.__version__}


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
    files: Mapping[str, FileContent] | None = None,
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
    files : mapping of str to bytes or callable, optional
        More files of the run, by path relative to the run directory (e.g.
        ``{"spectrum.png": fig.savefig, "table.txt": text.encode()}``): bytes are
        written as they are; a callable is called with the file's path inside the
        staging directory and must create it. Written before the directory is renamed
        into place, so they are part of the finished run; listed in
        ``summary["files"]["extra"]``.

    Returns
    -------
    run_dir : `~pathlib.Path`
        Absolute path of the finished directory.

    Raises
    ------
    FileExistsError
        If ``run_dir`` holds a run (or other files) and ``overwrite`` is False.
    ValueError
        If a name in ``files`` is absolute, leaves the directory, or is one of the run
        directory's own files.
    """
    extra_files = _check_file_names(files)
    target = check_run_dir(run_dir, overwrite=overwrite)
    with staging_directory(target) as staging:
        _write_files(staging, extra_files)
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
                **({"extra": sorted(extra_files)} if extra_files else {}),
                **({"log": LOG_FILE} if session_log_text() is not None else {}),
            },
            **dict(extra or {}),
            "parameters": _table_to_json(summary_table),
            "diagnostics": diagnostics.to_dict(),
        }
        (staging / SUMMARY_FILE).write_text(
            json.dumps(summary, indent=2, allow_nan=False) + "\n", encoding="utf-8"
        )
        _write_session_log(staging)
        _move_into_place(staging, target, overwrite=overwrite)
    log.info("wrote run directory %s", target)
    return target


def write_analysis_run_dir(
    run_dir: str | Path,
    *,
    run_type: str,
    summary: Mapping[str, Any],
    files: Mapping[str, FileContent],
    inputs: Mapping[str, str | Path],
    config: Mapping[str, Any],
    seed: int | None,
    overwrite: bool = False,
    wall_time_s: float | None = None,
    stan_versions: Mapping[str, str] | None = None,
) -> Path:
    """Write the run directory of a run without posterior draws, atomically.

    For ISGRI flux tables, COSI scans, deconvolution and other analyses whose results
    are tables and figures rather than draws. Like `write_run_dir`, the directory is
    built under a hidden name beside the target and renamed into place when complete
    (``summary.json`` last), and an existing run is never replaced unless
    ``overwrite=True``.

    Parameters
    ----------
    run_dir : str or `~pathlib.Path`
        Destination.
    run_type : str
        What was run, e.g. ``"isgri_run"`` (shown by ``bayesbg runs`` and the report).
    summary : mapping
        JSON-ready results. Conventions read by `bayesbg.report`:
        ``tables``: list of ``{"title": str, "columns": [str], "rows": [[...]]}``;
        ``figures``: list of ``{"file": str, "caption": str}`` (files of ``files``);
        ``checks``: list of ``{"name", "status": "pass"|"warn"|"fail", "detail",
        "advice"}``; ``key_result``: one line for ``bayesbg runs``. Must not use the
        keys this function sets (`ANALYSIS_KEYS`).
    files : mapping of str to bytes or callable
        The run's files by path relative to the run directory; bytes are written as
        they are, a callable is called with the file's path in the staging directory
        (e.g. ``fig.savefig``) and must create it.
    inputs : mapping of str to str or `~pathlib.Path`
        Input files by label; their SHA-256 go to ``summary["inputs_sha256"]``.
    config : mapping
        The run's configuration (JSON-ready; numpy scalars and arrays are converted),
        stored as ``summary["config"]`` with its SHA-256 (canonical JSON).
    seed : int or None
        The run's seed, None if nothing was random.
    overwrite : bool
        Replace an existing run. Default is False.
    wall_time_s : float, optional
        Wall-clock duration of the run, s.
    stan_versions : mapping, optional
        CmdStan / stanc / cmdstanpy versions when a Stan program was run (see
        :func:`stan_versions`); merged into ``summary["versions"]``.

    Returns
    -------
    run_dir : `~pathlib.Path`
        Absolute path of the finished directory.

    Raises
    ------
    FileExistsError
        If ``run_dir`` holds a run (or other files) and ``overwrite`` is False.
    FileNotFoundError
        If an input file does not exist.
    ValueError
        On an empty ``run_type``, a reserved summary key, a bad file name, a figure not
        among the files, a malformed table or check, or a non-JSON value.
    """
    if not isinstance(run_type, str) or not run_type.strip():
        raise ValueError(f"run_type: expected a non-empty string, found {run_type!r}")
    clash = sorted(set(summary) & set(ANALYSIS_KEYS))
    if clash:
        raise ValueError(f"summary: key {clash[0]!r} is set by write_analysis_run_dir; "
                         "rename it")
    extra_files = _check_file_names(files)
    results = _json_ready(dict(summary))
    _check_conventions(results, extra_files)
    input_paths = {}
    for label, value in inputs.items():
        path = Path(value)
        if not path.is_file():
            raise FileNotFoundError(f"inputs[{label!r}]: {path} is not a file")
        input_paths[str(label)] = path
    config_json = _json_ready(dict(config))
    try:
        config_text = json.dumps(config_json, sort_keys=True, separators=(",", ":"),
                                 allow_nan=False)
    except (TypeError, ValueError) as err:
        raise ValueError(f"config: expected JSON-ready values ({err})") from err
    target = check_run_dir(run_dir, overwrite=overwrite)
    started = time.perf_counter()
    digests = {label: sha256_file(path) for label, path in input_paths.items()}
    versions = {
        "bayesbg": bayesbg.__version__,
        "numpy": np.__version__,
        "astropy": _astropy_version(),
        "python": platform.python_version(),
        **dict(stan_versions or {}),
    }
    document = {
        "run_type": run_type,
        "bayesbg_version": bayesbg.__version__,
        "created_utc": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "seed": None if seed is None else int(seed),
        "wall_time_s": None if wall_time_s is None else float(wall_time_s),
        "versions": versions,
        "inputs_sha256": digests,
        "config": config_json,
        "config_sha256": hashlib.sha256(config_text.encode()).hexdigest(),
        "files": {"extra": sorted(extra_files),
                  **({"log": LOG_FILE} if session_log_text() is not None else {})},
        **results,
    }
    try:  # fail before writing anything
        text = json.dumps(document, indent=2, allow_nan=False) + "\n"
    except (TypeError, ValueError) as err:
        raise ValueError(f"summary/config: expected JSON-ready values ({err})") from err
    with staging_directory(target) as staging:
        _write_files(staging, extra_files)
        (staging / SUMMARY_FILE).write_text(text, encoding="utf-8")
        _write_session_log(staging)
        _move_into_place(staging, target, overwrite=overwrite)
    log.info("wrote run directory %s (%s, %.1f s to write)", target, run_type,
             time.perf_counter() - started)
    return target


def load_run(run_dir: str | Path) -> RunDirectory:
    """Read a finished run directory.

    Parameters
    ----------
    run_dir : str or `~pathlib.Path`

    Both fits (``posterior.nc``, ``config.toml``) and runs without posterior draws
    (`write_analysis_run_dir`; then ``inference_data`` and ``config`` are None).

    Returns
    -------
    run : `RunDirectory`

    Raises
    ------
    FileNotFoundError
        If ``run_dir`` has no ``summary.json`` (not a finished run), or a fit's
        ``posterior.nc`` is missing.
    ValueError
        If ``summary.json`` is not valid JSON.
    """
    path = Path(run_dir)
    summary_path = path / SUMMARY_FILE
    if not summary_path.is_file():
        raise FileNotFoundError(f"run_dir: {path} is not a finished run (no {SUMMARY_FILE})")
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"run_dir: {summary_path} is not valid JSON ({err})") from err
    posterior = path / POSTERIOR_FILE
    if "run_type" in summary and not posterior.exists():
        inference_data = None
    elif posterior.exists():
        with reading(posterior, what="the run's posterior (ArviZ netCDF)"):
            inference_data = az.from_netcdf(str(posterior), engine="h5netcdf")
    else:
        raise FileNotFoundError(f"run_dir: {path} is a fit without {POSTERIOR_FILE}")
    config_path = path / CONFIG_FILE
    config = SamplerConfig.read(config_path) if config_path.is_file() else None
    return RunDirectory(path=path, inference_data=inference_data, summary=summary,
                        config=config)


def add_to_run_dir(
    run_dir: str | Path,
    *,
    summary: Mapping[str, Any] | None = None,
    files: Mapping[str, FileContent] | None = None,
) -> Path:
    """Add the results of a later stage (checks, figures, files) to a finished run directory.

    For stages that run after a fit or an analysis and read its run directory, such as
    predictive checks. Each of ``files`` is written atomically (under a temporary name,
    then renamed), then ``summary.json`` is replaced atomically, last: the directory is a
    finished run throughout, and its summary never lists an incomplete file. Running a
    stage again replaces its files and entries.

    Parameters
    ----------
    run_dir : str or `~pathlib.Path`
        A finished run directory (`write_run_dir` or `write_analysis_run_dir`).
    summary : mapping, optional
        New entries of ``summary.json`` (JSON-ready; numpy values and paths are
        converted). ``checks``, ``figures`` and ``tables`` (the conventions of
        `write_analysis_run_dir`) are appended to the run's lists, each replacing an
        entry of the same ``name``, ``file`` or ``title``; any other key is set. Keys the
        run layer sets (`FIT_KEYS`, `ANALYSIS_KEYS`) are refused.
    files : mapping of str to bytes or callable, optional
        As in `write_run_dir`: bytes, or a function writing the file at the path it is
        given; listed in ``summary["files"]["extra"]``.

    Returns
    -------
    run_dir : `~pathlib.Path`
        Absolute path.

    Raises
    ------
    FileNotFoundError
        If ``run_dir`` is not a finished run (no ``summary.json``).
    ValueError
        On a key the run layer sets, a bad file name, a figure not among the run's files,
        a malformed table or check, or a non-JSON value (nothing is written then).

    Examples
    --------
    >>> add_to_run_dir(run.run_dir, summary={"checks": [check]},  # doctest: +SKIP
    ...                files={"check.png": fig.savefig})
    """
    target = Path(run_dir).expanduser().absolute()
    summary_path = target / SUMMARY_FILE
    if not summary_path.is_file():
        raise FileNotFoundError(f"run_dir: {target} is not a finished run (no {SUMMARY_FILE})")
    document = json.loads(summary_path.read_text(encoding="utf-8"))
    new_files = _check_file_names(files)
    additions = _json_ready(dict(summary or {}))
    clash = sorted(set(additions) & (set(FIT_KEYS) | set(ANALYSIS_KEYS)))
    if clash:
        raise ValueError(f"summary: key {clash[0]!r} is set by the run layer; rename it")
    for key, value in additions.items():
        if key in _NAMED_ENTRIES and isinstance(value, list):
            field_name = _NAMED_ENTRIES[key]
            names = {entry.get(field_name) for entry in value if isinstance(entry, dict)}
            kept = [entry for entry in document.get(key, [])
                    if not (isinstance(entry, dict) and entry.get(field_name) in names)]
            document[key] = kept + value
        else:
            document[key] = value
    listed = sorted(set(_extra_files(document)) | set(new_files))
    _check_conventions(document, dict.fromkeys(listed, b""))
    document.setdefault("files", {})["extra"] = listed
    try:  # fail before writing anything
        text = json.dumps(document, indent=2, allow_nan=False) + "\n"
    except (TypeError, ValueError) as err:
        raise ValueError(f"summary: expected JSON-ready values ({err})") from err
    for name, content in new_files.items():
        with atomic_file(target / name, keep_suffix=True) as partial:
            _write_content(partial, content, name)
    write_text_atomic(summary_path, text)
    log.info("added %s to run directory %s", ", ".join([*additions, *new_files]) or "nothing",
             target)
    return target


def _extra_files(summary: Mapping[str, Any]) -> list[str]:
    """The run's own files, ``summary["files"]["extra"]``."""
    return list(summary.get("files", {}).get("extra", []))


def _check_file_names(files: Mapping[str, FileContent] | None) -> dict[str, FileContent]:
    """Validate the relative names of extra files; return them as plain strings."""
    checked: dict[str, FileContent] = {}
    for name, content in (files or {}).items():
        relative = Path(name)
        if (not str(name) or relative.is_absolute() or ".." in relative.parts
                or str(relative) in (".", "")):
            raise ValueError(f"files: {name!r} must be a relative path inside the run "
                             "directory")
        if relative.parts[0] in _RESERVED:
            raise ValueError(f"files: {name!r} is one of the run directory's own files "
                             f"({sorted(_RESERVED)})")
        if not (isinstance(content, bytes | bytearray) or callable(content)):
            raise TypeError(f"files[{name!r}]: expected bytes or a callable taking the "
                            f"path, found {type(content).__name__}")
        key = relative.as_posix()
        if key in checked:
            raise ValueError(f"files: {name!r} given twice")
        checked[key] = content
    return checked


def _write_session_log(directory: Path) -> None:
    """The session log so far (library chatter included), if the process keeps one."""
    text = session_log_text()
    if text is not None:
        (directory / LOG_FILE).write_text(text, encoding="utf-8")


def _write_files(directory: Path, files: Mapping[str, FileContent]) -> None:
    for name, content in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_content(path, content, name)


def _write_content(path: Path, content: FileContent, name: str) -> None:
    if isinstance(content, bytes | bytearray):
        path.write_bytes(bytes(content))
    else:
        content(path)
        if not path.is_file():
            raise ValueError(f"files[{name!r}]: the callable did not create {path.name}")


def _check_conventions(summary: Mapping[str, Any], files: Mapping[str, FileContent]) -> None:
    """The ``tables``, ``figures``, ``checks`` and ``key_result`` conventions."""
    for k, table in enumerate(summary.get("tables", [])):
        if not isinstance(table, dict) or not {"title", "columns", "rows"} <= set(table):
            raise ValueError(f"summary['tables'][{k}]: expected a dict with title, columns, "
                             "rows")
        width = len(table["columns"])
        for row in table["rows"]:
            if not isinstance(row, list) or len(row) != width:
                raise ValueError(f"summary['tables'][{k}] ({table['title']!r}): every row "
                                 f"needs {width} cells, found {row!r}")
    for k, figure in enumerate(summary.get("figures", [])):
        if not isinstance(figure, dict) or "file" not in figure:
            raise ValueError(f"summary['figures'][{k}]: expected a dict with file, caption")
        if Path(figure["file"]).as_posix() not in files:
            raise ValueError(f"summary['figures'][{k}]: {figure['file']!r} is not among "
                             "the files written")
    for k, check in enumerate(summary.get("checks", [])):
        if not isinstance(check, dict) or "name" not in check:
            raise ValueError(f"summary['checks'][{k}]: expected a dict with name, status, "
                             "detail, advice")
        if check.get("status") not in CHECK_STATUSES:
            raise ValueError(f"summary['checks'][{k}] ({check['name']!r}): status must be "
                             f"one of {CHECK_STATUSES}, found {check.get('status')!r}")
    if "key_result" in summary and not isinstance(summary["key_result"], str):
        raise ValueError("summary['key_result']: expected a string, found "
                         f"{type(summary['key_result']).__name__}")


def _astropy_version() -> str:
    try:
        import astropy  # noqa: PLC0415
    except ImportError:
        return "not installed"
    return str(astropy.__version__)


def _move_into_place(staging: Path, target: Path, *, overwrite: bool) -> None:
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        if not overwrite:  # appeared while we were writing
            check_run_dir(target, overwrite=False)
        retired = partial_path(target.with_name(target.name + ".old"))
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


def _json_ready(value: Any) -> Any:
    """Like `_jsonable`, recursing into arrays, with paths as strings and NaN/inf as None."""
    if isinstance(value, Mapping):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, np.ndarray | list | tuple):
        return [_json_ready(v) for v in (value.tolist() if isinstance(value, np.ndarray)
                                         else value)]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
