"""What the ISGRI simulator injects per energy band: the instrument, the Galactic
background spectrum of the bulge and the disk, and a bright point source (Sco X-1).

Used by `bayesbg.isgri.simulate`. Everything is defined by smooth functions of energy
and integrated over each band, so that broad and narrow bands agree:

- **detector background**: ``b(E) = 1.57e-3 (E / 38 keV)**-0.85`` cts s-1 pix-1 keV-1
  (0.055, 0.019, 0.058 cts s-1 pix-1 in 25-60, 60-80, 80-200 keV);
- **Crab rate on axis**: ``integral A(E) 10 E**-2.1 dE`` with the rate per photon flux
  ``A(E) = 0.062 (E / 40 keV)**-0.5`` cts s-1 pix-1 per ph cm-2 s-1;
- **per-orbit Crab-rate scatter**: 3.7, 4.7, 4.4 % (the [ISGRI] Appendix B systematic)
  in the broad band holding the band's centre;
- **residual noise at high latitude** (mCrab per pointing): 50, 145, 245 mCrab in the
  broad bands, a narrow band of ln-width ``l`` inside a broad band of ln-width ``L``
  ``sqrt(L / l)`` times more (the same error density over a narrower band); the growth
  of the core width towards the bulge (source confusion) is 4.0, 4.1, 3.4 times the
  stellar mass in the FOV relative to the Galactic centre's, by broad band;
- **transients** (badly cleaned bright sources): ``400 (E / 40 keV)`` mCrab;
- **Galactic background**: two spectral components, each a sum of the bulge and disk
  stellar mass in the FOV times a flux per unit mass (`GalacticSpectrum`). The fluxes
  per unit mass are solved so that the GB region and the mean of L+20 and L-20 have the
  component fluxes of [ISGRI] Table 2 (``"cutoffpl"``: cutoffpl with index 0 and
  Ecut = 11.2 keV plus powerlaw with index 1.55) or Table 3 (``"ipm"``: IPM with
  M_WD = 0.70 Msun plus the same powerlaw). Every region's spectrum is then exactly of
  the fitted model's form;
- **Sco X-1** ([ISGRI] Appendix C): ``exp(-E / 3.9 keV)`` (4.0e-10 erg s-1 cm-2 in
  30-80 keV) plus a power law of index 2.5 (13.0e-10), about 300 mCrab in 25-60 keV
  on axis (`POINT_SOURCE`).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from bayesbg.isgri.bands import BROAD_BANDS, Band
from bayesbg.isgri.sky import SCO_X1, PointSource
from bayesbg.spectra.data import SpectralData
from bayesbg.spectra.likelihood import predict_components, prepare
from bayesbg.spectra.spectral_model import SpectralModel

__all__ = [
    "GALACTIC_SPECTRA",
    "POINT_SOURCE",
    "GalacticSpectrum",
    "InjectedSource",
    "InstrumentBands",
    "band_mcrab",
]

log = logging.getLogger(__name__)

_SIGMA_HIGH_LATITUDE = (50.0, 145.0, 245.0)  # mCrab per pointing, by broad band
_CONFUSION = (4.0, 4.1, 3.4)  # core width growth towards the bulge, by broad band
_CRAB_SCATTER = (0.037, 0.047, 0.044)  # per-orbit Crab-rate scatter, by broad band


def _broad_index(band: Band) -> int:
    """The broad band holding the band's logarithmic centre (the nearest at the ends)."""
    centre = band.centre
    for k, broad in enumerate(BROAD_BANDS):
        if broad.energy_min <= centre < broad.energy_max:
            return k
    return 0 if centre < BROAD_BANDS[0].energy_min else len(BROAD_BANDS) - 1


def _power_integral(low: float, high: float, index: float) -> float:
    """``integral_low^high E**-index dE``."""
    if abs(index - 1.0) < 1e-12:
        return math.log(high / low)
    return (high ** (1 - index) - low ** (1 - index)) / (1 - index)


