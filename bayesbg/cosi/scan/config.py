"""``[scan_background]`` and ``[scan_template]`` tables of the COSI TOML configuration.

:class:`ScanConfig` reads a COSI configuration file (`bayesbg.cosi.CosiFitConfig`: data,
background model, priors) together with its scan tables. Example (in the same file as
the fit's ``[data]``, ``[background]`` and ``[priors]``)::

    [scan_background]              # bayesbg cosi scan-background CONFIG
    tracers = ["photo_event_rate", "shield_rate"]   # default: [background] tracer
    n_blocks = [1, 2, 4, 8, 16, 32]                 # equidistant variants
    altitude_step = [1.0, 2.0]                      # altitude variants, km
    sigma = [1.0, 2.0, 3.0, 5.0]                    # Bayesian-block variants
    detrend = true                                  # Bayesian blocks over the tracer
    loo_top = 5                    # optional: PSIS-LOO (NUTS, [sampler]) of the 5 best

    [scan_template]                # bayesbg cosi scan-template CONFIG
    sigma_l = [4.0, 6.0, 8.0, 10.0, 12.0]           # deg, strictly increasing
    sigma_b = [4.0, 6.0, 8.0, 10.0, 12.0]
    template = "bulge"             # scanned template (replaced at each grid point)
    lon = 0.0                      # centre, Galactic deg
    lat = 0.0
    simulation_seed = 1            # the instrument: that of `bayesbg cosi simulate --seed 1`
    # geometry = "flight_geometry.nc"  # or: a flight-like geometry (bayesbg.cosi.flight)
    symmetric = false              # true: only sigma_l = sigma_b (sigma_b may be left out)
    bin_size = 6.0                 # optional; default 180 / n_phi of the dataset
    instrument_nside = 16          # bayesbg.cosi.exposure.InstrumentSettings (defaults shown)
    sky_nside = 32
    resolution = 2.5
    area = 50.0
    substeps = 4

Unknown keys are errors naming the key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bayesbg.config import MISSING, TomlConfig, TomlTable, read_toml
from bayesbg.cosi.config import CosiFitConfig
from bayesbg.cosi.exposure import InstrumentSettings

__all__ = ["BackgroundScanConfig", "ScanConfig", "TemplateScanConfig"]

_BACKGROUND_KEYS = {"tracers", "n_blocks", "altitude_step", "sigma", "detrend", "loo_top"}
_TEMPLATE_KEYS = {"sigma_l", "sigma_b", "template", "lon", "lat", "simulation_seed",
                  "geometry", "symmetric", "bin_size", *InstrumentSettings.KEYS}


@dataclass(frozen=True)
class BackgroundScanConfig:
    """Variants of ``bayesbg cosi scan-background`` (see the module docstring).

    Parameters
    ----------
    tracers : tuple of str or None
        Tracers; None for the ``[background]`` tracer.
    n_blocks : tuple of int
        Equidistant block counts.
    altitude_step : tuple of float
        Altitude steps, km.
    sigma : tuple of float
        Bayesian-block sigma levels.
    detrend : bool
        Bayesian blocks on counts over the tracer's prediction. Default is True.
    loo_top : int
        PSIS-LOO on the per-time-bin log-likelihood of a NUTS fit (the file's
        ``[sampler]``) for this many variants of lowest AIC
        (:func:`bayesbg.cosi.scan.background_loo`). Default is 0: none.
    """

    tracers: tuple[str, ...] | None = None
    n_blocks: tuple[int, ...] = ()
    altitude_step: tuple[float, ...] = ()
    sigma: tuple[float, ...] = ()
    detrend: bool = True
    loo_top: int = 0

    def __post_init__(self) -> None:
        if not (self.n_blocks or self.altitude_step or self.sigma):
            raise ValueError("scan_background: expected at least one of n_blocks, "
                             "altitude_step, sigma")
        for value in self.n_blocks:
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"scan_background.n_blocks: expected positive integers, "
                                 f"found {value!r}")
        for name in ("altitude_step", "sigma"):
            for value in getattr(self, name):
                if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                    raise ValueError(f"scan_background.{name}: expected positive numbers, "
                                     f"found {value!r}")
        if self.tracers is not None and (not self.tracers or not all(
                isinstance(t, str) for t in self.tracers)):
            raise ValueError(f"scan_background.tracers: expected a non-empty list of tracer "
                             f"names, found {self.tracers!r}")
        if not isinstance(self.detrend, bool):
            raise ValueError(f"scan_background.detrend: expected true or false, found "
                             f"{self.detrend!r}")
        if isinstance(self.loo_top, bool) or not isinstance(self.loo_top, int) or \
                self.loo_top < 0:
            raise ValueError(f"scan_background.loo_top: expected a non-negative integer, "
                             f"found {self.loo_top!r}")

    @classmethod
    def from_table(cls, table: TomlTable) -> BackgroundScanConfig:
        """From the ``[scan_background]`` TOML table; errors name file and key."""
        table.check_keys(_BACKGROUND_KEYS)
        values: dict[str, Any] = {}
        if "tracers" in table:
            values["tracers"] = table.strings("tracers")
        if "n_blocks" in table:
            values["n_blocks"] = table.integers("n_blocks", minimum=1)
        for key in ("altitude_step", "sigma"):
            if key in table:
                values[key] = table.numbers(key, positive=True)
        if "detrend" in table:
            values["detrend"] = table.boolean("detrend")
        if "loo_top" in table:
            values["loo_top"] = table.integer("loo_top", minimum=0)
        return table.build(cls, values)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready settings."""
        return {"tracers": list(self.tracers) if self.tracers else None,
                "n_blocks": list(self.n_blocks), "altitude_step": list(self.altitude_step),
                "sigma": list(self.sigma), "detrend": self.detrend, "loo_top": self.loo_top}


