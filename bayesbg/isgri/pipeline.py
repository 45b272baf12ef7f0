"""The collimator-mode pipeline: screening -> background -> Crab -> fluxes -> tables.

Per-pointing residual flux (mCrab per FOV, [ISGRI] section 3):
``1000 (rate - background) / P(orbit)`` for pointings with a background prediction,
away from the Crab and the configured point sources (``crab_offset >= crab_exclusion``).
For every group of pointings and band the flux is the centre of the Gaussian-plus-flat-
wings mixture fitted to the binned residuals by maximum likelihood (no Stan), with the
error budget of `bayesbg.isgri.measure` (statistical, background model, Crab
calibration, collimator convention); the mixture may also be sampled by NUTS for the
Table-1 cells (`bayesbg.isgri.fit`). Measured, in every band of the table:

- **Table 1**: the regions (default [ISGRI] Table 1) in the broad bands (``table``),
  with the paper's histogram fit (Gaussian plus two constants, error ``sigma /
  sqrt(N)``) and a Gaussian-only fit beside it;
- **spectra**: the regions in the narrow bands of the table ([ISGRI] Fig. 2-4);
- **longitude profile**: 15-deg bins with ``|b| < 10`` deg in the broad bands
  ([ISGRI] Fig. 1);
- **point sources** ([ISGRI] Appendix C): the pointings within 4.5 deg of each
  configured source, each divided by the collimator response at the source's offset, in
  every band.

The Crab calibration is fitted twice, with the default collimator shape and with the
alternative (``collimator_alternative``); the difference of the fluxes is the collimator
systematic.
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
from bayesbg.isgri.bands import BROAD_BANDS, NARROW_BANDS, Band
from bayesbg.isgri.fit import FluxMixtureResult, fit_flux_mixture
from bayesbg.isgri.measure import PointingFluxes, pointing_fluxes
from bayesbg.isgri.model.background import (
    BackgroundPrediction,
    BackgroundSettings,
    OrbitBackgroundModel,
)
from bayesbg.isgri.model.background_fit import background_pointings, fit_background
from bayesbg.isgri.model.collimator import (
    DEFAULT_COLLIMATOR,
    CollimatorResponse,
    collimator_response,
)
from bayesbg.isgri.model.crab import (
    CrabCalibration,
    fit_crab_calibration,
    mcrab_to_energy_flux,
)
from bayesbg.isgri.model.error_budget import systematic_variance
from bayesbg.isgri.model.flux_groups import FluxGroups
from bayesbg.isgri.model.histogram_estimate import gaussian_histogram_estimate
from bayesbg.isgri.pointings import PointingTable
from bayesbg.isgri.screening import ScreeningCriteria, ScreeningResult, screen
from bayesbg.isgri.sky import PAPER_REGIONS, PointSource, SkyRegion, longitude_bins

__all__ = ["PipelineResult", "PointSourceResult", "measure_pointing_fluxes", "run_pipeline"]

log = logging.getLogger(__name__)

ALTERNATIVE_COLLIMATOR = "tapered"
"""Default alternative collimator shape of the systematic term."""


@dataclass(frozen=True, eq=False)
class PointSourceResult:
    """The collimator-mode spectrum of a point source ([ISGRI] Appendix C).

    Attributes
    ----------
    source : `bayesbg.isgri.sky.PointSource`
    fluxes : `bayesbg.isgri.measure.PointingFluxes`
        Its pointings (within ``max_offset``), fluxes divided by the response there.
    table : `pandas.DataFrame`
        One row per band of the table: ``band``, ``energy_min``, ``energy_max`` and the
        measurement columns (`bayesbg.isgri.measure.GroupMeasurement.to_row`).
    """

    source: PointSource
    fluxes: PointingFluxes
    table: pd.DataFrame


@dataclass(frozen=True, eq=False)
class PipelineResult:
    """Outcome of :func:`run_pipeline`.

    Attributes
    ----------
    screening : `bayesbg.isgri.ScreeningResult`
    background : `bayesbg.isgri.OrbitBackgroundModel`
    crab : `bayesbg.isgri.CrabCalibration`
        With the default collimator.
    fluxes : `bayesbg.isgri.measure.PointingFluxes`
        Pointings with a residual flux (screened, predicted, away from the Crab and the
        point sources) and their fluxes in every band of the table.
    background_ids : `numpy.ndarray` of str
        BKG pointings among them.
    bands : tuple of `Band`
        The Table-1 bands.
    table : `pandas.DataFrame`
        Table 1: one row per (region, band): ``n``, ``exposure_ms`` (Ms), ``flux``
        (``mu`` of the mixture: maximum likelihood, ``method = "mixture-ml"``, or the
        posterior mean of the Stan fit, ``"mixture-nuts"``), ``error`` (all four terms),
        ``error_statistical``, ``error_background``, ``error_calibration``,
        ``error_collimator``, ``error_random`` (the first three), ``flux_alternative``;
        ``paper_mu`` and ``paper_error`` (the paper's histogram fit), ``gauss_mu``,
        ``gauss_error`` (Gaussian only), ``posterior_sd`` (Stan fit only),
        ``energy_flux`` and ``energy_error`` (erg s-1 cm-2 per FOV).
    spectra : `pandas.DataFrame`
        The regions in the narrow bands: ``region``, ``band``, ``energy_min``,
        ``energy_max`` and the measurement columns (empty without narrow bands).
    profile : `pandas.DataFrame`
        The longitude bins in the Table-1 bands: ``bin``, ``l_center``, ``l_min``,
        ``l_max``, ``band`` and the measurement columns.
    point_sources : tuple of `PointSourceResult`
    crab_alternative : `bayesbg.isgri.CrabCalibration` or None
        With the alternative collimator.
    collimator, collimator_alternative : str or None
        Names of the shapes (`bayesbg.isgri.model.collimator.COLLIMATOR_SHAPES`).
    regions : tuple of `SkyRegion`
    mixture : `bayesbg.isgri.FluxMixtureResult` or None
        The NUTS fit of the Table-1 mixtures (``method = "mixture-nuts"``), else None.
    """

    screening: ScreeningResult
    background: OrbitBackgroundModel
    crab: CrabCalibration
    fluxes: PointingFluxes
    background_ids: NDArray[np.str_]
    bands: tuple[Band, ...]
    table: pd.DataFrame
    spectra: pd.DataFrame
    profile: pd.DataFrame
    point_sources: tuple[PointSourceResult, ...] = ()
    crab_alternative: CrabCalibration | None = None
    collimator: str = DEFAULT_COLLIMATOR
    collimator_alternative: str | None = ALTERNATIVE_COLLIMATOR
    regions: tuple[SkyRegion, ...] = PAPER_REGIONS
    mixture: FluxMixtureResult | None = None

    @property
    def pointings(self) -> PointingTable:
        """The pointings with a residual flux."""
        return self.fluxes.pointings

    @property
    def flux(self) -> NDArray[np.float64]:
        """Their residual fluxes in the Table-1 bands, shape (n, len(bands)), mCrab."""
        columns = [self.pointings.band_index(band) for band in self.bands]
        return self.fluxes.flux[:, columns]

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
    usable = background.predict(table).valid & (table.crab_offset >= crab_exclusion)
    fluxes = pointing_fluxes(table, usable, background=background, crab=crab)
    return fluxes.pointings, fluxes.flux


def _present(table: PointingTable, bands: Sequence[Band] | None, default: Sequence[Band],
             what: str) -> tuple[Band, ...]:
    if bands is None:
        return tuple(band for band in default if band in table.bands)
    missing = [band.name for band in bands if band not in table.bands]
    if missing:
        raise ValueError(f"{what}: bands {missing} keV are not in the table's bands "
                         f"{list(table.band_names)}")
    return tuple(bands)


def run_pipeline(
    table: PointingTable,
    *,
    seed: int = 1,
    config: SamplerConfig | None = None,
    model: cmdstanpy.CmdStanModel | None = None,
    regions: Sequence[SkyRegion] = PAPER_REGIONS,
    bands: Sequence[Band] = BROAD_BANDS,
    spectral_bands: Sequence[Band] | None = None,
    profile_bins: Sequence[SkyRegion] | None = None,
    point_sources: Sequence[PointSource] = (),
    collimator: str = DEFAULT_COLLIMATOR,
    collimator_alternative: str | None = ALTERNATIVE_COLLIMATOR,
    screening_criteria: ScreeningCriteria | None = None,
    background_settings: BackgroundSettings | None = None,
) -> PipelineResult:
    """Screening, background model, Crab calibration, fluxes, spectra, profile.

    Parameters
    ----------
    table : `PointingTable`
        Raw pointings.
    seed : int
        Seed of the mixture fit (used only with ``model``). Default is 1.
    config : `SamplerConfig`, optional
        Sampler settings of the mixture fit; default those of `fit_flux_mixture`.
    model : `cmdstanpy.CmdStanModel`, optional
        Compiled ``isgri_flux_mixture`` (`flux_mixture_model`); when given, the Table-1
        mixtures are sampled in one run and the posterior mean becomes ``flux`` (error:
        sandwich-corrected posterior sd plus the other terms). Default: no Stan.
    regions : sequence of `SkyRegion`
        Default: the regions of [ISGRI] Table 1.
    bands : sequence of `Band`
        Bands of Table 1 and the profile. Default: 25-60, 60-80, 80-200 keV.
    spectral_bands : sequence of `Band`, optional
        Bands of the spectra; default the [ISGRI] narrow bands found in the table.
    profile_bins : sequence of `SkyRegion`, optional
        Default `bayesbg.isgri.sky.longitude_bins` (15 deg, ``|b| < 10`` deg).
    point_sources : sequence of `PointSource`
        Sources not cleaned from the rates whose spectra to extract ([ISGRI] App. C);
        their pointings within ``exclusion`` carry no diffuse flux. Default none.
    collimator : str
        Collimator shape of the Crab calibration. Default ``"flat"``.
    collimator_alternative : str or None
        Shape of the systematic term; None: no collimator term. Default ``"tapered"``.
    screening_criteria : `ScreeningCriteria`, optional
        Default ``ScreeningCriteria()``.
    background_settings : `BackgroundSettings`, optional
        Default ``BackgroundSettings()``; ``point_sources`` are added to its own.

    Returns
    -------
    result : `PipelineResult`
    """
    seed = check_seed(seed)
    bands = _present(table, bands, BROAD_BANDS, "bands")
    spectral_bands = _present(table, spectral_bands, NARROW_BANDS, "spectral_bands")
    response = collimator_response(collimator)
    alternative = (collimator_response(collimator_alternative)
                   if collimator_alternative is not None else None)
    settings = background_settings if background_settings is not None else BackgroundSettings()
    sources = tuple(dict.fromkeys((*settings.point_sources, *point_sources)))
    settings = BackgroundSettings(**{**settings.__dict__, "point_sources": sources})
    screened = screen(table, criteria=screening_criteria)
    bkg_model = fit_background(screened.table, settings=settings)
    crab = fit_crab_calibration(screened.table, background=bkg_model, response=response)
    crab_alt = (fit_crab_calibration(screened.table, background=bkg_model, response=alternative)
                if alternative is not None else None)
    prediction = bkg_model.predict(screened.table)
    valid = prediction.valid
    fluxes = pointing_fluxes(screened.table, valid & settings.source_free(screened.table),
                             background=bkg_model, crab=crab, crab_alternative=crab_alt,
                             prediction=prediction)
    pointings = fluxes.pointings
    is_bkg = background_pointings(pointings, settings=settings)
    rows = []
    for region in regions:
        inside = region.contains(pointings.l, pointings.b)
        for band in (*bands, *spectral_bands):
            measurement = fluxes.measure(inside, band)
            rows.append({"region": region.name, "band": band.name,
                         "energy_min": band.energy_min, "energy_max": band.energy_max,
                         "method": "mixture-ml", **measurement.to_row()})
    everything = pd.DataFrame(rows)
    table_names = {band.name for band in bands}
    table_out = everything[everything["band"].isin(table_names)].reset_index(drop=True)
    spectra = everything[~everything["band"].isin(table_names)].reset_index(drop=True)
    paper = []
    for region_name, band_name in zip(table_out["region"], table_out["band"], strict=True):
        region = next(r for r in regions if r.name == region_name)
        k = pointings.band_index(band_name)
        values = fluxes.flux[region.contains(pointings.l, pointings.b), k]
        wings = gaussian_histogram_estimate(values, wings=True)
        plain = gaussian_histogram_estimate(values)
        paper.append({"paper_mu": wings.mu, "paper_error": wings.error,
                      "gauss_mu": plain.mu, "gauss_error": plain.error})
    table_out = pd.concat([table_out, pd.DataFrame(paper)], axis=1)
    mixture = None
    if model is not None:
        table_out, mixture = _nuts_table(table_out, fluxes, regions, seed=seed, config=config,
                                         model=model)
    by_band = {band.name: band for band in bands}
    table_out["energy_flux"] = [mcrab_to_energy_flux(f, by_band[b]).value
                                for f, b in zip(table_out["flux"], table_out["band"],
                                                strict=True)]
    table_out["energy_error"] = [mcrab_to_energy_flux(e, by_band[b]).value
                                 for e, b in zip(table_out["error"], table_out["band"],
                                                 strict=True)]
    profile = _profile(fluxes, profile_bins if profile_bins is not None else longitude_bins(),
                       bands)
    extracted = tuple(
        _point_source(screened.table, prediction, source, background=bkg_model, crab=crab,
                      crab_alternative=crab_alt, response=response, alternative=alternative,
                      crab_exclusion=settings.crab_exclusion)
        for source in point_sources)
    return PipelineResult(
        screened, bkg_model, crab, fluxes, pointings.scw_id[is_bkg], bands, table_out,
        spectra, profile, extracted, crab_alt, collimator, collimator_alternative,
        tuple(regions), mixture)


def _profile(fluxes: PointingFluxes, bins: Sequence[SkyRegion], bands: Sequence[Band]
             ) -> pd.DataFrame:
    """The flux per FOV in every longitude bin and band ([ISGRI] Fig. 1)."""
    pointings = fluxes.pointings
    rows = []
    for region in bins:
        inside = region.contains(pointings.l, pointings.b)
        for band in bands:
            rows.append({"bin": region.name, "l_center": region.l_center,
                         "l_min": region.l_center - region.width / 2,
                         "l_max": region.l_center + region.width / 2,
                         "b_max": region.height / 2, "band": band.name,
                         **fluxes.measure(inside, band).to_row()})
    return pd.DataFrame(rows)


def _point_source(table: PointingTable, prediction: BackgroundPrediction,
                  source: PointSource, *,
                  background: OrbitBackgroundModel, crab: CrabCalibration,
                  crab_alternative: CrabCalibration | None, response: CollimatorResponse,
                  alternative: CollimatorResponse | None, crab_exclusion: float
                  ) -> PointSourceResult:
    """The collimator-mode spectrum of one point source (module docstring)."""
    offset = source.offset(table.l, table.b)
    usable = (prediction.valid & (offset < source.max_offset)
              & (table.crab_offset >= crab_exclusion))
    if not np.any(usable):
        raise ValueError(f"point_sources: no pointing with a background prediction within "
                         f"{source.max_offset} deg of {source.name}")
    fluxes = pointing_fluxes(table, usable, background=background, crab=crab,
                             crab_alternative=crab_alternative, offset=offset,
                             response=response, response_alternative=alternative,
                             prediction=prediction)
    everyone = np.ones(fluxes.pointings.n_pointing, dtype=bool)
    rows = [{"source": source.name, "band": band.name, "energy_min": band.energy_min,
             "energy_max": band.energy_max, **fluxes.measure(everyone, band).to_row()}
            for band in fluxes.pointings.bands]
    log.info("%s: %d pointings within %g deg", source.name, fluxes.pointings.n_pointing,
             source.max_offset)
    return PointSourceResult(source, fluxes, pd.DataFrame(rows))


def _nuts_table(table: pd.DataFrame, fluxes: PointingFluxes, regions: Sequence[SkyRegion], *,
                seed: int, config: SamplerConfig | None, model: cmdstanpy.CmdStanModel
                ) -> tuple[pd.DataFrame, FluxMixtureResult]:
    """Table 1 with the NUTS posterior means of the mixtures in place of the ML fits."""
    pointings = fluxes.pointings
    groups, shared = {}, {}
    for region_name, band_name in zip(table["region"], table["band"], strict=True):
        region = next(r for r in regions if r.name == region_name)
        inside = region.contains(pointings.l, pointings.b)
        k = pointings.band_index(band_name)
        name = f"{region_name} {band_name}"
        groups[name] = fluxes.flux[inside, k]
        shared[name] = (pointings.orbit[inside], fluxes.background_error[inside, k], k)
    mixture = fit_flux_mixture(FluxGroups.from_mapping(groups), seed=seed, config=config,
                               model=model)
    names = list(groups)
    mu = mixture.table.loc[names, "mu"].to_numpy()
    statistical = mixture.table.loc[names, "mu_sd_robust"].to_numpy()
    terms = np.array([systematic_variance(m, orbit, error, fluxes.crab, band)
                      for m, (orbit, error, band) in zip(mu, (shared[n] for n in names),
                                                         strict=True)])
    out = table.copy()
    collimator = np.nan_to_num(out["error_collimator"].to_numpy(dtype=float))
    out["flux"] = mu
    out["error_statistical"] = statistical
    out["error_background"] = np.sqrt(terms[:, 0])
    out["error_calibration"] = np.sqrt(terms[:, 1])
    out["error_random"] = np.sqrt(statistical**2 + terms.sum(axis=1))
    out["error"] = np.sqrt(out["error_random"] ** 2 + collimator**2)
    out["method"] = "mixture-nuts"
    out["posterior_sd"] = mixture.table.loc[names, "mu_sd"].to_numpy()
    return out, mixture
