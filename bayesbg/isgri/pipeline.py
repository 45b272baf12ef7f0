"""The collimator-mode pipeline: screening -> background -> Crab -> fluxes -> table.

Per-pointing residual flux (mCrab per FOV, [ISGRI] section 3):
``1000 (rate - background) / P(orbit)`` for pointings with a background prediction,
away from the Crab (``crab_offset >= crab_exclusion``). Per region and band the flux is
the centre of the Gaussian-plus-flat-wings mixture fitted to the binned residuals, by
maximum likelihood (default, no Stan; `bayesbg.isgri.model.mixture_likelihood`) or by
NUTS (`bayesbg.isgri.fit`); its error adds the orbit-level background-model and
calibration terms to the sandwich error of the fit
(`bayesbg.isgri.model.error_budget.systematic_variance`, docs/isgri.md). The paper's histogram
fit (Gaussian plus two constants, error ``sigma / sqrt(N)``) and a Gaussian-only fit are
reported for comparison.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import cmdstanpy
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from bayesbg.config import SamplerConfig, check_seed
from bayesbg.isgri.fit import FluxMixtureResult, fit_flux_mixture
from bayesbg.isgri.model.background import BackgroundSettings, OrbitBackgroundModel
from bayesbg.isgri.model.background_fit import background_pointings, fit_background
from bayesbg.isgri.model.crab import (
    CrabCalibration,
    fit_crab_calibration,
    mcrab_to_energy_flux,
)
from bayesbg.isgri.model.error_budget import systematic_variance
from bayesbg.isgri.model.flux_groups import FluxGroups
from bayesbg.isgri.model.histogram_estimate import gaussian_histogram_estimate
from bayesbg.isgri.model.mixture_likelihood import fit_mixture_ml
from bayesbg.isgri.pointings import BROAD_BANDS, Band, PointingTable
from bayesbg.isgri.screening import ScreeningCriteria, ScreeningResult, screen
from bayesbg.isgri.sky import PAPER_REGIONS, SkyRegion

__all__ = ["PipelineResult", "measure_pointing_fluxes", "run_pipeline"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class PipelineResult:
    """Outcome of :func:`run_pipeline`.

    Attributes
    ----------
    screening : `bayesbg.isgri.ScreeningResult`
    background : `bayesbg.isgri.OrbitBackgroundModel`
    crab : `bayesbg.isgri.CrabCalibration`
    pointings : `PointingTable`
        Pointings with a residual flux (screened, predicted, away from the Crab).
    flux : `numpy.ndarray`, shape (n, n_band)
        Their residual fluxes, mCrab per FOV (bands of ``bands``).
    background_ids : `numpy.ndarray` of str
        BKG pointings among ``pointings``.
    bands : tuple of `Band`
    table : `pandas.DataFrame`
        One row per (region, band): ``n``, ``exposure_ms`` (Ms), ``flux``, the centre
        ``mu`` of the Gaussian-plus-flat-wings mixture (maximum likelihood of the binned
        residuals, ``method = "mixture-ml"``, or the posterior mean of the Stan fit,
        ``"mixture-nuts"``), and ``error``, the total 1-sigma error, the quadrature sum
        of ``error_statistical`` (sandwich error of ``mu``), ``error_background``
        (per-orbit background model, shared within an orbit) and ``error_calibration``
        (Crab polynomial and per-orbit gain scatter); ``paper_mu`` and ``paper_error``
        (the paper's histogram fit of a Gaussian plus two constants, ``sigma /
        sqrt(N)``), ``gauss_mu``, ``gauss_error`` (Gaussian only), ``posterior_sd``
        (Stan fit only: the uncorrected posterior sd), ``energy_flux`` and
        ``energy_error`` (erg s-1 cm-2 per FOV).
    mixture : `bayesbg.isgri.FluxMixtureResult` or None
        The NUTS fit of the mixture (``method = "mixture-nuts"``), else None.
    """

    screening: ScreeningResult
    background: OrbitBackgroundModel
    crab: CrabCalibration
    pointings: PointingTable
    flux: NDArray[np.float64]
    background_ids: NDArray[np.str_]
    bands: tuple[Band, ...]
    table: pd.DataFrame
    mixture: FluxMixtureResult | None = None

    def region_ids(self, region: SkyRegion) -> NDArray[np.str_]:
        """Identifiers of the pointings of a region.

        Parameters
        ----------
        region : `SkyRegion`

        Returns
        -------
        ids : `numpy.ndarray` of str
        """
        return self.pointings.scw_id[region.contains(self.pointings.l, self.pointings.b)]


def measure_pointing_fluxes(
    table: PointingTable, *, background: OrbitBackgroundModel, crab: CrabCalibration,
    crab_exclusion: float = 15.0,
) -> tuple[PointingTable, NDArray[np.float64]]:
    """Residual flux of every usable pointing, mCrab per FOV, all bands of the table.

    Parameters
    ----------
    table : `PointingTable`
        Screened pointings.
    background : `OrbitBackgroundModel`
    crab : `CrabCalibration`
    crab_exclusion : float
        Pointings closer to the Crab (deg) are left out. Default is 15.

    Returns
    -------
    pointings : `PointingTable`
        The usable pointings.
    flux : `numpy.ndarray`, shape (n, n_band)
        mCrab per FOV.
    """
    prediction = background.predict(table)
    usable = prediction.valid & (table.crab_offset >= crab_exclusion)
    pointings = table.select(usable)
    excess = table.rate[usable] - prediction.rate[usable]
    return pointings, crab.to_mcrab(excess, pointings.orbit)


def run_pipeline(
    table: PointingTable,
    *,
    seed: int = 1,
    config: SamplerConfig | None = None,
    model: cmdstanpy.CmdStanModel | None = None,
    regions: Sequence[SkyRegion] = PAPER_REGIONS,
    bands: Sequence[Band] = BROAD_BANDS,
    screening_criteria: ScreeningCriteria | None = None,
    background_settings: BackgroundSettings | None = None,
) -> PipelineResult:
    """Screening, background model, Crab calibration, fluxes per region and band.

    Parameters
    ----------
    table : `PointingTable`
        Raw pointings.
    seed : int
        Seed of the mixture fit (used only with ``model``). Default is 1.
    config : `SamplerConfig`, optional
        Sampler settings of the mixture fit; default those of `fit_flux_mixture`.
    model : `cmdstanpy.CmdStanModel`, optional
        Compiled ``isgri_flux_mixture`` (`flux_mixture_model`); when given, the mixture
        is sampled for every (region, band) in one run and its posterior mean becomes
        ``flux`` (error: sandwich-corrected posterior sd plus the orbit-level terms).
        Default: no Stan sampling (the maximum-likelihood mixture is reported).
    regions : sequence of `SkyRegion`
        Default: the regions of [ISGRI] Table 1.
    bands : sequence of `Band`
        Bands of the table to report. Default: 25-60, 60-80, 80-200 keV.
    screening_criteria : `ScreeningCriteria`, optional
        Default ``ScreeningCriteria()``.
    background_settings : `BackgroundSettings`, optional
        Default ``BackgroundSettings()``.

    Returns
    -------
    result : `PipelineResult`
    """
    seed = check_seed(seed)
    screened = screen(table, criteria=screening_criteria)
    settings = background_settings if background_settings is not None else BackgroundSettings()
    bkg_model = fit_background(screened.table, settings=settings)
    crab = fit_crab_calibration(screened.table, background=bkg_model)
    pointings, flux_all = measure_pointing_fluxes(screened.table, background=bkg_model,
                                                  crab=crab,
                                                  crab_exclusion=settings.crab_exclusion)
    bands = tuple(bands)
    columns = [pointings.band_index(band) for band in bands]
    flux = flux_all[:, columns]
    is_bkg = background_pointings(pointings, crab_exclusion=settings.crab_exclusion)
    # background model error per pointing, mCrab (shared within an orbit)
    model_error = 1e3 * (bkg_model.predict(pointings).model_error[:, columns]
                         / crab.crab_rate(pointings.orbit)[:, columns])
    rows, groups, shared = [], {}, {}
    for region in regions:
        inside = region.contains(pointings.l, pointings.b)
        for k, band in enumerate(bands):
            values = flux[inside, k]
            estimate = fit_mixture_ml(values)
            paper = gaussian_histogram_estimate(values, wings=True)
            plain = gaussian_histogram_estimate(values)
            name = f"{region.name} {band.name}"
            groups[name] = values
            shared[name] = (pointings.orbit[inside], model_error[inside, k], columns[k])
            background_var, calibration_var = systematic_variance(
                estimate.mu, *shared[name][:2], crab, columns[k])
            rows.append({"region": region.name, "band": band.name, "n": int(values.size),
                         "exposure_ms": float(pointings.exposure[inside].sum() / 1e6),
                         "flux": estimate.mu,
                         "error": float(np.sqrt(estimate.error**2 + background_var
                                                + calibration_var)),
                         "error_statistical": estimate.error,
                         "error_background": float(np.sqrt(background_var)),
                         "error_calibration": float(np.sqrt(calibration_var)),
                         "method": "mixture-ml",
                         "paper_mu": paper.mu, "paper_error": paper.error,
                         "gauss_mu": plain.mu, "gauss_error": plain.error})
    table_out = pd.DataFrame(rows)
    mixture = None
    if model is not None:
        mixture = fit_flux_mixture(FluxGroups.from_mapping(groups), seed=seed, config=config,
                                   model=model)
        names = [f"{r} {b}" for r, b in zip(table_out["region"], table_out["band"],
                                           strict=True)]
        mu = mixture.table.loc[names, "mu"].to_numpy()
        statistical = mixture.table.loc[names, "mu_sd_robust"].to_numpy()
        terms = np.array([systematic_variance(m, orbit, error, crab, band)
                          for m, (orbit, error, band) in zip(mu, (shared[n] for n in names),
                                                             strict=True)])
        table_out["flux"] = mu
        table_out["error"] = np.sqrt(statistical**2 + terms.sum(axis=1))
        table_out["error_statistical"] = statistical
        table_out["error_background"] = np.sqrt(terms[:, 0])
        table_out["error_calibration"] = np.sqrt(terms[:, 1])
        table_out["method"] = "mixture-nuts"
        table_out["posterior_sd"] = mixture.table.loc[names, "mu_sd"].to_numpy()
    by_band = {band.name: band for band in bands}
    table_out["energy_flux"] = [
        mcrab_to_energy_flux(f, by_band[b]).value for f, b in zip(table_out["flux"],
                                                                  table_out["band"], strict=True)]
    table_out["energy_error"] = [
        mcrab_to_energy_flux(e, by_band[b]).value for e, b in zip(table_out["error"],
                                                                  table_out["band"], strict=True)]
    return PipelineResult(screened, bkg_model, crab, pointings, flux,
                          pointings.scw_id[is_bkg], bands, table_out, mixture)
