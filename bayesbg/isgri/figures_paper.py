"""Figures of the spectra and their fits (matplotlib, Agg backend), PNG files:

- `plot_spectra`: the narrow-band spectra of the regions in mCrab per FOV with 2-sigma
  upper limits ([ISGRI] Fig. 2);
- `plot_spectral_fits`: each region's spectrum with a fitted model and its components
  ([ISGRI] Fig. 3-4; Fig. C.10 for a point source);
- `plot_crab_residuals`: the distribution of the Crab-rate residuals about the cubic per
  broad band with the Gaussian of their standard deviation ([ISGRI] Fig. B.9).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from bayesbg.isgri.paper_fits import PaperFits  # noqa: E402
from bayesbg.isgri.pipeline import PipelineResult  # noqa: E402
from bayesbg.isgri.products import region_spectrum  # noqa: E402
from bayesbg.spectra.likelihood import predict_components  # noqa: E402

__all__ = ["plot_crab_residuals", "plot_spectra", "plot_spectral_fits"]

log = logging.getLogger(__name__)


def _draw_spectrum(ax: plt.Axes, data: object, *, color: str, label: str,
                   shift: float = 1.0) -> None:
    centre = np.sqrt(data.energy_min * data.energy_max) * shift
    half = np.vstack([centre - data.energy_min * shift, data.energy_max * shift - centre])
    detected = ~data.upper_limit
    ax.errorbar(centre[detected], data.value[detected], yerr=data.error[detected],
                xerr=half[:, detected], fmt="o", ms=3, color=color, label=label)
    if np.any(~detected):
        ax.errorbar(centre[~detected], data.value[~detected],
                    yerr=0.3 * data.value[~detected], xerr=half[:, ~detected], fmt="none",
                    uplims=True, color=color)


def plot_spectra(result: PipelineResult, path: str | Path, *,
                 names: Sequence[str] | None = None) -> Path:
    """The regions' spectra in one panel, mCrab per FOV ([ISGRI] Fig. 2).

    Parameters
    ----------
    result : `PipelineResult`
    path : str or `~pathlib.Path`
    names : sequence of str, optional
        Default every region with a spectrum.

    Returns
    -------
    path : `~pathlib.Path`
    """
    names = list(names) if names is not None else list(dict.fromkeys(result.spectra["region"]))
    fig, ax = plt.subplots(figsize=(7.5, 5))
    for i, name in enumerate(names):
        _draw_spectrum(ax, region_spectrum(result, name), color=f"C{i}", label=name,
                       shift=1.0 + 0.01 * (i - len(names) / 2))
    ax.set_xscale("log")
    ax.set_yscale("symlog", linthresh=10.0)
    ax.set_xlabel("energy, keV")
    ax.set_ylabel("mCrab per FOV")
    ax.legend(fontsize=8)
    ax.set_title("Spectra per IBIS field of view (upper limits at 2 sigma)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return Path(path)


def plot_spectral_fits(fits: PaperFits, key: str, path: str | Path) -> Path:
    """Each spectrum fitted with one model: data, total and components at the posterior
    median, residuals in sigma.

    Parameters
    ----------
    fits : `bayesbg.isgri.paper_fits.PaperFits`
    key : {"table2", "table3", "point_source"}
    path : str or `~pathlib.Path`

    Returns
    -------
    path : `~pathlib.Path`
    """
    chosen = [(name, fit) for (name, k), fit in fits.fits.items() if k == key]
    if not chosen:
        raise ValueError(f"key: no fit of {key!r} in these fits")
    fig, axes = plt.subplots(2, len(chosen), figsize=(4.2 * len(chosen), 5.2),
                             squeeze=False, gridspec_kw={"height_ratios": [3, 1]},
                             sharex="col")
    for column, (name, fit) in enumerate(chosen):
        data = fit.data
        components = predict_components(fit.prepared, fit.median())
        total = components.sum(axis=0)
        ax, res = axes[0, column], axes[1, column]
        _draw_spectrum(ax, data, color="k", label="bayesbg spectrum")
        edges = np.append(data.energy_min, data.energy_max[-1])
        ax.stairs(total, edges, color="C3", label="total")
        for k, component in enumerate(fit.spectral_model.component_names):
            ax.stairs(components[k], edges, color=f"C{k}", ls="--", label=component)
        ax.set_xscale("log")
        ax.set_yscale("symlog", linthresh=10.0)
        chi2 = fit.chi_square
        ax.set_title(f"{name}: chi2_red {chi2.reduced:.2f}/{chi2.dof}", fontsize=9)
        detected = ~data.upper_limit
        centre = np.sqrt(data.energy_min * data.energy_max)
        res.plot(centre[detected], ((data.value - total) / data.error)[detected], "o", ms=3,
                 color="k")
        res.axhline(0.0, color="C3", lw=0.8)
        res.set_xlabel("energy, keV")
        if column == 0:
            ax.set_ylabel("mCrab per FOV")
            res.set_ylabel("(data - model) / error")
    axes[0, 0].legend(fontsize=7)
    fig.suptitle(chosen[0][1].spectral_model.expression, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return Path(path)


def plot_crab_residuals(result: PipelineResult, path: str | Path) -> Path:
    """Crab-rate residuals about the cubic per Table-1 band ([ISGRI] Fig. B.9).

    Parameters
    ----------
    result : `PipelineResult`
    path : str or `~pathlib.Path`

    Returns
    -------
    path : `~pathlib.Path`
    """
    crab = result.crab
    bands = [band for band in result.bands if band in crab.bands]
    fig, axes = plt.subplots(1, len(bands), figsize=(3.4 * len(bands), 3), squeeze=False)
    for ax, band in zip(axes[0], bands, strict=True):
        k = crab.bands.index(band)
        residual = crab.residual[:, k]
        scatter = float(crab.systematic[k])
        ax.hist(residual, bins=20, density=True, color="0.7")
        x = np.linspace(residual.min(), residual.max(), 200)
        ax.plot(x, np.exp(-0.5 * (x / scatter) ** 2) / (np.sqrt(2 * np.pi) * scatter),
                color="C3")
        ax.axvline(0.0, color="k", lw=0.8)
        for sign in (-1, 1):
            ax.axvline(sign * scatter, color="C2", ls="--", lw=0.8)
        ax.set_title(f"{band.name} keV: sd {scatter:.0f} mCrab", fontsize=9)
        ax.set_xlabel("1000 (rate - P) / P, mCrab")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return Path(path)