@dataclass(frozen=True)
class TemplateScanConfig:
    """Grid and instrument of ``bayesbg cosi scan-template`` (see the module docstring).

    Parameters
    ----------
    sigma_l, sigma_b : tuple of float
        Widths, deg, strictly increasing.
    simulation_seed : int or None
        Seed of the simulation whose instrument makes the templates.
    geometry : `~pathlib.Path` or None
        A flight-like geometry file (:func:`bayesbg.cosi.flight.load_flight_geometry`)
        whose pointing and data space make the templates; exactly one of
        ``simulation_seed`` and ``geometry``.
    symmetric : bool
        Only ``sigma_l = sigma_b``. Default is False.
    template : str
        Scanned template name. Default ``"bulge"``.
    lon, lat : float
        Centre, Galactic deg. Default (0, 0).
    bin_size : float or None
        Data-space bin size, deg; None for ``180 / n_phi`` of the dataset.
    instrument : `bayesbg.cosi.exposure.InstrumentSettings`
        The simulation's instrument (TOML keys ``instrument_nside``, ``sky_nside``,
        ``resolution``, ``area``, ``substeps``). Default ``InstrumentSettings()``.
    """

    sigma_l: tuple[float, ...]
    sigma_b: tuple[float, ...]
    simulation_seed: int | None = None
    geometry: Path | None = None
    symmetric: bool = False
    template: str = "bulge"
    lon: float = 0.0
    lat: float = 0.0
    bin_size: float | None = None
    instrument: InstrumentSettings = field(default_factory=InstrumentSettings)

    def __post_init__(self) -> None:
        for name in ("sigma_l", "sigma_b"):
            values = getattr(self, name)
            if not values or any(isinstance(v, bool) or not isinstance(v, int | float) or v <= 0
                                 for v in values) or \
                    any(b <= a for a, b in zip(values, values[1:], strict=False)):
                raise ValueError(f"scan_template.{name}: expected strictly increasing positive "
                                 f"widths in deg, found {list(values)!r}")
        seed = self.simulation_seed
        if (seed is None) == (self.geometry is None):
            raise ValueError("scan_template.simulation_seed, scan_template.geometry: expected "
                             "exactly one of them")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)
                                 or seed < 0):
            raise ValueError(f"scan_template.simulation_seed: expected a non-negative "
                             f"integer, found {seed!r}")
        if not isinstance(self.symmetric, bool):
            raise ValueError(f"scan_template.symmetric: expected true or false, found "
                             f"{self.symmetric!r}")
        if self.symmetric and self.sigma_b != self.sigma_l:
            raise ValueError("scan_template.sigma_b: a symmetric scan takes the widths of "
                             "sigma_l; leave sigma_b out")
        if self.bin_size is not None and (isinstance(self.bin_size, bool) or not isinstance(
                self.bin_size, int | float) or self.bin_size <= 0):
            raise ValueError(f"scan_template.bin_size: expected a positive number, found "
                             f"{self.bin_size!r}")
        for name in ("lon", "lat"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"scan_template.{name}: expected a number (deg), found "
                                 f"{value!r}")
        if not isinstance(self.template, str) or not self.template:
            raise ValueError(f"scan_template.template: expected a template name, found "
                             f"{self.template!r}")
        if not isinstance(self.instrument, InstrumentSettings):
            raise ValueError(f"scan_template.instrument: expected InstrumentSettings, found "
                             f"{type(self.instrument).__name__}")

    @classmethod
    def from_table(cls, table: TomlTable) -> TemplateScanConfig:
        """From the ``[scan_template]`` TOML table; errors name file and key."""
        table.check_keys(_TEMPLATE_KEYS)
        symmetric = table.boolean("symmetric", False)
        sigma_l = table.numbers("sigma_l", positive=True)
        values: dict[str, Any] = {
            "sigma_l": sigma_l,
            "sigma_b": table.numbers("sigma_b", sigma_l if symmetric else MISSING,
                                     positive=True),
            "symmetric": symmetric,
            "instrument": InstrumentSettings.from_table(table),
        }
        if "simulation_seed" in table:
            values["simulation_seed"] = table.integer("simulation_seed", minimum=0)
        if "geometry" in table:
            values["geometry"] = table.path("geometry")
        if "template" in table:
            values["template"] = table.string("template")
        for key in ("lon", "lat"):
            if key in table:
                values[key] = table.number(key)
        if "bin_size" in table:
            values["bin_size"] = table.number("bin_size", positive=True)
        return table.build(cls, values)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready settings (the instrument's keys at the top level, as in TOML)."""
        return {"sigma_l": list(self.sigma_l), "sigma_b": list(self.sigma_b),
                "simulation_seed": self.simulation_seed,
                "geometry": str(self.geometry) if self.geometry else None,
                "symmetric": self.symmetric, "template": self.template,
                "lon": self.lon, "lat": self.lat, "bin_size": self.bin_size,
                **self.instrument.to_dict()}


@dataclass(frozen=True)
class ScanConfig(TomlConfig):
    """A COSI configuration file with its scan tables.

    Parameters
    ----------
    fit : `bayesbg.cosi.CosiFitConfig`
        Data, background model, priors and seed (the file's fit tables).
    background : `BackgroundScanConfig` or None
        The ``[scan_background]`` table, if present.
    template : `TemplateScanConfig` or None
        The ``[scan_template]`` table, if present.
    """

    fit: CosiFitConfig
    background: BackgroundScanConfig | None = None
    template: TemplateScanConfig | None = None

    @classmethod
    def from_table(cls, document: TomlTable) -> ScanConfig:
        """Build from the top-level table of a COSI configuration file."""
        return cls._from(document, CosiFitConfig.from_table(document))

    @classmethod
    def read(cls, path: str | Path) -> ScanConfig:
        """Read a TOML file (relative paths relative to it; see `CosiFitConfig.read`)."""
        return cls._from(read_toml(path), CosiFitConfig.read(path))

    @classmethod
    def _from(cls, document: TomlTable, fit: CosiFitConfig) -> ScanConfig:
        background = template = None
        if document.has_table("scan_background"):
            background = BackgroundScanConfig.from_table(document.table("scan_background"))
        if document.has_table("scan_template"):
            template = TemplateScanConfig.from_table(document.table("scan_template"))
        return cls(fit=fit, background=background, template=template)
