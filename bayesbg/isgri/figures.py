"""Figures of the ISGRI pipeline (matplotlib, Agg backend), written as PNG files."""

from __future__ import annotations

import logging
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from bayesbg.isgri.fit import FluxMixtureResult  # noqa: E402
from bayesbg.isgri.model.background_fit import background_pointings  # noqa: E402
from bayesbg.isgri.model.collimator import fit_profile_scale  # noqa: E402
from bayesbg.isgri.model.flux_groups import FluxGroups  # noqa: E402
from bayesbg.isgri.model.histogram_estimate import gaussian_histogram_estimate  # noqa: E402
from bayesbg.isgri.model.skymodel import stellar_fov_maps  # noqa: E402
from bayesbg.isgri.pipeline import PipelineResult  # noqa: E402
from bayesbg.isgri.sky import PAPER_REGIONS, longitude_bins  # noqa: E402

__all__ = ["write_figures"]

log = logging.getLogger(__name__)


def write_figures(result: PipelineResult, directory: str | Path) -> dict[str, Path]:
    """Background light curve, residual distributions, Crab calibration, longitude profile.

    Parameters
    ----------
    result : `PipelineResult`
    directory : str or `~pathlib.Path`
        Created if missing.

    Returns
    -------
    paths : dict of str to `~pathlib.Path`
    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    paths = {name: out / f"{name}.png" for name in
             ("background_lightcurve", "residuals", "crab_calibration", "longitude_profile")}
    bands = result.bands
    table = result.screening.table
    bkg = table.select(background_pointings(table))
    prediction = result.background.predict(bkg)
    fig, axes = plt.subplots(len(bands), 1, figsize=(9, 2.6 * len(bands)), sharex=True)
    for ax, band in zip(np.atleast_1d(axes), bands, strict=True):
        k = bkg.band_index(band)
        orbits, inverse = np.unique(bkg.orbit, return_inverse=True)
        count = np.bincount(inverse)
        ax.plot(orbits, np.bincount(inverse, bkg.rate[:, k]) / count, ".", ms=2, color="C3",
                label="BKG pointings")
        valid = prediction.valid
        ax.plot(orbits, np.bincount(inverse[valid], prediction.rate[valid, k],
                                    minlength=orbits.size) / np.maximum(
                    np.bincount(inverse[valid], minlength=orbits.size), 1),
                ".", ms=2, color="C2", label="model")
        ax.set_ylabel(f"{band.name} keV\ncts s-1 pix-1")
    np.atleast_1d(axes)[0].legend(loc="upper right")
    np.atleast_1d(axes)[-1].set_xlabel("orbit")
    fig.tight_layout()
    fig.savefig(paths["background_lightcurve"], dpi=100)
    plt.close(fig)

    regions = result.table["region"].unique()
    fig, axes = plt.subplots(len(regions), len(bands), figsize=(3.2 * len(bands),
                                                                 2.4 * len(regions)))
    axes = np.atleast_2d(axes)
    for i, region_name in enumerate(regions):
        for k, band in enumerate(bands):
            row = result.table[(result.table["region"] == region_name)
                               & (result.table["band"] == band.name)].iloc[0]
            ids = np.isin(result.pointings.scw_id, _region_ids(result, region_name))
            values = result.flux[ids, k]
            estimate = gaussian_histogram_estimate(values, wings=True)
            low, high = np.percentile(values, [1, 99])
            ax = axes[i, k]
            # density over all N pointings, so that the mixture weights apply as they are
            width = (high - low) / 80
            ax.hist(values, bins=80, range=(low, high), color="0.7", histtype="stepfilled",
                    weights=np.full(values.size, 1.0 / (values.size * width)))
            x = np.linspace(low, high, 400)
            ax.plot(x, np.exp(-0.5 * ((x - estimate.mu) / estimate.sigma) ** 2)
                    / (np.sqrt(2 * np.pi) * estimate.sigma), color="C0",
                    label="Gaussian core (histogram fit)")
            if result.mixture is not None:
                ax.plot(x, _mixture_density(result.mixture, f"{region_name} {band.name}",
                                            values, x), color="C1", label="mixture")
            ax.axvline(row["flux"], color="C3", label="reported flux")
            ax.set_title(f"{region_name} {band.name} keV", fontsize=8)
    axes[0, 0].legend(fontsize=6, loc="upper right")
    fig.supxlabel("residual flux, mCrab per FOV")
    fig.tight_layout()
    fig.savefig(paths["residuals"], dpi=100)
    plt.close(fig)

    crab = result.crab
    fig, axes = plt.subplots(len(bands), 1, figsize=(8, 2.4 * len(bands)), sharex=True)
    grid = np.linspace(crab.orbit.min(), crab.orbit.max(), 300)
    for ax, band in zip(np.atleast_1d(axes), bands, strict=True):
        k = list(crab.bands).index(band)
        ax.plot(crab.orbit, crab.rate[:, k], "o", ms=3)
        ax.plot(grid, crab.polynomials[k](grid), color="C3")
        ax.set_ylabel(f"{band.name} keV")
        ax.set_title(f"systematic {crab.systematic[k]:.0f} mCrab", fontsize=8)
    np.atleast_1d(axes)[-1].set_xlabel("orbit")
    fig.tight_layout()
    fig.savefig(paths["crab_calibration"], dpi=100)
    plt.close(fig)

    bins = longitude_bins()
    maps = stellar_fov_maps()
    fig, axes = plt.subplots(len(bands), 1, figsize=(8, 2.6 * len(bands)), sharex=True)
    p = result.pointings
    for k, (ax, band) in enumerate(zip(np.atleast_1d(axes), bands, strict=True)):
        centre, flux, error, model = [], [], [], []
        for region in bins:
            inside = region.contains(p.l, p.b)
            if np.count_nonzero(inside) < 20:
                continue
            estimate = gaussian_histogram_estimate(result.flux[inside, k], wings=True)
            centre.append(region.l_center)
            flux.append(estimate.mu)
            error.append(estimate.error)
            model.append(float(np.mean(maps(p.l[inside], p.b[inside]))))
        scale, _, _ = fit_profile_scale(flux, error, model)
        ax.errorbar(centre, flux, yerr=error, fmt="o", ms=3)
        ax.plot(centre, scale * np.asarray(model), color="C3", label="stellar mass x scale")
        ax.set_ylabel(f"{band.name} keV\nmCrab")
    np.atleast_1d(axes)[0].legend()
    np.atleast_1d(axes)[-1].set_xlabel("Galactic longitude, deg")
    np.atleast_1d(axes)[-1].invert_xaxis()
    fig.tight_layout()
    fig.savefig(paths["longitude_profile"], dpi=100)
    plt.close(fig)
    return paths


def _mixture_density(mixture: FluxMixtureResult, group: str, values: np.ndarray,
                     x: np.ndarray) -> np.ndarray:
    """Mixture density at the posterior means (docs/equations.md section 3), per mCrab, on ``x``."""
    row = mixture.table.loc[group]
    limits = FluxGroups.from_mapping({group: values}).to_stan_data()
    r_min, r_max = float(limits["flux_min"][0]), float(limits["flux_max"][0])
    mu, sigma = float(row["mu"]), float(row["sigma"])
    w_low, w_high = float(row["weight_low"]), float(row["weight_high"])
    core = (1 - w_low - w_high) * np.exp(-0.5 * ((x - mu) / sigma) ** 2) / (
        np.sqrt(2 * np.pi) * sigma)
    wings = np.where(x <= mu, w_low / max(mu - r_min, 1e-12),
                     w_high / max(r_max - mu, 1e-12))
    inside = (x >= r_min) & (x <= r_max)
    return core + np.where(inside, wings, 0.0)


def _region_ids(result: PipelineResult, name: str) -> np.ndarray:
    for region in PAPER_REGIONS:
        if region.name == name:
            return result.region_ids(region)
    raise ValueError(f"region: {name!r} is not a preset region")
