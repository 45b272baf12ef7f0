"""TOML configuration of a COSI template fit (``bayesbg cosi fit CONFIG``).

Example file (paths relative to the file)::

    seed = 1
    run_dir = "runs/cosi-511"      # optional; default runs/<config file stem>
    grainsize = 0                  # populated bins per chunk of the fused pass (0: 8,192)
    native = false                 # true: program built with -march=native (not portable)

    [data]
    dataset = "cosi_sim.nc"        # written by `bayesbg cosi simulate` or CosiDataset.write
    templates = ["bulge"]          # optional; default all templates of the dataset
    energy_min = 506.0             # optional band to fit, keV (datasets with energy bins)
    energy_max = 516.0

    [background]
    tracer = "photo_event_rate"
    scheme = "bayesian_blocks"     # or "equidistant", "altitude"; "+" merges the nodes of
                                   # several, e.g. "altitude+bayesian_blocks"
    sigma = 3.0                    # bayesian_blocks: p0 = norm.sf(sigma)
    detrend = true                 # bayesian_blocks on counts / tracer prediction
    n_blocks = 24                  # equidistant
    altitude_step = 1.0            # altitude, km
    response = "response.nc"       # optional; default the dataset's, else from the counts
    # or, instead of tracer/scheme/sigma/detrend/n_blocks/altitude_step:
    # from_scan = "runs/cosi-511-scan-background"  # the variant a background scan selected

    [priors]
    flux_mean = 1e-3               # ph cm-2 s-1, one value or one per template
    flux_sd = 3e-3
    background_sd = 0.1

    [sampler]                      # bayesbg.config.SamplerConfig (cmdstanpy keywords)
    chains = 4
    iter_warmup = 1000
    iter_sampling = 1000

Optional ``[scan_background]`` and ``[scan_template]`` tables in the same file configure
the scans (``bayesbg cosi scan-background|scan-template``); they are read and checked by
`bayesbg.cosi.scan.config`, which also documents their keys.

``[background] from_scan`` names the run directory of ``bayesbg cosi scan-background``:
the fit (and every configuration sharing the ``[background]`` table: the template scan,
deconvolution, sky models) then uses the variant the scan selected by AIC (tracer,
time-node scheme, its setting, detrend), read from the scan's ``summary.json`` when the
background model is built, so the scan can be run from the same file first. The scan
must have been run on the same dataset file (its SHA-256 is checked).

Unknown tables or keys are errors.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from bayesbg.config import SamplerConfig, TomlConfig, TomlTable
from bayesbg.cosi.data import CosiDataset, load_dataset
from bayesbg.cosi.model.background import (
    SCHEMES,
    BackgroundModel,
    build_background_model,
    merge_blocks,
    read_background_response,
    scheme_blocks,
)
from bayesbg.stan import sha256_file

__all__ = [
    "OTHER_TABLES",
    "SCAN_TABLES",
    "CosiFitConfig",
    "data_and_background_values",
    "read_scan_selection",
]

log = logging.getLogger(__name__)

SCAN_TABLES = ("scan_background", "scan_template")
"""Tables of the same file read by `bayesbg.cosi.scan.config` (not by `CosiFitConfig`)."""
OTHER_TABLES = ("sky_models", "results")
"""More tables of the same file, read by their own stage (`bayesbg.cosi.skymodels`,
`bayesbg.cosi.results`)."""

_TOP = {"seed", "run_dir", "grainsize", "native", "data", "background", "priors", "sampler",
        *SCAN_TABLES, *OTHER_TABLES}
_DATA = {"dataset", "templates", "energy_min", "energy_max"}
_VARIANT = ("tracer", "scheme", "sigma", "detrend", "n_blocks", "altitude_step")
_BACKGROUND = {*_VARIANT, "response", "from_scan"}
_SETTING_FIELD = {"equidistant": "n_blocks", "altitude": "altitude_step",
                  "bayesian_blocks": "sigma"}
_PRIORS = {"flux_mean", "flux_sd", "background_sd"}


@dataclass(frozen=True)
class CosiFitConfig(TomlConfig):
    """Settings of one COSI fit; see the module docstring for the TOML layout.

    Parameters
    ----------
    dataset : `~pathlib.Path`
        Dataset file.
    templates : tuple of str or None
        Templates to fit; None for all.
    energy_min, energy_max : float or None
        Band to fit, keV.
    tracer : str
        Background tracer name. Default ``"photo_event_rate"``.
    scheme : str
        One of `SCHEMES`, or several joined by ``"+"`` (the union of their time nodes,
        `bayesbg.cosi.merge_blocks`), e.g. ``"altitude+bayesian_blocks"``. Default
        ``"equidistant"``.
    n_blocks : int
        Blocks of the equidistant scheme. Default is 20.
    altitude_step : float
        Altitude marks, km. Default is 1.
    sigma : float
        Bayesian-blocks sigma level. Default is 3.
    detrend : bool
        Bayesian blocks on counts over the tracer's prediction. Default is True.
    response : `~pathlib.Path` or None
        Background-response file.
    from_scan : `~pathlib.Path` or None
        Run directory of a background scan whose selected variant replaces ``tracer``,
        ``scheme``, its setting and ``detrend`` (:meth:`resolved`).
    scan_selection : mapping or None
        The selected variant once resolved (``summary["selected"]`` of the scan).
    flux_prior_mean, flux_prior_sd : float or tuple of float
        ph cm-2 s-1. Defaults 1e-3 and 3e-3.
    background_prior_sd : float
        Default is 0.1.
    seed : int
        Default is 1.
    grainsize : int
        Populated bins per chunk of the fused likelihood pass (chunks run in parallel in a
        threaded build); 0 for the default of 8,192. Default is 0.
    native : bool
        Sample with the program built with ``-march=native``
        (``bayesbg.cosi.model.cosi_fit_model(native=True)``); no faster than the default build,
        whose fused likelihood picks AVX2 code at run time; the first build
        takes a few minutes longer and the executable runs only on CPUs like this one.
        Default is False.
    run_dir : `~pathlib.Path` or None
    sampler : `bayesbg.config.SamplerConfig`
    """

    dataset: Path
    templates: tuple[str, ...] | None = None
    energy_min: float | None = None
    energy_max: float | None = None
    tracer: str = "photo_event_rate"
    scheme: str = "equidistant"
    n_blocks: int = 20
    altitude_step: float = 1.0
    sigma: float = 3.0
    detrend: bool = True
    response: Path | None = None
    from_scan: Path | None = None
    scan_selection: Mapping[str, Any] | None = None
    flux_prior_mean: float | tuple[float, ...] = 1e-3
    flux_prior_sd: float | tuple[float, ...] = 3e-3
    background_prior_sd: float = 0.1
    seed: int = 1
    grainsize: int = 0
    native: bool = False
    run_dir: Path | None = None
    sampler: SamplerConfig = field(default_factory=SamplerConfig)

    def __post_init__(self) -> None:
        parts = str(self.scheme).split("+")
        if not parts or any(part not in SCHEMES for part in parts) or len(set(parts)) < len(
                parts):
            raise ValueError(f"scheme: expected one of {SCHEMES} or several of them joined "
                             f"by '+', found {self.scheme!r}")
        if (self.energy_min is None) != (self.energy_max is None):
            raise ValueError("energy_min, energy_max: give both band edges or neither")
        for name in ("n_blocks", "seed", "grainsize"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name}: expected a non-negative integer, found {value!r}")
        if not isinstance(self.native, bool):
            raise ValueError(f"native: expected true or false, found {self.native!r}")
        if self.n_blocks < 1:
            raise ValueError(f"n_blocks: expected a positive integer, found {self.n_blocks}")
        for name in ("altitude_step", "sigma", "background_prior_sd"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise ValueError(f"{name}: expected a positive number, found {value!r}")

    @classmethod
    def from_table(cls, document: TomlTable) -> CosiFitConfig:
        """Build from the top-level table of a COSI configuration file.

        Raises
        ------
        ConfigError
            Naming the file, table and key at fault.
        """
        document.check_keys(_TOP)
        values = data_and_background_values(document)
        priors = document.table("priors", _PRIORS)
        for key, name in (("flux_mean", "flux_prior_mean"), ("flux_sd", "flux_prior_sd")):
            if key in priors:
                values[name] = priors.number_or_numbers(key)
        if "background_sd" in priors:
            values["background_prior_sd"] = priors.number("background_sd", positive=True)
        for key in ("seed", "grainsize"):
            if key in document:
                values[key] = document.integer(key, minimum=0)
        if "native" in document:
            values["native"] = document.boolean("native")
        if "run_dir" in document:
            values["run_dir"] = document.path("run_dir")
        values["sampler"] = SamplerConfig.from_table(document.table("sampler"))
        return document.build(cls, values)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready settings (paths as strings), for ``summary.json``."""
        return {
            "dataset": str(self.dataset),
            "templates": list(self.templates) if self.templates else None,
            "energy_band": [self.energy_min, self.energy_max],
            "tracer": self.tracer,
            "scheme": self.scheme,
            "n_blocks": self.n_blocks,
            "altitude_step": self.altitude_step,
            "sigma": self.sigma,
            "detrend": self.detrend,
            "response": str(self.response) if self.response else None,
            "from_scan": str(self.from_scan) if self.from_scan else None,
            "scan_selection": dict(self.scan_selection) if self.scan_selection else None,
            "flux_prior_mean": self.flux_prior_mean,
            "flux_prior_sd": self.flux_prior_sd,
            "background_prior_sd": self.background_prior_sd,
            "seed": self.seed,
            "grainsize": self.grainsize,
            "native": self.native,
        }

    def load_dataset(self) -> CosiDataset:
        """The dataset, reduced to the energy band if one is set."""
        dataset = load_dataset(self.dataset)
        if self.energy_min is not None and self.energy_max is not None:
            dataset = dataset.select_energy(self.energy_min, self.energy_max)
        return dataset

    def resolved(self) -> CosiFitConfig:
        """This configuration with the background variant of ``from_scan`` filled in.

        Without ``from_scan`` the configuration itself. Otherwise ``tracer``, ``scheme``,
        the scheme's setting (``n_blocks``, ``altitude_step`` or ``sigma``) and
        ``detrend`` are those the scan selected, and ``scan_selection`` records them.

        Raises
        ------
        FileNotFoundError, ValueError
            If the scan's run directory is missing or unfinished, or was run on another
            dataset (SHA-256 of the dataset file).
        """
        if self.from_scan is None or self.scan_selection is not None:
            return self
        selected = read_scan_selection(self.from_scan, dataset=self.dataset)
        changes: dict[str, Any] = {"tracer": selected["tracer"],
                                   "scheme": selected["scheme"],
                                   "detrend": bool(selected["detrend"]),
                                   "scan_selection": selected}
        setting = float(selected["setting"])
        field_name = _SETTING_FIELD[selected["scheme"]]
        changes[field_name] = int(round(setting)) if field_name == "n_blocks" else setting
        return dataclasses.replace(self, **changes)

    def background_model(self, dataset: CosiDataset) -> BackgroundModel:
        """The background model of this configuration for ``dataset``.

        With ``from_scan``, the scan's selected variant (:meth:`resolved`).
        """
        if self.from_scan is not None and self.scan_selection is None:
            return self.resolved().background_model(dataset)
        if self.tracer not in dataset.tracers:
            raise ValueError(
                f"background.tracer: {self.tracer!r} is not one of the dataset's tracers "
                f"{sorted(dataset.tracers)}"
            )
        blocks = merge_blocks(*(self._blocks(part, dataset)
                                for part in self.scheme.split("+")))
        response = None
        if self.response is not None:
            response = read_background_response(self.response, n_data_bin=dataset.n_data_bin)
        return build_background_model(dataset, blocks=blocks, tracer=self.tracer,
                                      response=response)

    def _blocks(self, scheme: str, dataset: CosiDataset) -> NDArray[np.int64]:
        """Block number per time bin of one time-node scheme."""
        setting = {"equidistant": self.n_blocks, "altitude": self.altitude_step,
                   "bayesian_blocks": self.sigma}[scheme]
        tracer = dataset.tracers[self.tracer] if scheme == "bayesian_blocks" and \
            self.detrend else None
        return scheme_blocks(dataset, scheme, setting, tracer=tracer)