@dataclass(frozen=True, eq=False)
class InstrumentBands:
    """Per-band constants of the simulated instrument (module docstring).

    Attributes
    ----------
    bands : tuple of `Band`
    background_level : `numpy.ndarray`, shape (n_band,)
        Mean detector background, cts s-1 pix-1.
    crab_rate : `numpy.ndarray`, shape (n_band,)
        On-axis Crab rate at the start of the mission, cts s-1 pix-1.
    crab_scatter : `numpy.ndarray`, shape (n_band,)
        Fractional per-orbit scatter of the measured Crab rate.
    noise : `numpy.ndarray`, shape (n_band,)
        Core width of the residual noise at high latitude, mCrab per pointing.
    confusion : `numpy.ndarray`, shape (n_band,)
        Growth of the core width with the stellar mass in the FOV.
    transient : `numpy.ndarray`, shape (n_band,)
        Flux of a badly cleaned transient, mCrab.
    """

    bands: tuple[Band, ...]
    background_level: NDArray[np.float64] = field(init=False)
    crab_rate: NDArray[np.float64] = field(init=False)
    crab_scatter: NDArray[np.float64] = field(init=False)
    noise: NDArray[np.float64] = field(init=False)
    confusion: NDArray[np.float64] = field(init=False)
    transient: NDArray[np.float64] = field(init=False)

    def __post_init__(self) -> None:
        bands = tuple(self.bands)
        broad = [_broad_index(band) for band in bands]
        values = {
            "background_level": [1.57e-3 * 38.0**0.85 * _power_integral(
                b.energy_min, b.energy_max, 0.85) for b in bands],
            "crab_rate": [0.062 * 10.0 * 40.0**0.5 * _power_integral(
                b.energy_min, b.energy_max, 2.6) for b in bands],
            "crab_scatter": [_CRAB_SCATTER[k] for k in broad],
            "noise": [_SIGMA_HIGH_LATITUDE[k] * math.sqrt(
                math.log(BROAD_BANDS[k].energy_max / BROAD_BANDS[k].energy_min)
                / math.log(b.energy_max / b.energy_min)) for b, k in zip(bands, broad,
                                                                           strict=True)],
            "confusion": [_CONFUSION[k] for k in broad],
            "transient": [400.0 * b.centre / 40.0 for b in bands],
        }
        object.__setattr__(self, "bands", bands)
        for name, value in values.items():
            array = np.asarray(value, dtype=float)
            array.setflags(write=False)
            object.__setattr__(self, name, array)


def band_mcrab(spectral_model: SpectralModel, values: Mapping[str, float],
               bands: Sequence[Band]) -> NDArray[np.float64]:
    """mCrab of every component of a spectral model in every band.

    Bands may overlap (broad and narrow): they are computed in sets of non-overlapping
    bands (`bayesbg.spectra.predict_components`, the numpy twin of the Stan model).

    Parameters
    ----------
    spectral_model : `bayesbg.spectra.SpectralModel`
    values : mapping
        ``"<component>.flux"`` (1e-10 erg s-1 cm-2 in the flux band) and the free shape
        parameters.
    bands : sequence of `Band`

    Returns
    -------
    mcrab : `numpy.ndarray`, shape (n_component, n_band)
    """
    out = np.empty((len(spectral_model.components), len(bands)))
    for members in _disjoint_sets(bands):
        data = SpectralData([bands[k].energy_min for k in members],
                            [bands[k].energy_max for k in members],
                            np.zeros(len(members)), np.ones(len(members)))
        out[:, members] = predict_components(prepare(data, spectral_model=spectral_model),
                                             values)
    return out


def _disjoint_sets(bands: Sequence[Band]) -> list[list[int]]:
    """Band indices in groups of non-overlapping bands (greedy, by lower edge)."""
    groups: list[list[int]] = []
    ends: list[float] = []
    for k in sorted(range(len(bands)), key=lambda i: (bands[i].energy_min, bands[i].energy_max)):
        for g, end in enumerate(ends):
            if bands[k].energy_min >= end:
                groups[g].append(k)
                ends[g] = bands[k].energy_max
                break
        else:
            groups.append([k])
            ends.append(bands[k].energy_max)
    return groups


