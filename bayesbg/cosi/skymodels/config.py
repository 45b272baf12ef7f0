"""The ``[sky_models]`` table: the models of [COSI-511] Table 3 and how to report them.

In the same file as the fit's ``[data]``, ``[background]`` (typically ``from_scan``) and
``[sampler]`` tables (`bayesbg.cosi.CosiFitConfig`)::

    [sky_models]                   # bayesbg cosi sky-models CONFIG
    run_dir = "runs/sky-models"    # default: <fit run_dir>-sky-models
    limits = ["thin_disk", "thick_disk"]  # fluxes reported as upper limits
    quantile = 0.97725             # of the limits: one-sided 2 sigma
    bulge = "bulge"                # the template whose width the template scan fitted
    width_scan = "runs/scan-template"  # its run directory: the bulge at the fitted width
    # width = 10.0                 # or a fixed width, deg
    geometry = "flight_geometry.nc"    # flight-like geometry that makes the bulge template
    prior_sd_scale = 2.0           # refit limit models with the limit's prior sd x 2

    [sky_models.models]            # name -> templates, in the order of the table
    "Bulge" = ["bulge"]
    "Bulge + thin disk" = ["bulge", "thin_disk"]
    "Bulge + thick disk" = ["bulge", "thick_disk"]

    [sky_models.priors]            # template -> [mean, sd] of N+(mean, sd), ph cm-2 s-1
    bulge = [1e-3, 3e-3]
    thin_disk = [1.7e-3, 5.1e-3]
    thick_disk = [1.7e-3, 5.1e-3]

Unknown keys are errors.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bayesbg.config import TomlConfig, TomlTable, read_toml
from bayesbg.cosi.config import CosiFitConfig
from bayesbg.cosi.skymodels.limits import ONE_SIDED_2_SIGMA

__all__ = ["SkyModel", "SkyModelsConfig", "read_width"]

_KEYS = {"run_dir", "limits", "quantile", "bulge", "width_scan", "width", "geometry",
         "prior_sd_scale", "models", "priors"}


@dataclass(frozen=True)
class SkyModel:
    """One sky model: a name and its templates (fitted together)."""

    name: str
    templates: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.name or not self.templates or len(set(self.templates)) != \
                len(self.templates):
            raise ValueError(f"sky_models.models: model {self.name!r} needs distinct "
                             f"templates, found {list(self.templates)}")

    @property
    def slug(self) -> str:
        """File-name-safe name, e.g. ``"bulge-thin-disk"``."""
        text = "".join(c.lower() if c.isalnum() else "-" for c in self.name)
        return "-".join(part for part in text.split("-") if part)


@dataclass(frozen=True)
class SkyModelsConfig(TomlConfig):
    """A COSI configuration with its ``[sky_models]`` table (module docstring).

    Parameters
    ----------
    fit : `bayesbg.cosi.CosiFitConfig`
        Data, background model, sampler, seed.
    models : tuple of `SkyModel`
    priors : dict of str to (float, float)
        ``N+(mean, sd)`` per template, ph cm-2 s-1.
    limits : tuple of str
        Templates reported as upper limits.
    quantile : float
        Posterior quantile of the limits. Default 0.97725 (one-sided 2 sigma).
    bulge : str
        Template of the bulge. Default ``"bulge"``.
    width_scan : `~pathlib.Path` or None
        Run directory of a symmetric template scan: the bulge is rebuilt at its fitted
        width (``summary["width"]["best"]``).
    width : float or None
        Or a fixed bulge width, deg.
    geometry : `~pathlib.Path` or None
        Flight-like geometry making the bulge template (needed with a width).
    prior_sd_scale : float
        If positive, every model with a limit is fitted again with the limits' prior sd
        times this, to measure the limit's prior dependence. Default 0: not.
    run_dir : `~pathlib.Path` or None
    """

    fit: CosiFitConfig
    models: tuple[SkyModel, ...]
    priors: dict[str, tuple[float, float]]
    limits: tuple[str, ...] = ()
    quantile: float = ONE_SIDED_2_SIGMA
    bulge: str = "bulge"
    width_scan: Path | None = None
    width: float | None = None
    geometry: Path | None = None
    prior_sd_scale: float = 0.0
    run_dir: Path | None = None

    def __post_init__(self) -> None:
        if not self.models:
            raise ValueError("sky_models.models: expected at least one model")
        names = [model.name for model in self.models]
        slugs = [model.slug for model in self.models]
        if len(set(names)) != len(names) or len(set(slugs)) != len(slugs):
            raise ValueError(f"sky_models.models: expected distinct names, found {names}")
        used = {t for model in self.models for t in model.templates}
        missing = sorted(used - set(self.priors))
        if missing:
            raise ValueError(f"sky_models.priors: no prior for {missing}")
        for name, (mean, sd) in self.priors.items():
            if not mean >= 0 or not sd > 0:
                raise ValueError(f"sky_models.priors.{name}: expected [mean >= 0, sd > 0], "
                                 f"found [{mean}, {sd}]")
        unknown = sorted(set(self.limits) - used)
        if unknown:
            raise ValueError(f"sky_models.limits: {unknown} are in no model")
        if not 0.5 < self.quantile < 1:
            raise ValueError(f"sky_models.quantile: expected a one-sided quantile in "
                             f"(0.5, 1), found {self.quantile}")
        if self.width_scan is not None and self.width is not None:
            raise ValueError("sky_models.width, sky_models.width_scan: give at most one")
        if (self.width_scan is not None or self.width is not None) and self.geometry is None:
            raise ValueError("sky_models.geometry: needed to build the bulge at a width")
        if self.width is not None and not self.width > 0:
            raise ValueError(f"sky_models.width: expected a positive width (deg), found "
                             f"{self.width}")
        if not self.prior_sd_scale >= 0:
            raise ValueError(f"sky_models.prior_sd_scale: expected >= 0, found "
                             f"{self.prior_sd_scale}")

    @classmethod
    def from_table(cls, document: TomlTable) -> SkyModelsConfig:
        """Build from the top-level table of a COSI configuration file."""
        fit = CosiFitConfig.from_table(document)
        if not document.has_table("sky_models"):
            raise document.error("sky_models", "missing: the table of the sky models")
        table = document.table("sky_models", _KEYS)
        models_table = table.table("models")
        models = tuple(SkyModel(name, models_table.strings(name, scalar_ok=True))
                       for name in models_table.keys())
        priors_table = table.table("priors")
        priors = {name: tuple(priors_table.numbers(name, length=2))
                  for name in priors_table.keys()}
        values: dict[str, Any] = {"fit": fit, "models": models, "priors": priors}
        if "limits" in table:
            values["limits"] = table.strings("limits", scalar_ok=True)
        for key in ("quantile", "width", "prior_sd_scale"):
            if key in table:
                values[key] = table.number(key)
        if "bulge" in table:
            values["bulge"] = table.string("bulge")
        for key in ("width_scan", "geometry", "run_dir"):
            if key in table:
                values[key] = table.path(key)
        return table.build(cls, values)

    @classmethod
    def read(cls, path: str | Path) -> SkyModelsConfig:
        """Read a TOML file; the run directory defaults to ``<fit run_dir>-sky-models``."""
        config = cls.from_table(read_toml(path))
        if config.run_dir is None:
            base = CosiFitConfig.read(path).run_dir
            assert base is not None
            object.__setattr__(config, "run_dir", base.with_name(f"{base.name}-sky-models"))
        return config

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready settings."""
        return {"models": {m.name: list(m.templates) for m in self.models},
                "priors": {k: list(v) for k, v in self.priors.items()},
                "limits": list(self.limits), "quantile": self.quantile,
                "bulge": self.bulge,
                "width_scan": str(self.width_scan) if self.width_scan else None,
                "width": self.width, "geometry": str(self.geometry) if self.geometry else None,
                "prior_sd_scale": self.prior_sd_scale}


def read_width(run_dir: str | Path) -> dict[str, Any]:
    """The fitted symmetric width of a finished template scan (``summary["width"]``).

    Raises
    ------
    FileNotFoundError, ValueError
    """
    path = Path(run_dir).expanduser().absolute()
    summary_file = path / "summary.json"
    if not summary_file.is_file():
        raise FileNotFoundError(f"sky_models.width_scan: {path} holds no finished scan (no "
                                "summary.json); run `bayesbg cosi scan-template` first")
    summary = json.loads(summary_file.read_text(encoding="utf-8"))
    if summary.get("run_type") != "cosi_scan_template" or "width" not in summary:
        raise ValueError(f"sky_models.width_scan: {path} is not a symmetric template scan "
                         "with a fitted width (need >= 3 widths sigma_l = sigma_b)")
    return {**summary["width"], "run_dir": str(path)}