def data_and_background_values(document: TomlTable, *, templates: bool = True
                               ) -> dict[str, Any]:
    """`CosiFitConfig` fields of the ``[data]`` and ``[background]`` tables of a file.

    Shared by every configuration that selects data and builds the background model
    (the fit, its scans, deconvolution).

    Parameters
    ----------
    document : `bayesbg.config.TomlTable`
        The file's top-level table.
    templates : bool
        Whether ``[data]`` may name the templates to fit. Default is True.

    Returns
    -------
    values : dict
        Field name -> value for the keys present (``dataset`` is required).

    Raises
    ------
    bayesbg.config.ConfigError
        On an unknown key or an invalid value, naming file, table and key.
    """
    data = document.table("data", _DATA if templates else _DATA - {"templates"})
    values: dict[str, Any] = {"dataset": data.path("dataset")}
    if "templates" in data:
        values["templates"] = data.strings("templates", scalar_ok=True)
    for key in ("energy_min", "energy_max"):
        if key in data:
            values[key] = data.number(key, minimum=0.0)
    background = document.table("background", _BACKGROUND)
    for key in ("tracer", "scheme"):
        if key in background:
            values[key] = background.string(key)
    if "n_blocks" in background:
        values["n_blocks"] = background.integer("n_blocks", minimum=1)
    for key in ("altitude_step", "sigma"):
        if key in background:
            values[key] = background.number(key, positive=True)
    if "detrend" in background:
        values["detrend"] = background.boolean("detrend")
    if "response" in background:
        values["response"] = background.path("response")
    if "from_scan" in background:
        given = [key for key in _VARIANT if key in background]
        if given:
            raise background.error("from_scan", f"the scan's selected variant sets the "
                                   f"tracer and time nodes; remove {', '.join(given)} or "
                                   "from_scan")
        values["from_scan"] = background.path("from_scan")
    return values


