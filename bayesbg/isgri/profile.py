"""The Galactic longitude profile against the stellar-mass model ([ISGRI] 4.2, Fig. 1).

The measured profile is `PipelineResult.profile`: the flux per FOV in 15-deg longitude
bins with ``|b| < 10`` deg in the broad bands, each with its error budget. The model is
the stellar mass of the bulge and the disk in the field of view
(`bayesbg.isgri.model.skymodel`, convolved with the run's collimator shape), averaged
over each bin's pointings minus its mean over the BKG pointings (the method measures
region minus BKG, so the model is compared the same way), times one factor per band
fitted by weighted least squares (`bayesbg.isgri.model.collimator.fit_profile_scale`).
The chi2 of the data about the scaled model uses the random errors (statistical,
background, calibration); the collimator term, a common scale, is absorbed by the
factor. Its degrees of freedom are the bins with a flux minus one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bayesbg.isgri.model.collimator import collimator_response, fit_profile_scale
from bayesbg.isgri.model.skymodel import StellarMapFOV, stellar_fov_maps
from bayesbg.isgri.pipeline import PipelineResult
from bayesbg.isgri.simulate import IsgriTruth
from bayesbg.isgri.sky import SkyRegion

__all__ = ["ProfileFit", "fit_longitude_profile"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class ProfileFit:
    """The longitude profile and the scaled stellar-mass model.

    Attributes
    ----------
    table : `pandas.DataFrame`
        `PipelineResult.profile` with ``model_mass`` (Msun in the FOV, minus the BKG
        mean), ``model`` (scaled, mCrab), ``residual`` (in random errors) and, on a
        simulation, ``injected`` and ``pull`` (with the total error).
    bands : `pandas.DataFrame`
        Per band: ``band``, ``scale`` and ``scale_error`` (mCrab per Msun), ``chi2``,
        ``dof``, ``chi2_red``.
    """

    table: pd.DataFrame
    bands: pd.DataFrame


def fit_longitude_profile(result: PipelineResult, *, maps: StellarMapFOV | None = None,
                          truth: IsgriTruth | None = None) -> ProfileFit:
    """Scale the stellar-mass model to the measured profile, band by band (module doc).

    Parameters
    ----------
    result : `PipelineResult`
    maps : `bayesbg.isgri.model.skymodel.StellarMapFOV`, optional
        Default: the stellar maps seen through the run's collimator.
    truth : `bayesbg.isgri.IsgriTruth`, optional
        For a simulation: the injected profile (`IsgriTruth.injected_flux` of each bin).

    Returns
    -------
    fit : `ProfileFit`
    """
    if maps is None:
        maps = stellar_fov_maps(collimator_response(result.collimator))
    pointings = result.pointings
    table = result.profile.copy()
    bkg = np.isin(pointings.scw_id, result.background_ids)
    mass = maps(pointings.l, pointings.b)
    reference = float(mass[bkg].mean()) if bkg.any() else 0.0
    first = table.drop_duplicates("bin")
    bins = [SkyRegion(str(row["bin"]), float(row["l_center"]), 0.0,
                      float(row["l_max"] - row["l_min"]), 2 * float(row["b_max"]))
            for _, row in first.iterrows()]
    bin_mass, injected = {}, {}
    for region in bins:
        name = region.name
        inside = region.contains(pointings.l, pointings.b)
        bin_mass[name] = float(mass[inside].mean()) - reference if inside.any() else np.nan
        if truth is not None and inside.any():
            injected[name] = truth.injected_flux(pointings.scw_id[inside], result.background_ids,
                                                 bands=result.bands)
    table["model_mass"] = [bin_mass[name] for name in table["bin"]]
    table["model"] = np.nan
    summary = []
    for band in result.bands:
        rows = table["band"] == band.name
        good = rows & np.isfinite(table["flux"]) & np.isfinite(table["model_mass"])
        scale, scale_error, chi2 = fit_profile_scale(table.loc[good, "flux"],
                                                     table.loc[good, "error_random"],
                                                     table.loc[good, "model_mass"])
        table.loc[rows, "model"] = scale * table.loc[rows, "model_mass"]
        dof = int(good.sum()) - 1
        summary.append({"band": band.name, "scale": scale, "scale_error": scale_error,
                        "chi2": chi2, "dof": dof, "chi2_red": chi2 / dof if dof > 0 else np.nan})
    table["residual"] = (table["flux"] - table["model"]) / table["error_random"]
    if truth is not None:
        index = {band.name: k for k, band in enumerate(result.bands)}
        table["injected"] = [injected[b][index[k]] if b in injected else np.nan
                             for b, k in zip(table["bin"], table["band"], strict=True)]
        table["pull"] = (table["flux"] - table["injected"]) / table["error"]
    log.info("longitude profile: %s", ", ".join(
        f"{row['band']} keV chi2 {row['chi2']:.1f}/{row['dof']}" for row in summary))
    return ProfileFit(table, pd.DataFrame(summary))