@dataclass(frozen=True)
class GalacticSpectrum:
    """A two-component Galactic background spectrum of the bulge and the disk.

    Parameters
    ----------
    name : str
        Label (``"cutoffpl"`` or ``"ipm"``).
    expression : str
        The `bayesbg.spectra.SpectralModel` expression, e.g. ``"cutoffpl+powerlaw"``.
    fixed : mapping of str to float
        Fixed shape parameters (as fitted: ``cutoffpl.index = 0``, ``powerlaw.index =
        1.55``).
    shape : mapping of str to float
        The free shape parameters' injected values (``cutoffpl.ecut``, ``ipm.mass``).
    bulge_region, arm_region : mapping of str to float
        Component fluxes (1e-10 erg s-1 cm-2, 30-80 keV) to reproduce in the GB region
        and on average in L+20 and L-20.
    """

    name: str
    expression: str
    fixed: Mapping[str, float]
    shape: Mapping[str, float]
    bulge_region: Mapping[str, float]
    arm_region: Mapping[str, float]

    @property
    def spectral_model(self) -> SpectralModel:
        """The model with its fixed parameters."""
        return SpectralModel.parse(self.expression, fixed=dict(self.fixed))

    def unit_mcrab(self, bands: Sequence[Band]) -> NDArray[np.float64]:
        """mCrab per unit component flux (1e-10 erg s-1 cm-2), shape (n_component, n_band)."""
        model = self.spectral_model
        ones = {f"{name}.flux": 1.0 for name in model.component_names}
        return band_mcrab(model, {**ones, **self.shape}, bands)


GALACTIC_SPECTRA: dict[str, GalacticSpectrum] = {
    "cutoffpl": GalacticSpectrum(
        "cutoffpl", "cutoffpl+powerlaw", {"cutoffpl.index": 0.0, "powerlaw.index": 1.55},
        {"cutoffpl.ecut": 11.2}, {"cutoffpl.flux": 9.7, "powerlaw.flux": 4.9},
        {"cutoffpl.flux": 4.3, "powerlaw.flux": 1.95}),
    "ipm": GalacticSpectrum(
        "ipm", "ipm+powerlaw", {"powerlaw.index": 1.55}, {"ipm.mass": 0.70},
        {"ipm.flux": 10.7, "powerlaw.flux": 4.0}, {"ipm.flux": 5.35, "powerlaw.flux": 1.1}),
}
"""Injectable Galactic background spectra: [ISGRI] Table 2 (``"cutoffpl"``) and Table 3
(``"ipm"``); the arms' fluxes are the means of L+20 and L-20."""


@dataclass(frozen=True)
class InjectedSource:
    """A bright point source injected into its own programme of pointings.

    Parameters
    ----------
    source : `bayesbg.isgri.sky.PointSource`
    expression : str
        Its spectral model.
    fixed : mapping of str to float
        Fixed shape parameters (none for Sco X-1: the paper fits the index).
    truth : mapping of str to float
        Component fluxes (1e-10 erg s-1 cm-2, 30-80 keV) and shape parameters.
    """

    source: PointSource
    expression: str
    fixed: Mapping[str, float]
    truth: Mapping[str, float]

    @property
    def spectral_model(self) -> SpectralModel:
        """The model with its fixed parameters."""
        return SpectralModel.parse(self.expression, fixed=dict(self.fixed))

    def mcrab(self, bands: Sequence[Band]) -> NDArray[np.float64]:
        """On-axis flux per band, mCrab, shape (n_band,)."""
        return band_mcrab(self.spectral_model, self.truth, bands).sum(axis=0)


POINT_SOURCE = InjectedSource(
    SCO_X1, "expcutoff+powerlaw", {},
    {"expcutoff.ecut": 3.9, "powerlaw.index": 2.5, "expcutoff.flux": 4.0,
     "powerlaw.flux": 13.0})
"""Sco X-1 as injected ([ISGRI] Appendix C: ``exp(-E / 3.9 keV)`` and a power law of
index 2.5)."""
