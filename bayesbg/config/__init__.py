"""bayesbg's configuration layer: sampler settings and the one TOML reader.

- :class:`SamplerConfig`: cmdstanpy ``sample()`` keywords, the ``[sampler]`` table;
- :class:`TomlTable`, :func:`read_toml`: typed, checked access to a TOML file's tables,
  with one error format (:class:`ConfigError`: ``<file>: <table>.<key>: <problem>``),
  used by every configuration of the package (COSI fit, scans, deconvolution, binning,
  ISGRI run, spectral fit).

The keys of every configuration file are listed in ``docs/configuration.md``.
"""

from bayesbg.config.sampler import SamplerConfig
from bayesbg.config.seeds import MAX_SEED, check_seed, random_generator, seed_argument
from bayesbg.config.toml import (
    MISSING,
    ConfigError,
    TomlConfig,
    TomlTable,
    read_toml,
    toml_value,
)

__all__ = [
    "MAX_SEED",
    "MISSING",
    "ConfigError",
    "SamplerConfig",
    "TomlConfig",
    "TomlTable",
    "check_seed",
    "random_generator",
    "read_toml",
    "seed_argument",
    "toml_value",
]
