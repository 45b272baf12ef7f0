"""Data of a Band spectral fit of a COSI point source: counts, background, response, priors.

Input: binned data and a background model over (Em, Phi, PsiChi) (cosipy histpy files)
and a :class:`~bayesbg.cosi.pointsource.response.PointSourceResponse`;
:func:`load_cosipy_fit_data` builds all of it from cosipy's files. The model
(docs/cosi_io.md, "Band spectral fit") is

    m[c] = sum_e P[e, c] K F[e](alpha, beta, xp) + bkg_norm B[c]

with the Band shape integrated over each true-energy bin by Simpson's rule in ln E
(``n_sub`` sub-intervals per bin, :mod:`bayesbg.cosi.pointsource.spectrum`).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from bayesbg.cosi.io.histpy_files import Histogram, read_detector_response, read_histogram
from bayesbg.cosi.io.orientation import read_ori
from bayesbg.cosi.pointsource.response import PointSourceResponse, point_source_response

__all__ = [
    "DATA_AXES",
    "SpectrumFitData",
    "load_cosipy_fit_data",
    "spectrum_fit_data",
    "with_options",
]

log = logging.getLogger(__name__)

DATA_AXES = ("Em", "Phi", "PsiChi")
"""Axes of the data space (cosipy's names); other axes of the files are summed over."""


@dataclass(frozen=True)
class SpectrumFitData:
    """Data, background and response of a point-source spectral fit, with the priors.

    Attributes
    ----------
    counts : `numpy.ndarray`, shape (n_Em, n_Phi, n_PsiChi)
        Observed counts (non-negative; may be non-integer, e.g. cosipy's test data).
    background : `numpy.ndarray`, same shape
        Background model, counts for ``bkg_norm = 1``.
    response : `bayesbg.cosi.pointsource.response.PointSourceResponse`
        Exposure (cm2 s) per true-energy bin and data bin.
    pivot : float
        keV, pivot of K. Default is 500 (cosipy's spectral-fit test).
    n_sub : int
        Even Simpson sub-intervals per true-energy bin. Default is 32.
    alpha_bounds, beta_bounds, xp_bounds : tuple of float
        Parameter ranges; defaults (-1.95, 3), (-5, -2), (10, 1e4) keV. beta < -2 makes
        xp the peak of E^2 f(E); the upper bound of beta must be below alpha's lower one.
    log_flux_prior, alpha_prior, beta_prior, log_xp_prior, log_bkg_prior : tuple of float
        Normal priors (mean, sd). The amplitude is sampled as the photon flux in
        ``flux_band`` (ph cm-2 s-1; K is derived from it): ln flux ~ N(0, 7), very
        wide (1e-6 to 1e6 within 2 sd); alpha ~ N(-1, 1), beta ~ N(-2.3, 0.5) (typical
        Band indices); ln xp ~ N(ln 300, 1.5); ln bkg_norm ~ N(0, 1).
    flux_band : tuple of float, optional
        keV, the band of the sampled photon flux. Default (None): the true-energy range
        of the response.
    """

    counts: NDArray[np.float64]
    background: NDArray[np.float64]
    response: PointSourceResponse
    pivot: float = 500.0
    n_sub: int = 32
    alpha_bounds: tuple[float, float] = (-1.95, 3.0)
    beta_bounds: tuple[float, float] = (-5.0, -2.0)
    xp_bounds: tuple[float, float] = (10.0, 1e4)
    log_flux_prior: tuple[float, float] = (0.0, 7.0)
    alpha_prior: tuple[float, float] = (-1.0, 1.0)
    beta_prior: tuple[float, float] = (-2.3, 0.5)
    log_xp_prior: tuple[float, float] = (math.log(300.0), 1.5)
    log_bkg_prior: tuple[float, float] = (0.0, 1.0)
    flux_band: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        shape = self.response.exposure.shape[1:]
        for name in ("counts", "background"):
            value = np.asarray(getattr(self, name), dtype=float)
            if value.shape != shape:
                raise ValueError(f"{name}: expected shape {shape} (Em, Phi, PsiChi of the "
                                 f"response), found {value.shape}")
            if not np.all(np.isfinite(value)) or np.any(value < 0):
                raise ValueError(f"{name}: expected finite non-negative counts")
            object.__setattr__(self, name, value)
        if self.n_sub < 2 or self.n_sub % 2:
            raise ValueError(f"n_sub: expected an even number >= 2, found {self.n_sub}")
        if not self.pivot > 0:
            raise ValueError(f"pivot: expected a positive energy in keV, found {self.pivot}")
        for name in ("alpha_bounds", "beta_bounds", "xp_bounds"):
            lo, hi = getattr(self, name)
            if not lo < hi:
                raise ValueError(f"{name}: expected lower < upper, found ({lo}, {hi})")
        if not (self.alpha_bounds[0] > -2.0 and self.beta_bounds[1] < self.alpha_bounds[0]):
            raise ValueError("alpha_bounds, beta_bounds: expected alpha > -2 and the upper "
                             "bound of beta below the lower bound of alpha")
        if self.flux_band is not None:
            lo, hi = (float(v) for v in self.flux_band)
            if not 0 < lo < hi:
                raise ValueError(f"flux_band: expected 0 < energy_min < energy_max keV, "
                                 f"found {self.flux_band}")
            object.__setattr__(self, "flux_band", (lo, hi))
        if self.xp_bounds[0] <= 0:
            raise ValueError(f"xp_bounds: expected positive keV, found {self.xp_bounds}")
        for name in ("log_flux_prior", "alpha_prior", "beta_prior", "log_xp_prior",
                     "log_bkg_prior"):
            mean, sd = getattr(self, name)
            if not (np.isfinite(mean) and sd > 0):
                raise ValueError(f"{name}: expected (finite mean, sd > 0), found ({mean}, {sd})")
        populated = self.counts > 0
        source_zero = self.response.exposure.sum(axis=0) <= 0
        empty = populated & source_zero & (self.background <= 0)
        if np.any(empty):
            raise ValueError(f"counts: {int(empty.sum())} bins hold counts but neither the "
                             f"response nor the background predicts any")

    @property
    def energy_true_edges(self) -> NDArray[np.float64]:
        """True-energy bin edges, keV."""
        return self.response.energy_true_edges

    @property
    def photon_flux_band(self) -> tuple[float, float]:
        """keV, the band of the sampled photon flux (``flux_band`` or the true range)."""
        if self.flux_band is not None:
            return self.flux_band
        edges = self.energy_true_edges
        return float(edges[0]), float(edges[-1])

    def to_stan_data(self, *, use_priors: bool = True) -> dict[str, Any]:
        """The ``data`` block of ``cosi_point_source_spectrum.stan``."""
        exposure = self.response.exposure  # (E, M, Phi, PsiChi)
        n_e, n_m = exposure.shape[:2]
        flat_exposure = exposure.reshape(n_e, -1).T  # (bins, E)
        flat_counts = self.counts.ravel()
        flat_background = self.background.ravel()
        populated = np.flatnonzero(flat_counts > 0)
        energy_bin = np.unravel_index(populated, self.counts.shape)[0] + 1
        return {
            "E": int(n_e),
            "energy_true_edges": self.energy_true_edges.tolist(),
            "n_sub": int(self.n_sub),
            "pivot": float(self.pivot),
            "flux_band": list(self.photon_flux_band),
            "M": int(n_m),
            "N": int(populated.size),
            "counts": flat_counts[populated],
            "energy_bin": energy_bin.astype(int).tolist(),
            "response": flat_exposure[populated],
            "background": flat_background[populated],
            "response_total": exposure.sum(axis=(2, 3)).T,
            "background_total": self.background.sum(axis=(1, 2)),
            "alpha_bounds": list(self.alpha_bounds),
            "beta_bounds": list(self.beta_bounds),
            "xp_bounds": list(self.xp_bounds),
            "log_flux_prior": list(self.log_flux_prior),
            "alpha_prior": list(self.alpha_prior),
            "beta_prior": list(self.beta_prior),
            "log_xp_prior": list(self.log_xp_prior),
            "log_bkg_prior": list(self.log_bkg_prior),
            "use_priors": int(use_priors),
        }


def _check_matching_axes(histogram: Histogram, response: PointSourceResponse,
                         name: str) -> None:
    axes = [histogram.axis(label) for label in DATA_AXES]
    if not np.allclose(axes[0].edges, response.energy_edges):
        raise ValueError(f"{name}: Em edges {axes[0].edges} differ from the response's "
                         f"{response.energy_edges}")
    if not np.allclose(axes[1].edges, response.phi_edges):
        raise ValueError(f"{name}: Phi edges differ from the response's")
    if axes[2].nside != response.psi_chi_nside:
        raise ValueError(f"{name}: PsiChi nside {axes[2].nside} differs from the "
                         f"response's {response.psi_chi_nside}")
    coordsys = axes[2].coordsys or response.coordsys
    if coordsys != response.coordsys:
        raise ValueError(f"{name}: PsiChi binned in {coordsys!r} but the response is in "
                         f"{response.coordsys!r}")


def spectrum_fit_data(data: Histogram, background: Histogram, response: PointSourceResponse,
                      **options: Any) -> SpectrumFitData:
    """Fit data from histpy histograms (projected on Em, Phi, PsiChi) and a response.

    Parameters
    ----------
    data, background : `bayesbg.cosi.io.Histogram`
        Binned data and background model; other axes (Ei, SigmaTau, Dist, Time) are
        summed over.
    response : `bayesbg.cosi.pointsource.response.PointSourceResponse`
    **options
        Further fields of `SpectrumFitData` (``pivot``, priors, bounds, ``n_sub``).
    """
    _check_matching_axes(data, response, "data")
    _check_matching_axes(background, response, "background")
    return SpectrumFitData(
        counts=data.project(*DATA_AXES).contents,
        background=background.project(*DATA_AXES).contents,
        response=response,
        **options,
    )


def load_cosipy_fit_data(
    data_path: str | Path,
    background_path: str | Path,
    response_path: str | Path,
    orientation_path: str | Path,
    *,
    lon: float,
    lat: float,
    **options: Any,
) -> SpectrumFitData:
    """Read cosipy's files and build the fit data (the PsiChi frame from the data file).

    Parameters
    ----------
    data_path, background_path : str or `~pathlib.Path`
        histpy HDF5 histograms (e.g. ``test_spectral_fit_data.h5``).
    response_path : str or `~pathlib.Path`
        Full detector response (e.g. ``test_full_detector_response.h5``).
    orientation_path : str or `~pathlib.Path`
        MEGAlib ``.ori`` file.
    lon, lat : float
        Galactic position of the source, deg.
    **options
        Fields of `SpectrumFitData`.
    """
    data = read_histogram(data_path)
    background = read_histogram(background_path)
    coordsys = data.axis("PsiChi").coordsys or "spacecraftframe"
    psr = point_source_response(read_detector_response(response_path),
                                read_ori(orientation_path), lon, lat, coordsys=coordsys)
    return spectrum_fit_data(data, background, psr, **options)


def with_options(data: SpectrumFitData, **options: Any) -> SpectrumFitData:
    """A copy of ``data`` with other priors, bounds or quadrature (dataclass replace)."""
    return replace(data, **options)
