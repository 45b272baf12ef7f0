"""The data products of a pipeline run as tables: spectra, orbit lists, Crab calibration.

- `region_spectrum` / `spectrum_table`: a region's (or a point source's) narrow-band
  fluxes as a `bayesbg.spectra.SpectralData` and as the ECSV table `bayesbg.spectra`
  reads (mCrab per FOV). A band whose flux is below ``2 x error`` is an upper limit at
  that threshold, ``2 x error`` (fixed-threshold censoring, so the censored likelihood
  of the spectral fit is exact); its measured value stays in the column ``measured``.
  ``error`` is the random part of the error budget (statistical, background model, Crab
  calibration); the collimator term, one scale for all bands, is in
  ``error_collimator`` and in the metadata ``collimator_scale``;
- `orbit_table`: every orbit with pointings: its background regime, BKG pointings,
  whether the slope filter rejected it, whether the clipping removed it, whether it is
  a Crab calibration orbit;
- `crab_table` and `crab_scatter_table`: the per-orbit Crab rates with the cubic and
  their residuals ([ISGRI] Appendix B), and the scatter per band;
- `to_ecsv`: an astropy table as ECSV bytes, for the run directory.
"""

from __future__ import annotations

import io
import logging

import astropy.units as u
import numpy as np
import pandas as pd
from astropy.table import Table

from bayesbg.isgri.model.background import REGIME_NAMES
from bayesbg.isgri.model.background_fit import background_pointings
from bayesbg.isgri.paper import CRAB_SCATTER
from bayesbg.isgri.pipeline import PipelineResult
from bayesbg.spectra.crab_units import CRAB, MCRAB
from bayesbg.spectra.data import SpectralData

__all__ = [
    "UPPER_LIMIT_SIGMA",
    "collimator_scale",
    "crab_scatter_table",
    "crab_table",
    "orbit_table",
    "region_spectrum",
    "spectrum_table",
    "to_ecsv",
]

log = logging.getLogger(__name__)

UPPER_LIMIT_SIGMA = 2.0
"""A band below this many errors is reported as an upper limit at that level."""


def _spectrum_rows(result: PipelineResult, name: str) -> pd.DataFrame:
    spectra = result.spectra
    rows = spectra[spectra["region"] == name]
    if rows.empty:
        for source in result.point_sources:
            if source.source.name == name:
                table = source.table
                narrow = ~table["band"].isin([band.name for band in result.bands])
                rows = table[narrow]
    if rows.empty:
        raise ValueError(f"name: no spectrum of {name!r}; regions "
                         f"{sorted(set(spectra['region']))}, point sources "
                         f"{[s.source.name for s in result.point_sources]}")
    rows = rows.sort_values("energy_min")
    measured = np.isfinite(rows["flux"].to_numpy(dtype=float))
    if not measured.all():
        log.warning("%s: %d bands without a flux (too few pointings) left out", name,
                    int((~measured).sum()))
    return rows[measured]


def collimator_scale(result: PipelineResult, name: str) -> float:
    """Mean ratio of the alternative collimator's fluxes to the default's for a region.

    The flux of every band changes by about this factor when the Crab calibration is
    re-run with the alternative collimator shape (measured over the region's pointings
    and narrow bands); 1 without an alternative.

    Parameters
    ----------
    result : `PipelineResult`
    name : str
        A region of the run or a point source.

    Returns
    -------
    scale : float
    """
    rows = _spectrum_rows(result, name)
    flux = rows["flux"].to_numpy(dtype=float)
    alternative = rows["flux_alternative"].to_numpy(dtype=float)
    weight = 1.0 / rows["error_random"].to_numpy(dtype=float) ** 2
    good = np.isfinite(alternative) & (np.abs(flux) > 0)
    if not good.any():
        return 1.0
    # the flux-weighted mean ratio sum w a f / sum w f^2: the scale a common factor gives
    return float(np.sum(weight[good] * alternative[good] * flux[good])
                 / np.sum(weight[good] * flux[good] ** 2))


