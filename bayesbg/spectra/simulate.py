"""Simulated spectra in the [ISGRI] 21 log bands (25-185 keV) with the paper's error levels.

Error levels. [ISGRI] Table 1 gives the flux errors per IBIS field of view in three
broad bands (25-60, 60-80, 80-200 keV) for each region. With a background-dominated
error density that is smooth within a broad band, splitting a broad band of ln-width
``L`` into narrow bands of ln-width ``l`` multiplies the mCrab error by about
``sqrt(L / l)``; `isgri_errors` applies this to the broad band holding each band's
centre. Other error levels (e.g. relative errors for a bright point source such as
Sco X-1) are passed explicitly as ``error``.

Upper limits. The paper plots 2-sigma upper limits where bands are not detected. The
simulator censors at a fixed threshold (type-I censoring): a band whose simulated value
is below ``upper_limit_sigma x error`` is reported as an upper limit at that threshold,
which makes the censored likelihood of ``spectral_fit.stan`` exact.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping

import numpy as np
from numpy.typing import ArrayLike, NDArray

from bayesbg.config import random_generator
from bayesbg.spectra.data import SpectralData
from bayesbg.spectra.likelihood import predict_components, prepare
from bayesbg.spectra.spectral_model import SpectralModel

__all__ = [
    "BROAD_BANDS",
    "REFERENCE_FITS",
    "REGION_ERRORS",
    "isgri_bands",
    "isgri_errors",
    "simulate_spectrum",
]

log = logging.getLogger(__name__)

BROAD_BANDS = ((25.0, 60.0), (60.0, 80.0), (80.0, 200.0))
"""[ISGRI] broad bands, keV."""
REGION_ERRORS: dict[str, tuple[float, float, float]] = {
    "GB": (3.1, 9.2, 13.3),
    "L+20": (2.3, 5.2, 9.8),
    "L-20": (1.7, 5.3, 9.8),
    "3C273/Coma": (0.7, 2.0, 3.4),
}
"""Broad-band 1-sigma errors, mCrab per FOV ([ISGRI] Table 1)."""

_CPL = {"cutoffpl.index": 0.0, "powerlaw.index": 1.55}
_IPM = {"powerlaw.index": 1.55}
REFERENCE_FITS: dict[str, dict[str, object]] = {
    "GB": {"model": "cutoffpl+powerlaw", "fixed": _CPL,
           "truth": {"cutoffpl.ecut": 11.2, "cutoffpl.flux": 9.7, "powerlaw.flux": 4.9}},
    "L+20": {"model": "cutoffpl+powerlaw", "fixed": _CPL,
             "truth": {"cutoffpl.ecut": 11.2, "cutoffpl.flux": 4.3, "powerlaw.flux": 1.7}},
    "L-20": {"model": "cutoffpl+powerlaw", "fixed": _CPL,
             "truth": {"cutoffpl.ecut": 11.2, "cutoffpl.flux": 4.3, "powerlaw.flux": 2.2}},
    "GB-IPM": {"model": "ipm+powerlaw", "fixed": _IPM,
               "truth": {"ipm.mass": 0.70, "ipm.flux": 10.7, "powerlaw.flux": 4.0}},
    "L+20-IPM": {"model": "ipm+powerlaw", "fixed": _IPM,
                 "truth": {"ipm.mass": 0.73, "ipm.flux": 5.1, "powerlaw.flux": 1.1}},
    "L-20-IPM": {"model": "ipm+powerlaw", "fixed": _IPM,
                 "truth": {"ipm.mass": 0.80, "ipm.flux": 5.6, "powerlaw.flux": 1.1}},
}
"""[ISGRI] Tables 2 and 3: model, fixed parameters and best-fitting values (fluxes in
1e-10 erg s-1 cm-2 FOV-1, 30-80 keV; Ecut keV; M_WD Msun)."""


def isgri_bands(n_band: int = 21, energy_min: float = 25.0,
                energy_max: float = 185.0) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Log-spaced bands, default the [ISGRI] spectral bands (21 between 25 and 185 keV).

    Parameters
    ----------
    n_band : int
        Number of bands. Default 21.
    energy_min, energy_max : float
        Range, keV.

    Returns
    -------
    energy_min, energy_max : `numpy.ndarray`
        Band edges, keV.

    Examples
    --------
    >>> lo, hi = isgri_bands()
    >>> len(lo), float(lo[0]), float(hi[-1])
    (21, 25.0, 185.0)
    """
    if n_band < 1 or not 0 < energy_min < energy_max:
        raise ValueError("n_band, energy_min, energy_max: expected n >= 1 and 0 < min < max")
    edges = np.geomspace(energy_min, energy_max, n_band + 1)
    return edges[:-1], edges[1:]


