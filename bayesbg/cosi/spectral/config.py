"""The bright-source study's TOML configuration (``bayesbg cosi bright-sources CONFIG``).

Example (every key optional; docs/configuration.md)::

    data_dir = "classic-2016"                             # optional, relative to this file;
                                                         # default: the sample data's classic-2016/
                                                         # (bayesbg.cosi.io.sample_data_dir)
    sources = ["crab", "cygx1", "cena"]                  # keys of bayesbg.cosi.spectral.PAPER
    seed = 1
    output = "runs/bright_sources"                       # the run directory
    time_bin = 1800.0                                    # s
    pointing_cut = 90.0                                  # deg, spectral data
    imaging_cut = 60.0                                   # deg, the band flux
    area_factor = 0.2                                    # x the toy's 511 keV effective area
    substeps = 30                                        # sub-pointings per time bin
    days = 14                                            # optional: repeated days per source
                                                         # (default: the paper's T_obs)
    [sampler]                                            # bayesbg.config.SamplerConfig keys
    chains = 4
    [band_sampler]
    chains = 2

Unknown keys and tables are errors naming the file and key.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from bayesbg.config import SamplerConfig, TomlConfig, TomlTable
from bayesbg.cosi.io.sample_data import sample_data_dir
from bayesbg.cosi.spectral.study import StudySettings
from bayesbg.cosi.spectral.tables import PAPER

__all__ = ["StudyConfig", "quick_settings"]

_KEYS = {"data_dir", "sources", "seed", "output", "time_bin", "pointing_cut", "imaging_cut",
         "area_factor", "substeps", "days", "sampler", "band_sampler"}


@dataclass(frozen=True)
class StudyConfig(TomlConfig):
    """The study's settings, sources and output directory.

    Attributes
    ----------
    settings : `StudySettings`
    sources : tuple of str
    output : `~pathlib.Path`
    """

    settings: StudySettings
    sources: tuple[str, ...]
    output: Path

    @classmethod
    def from_table(cls, table: TomlTable) -> StudyConfig:
        """Build from the top-level table of a configuration file (module docstring)."""
        table.check_keys(_KEYS)
        sources = tuple(table.strings("sources", default=list(PAPER)))
        for name in sources:
            if name not in PAPER:
                raise table.error("sources", f"expected names among {sorted(PAPER)}, found "
                                             f"{name!r}")
        samplers = {}
        for key, default in (("sampler", StudySettings.__dataclass_fields__["sampler"]),
                             ("band_sampler",
                              StudySettings.__dataclass_fields__["band_sampler"])):
            base = default.default_factory()  # type: ignore[misc]
            if table.has_table(key):
                sub = table.table(key)
                SamplerConfig.from_table(sub)  # validates, naming file and key
                base = base.replace(**dict(sub.values))
            samplers[key] = base
        settings = StudySettings(
            data_dir=(table.path("data_dir") if "data_dir" in table
                      else sample_data_dir() / "classic-2016"),
            seed=table.integer("seed", default=1, minimum=0),
            time_bin=table.number("time_bin", default=1800.0, positive=True),
            days=table.integer("days", default=None, minimum=1),
            pointing_cut=table.number("pointing_cut", default=90.0, positive=True),
            imaging_cut=table.number("imaging_cut", default=60.0, positive=True),
            area_factor=table.number("area_factor", default=0.2, positive=True),
            substeps=table.integer("substeps", default=30, minimum=1),
            **samplers)
        return cls(settings=settings, sources=sources,
                   output=table.path("output", default=table.base / "runs" / "bright_sources"))


def quick_settings(settings: StudySettings) -> StudySettings:
    """The settings of a quick run: two days, 2 chains x (200 + 200) everywhere."""
    short = SamplerConfig(chains=2, iter_warmup=200, iter_sampling=200)
    return replace(settings, days=2, sampler=short, band_sampler=short)