def region_spectrum(result: PipelineResult, name: str, *,
                    upper_limit_sigma: float = UPPER_LIMIT_SIGMA) -> SpectralData:
    """The narrow-band spectrum of a region or point source (module docstring).

    Parameters
    ----------
    result : `PipelineResult`
    name : str
        A region of the run (``"GB"``) or a point source (``"Sco X-1"``).
    upper_limit_sigma : float
        Detection threshold of the upper limits. Default is 2.

    Returns
    -------
    data : `bayesbg.spectra.SpectralData`
        One dataset named ``"ISGRI"``.
    """
    rows = _spectrum_rows(result, name)
    error = rows["error_random"].to_numpy(dtype=float)
    measured = rows["flux"].to_numpy(dtype=float)
    limit = measured < upper_limit_sigma * error
    value = np.where(limit, upper_limit_sigma * error, measured)
    return SpectralData(rows["energy_min"].to_numpy(dtype=float),
                        rows["energy_max"].to_numpy(dtype=float), value, error, limit,
                        dataset_names=("ISGRI",))


def spectrum_table(result: PipelineResult, name: str, *,
                   upper_limit_sigma: float = UPPER_LIMIT_SIGMA) -> Table:
    """The spectrum of `region_spectrum` as the ECSV table of `bayesbg.spectra`, with the
    error budget and the measured values as extra columns.

    Parameters
    ----------
    result : `PipelineResult`
    name : str
    upper_limit_sigma : float

    Returns
    -------
    table : `astropy.table.Table`
    """
    data = region_spectrum(result, name, upper_limit_sigma=upper_limit_sigma)
    rows = _spectrum_rows(result, name)
    table = data.to_table()
    table["measured"] = rows["flux"].to_numpy(dtype=float) * MCRAB
    for column in ("error_statistical", "error_background", "error_calibration",
                   "error_collimator"):
        table[column] = rows[column].to_numpy(dtype=float) * MCRAB
    table["n"] = rows["n"].to_numpy(dtype=int)
    table.meta.update({
        "name": name, "unit_note": "mCrab per IBIS field of view (Omega = 286 deg2)",
        "error": "statistical, background model and Crab calibration in quadrature",
        "upper_limit": f"value = {upper_limit_sigma:g} x error where measured < "
                       f"{upper_limit_sigma:g} x error",
        "collimator": result.collimator,
        "collimator_alternative": result.collimator_alternative or "none",
        "collimator_scale": collimator_scale(result, name),
    })
    return table


def orbit_table(result: PipelineResult) -> Table:
    """Every orbit with screened pointings and what the background model did with it.

    Parameters
    ----------
    result : `PipelineResult`

    Returns
    -------
    table : `astropy.table.Table`
        Columns ``orbit``, ``n_pointings`` (screened), ``n_bkg`` (BKG pointings),
        ``regime`` (``linear``, ``constant``, ``interpolated``, ``nearest``,
        ``excluded``), ``slope_rejected``, ``clipped``, ``crab_calibration``,
        ``n_crab`` (Crab pointings of a calibration orbit), ``clip_residual``
        (per-orbit mean residual in the clipping band, cts s-1 pix-1; NaN when not
        computed).
    """
    screened = result.screening.table
    model = result.background
    orbits, counts = np.unique(screened.orbit, return_counts=True)
    bkg = background_pointings(screened, settings=model.settings)
    n_bkg = np.bincount(np.searchsorted(orbits, screened.orbit[bkg]), minlength=orbits.size)
    regime = model.evaluate(orbits, np.full(orbits.size, 0.5)).regime
    crab_n = dict(zip(result.crab.orbit.tolist(), result.crab.n_crab.tolist(), strict=True))
    residual = np.full(orbits.size, np.nan)
    clip = model.clip_residual
    if "orbit" in clip:
        position = np.searchsorted(orbits, np.asarray(clip["orbit"]))
        residual[position] = np.asarray(clip["residual"], dtype=float)
    table = Table()
    table["orbit"] = orbits.astype(np.int64)
    table["n_pointings"] = counts.astype(np.int64)
    table["n_bkg"] = n_bkg.astype(np.int64)
    table["regime"] = [REGIME_NAMES[int(r)] for r in regime]
    table["slope_rejected"] = np.isin(orbits, model.slope_rejected)
    table["clipped"] = np.isin(orbits, model.clipped)
    table["crab_calibration"] = np.isin(orbits, result.crab.orbit)
    table["n_crab"] = np.array([crab_n.get(int(o), 0) for o in orbits], dtype=np.int64)
    table["clip_residual"] = residual
    table["clip_residual"].unit = "ct s-1"
    table.meta["clip_band"] = (model.settings.clip_band.name
                               if model.settings.clip_band is not None else "none")
    table.meta["note"] = ("regime at phase 0.5; slope-rejected and clipped orbits get no "
                          "prediction (regime excluded); rates per detector pixel")
    return table


