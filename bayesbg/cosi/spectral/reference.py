"""Toy X-ray instruments for joint fits with COSI: NuSTAR FPMA/FPMB, Swift-BAT and
INTEGRAL/IBIS-ISGRI, simulated as OGIP spectra (docs/cosi_spectral.md, "Joint fits").

[COSI-PS] fits the COSI spectra jointly with NuSTAR (3-79 keV), Swift-BAT (14-195 keV,
the 105-month survey or a BATIMAGER spectrum) and INTEGRAL/IBIS spectra. Their real
responses are not public files here, so :class:`ToyInstrument` describes each by a smooth
effective area, a Gaussian energy resolution and channels, enough to exercise the joint
fit (cross-normalisation constants, photoelectric absorption at the low end) with the
papers' exposures. **They are toys**: areas and resolutions are round numbers of the
right order, not calibrations.

- NuSTAR FPM (one module): ``A(E) = 380 cm2 exp(-(E/40 keV)^1.6)``, FWHM ``0.4 + 0.01 E``
  keV, 120 logarithmic channels 3-79 keV, Poisson counts, background 2e-4 counts s-1
  keV-1;
- Swift-BAT survey: ``A(E) = 600 cm2 exp(-(E/120 keV)^2)``, FWHM ``3 + 0.08 E`` keV, the
  survey's 8 bands 14-195 keV, Gaussian rates with 2 % errors added in quadrature to the
  counting errors (the survey's systematic level), background 0.02 counts s-1 keV-1;
- IBIS-ISGRI: ``A(E) = 900 cm2 exp(-E/150 keV) (1 - exp(-(E/22 keV)^4))``, FWHM 8 % of
  E, 30 logarithmic channels 20-500 keV, Gaussian rates with 1 % added errors,
  background 0.01 counts s-1 keV-1.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.special import erf

from bayesbg.spectra.ogip import OgipSpectrum

__all__ = ["REFERENCE_INSTRUMENTS", "ToyInstrument", "reference_instrument"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ToyInstrument:
    """A toy X-ray instrument: area, resolution, channels, statistics.

    Parameters
    ----------
    name : str
    true_edges : tuple of float
        (min, max, n): logarithmic true-energy bins, keV.
    channel_edges : tuple of float
        Channel edges, keV.
    area : tuple of float
        ``(A0, E0, p, Eth)``: ``A0 exp(-(E/E0)^p) (1 - exp(-(E/Eth)^4))`` cm2 (``Eth`` 0:
        no threshold).
    fwhm : tuple of float
        ``(a, b)``: FWHM ``a + b E`` keV.
    poisson : bool
        Counts (Poisson) or rates with Gaussian errors.
    background : float
        counts s-1 keV-1.
    added_error : float
        Fractional error added in quadrature to Gaussian rates.
    """

    name: str
    true_edges: tuple[float, float, int]
    channel_edges: tuple[float, ...]
    area: tuple[float, float, float, float]
    fwhm: tuple[float, float]
    poisson: bool
    background: float
    added_error: float = 0.0

    def energy_true_edges(self) -> NDArray[np.float64]:
        """keV."""
        lo, hi, n = self.true_edges
        return np.geomspace(lo, hi, int(n) + 1)

    def effective_area(self, energy: NDArray[np.float64]) -> NDArray[np.float64]:
        """cm2."""
        a0, e0, p, threshold = self.area
        area = a0 * np.exp(-(energy / e0) ** p)
        if threshold > 0:
            area = area * (1.0 - np.exp(-(energy / threshold) ** 4))
        return area

    def response(self) -> NDArray[np.float64]:
        """``RMF x ARF`` (n_channel, n_true), cm2: Gaussian redistribution at each true
        bin's centre."""
        edges = self.energy_true_edges()
        centre = np.sqrt(edges[:-1] * edges[1:])
        sigma = (self.fwhm[0] + self.fwhm[1] * centre) / 2.3548
        channels = np.asarray(self.channel_edges)
        upper = (channels[1:, None] - centre[None, :]) / (np.sqrt(2) * sigma[None, :])
        lower = (channels[:-1, None] - centre[None, :]) / (np.sqrt(2) * sigma[None, :])
        return 0.5 * (erf(upper) - erf(lower)) * self.effective_area(centre)[None, :]

    def simulate(self, rng: np.random.Generator,
                 bin_flux: Callable[[NDArray[np.float64]], NDArray[np.float64]], *,
                 exposure: float, cross_norm: float = 1.0,
                 name: str | None = None) -> OgipSpectrum:
        """A simulated spectrum.

        Parameters
        ----------
        rng : `numpy.random.Generator`
        bin_flux : callable
            Photon flux per true-energy bin (ph cm-2 s-1) given the bin edges (keV), e.g.
            ``lambda edges: spectrum.bin_flux(edges, photon_flux, shape)``.
        exposure : float
            s.
        cross_norm : float
            The instrument's normalisation relative to the truth.
        name : str, optional
            Dataset name; default the instrument's.
        """
        edges = self.energy_true_edges()
        response = self.response()
        channels = np.asarray(self.channel_edges)
        source = cross_norm * exposure * (response @ bin_flux(edges))
        background = self.background * np.diff(channels) * exposure
        common = dict(name=name or self.name, channel_energy_min=channels[:-1],
                      channel_energy_max=channels[1:], energy_true_edges=edges,
                      response=response, exposure=exposure)
        if self.poisson:
            return OgipSpectrum(counts=rng.poisson(source + background),
                                background=background, **common)
        total = rng.poisson(source + background) - rng.poisson(background)  # on - off
        error = np.sqrt(np.maximum(source + 2 * background, 1.0)) / exposure
        error = np.sqrt(error**2 + (self.added_error * source / exposure) ** 2)
        rate = total / exposure + self.added_error * source / exposure * rng.standard_normal(
            source.size)
        return OgipSpectrum(rate=rate, rate_error=error, **common)


REFERENCE_INSTRUMENTS: dict[str, ToyInstrument] = {
    "NuSTAR": ToyInstrument(
        "NuSTAR", (2.5, 100.0, 240), tuple(np.geomspace(3.0, 79.0, 121).tolist()),
        (380.0, 40.0, 1.6, 0.0), (0.4, 0.01), True, 2e-4),
    "Swift-BAT": ToyInstrument(
        "Swift-BAT", (8.0, 300.0, 120),
        (14.0, 20.0, 24.0, 35.0, 50.0, 75.0, 100.0, 150.0, 195.0),
        (600.0, 120.0, 2.0, 0.0), (3.0, 0.08), False, 0.02, 0.02),
    "INTEGRAL/IBIS": ToyInstrument(
        "INTEGRAL/IBIS", (12.0, 900.0, 150), tuple(np.geomspace(20.0, 500.0, 31).tolist()),
        (900.0, 150.0, 1.0, 22.0), (0.0, 0.08), False, 0.01, 0.01),
}
"""The toy instruments by name (module docstring)."""


def reference_instrument(name: str) -> ToyInstrument:
    """One of `REFERENCE_INSTRUMENTS` (``"NuSTAR"``, ``"Swift-BAT"``, ``"INTEGRAL/IBIS"``)."""
    if name not in REFERENCE_INSTRUMENTS:
        raise ValueError(f"name: expected one of {sorted(REFERENCE_INSTRUMENTS)}, found "
                         f"{name!r}")
    return REFERENCE_INSTRUMENTS[name]
