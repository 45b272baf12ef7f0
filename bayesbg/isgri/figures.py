"""Figures of the ISGRI pipeline (matplotlib, Agg backend), written as PNG files: the
background light curve, the residual distributions, the Crab calibration ([ISGRI]
Fig. B.8) and the longitude profile (Fig. 1). The spectra, the spectral fits and the
point source are in `bayesbg.isgri.figures_paper`."""

from __future__ import annotations

import logging
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from bayesbg.isgri.fit import FluxMixtureResult  # noqa: E402
from bayesbg.isgri.model.background_fit import background_pointings  # noqa: E402
from bayesbg.isgri.model.flux_groups import FluxGroups  # noqa: E402
from bayesbg.isgri.model.histogram_estimate import gaussian_histogram_estimate  # noqa: E402
from bayesbg.isgri.pipeline import PipelineResult  # noqa: E402
from bayesbg.isgri.profile import ProfileFit, fit_longitude_profile  # noqa: E402

__all__ = [
    "background_lightcurve",
    "lightcurve_figure",
    "plot_background_lightcurve",
    "plot_longitude_profile",
    "write_figures",
]

log = logging.getLogger(__name__)


def write_figures(result: PipelineResult, directory: str | Path, *,
                  profile: ProfileFit | None = None) -> dict[str, Path]:
    """Background light curve, residual distributions, Crab calibration, longitude profile.

    Parameters
    ----------
    result : `PipelineResult`
    directory : str or `~pathlib.Path`
        Created if missing.
    profile : `bayesbg.isgri.profile.ProfileFit`, optional
        The profile against the stellar-mass model; default `fit_longitude_profile`.

    Returns
    -------
    paths : dict of str to `~pathlib.Path`
    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    paths = {name: out / f"{name}.png" for name in
             ("background_lightcurve", "residuals", "crab_calibration", "longitude_profile")}
    bands = result.bands
    plot_background_lightcurve(background_lightcurve(result), paths["background_lightcurve"])

    regions = result.table["region"].unique()
    fig, axes = plt.subplots(len(regions), len(bands), figsize=(3.2 * len(bands),
                                                                 2.4 * len(regions)))
    axes = np.atleast_2d(axes)
    for i, region_name in enumerate(regions):
        for k, band in enumerate(bands):
            row = result.table[(result.table["region"] == region_name)
                               & (result.table["band"] == band.name)].iloc[0]
            region = next(r for r in result.regions if r.name == region_name)
            values = result.flux[region.contains(result.pointings.l, result.pointings.b), k]
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

    profile = profile if profile is not None else fit_longitude_profile(result)
    plot_longitude_profile(profile, paths["longitude_profile"])
    return paths


def background_lightcurve(result: PipelineResult) -> pd.DataFrame:
    """Per orbit and band, the mean rate of the BKG pointings and of the background model.

    Parameters
    ----------
    result : `PipelineResult`

    Returns
    -------
    lightcurve : `pandas.DataFrame`
        Columns ``orbit``, ``band``, ``n`` (BKG pointings), ``n_model`` (those with a
        prediction), ``rate`` and ``model`` (cts s-1 pix-1). ``model`` is NaN for an
        orbit none of whose BKG pointings has a prediction (e.g. clipped orbits or
        orbits beyond every calibrated one): such orbits have no model, not a model 0.
    """
    table = result.screening.table
    bkg = table.select(background_pointings(table, settings=result.background.settings))
    prediction = result.background.predict(bkg)
    orbits, inverse = np.unique(bkg.orbit, return_inverse=True)
    count = np.bincount(inverse, minlength=orbits.size)
    valid = prediction.valid
    count_model = np.bincount(inverse[valid], minlength=orbits.size)
    frames = []
    for band in result.bands:
        k = bkg.band_index(band)
        total = np.bincount(inverse[valid], prediction.rate[valid, k], minlength=orbits.size)
        with np.errstate(invalid="ignore", divide="ignore"):
            model = np.where(count_model > 0, total / count_model, np.nan)
        frames.append(pd.DataFrame({
            "orbit": orbits, "band": band.name, "n": count, "n_model": count_model,
            "rate": np.bincount(inverse, bkg.rate[:, k], minlength=orbits.size) / count,
            "model": model}))
    return pd.concat(frames, ignore_index=True)


def lightcurve_figure(lightcurve: pd.DataFrame) -> Figure:
    """The background light curve: BKG-pointing mean rate and model per orbit and band.

    The model is a line with a gap at every orbit without a model (no point at 0, which
    would stretch the axis down to 0 and flatten the data).

    Parameters
    ----------
    lightcurve : `pandas.DataFrame`
        As returned by `background_lightcurve`.

    Returns
    -------
    figure : `matplotlib.figure.Figure`
        The caller closes it (``matplotlib.pyplot.close``).
    """
    bands = list(dict.fromkeys(lightcurve["band"]))
    fig, axes = plt.subplots(len(bands), 1, figsize=(9, 2.6 * len(bands)), sharex=True,
                             squeeze=False)
    for ax, band in zip(axes[:, 0], bands, strict=True):
        rows = lightcurve[lightcurve["band"] == band]
        ax.plot(rows["orbit"], rows["rate"], ".", ms=2, color="C3", label="BKG pointings")
        # NaN where an orbit has no model: the line has a gap there, not a dip to 0
        ax.plot(rows["orbit"], rows["model"], "-", lw=0.7, color="C2", label="model")
        ax.set_ylabel(f"{band} keV\ncts s-1 pix-1")
    axes[0, 0].legend(loc="upper right")
    axes[-1, 0].set_xlabel("orbit")
    fig.tight_layout()
    return fig


def plot_background_lightcurve(lightcurve: pd.DataFrame, path: str | Path) -> Path:
    """Write `lightcurve_figure` as a PNG.

    Parameters
    ----------
    lightcurve : `pandas.DataFrame`
        As returned by `background_lightcurve`.
    path : str or `~pathlib.Path`

    Returns
    -------
    path : `~pathlib.Path`
    """
    fig = lightcurve_figure(lightcurve)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return Path(path)


def plot_longitude_profile(profile: ProfileFit, path: str | Path) -> Path:
    """The longitude profile per band with the scaled stellar-mass model ([ISGRI] Fig. 1).

    Parameters
    ----------
    profile : `bayesbg.isgri.profile.ProfileFit`
    path : str or `~pathlib.Path`

    Returns
    -------
    path : `~pathlib.Path`
    """
    table = profile.table
    bands = list(profile.bands["band"])
    fig, axes = plt.subplots(len(bands), 1, figsize=(8, 2.6 * len(bands)), sharex=True)
    for ax, (_, fit) in zip(np.atleast_1d(axes), profile.bands.iterrows(), strict=True):
        rows = table[(table["band"] == fit["band"]) & np.isfinite(table["flux"])]
        ax.errorbar(rows["l_center"], rows["flux"], yerr=rows["error"], fmt="o", ms=3,
                    color="k", label="bayesbg (total error)")
        if "injected" in rows:
            ax.plot(rows["l_center"], rows["injected"], "x", color="C2", label="injected")
        ax.step(rows["l_center"], rows["model"], where="mid", color="C3",
                label="stellar mass x scale")
        ax.axhline(0.0, color="0.6", lw=0.5)
        ax.set_ylabel(f"{fit['band']} keV\nmCrab per FOV")
        ax.set_title(f"chi2 {fit['chi2']:.1f} / {fit['dof']} (random errors)", fontsize=8)
    np.atleast_1d(axes)[0].legend(fontsize=7)
    np.atleast_1d(axes)[-1].set_xlabel("Galactic longitude, deg")
    np.atleast_1d(axes)[-1].invert_xaxis()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return Path(path)


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