def isgri_errors(region: str | tuple[float, float, float], energy_min: ArrayLike,
                 energy_max: ArrayLike) -> NDArray[np.float64]:
    """1-sigma errors per band, mCrab, scaled from broad-band errors (module docstring).

    Parameters
    ----------
    region : str or tuple of 3 float
        A key of `REGION_ERRORS` or the three broad-band errors, mCrab.
    energy_min, energy_max : array_like
        Band edges, keV.

    Returns
    -------
    error : `numpy.ndarray`
    """
    if isinstance(region, str):
        if region not in REGION_ERRORS:
            raise ValueError(f"region: expected one of {sorted(REGION_ERRORS)}, found "
                             f"{region!r}")
        broad = REGION_ERRORS[region]
    else:
        broad = tuple(float(x) for x in region)
    lo = np.asarray(energy_min, dtype=float)
    hi = np.asarray(energy_max, dtype=float)
    centre = np.sqrt(lo * hi)
    out = np.empty(lo.shape)
    for j, c in enumerate(centre):
        b = next((i for i, (a, z) in enumerate(BROAD_BANDS) if a <= c < z),
                 0 if c < BROAD_BANDS[0][0] else len(BROAD_BANDS) - 1)
        a, z = BROAD_BANDS[b]
        out[j] = broad[b] * math.sqrt(math.log(z / a) / math.log(hi[j] / lo[j]))
    return out


def simulate_spectrum(
    rng: np.random.Generator | int,
    *,
    spectral_model: SpectralModel,
    truth: Mapping[str, object],
    region: str | tuple[float, float, float] = "GB",
    energy_min: ArrayLike | None = None,
    energy_max: ArrayLike | None = None,
    error: ArrayLike | None = None,
    upper_limit_sigma: float | None = None,
    injected_systematic: float = 0.0,
    dataset: ArrayLike | None = None,
    dataset_names: tuple[str, ...] = (),
) -> SpectralData:
    """Simulate band values in mCrab from a model with Gaussian errors.

    Parameters
    ----------
    rng : `numpy.random.Generator` or int
    spectral_model : `SpectralModel`
        The model to simulate from.
    truth : mapping
        ``"<component>.flux"`` (1e-10 erg s-1 cm-2), free shape parameters, and
        optionally ``"cross_norm"`` (per dataset).
    region : str or tuple
        Error levels (`isgri_errors`). Default ``"GB"``.
    energy_min, energy_max : array_like, optional
        Band edges, keV. Default `isgri_bands`.
    error : array_like, optional
        1-sigma errors, mCrab; overrides ``region``.
    upper_limit_sigma : float, optional
        Censor bands below this many sigma (type-I censoring). Default: none.
    injected_systematic : float
        Extra fractional scatter of the simulated values (``N(0, f x model)``), not in
        the reported errors. Default 0.
    dataset : array_like of int, optional
        Dataset index per band (0-based). Default all 0.
    dataset_names : tuple of str
        Dataset names.

    Returns
    -------
    data : `SpectralData`
    """
    generator = random_generator(rng)
    if energy_min is None or energy_max is None:
        lo, hi = isgri_bands()
    else:
        lo, hi = np.asarray(energy_min, dtype=float), np.asarray(energy_max, dtype=float)
    sigma = isgri_errors(region, lo, hi) if error is None else np.asarray(error, dtype=float)
    if not injected_systematic >= 0:
        raise ValueError(f"injected_systematic: expected >= 0, found {injected_systematic}")
    index = np.zeros(lo.size, np.int64) if dataset is None else np.asarray(dataset, np.int64)
    template = SpectralData(lo, hi, np.zeros(lo.size), sigma, dataset=index,
                            dataset_names=dataset_names)
    expected = predict_components(prepare(template, spectral_model=spectral_model),
                                  truth).sum(axis=0)
    scatter = np.sqrt(sigma**2 + (injected_systematic * expected) ** 2)
    value = expected + scatter * generator.standard_normal(lo.size)
    limits = np.zeros(lo.size, bool)
    if upper_limit_sigma is not None:
        threshold = upper_limit_sigma * sigma
        limits = value < threshold
        value = np.where(limits, threshold, value)
    log.debug("simulated %d bands, %d upper limits", lo.size, int(limits.sum()))
    return SpectralData(lo, hi, value, sigma, limits, index, template.dataset_names)
