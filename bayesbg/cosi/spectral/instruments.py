"""Spectra of other instruments for a joint fit with the COSI counts (docs/cosi_spectral.md,
"Joint fits").

An :class:`InstrumentData` is one dataset (one cross-normalisation constant): channels
with observed values, a response from true-energy bins to the channels, and a likelihood:

- OGIP spectra (:func:`bayesbg.spectra.ogip.read_ogip_spectrum`): counts with
  ``exposure x RMF x ARF`` (counts per ph cm-2 s-1 in each true-energy bin) and the known
  background counts, Poisson; or rates with errors and ``RMF x ARF`` (cm2), Gaussian with
  the file's fractional systematic (:meth:`InstrumentData.from_ogip`);
- bayesbg's ECSV band fluxes in mCrab (:func:`bayesbg.spectra.read_spectrum`): each band
  is its own true-energy bin with response ``1000 / F_Crab(band)`` (mCrab per ph cm-2
  s-1), Gaussian (:meth:`InstrumentData.from_spectral_data`; upper limits are not
  supported here).

True-energy bins are pairs ``(energy_min, energy_max)`` (keV) that need not touch.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from bayesbg.spectra.crab_units import crab_photon_flux_kev
from bayesbg.spectra.data import SpectralData
from bayesbg.spectra.ogip import OgipSpectrum

__all__ = ["InstrumentData"]

log = logging.getLogger(__name__)

LIKELIHOODS = ("poisson", "gauss")


@dataclass(frozen=True, eq=False)
class InstrumentData:
    """One instrument's channels, response and likelihood.

    Parameters
    ----------
    name : str
        Dataset name (its cross-normalisation is ``cross_norm[name]``).
    true_min, true_max : array_like, shape (n_true,)
        True-energy bins, keV.
    response : array_like, shape (n_channel, n_true)
        Predicted channel value per ph cm-2 s-1 in each true bin (counts, counts s-1 or
        mCrab, as the values).
    likelihood : {"poisson", "gauss"}
    value : array_like, shape (n_channel,)
        Counts (Poisson, integers) or values (Gaussian).
    error : array_like, shape (n_channel,), optional
        1-sigma errors (Gaussian).
    background : array_like, shape (n_channel,), optional
        Known background counts (Poisson). Default 0.
    systematic : float
        Fractional systematic error of Gaussian channels. Default 0.
    channel_min, channel_max : array_like, shape (n_channel,)
        Nominal channel edges, keV (for tables and figures).
    unit : str
        Unit of the values (``"counts"``, ``"counts s-1"``, ``"mCrab"``).
    """

    name: str
    true_min: NDArray[np.float64]
    true_max: NDArray[np.float64]
    response: NDArray[np.float64]
    likelihood: str
    value: NDArray[np.float64]
    channel_min: NDArray[np.float64]
    channel_max: NDArray[np.float64]
    error: NDArray[np.float64] | None = None
    background: NDArray[np.float64] | None = None
    systematic: float = 0.0
    unit: str = "counts"

    def __post_init__(self) -> None:
        lo = np.asarray(self.true_min, dtype=float)
        hi = np.asarray(self.true_max, dtype=float)
        if lo.ndim != 1 or lo.shape != hi.shape or np.any(lo <= 0) or np.any(hi <= lo):
            raise ValueError(f"{self.name}: true_min, true_max: expected bins with 0 < min "
                             f"< max keV")
        response = np.asarray(self.response, dtype=float)
        value = np.asarray(self.value, dtype=float)
        n = value.size
        if value.ndim != 1 or response.shape != (n, lo.size):
            raise ValueError(f"{self.name}: response: expected shape ({n}, {lo.size}) "
                             f"(channels, true bins), found {response.shape}")
        if not np.all(np.isfinite(response)) or np.any(response < 0):
            raise ValueError(f"{self.name}: response: expected finite non-negative entries")
        if self.likelihood not in LIKELIHOODS:
            raise ValueError(f"{self.name}: likelihood: expected 'poisson' or 'gauss', found "
                             f"{self.likelihood!r}")
        fields: dict[str, object] = {"true_min": lo, "true_max": hi, "response": response,
                                     "value": value}
        if self.likelihood == "poisson":
            if np.any(value < 0) or np.any(value != np.round(value)):
                raise ValueError(f"{self.name}: value: expected counts (integers >= 0)")
            background = np.zeros(n) if self.background is None else \
                np.asarray(self.background, dtype=float)
            if background.shape != (n,) or np.any(background < 0):
                raise ValueError(f"{self.name}: background: expected {n} counts >= 0")
            fields["background"] = background
        else:
            error = None if self.error is None else np.asarray(self.error, dtype=float)
            if error is None or error.shape != (n,) or np.any(~(error > 0)) or \
                    not np.all(np.isfinite(value)):
                raise ValueError(f"{self.name}: error: expected {n} positive errors and "
                                 f"finite values")
            fields["error"] = error
        for key in ("channel_min", "channel_max"):
            fields[key] = np.asarray(getattr(self, key), dtype=float)
            if fields[key].shape != (n,):
                raise ValueError(f"{self.name}: {key}: expected {n} channel edges")
        if not (np.isfinite(self.systematic) and self.systematic >= 0):
            raise ValueError(f"{self.name}: systematic: expected a fraction >= 0")
        for key, array in fields.items():
            object.__setattr__(self, key, array)

    @property
    def n_channel(self) -> int:
        """Number of channels."""
        return int(self.value.size)

    @property
    def n_true(self) -> int:
        """Number of true-energy bins."""
        return int(self.true_min.size)

    def predict(self, bin_flux: NDArray[np.float64], cross_norm: float = 1.0
                ) -> NDArray[np.float64]:
        """Predicted channel values (without background) for true-bin fluxes (ph cm-2 s-1)."""
        return cross_norm * (self.response @ np.asarray(bin_flux, dtype=float))

    @classmethod
    def from_ogip(cls, spectrum: OgipSpectrum, *, energy_min: float = 0.0,
                  energy_max: float = np.inf, name: str | None = None) -> InstrumentData:
        """An OGIP spectrum's good channels inside ``[energy_min, energy_max]`` keV (XSPEC's
        ``ignore`` outside), with the true-energy bins its response reaches."""
        channels = spectrum.good_channels(energy_min, energy_max)
        if channels.size == 0:
            raise ValueError(f"{spectrum.name}: no good channel in {energy_min}-{energy_max} "
                             f"keV")
        response = spectrum.response[channels]
        used = np.flatnonzero(response.sum(axis=0) > 0)
        edges = spectrum.energy_true_edges
        common = dict(name=name or spectrum.name, true_min=edges[:-1][used],
                      true_max=edges[1:][used],
                      channel_min=spectrum.channel_energy_min[channels],
                      channel_max=spectrum.channel_energy_max[channels],
                      systematic=spectrum.systematic)
        if spectrum.poisson:
            assert spectrum.counts is not None
            background = None if spectrum.background is None else \
                spectrum.background[channels]
            return cls(response=response[:, used] * spectrum.exposure, likelihood="poisson",
                       value=spectrum.counts[channels], background=background,
                       unit="counts", **common)
        assert spectrum.rate is not None and spectrum.rate_error is not None
        return cls(response=response[:, used], likelihood="gauss",
                   value=spectrum.rate[channels], error=spectrum.rate_error[channels],
                   unit="counts s-1", **common)

    @classmethod
    def from_spectral_data(cls, data: SpectralData, *, dataset: int | str = 0
                           ) -> InstrumentData:
        """One dataset of an ECSV spectrum (band fluxes in mCrab) as Gaussian channels."""
        index = data.dataset_names.index(dataset) if isinstance(dataset, str) else dataset
        rows = np.flatnonzero(data.dataset == index)
        if rows.size == 0:
            raise ValueError(f"dataset: {dataset!r} has no bands")
        if np.any(data.upper_limit[rows]):
            raise ValueError(f"{data.dataset_names[index]}: upper limits are not supported "
                             f"in a joint forward-folded fit")
        lo, hi = data.energy_min[rows], data.energy_max[rows]
        response = np.diag(1000.0 / crab_photon_flux_kev(lo, hi))
        systematic = np.broadcast_to(np.asarray(data.systematic, dtype=float),
                                     (len(data.dataset_names),))[index]
        return cls(name=data.dataset_names[index], true_min=lo, true_max=hi,
                   response=response, likelihood="gauss", value=data.value[rows],
                   error=data.error[rows], channel_min=lo, channel_max=hi,
                   systematic=float(systematic), unit="mCrab")
