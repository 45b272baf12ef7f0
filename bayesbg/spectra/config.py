"""TOML configuration of a spectral fit (``bayesbg spectrum fit --config FILE``).

Example file::

    [spectrum]
    model = "cutoffpl+powerlaw"          # components joined by '+'
    fixed = {"cutoffpl.index" = 0.0, "powerlaw.index" = 1.55}
    priors = {"cutoffpl.ecut" = {prior = "lognormal", location = 2.4, scale = 1.0}}
    flux_prior_scale = 1000.0            # 1e-10 erg s-1 cm-2, or a table by component
    flux_band = [30.0, 80.0]             # keV, the band of the component fluxes
    cross_norm_prior_sd = 0.3            # prior sd of ln C (joint fits)
    systematic = 0.03                    # fractional systematic error of every dataset
    reference = "ISGRI"                  # dataset whose cross-normalisation is 1
    deduplicate = false                  # true: drop rows repeating another exactly

    [sampler]                            # bayesbg.config.SamplerConfig fields
    chains = 4

Command-line options (``--model``, ``--fix``, ``--systematic``, ``--deduplicate``) take
precedence. Unknown
tables and keys are errors naming the file and key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bayesbg.config import SamplerConfig, TomlConfig, TomlTable

__all__ = ["SpectrumFitConfig"]

_SPECTRUM_KEYS = {"model", "fixed", "priors", "flux_prior_scale", "flux_band",
                  "cross_norm_prior_sd", "systematic", "reference", "deduplicate"}


@dataclass(frozen=True)
class SpectrumFitConfig(TomlConfig):
    """Settings of one spectral fit; see the module docstring for the TOML layout.

    Parameters
    ----------
    model : str or None
        Components joined by ``+``; None when the command line gives it.
    fixed : mapping of str to float
        Fixed shape parameters, ``{"powerlaw.index": 1.55}``.
    priors : mapping or None
        Per-parameter prior settings (`bayesbg.spectra.SpectralModel.parse`).
    flux_prior_scale : float or mapping of str to float
        Half-normal flux prior scale(s), 1e-10 erg s-1 cm-2. Default is 1000.
    flux_band : (float, float)
        Band of the component fluxes, keV. Default (30, 80).
    cross_norm_prior_sd : float
        Prior sd of ln C. Default is 0.3.
    systematic : float or None
        Fractional systematic error for every dataset; None keeps the file's.
    reference : str or None
        Dataset whose cross-normalisation is fixed to 1.
    deduplicate : bool
        Drop spectrum rows that repeat another row exactly; default False (a band given
        twice is an error, `bayesbg.spectra.read_spectrum`).
    sampler : `bayesbg.config.SamplerConfig`
    """

    model: str | None = None
    fixed: Mapping[str, float] = field(default_factory=dict)
    priors: Mapping[str, Mapping[str, Any]] | None = None
    flux_prior_scale: float | Mapping[str, float] = 1000.0
    flux_band: tuple[float, float] = (30.0, 80.0)
    cross_norm_prior_sd: float = 0.3
    systematic: float | None = None
    reference: str | None = None
    deduplicate: bool = False
    sampler: SamplerConfig = field(default_factory=SamplerConfig)

    @classmethod
    def from_table(cls, document: TomlTable) -> SpectrumFitConfig:
        """Build from the top-level table of the configuration file."""
        document.check_keys({"spectrum", "sampler"})
        spectrum = document.table("spectrum", _SPECTRUM_KEYS)
        values: dict[str, Any] = {}
        for key in ("model", "reference"):
            if key in spectrum:
                values[key] = spectrum.string(key)
        if "fixed" in spectrum:
            fixed = spectrum.table("fixed")
            values["fixed"] = {name: fixed.number(name) for name in fixed.keys()}
        if "priors" in spectrum:
            values["priors"] = spectrum.mapping("priors")
        if "flux_prior_scale" in spectrum:
            if isinstance(spectrum.raw("flux_prior_scale"), Mapping):
                scales = spectrum.table("flux_prior_scale")
                values["flux_prior_scale"] = {name: scales.number(name, positive=True)
                                              for name in scales.keys()}
            else:
                values["flux_prior_scale"] = spectrum.number("flux_prior_scale",
                                                             positive=True)
        if "flux_band" in spectrum:
            values["flux_band"] = spectrum.numbers("flux_band", positive=True, length=2)
        if "cross_norm_prior_sd" in spectrum:
            values["cross_norm_prior_sd"] = spectrum.number("cross_norm_prior_sd",
                                                            positive=True)
        if "systematic" in spectrum:
            values["systematic"] = spectrum.number("systematic", minimum=0.0)
        if "deduplicate" in spectrum:
            values["deduplicate"] = spectrum.boolean("deduplicate")
        values["sampler"] = SamplerConfig.from_table(document.table("sampler"))
        return document.build(cls, values)

