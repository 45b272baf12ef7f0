"""TOML configuration of an ISGRI run (``bayesbg isgri run CONFIG``).

Example file (paths relative to the file; every key optional except one of ``input``
and ``simulate_seed``)::

    input = "scw.fits"              # pointing table (FITS, ECSV, CSV, Parquet); or:
    simulate_seed = 1               # simulate a full-size table instead
    simulate_spectrum = "cutoffpl"  # its Galactic spectrum: [ISGRI] Table 2 or "ipm" (3)
    output = "runs/isgri"           # the run directory
    deduplicate = false             # true: drop rows repeating another exactly
    method = "mixture-ml"           # or "mixture-nuts" (Stan fit of the Table-1 cells)
    seed = 1                        # seed of the Stan fits
    collimator = "flat"             # collimator shape of the Crab calibration
    collimator_alternative = "tapered"  # shape of the systematic term, or "none"
    clip_band = "168.2-185"         # band of the residual clipping, or "none"
    point_sources = ["Sco X-1"]     # sources whose collimator-mode spectra to extract
    spectral_fits = true            # fit Tables 2, 3 (and App. C) to the spectra (Stan)
    [sampler]                       # SamplerConfig of "mixture-nuts" (4 x 1000 + 1000)
    chains = 4
    [spectral_sampler]              # SamplerConfig of the spectral fits (4 x 1000 + 2500,
    chains = 4                      # dense metric, adapt_delta 0.999)

Unknown keys are errors naming the file and key.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bayesbg.config import SamplerConfig, TomlConfig, TomlTable
from bayesbg.isgri.bands import CLIPPING_BAND, Band
from bayesbg.isgri.model.collimator import COLLIMATOR_SHAPES, DEFAULT_COLLIMATOR
from bayesbg.isgri.paper_fits import SPECTRAL_SAMPLER
from bayesbg.isgri.simulate_sky import GALACTIC_SPECTRA
from bayesbg.isgri.sky import POINT_SOURCES, PointSource

__all__ = ["METHODS", "IsgriRunConfig"]

METHODS = ("mixture-ml", "mixture-nuts")
"""Flux estimators: the binned mixture by maximum likelihood (scipy) or by NUTS
(``stan_models/isgri_flux_mixture.stan``)."""

_KEYS = {"input", "simulate_seed", "simulate_spectrum", "output", "deduplicate", "method",
         "seed", "collimator", "collimator_alternative", "clip_band", "point_sources",
         "spectral_fits", "sampler", "spectral_sampler"}
_RENAMED = {"gaussian": "mixture-ml", "mixture": "mixture-nuts"}

# 4 x (1000 + 1000): the wing weights mix slowly; 2 x (500 + 500) left R-hat at 1.012
_DEFAULT_SAMPLER = SamplerConfig(chains=4, iter_warmup=1000, iter_sampling=1000)


@dataclass(frozen=True)
class IsgriRunConfig(TomlConfig):
    """Settings of one ISGRI run; see the module docstring for the TOML layout.

    Parameters
    ----------
    input : `~pathlib.Path` or None
        Pointing table; exactly one of ``input`` and ``simulate_seed``.
    simulate_seed : int or None
        Simulate a full-size table with this seed instead.
    simulate_spectrum : str
        Galactic spectrum of the simulation, ``"cutoffpl"`` ([ISGRI] Table 2, default)
        or ``"ipm"`` (Table 3).
    output : `~pathlib.Path`
        Run directory. Default ``runs/isgri``.
    deduplicate : bool
        Drop pointing-table rows that repeat another exactly. Default False: a repeated
        ScW id is an error naming the ids.
    method : str
        One of `METHODS`. Default ``"mixture-ml"``.
    seed : int
        Seed of the Stan fits (mixture, spectra). Default is 1.
    collimator : str
        Collimator shape of the Crab calibration
        (`bayesbg.isgri.model.collimator.COLLIMATOR_SHAPES`). Default ``"flat"``.
    collimator_alternative : str or None
        Shape whose calibration gives the collimator systematic; None (``"none"`` in
        TOML) for no such term. Default ``"tapered"``.
    clip_band : `bayesbg.isgri.bands.Band` or None
        Band of the residual clipping; None (``"none"``) skips it. Default 168.2-185 keV.
    point_sources : tuple of `bayesbg.isgri.sky.PointSource`
        Sources not cleaned from the rates whose collimator-mode spectra to extract
        (names of `bayesbg.isgri.sky.POINT_SOURCES` other than the Crab). Default none.
    spectral_fits : bool
        Fit the [ISGRI] Table 2 and 3 models to the GB, L+20 and L-20 spectra and the
        Appendix C model to the point sources (NUTS). Default False.
    sampler : `bayesbg.config.SamplerConfig`
        NUTS settings of ``"mixture-nuts"``. Default 4 chains x (1000 + 1000).
    spectral_sampler : `bayesbg.config.SamplerConfig`
        NUTS settings of the spectral fits. Default 4 chains x (1000 + 2500), dense
        metric, ``adapt_delta`` 0.999.
    """

    input: Path | None = None
    simulate_seed: int | None = None
    simulate_spectrum: str = "cutoffpl"
    output: Path = Path("runs/isgri")
    deduplicate: bool = False
    method: str = "mixture-ml"
    seed: int = 1
    collimator: str = DEFAULT_COLLIMATOR
    collimator_alternative: str | None = "tapered"
    clip_band: Band | None = CLIPPING_BAND
    point_sources: tuple[PointSource, ...] = ()
    spectral_fits: bool = False
    sampler: SamplerConfig = field(default_factory=lambda: _DEFAULT_SAMPLER)
    spectral_sampler: SamplerConfig = field(default_factory=lambda: SPECTRAL_SAMPLER)

    def __post_init__(self) -> None:
        if (self.input is None) == (self.simulate_seed is None):
            raise ValueError("input: give exactly one of input and simulate_seed")
        if self.method not in METHODS:
            hint = (f" ('{self.method}' was renamed '{_RENAMED[self.method]}')"
                    if self.method in _RENAMED else "")
            raise ValueError(f"method: expected one of {list(METHODS)}, found "
                             f"{self.method!r}{hint}")
        for key in ("collimator", "collimator_alternative"):
            value = getattr(self, key)
            if value is not None and value not in COLLIMATOR_SHAPES:
                raise ValueError(f"{key}: expected one of {sorted(COLLIMATOR_SHAPES)}"
                                 f"{' or none' if key.endswith('alternative') else ''}, found "
                                 f"{value!r}")
        if self.collimator_alternative == self.collimator:
            raise ValueError(f"collimator_alternative: expected a shape other than the "
                             f"collimator {self.collimator!r} (or none)")
        if self.simulate_spectrum not in GALACTIC_SPECTRA:
            raise ValueError(f"simulate_spectrum: expected one of {sorted(GALACTIC_SPECTRA)}, "
                             f"found {self.simulate_spectrum!r}")
        if any(source.name == "Crab" for source in self.point_sources):
            raise ValueError("point_sources: the Crab is the calibration source, not a "
                             "point source to extract")

    @classmethod
    def from_table(cls, document: TomlTable) -> IsgriRunConfig:
        """Build from the top-level table of the configuration file."""
        document.check_keys(_KEYS)
        values: dict[str, Any] = {}
        if "input" in document:
            values["input"] = document.path("input")
        if "simulate_seed" in document:
            values["simulate_seed"] = document.integer("simulate_seed", minimum=0)
        values["output"] = document.path("output", default=document.base / "runs" / "isgri")
        for key in ("simulate_spectrum", "method", "collimator"):
            if key in document:
                values[key] = document.string(key)
        for key in ("deduplicate", "spectral_fits"):
            if key in document:
                values[key] = document.boolean(key)
        if "seed" in document:
            values["seed"] = document.integer("seed", minimum=0)
        if "collimator_alternative" in document:
            text = document.string("collimator_alternative")
            values["collimator_alternative"] = None if text == "none" else text
        if "clip_band" in document:
            text = document.string("clip_band")
            try:
                values["clip_band"] = None if text == "none" else Band.parse(text)
            except ValueError as err:
                raise document.error("clip_band", f"{err} (or \"none\")") from None
        if "point_sources" in document:
            names = document.strings("point_sources")
            unknown = [name for name in names if name not in POINT_SOURCES]
            if unknown:
                raise document.error("point_sources", f"expected names among "
                                     f"{sorted(POINT_SOURCES)}, found {unknown}")
            values["point_sources"] = tuple(POINT_SOURCES[name] for name in names)
        if document.has_table("sampler"):
            values["sampler"] = SamplerConfig.from_table(document.table("sampler"))
        if document.has_table("spectral_sampler"):
            values["spectral_sampler"] = SamplerConfig.from_table(
                document.table("spectral_sampler"))
        return document.build(cls, values)


    def to_dict(self) -> dict[str, Any]:
        """JSON-ready settings, for ``summary.json``."""
        values: dict[str, Any] = {
            "method": self.method, "output": str(self.output), "seed": self.seed,
            "deduplicate": self.deduplicate, "collimator": self.collimator,
            "collimator_alternative": self.collimator_alternative or "none",
            "clip_band": self.clip_band.name if self.clip_band is not None else "none",
            "point_sources": [source.name for source in self.point_sources],
            "spectral_fits": self.spectral_fits}
        if self.input is not None:
            values["input"] = str(self.input)
        else:
            values["simulate_seed"] = self.simulate_seed
            values["simulate_spectrum"] = self.simulate_spectrum
        if self.method == "mixture-nuts":
            values["sampler"] = asdict(self.sampler)
        if self.spectral_fits:
            values["spectral_sampler"] = asdict(self.spectral_sampler)
        return values