def crab_table(result: PipelineResult) -> Table:
    """Per calibration orbit and band: the Crab rate, the cubic and the residual.

    Parameters
    ----------
    result : `PipelineResult`

    Returns
    -------
    table : `astropy.table.Table`
        ``orbit``, ``n_crab``, then per band ``rate_<band>`` and ``model_<band>``
        (cts s-1 pix-1, on axis) and ``residual_<band>`` (mCrab).
    """
    crab = result.crab
    table = Table()
    table["orbit"] = crab.orbit
    table["n_crab"] = crab.n_crab
    fitted = crab.crab_rate(crab.orbit)
    for k, band in enumerate(crab.bands):
        suffix = band.column.removeprefix("rate_")
        table[f"rate_{suffix}"] = crab.rate[:, k]
        table[f"model_{suffix}"] = fitted[:, k]
        table[f"residual_{suffix}"] = crab.residual[:, k]
        table[f"residual_{suffix}"].unit = MCRAB
    table.meta["collimator"] = result.collimator
    table.meta["note"] = ("Crab rate = mean over the orbit's Crab pointings within 4.5 deg of "
                          "(rate - background) / R(offset); model = cubic P(orbit); "
                          "residual = 1000 (rate - P) / P")
    return table


def crab_scatter_table(result: PipelineResult) -> Table:
    """The scatter of the Crab rate about the cubic per band, with the alternative's.

    Parameters
    ----------
    result : `PipelineResult`

    Returns
    -------
    table : `astropy.table.Table`
        ``band``, ``energy_min``, ``energy_max`` (keV), ``orbits``, ``scatter`` (mCrab),
        ``scatter_alternative`` (mCrab, the alternative collimator's calibration),
        ``mean_ratio`` (``P / P_alt`` over the calibration orbits), ``paper`` (mCrab).
    """
    crab, alternative = result.crab, result.crab_alternative
    table = Table()
    table["band"] = [band.name for band in crab.bands]
    table["energy_min"] = [band.energy_min for band in crab.bands]
    table["energy_max"] = [band.energy_max for band in crab.bands]
    table["orbits"] = np.full(len(crab.bands), crab.orbit.size)
    table["scatter"] = crab.systematic * MCRAB
    if alternative is not None:
        table["scatter_alternative"] = alternative.systematic * MCRAB
        ratio = crab.crab_rate(crab.orbit) / alternative.crab_rate(crab.orbit)
        table["mean_ratio"] = ratio.mean(axis=0)
    table["paper"] = [CRAB_SCATTER.get(band.name, np.nan) for band in crab.bands] * MCRAB
    return table


def to_ecsv(table: Table | pd.DataFrame) -> bytes:
    """An astropy table (or a DataFrame) as ECSV bytes.

    Parameters
    ----------
    table : `astropy.table.Table` or `pandas.DataFrame`

    Returns
    -------
    text : bytes
    """
    if isinstance(table, pd.DataFrame):
        table = Table.from_pandas(table)
    buffer = io.StringIO()
    with u.add_enabled_units([CRAB, MCRAB]):
        table.write(buffer, format="ascii.ecsv")
    return buffer.getvalue().encode()
