"""TOML configuration of an ISGRI pipeline run (``bayesbg isgri run CONFIG``).

Example file (paths relative to the file)::

    input = "scw.fits"          # pointing table (FITS, ECSV, CSV, Parquet); or:
    simulate_seed = 1           # simulate a full-size table instead
    output = "runs/isgri"       # the run directory
    method = "mixture-ml"       # or "mixture-nuts" (Stan fit of every region x band)
    seed = 1                    # seed of the mixture fit
    [sampler]                   # optional, SamplerConfig fields (default 4 chains x
    chains = 4                  # 1000 warm-up + 1000 draws)

Unknown keys are errors naming the file and key.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bayesbg.config import SamplerConfig, TomlConfig, TomlTable

__all__ = ["METHODS", "IsgriRunConfig"]

METHODS = ("mixture-ml", "mixture-nuts")
"""Flux estimators: the binned mixture by maximum likelihood (scipy) or by NUTS
(``stan_models/isgri_flux_mixture.stan``)."""

_KEYS = {"input", "simulate_seed", "output", "method", "seed", "sampler"}
_RENAMED = {"gaussian": "mixture-ml", "mixture": "mixture-nuts"}

# 4 x (1000 + 1000): the wing weights mix slowly; 2 x (500 + 500) left R-hat at 1.012
_DEFAULT_SAMPLER = SamplerConfig(chains=4, iter_warmup=1000, iter_sampling=1000)


@dataclass(frozen=True)
class IsgriRunConfig(TomlConfig):
    """Settings of one ISGRI pipeline run; see the module docstring for the TOML layout.

    Parameters
    ----------
    input : `~pathlib.Path` or None
        Pointing table; exactly one of ``input`` and ``simulate_seed``.
    simulate_seed : int or None
        Simulate a full-size table with this seed instead.
    output : `~pathlib.Path`
        Run directory. Default ``runs/isgri``.
    method : str
        One of `METHODS`. Default ``"mixture-ml"``.
    seed : int
        Seed of the mixture fit. Default is 1.
    sampler : `bayesbg.config.SamplerConfig`
        NUTS settings of ``"mixture-nuts"``. Default 4 chains x (1000 + 1000).
    """

    input: Path | None = None
    simulate_seed: int | None = None
    output: Path = Path("runs/isgri")
    method: str = "mixture-ml"
    seed: int = 1
    sampler: SamplerConfig = field(default_factory=lambda: _DEFAULT_SAMPLER)

    def __post_init__(self) -> None:
        if (self.input is None) == (self.simulate_seed is None):
            raise ValueError("input: give exactly one of input and simulate_seed")
        if self.method not in METHODS:
            hint = (f" ('{self.method}' was renamed '{_RENAMED[self.method]}')"
                    if self.method in _RENAMED else "")
            raise ValueError(f"method: expected one of {list(METHODS)}, found "
                             f"{self.method!r}{hint}")

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
        if "method" in document:
            values["method"] = document.string("method")
        if "seed" in document:
            values["seed"] = document.integer("seed", minimum=0)
        if document.has_table("sampler"):
            values["sampler"] = SamplerConfig.from_table(document.table("sampler"))
        return document.build(cls, values)


    def to_dict(self) -> dict[str, Any]:
        """JSON-ready settings, for ``summary.json``."""
        values: dict[str, Any] = {"method": self.method, "output": str(self.output),
                                  "seed": self.seed}
        if self.input is not None:
            values["input"] = str(self.input)
        else:
            values["simulate_seed"] = self.simulate_seed
        if self.method == "mixture-nuts":
            values["sampler"] = asdict(self.sampler)
        return values
