"""The ``[results]`` table: where the results page of a [COSI-511] analysis finds its runs.

In the same file as the fit (`bayesbg.cosi.CosiFitConfig`), its scans and the sky models
(`bayesbg.cosi.skymodels.SkyModelsConfig`)::

    [results]                      # bayesbg cosi results CONFIG
    run_dir = "runs/results"       # default: <fit run_dir>-results
    image = "runs/image"           # run directory of `bayesbg cosi deconvolve`
    megalib = "runs/data/megalib_point_source.nc"            # optional: the binned
    megalib_geometry = "runs/data/megalib_point_source_geometry.nc"  # MEGAlib check
    node_tolerance = 2             # time bins: an injected node is found if a block
                                   # edge of the selected background lies this close

The other runs follow from the file: the bulge fit (``run_dir``), the background scan
(``[background] from_scan``), the template scan (``[sky_models] width_scan``) and the sky
models (``[sky_models] run_dir``, its models beside it). Unknown keys are errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bayesbg.config import TomlConfig, TomlTable, read_toml
from bayesbg.cosi.skymodels import SkyModelsConfig

__all__ = ["ResultsConfig"]

_KEYS = {"run_dir", "image", "megalib", "megalib_geometry", "node_tolerance", "title"}


@dataclass(frozen=True)
class ResultsConfig(TomlConfig):
    """A COSI configuration with its ``[results]`` table (module docstring).

    Parameters
    ----------
    sky_models : `bayesbg.cosi.skymodels.SkyModelsConfig`
        The file's fit and sky-model settings (and so every run directory).
    image : `~pathlib.Path` or None
        The deconvolution's run directory.
    megalib, megalib_geometry : `~pathlib.Path` or None
        The MEGAlib point source binned with its template
        (``data_prep/cosi/megalib_point_source.py``) and its geometry.
    node_tolerance : int
        Time bins. Default is 2.
    title : str
    run_dir : `~pathlib.Path` or None
    """

    sky_models: SkyModelsConfig
    image: Path | None = None
    megalib: Path | None = None
    megalib_geometry: Path | None = None
    node_tolerance: int = 2
    title: str = "[COSI-511] on flight-like data"
    run_dir: Path | None = None

    def __post_init__(self) -> None:
        if (self.megalib is None) != (self.megalib_geometry is None):
            raise ValueError("results.megalib, results.megalib_geometry: give both or neither")
        if isinstance(self.node_tolerance, bool) or not isinstance(self.node_tolerance, int) \
                or self.node_tolerance < 0:
            raise ValueError(f"results.node_tolerance: expected a non-negative integer, "
                             f"found {self.node_tolerance!r}")
        if self.sky_models.fit.from_scan is None:
            raise ValueError("background.from_scan: the results page reports the background "
                             "scan; the fit must take its variant from the scan")

    @classmethod
    def from_table(cls, document: TomlTable) -> ResultsConfig:
        """Build from the top-level table of a COSI configuration file."""
        sky_models = SkyModelsConfig.from_table(document)
        table = document.table("results", _KEYS)
        values: dict[str, Any] = {"sky_models": sky_models}
        for key in ("image", "megalib", "megalib_geometry", "run_dir"):
            if key in table:
                values[key] = table.path(key)
        if "node_tolerance" in table:
            values["node_tolerance"] = table.integer("node_tolerance", minimum=0)
        if "title" in table:
            values["title"] = table.string("title")
        return table.build(cls, values)

    @classmethod
    def read(cls, path: str | Path) -> ResultsConfig:
        """Read a TOML file; default run directories as `SkyModelsConfig.read`."""
        config = cls.from_table(read_toml(path))
        sky_models = SkyModelsConfig.read(path)
        object.__setattr__(config, "sky_models", sky_models)
        if config.run_dir is None:
            base = sky_models.fit.run_dir if sky_models.fit.run_dir is not None else \
                Path("runs") / Path(path).stem
            object.__setattr__(config, "run_dir", base.with_name(f"{base.name}-results"))
        return config

    @property
    def fit_run_dir(self) -> Path:
        """Run directory of the bulge fit (``bayesbg cosi fit``)."""
        run_dir = self.sky_models.fit.run_dir
        if run_dir is None:
            raise ValueError("run_dir: the configuration names no fit run directory")
        return run_dir

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready settings."""
        return {"image": str(self.image) if self.image else None,
                "megalib": str(self.megalib) if self.megalib else None,
                "megalib_geometry": str(self.megalib_geometry)
                if self.megalib_geometry else None,
                "node_tolerance": self.node_tolerance, "title": self.title}