def read_scan_selection(run_dir: str | Path, *, dataset: str | Path | None = None
                        ) -> dict[str, Any]:
    """The background variant a finished ``bayesbg cosi scan-background`` run selected.

    Parameters
    ----------
    run_dir : str or `~pathlib.Path`
        The scan's run directory (its ``summary.json``).
    dataset : str or `~pathlib.Path`, optional
        The dataset file about to be fitted: it must be the one the scan ran on
        (SHA-256 of the file against the scan's ``inputs_sha256["dataset"]``).

    Returns
    -------
    selected : dict
        ``scheme``, ``setting``, ``tracer``, ``detrend``, ``key``, ``n_block``, ``aic``,
        ... and ``run_dir`` (absolute).

    Raises
    ------
    FileNotFoundError
        If the run directory or its ``summary.json`` is missing (run the scan first).
    ValueError
        If it is not a background scan, or was run on another dataset.
    """
    path = Path(run_dir).expanduser().absolute()
    summary_file = path / "summary.json"
    if not summary_file.is_file():
        raise FileNotFoundError(f"background.from_scan: {path} holds no finished scan "
                                "(no summary.json); run `bayesbg cosi scan-background` first")
    summary = json.loads(summary_file.read_text(encoding="utf-8"))
    selected = summary.get("selected")
    if summary.get("run_type") != "cosi_scan_background" or not isinstance(selected, dict) \
            or not {"scheme", "setting", "tracer", "detrend"} <= set(selected):
        raise ValueError(f"background.from_scan: {path} is not a background scan run "
                         f"(run_type {summary.get('run_type')!r})")
    if selected["scheme"] not in SCHEMES:
        raise ValueError(f"background.from_scan: {path}: unknown scheme "
                         f"{selected['scheme']!r}")
    if dataset is not None:
        recorded = summary.get("inputs_sha256", {}).get("dataset")
        actual = sha256_file(dataset)
        if recorded != actual:
            raise ValueError(f"background.from_scan: {path} was run on another dataset "
                             f"(SHA-256 {str(recorded)[:12]}..., {Path(dataset).name} has "
                             f"{actual[:12]}...); re-run the scan")
    return {**selected, "run_dir": str(path)}
