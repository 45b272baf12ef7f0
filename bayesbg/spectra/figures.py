"""Figures of spectral fits: data, total model, components and residuals, in mCrab and
in E^2 F(E) (matplotlib, Agg backend)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from numpy.typing import NDArray  # noqa: E402

from bayesbg.spectra.band_integrals import band_quadrature  # noqa: E402
from bayesbg.spectra.crab_units import CRAB_INDEX, CRAB_NORM, KEV_PER_FLUX_UNIT  # noqa: E402
from bayesbg.spectra.likelihood import predict_components  # noqa: E402
from bayesbg.spectra.models import photon_shape  # noqa: E402

__all__ = ["component_e2f", "plot_spectrum"]

log = logging.getLogger(__name__)


def component_e2f(result: Any, energy: NDArray[np.float64],
                  values: dict[str, Any] | None = None) -> NDArray[np.float64]:
    """E^2 N(E) of every component at the posterior median, keV cm-2 s-1.

    Parameters
    ----------
    result : `bayesbg.spectra.fit.SpectralFitResult`
    energy : `numpy.ndarray`
        Energies, keV.
    values : dict, optional
        Parameter values; default the posterior medians.

    Returns
    -------
    e2f : `numpy.ndarray`, shape (K, n_energy)
        For the reference dataset (cross-normalisation 1).
    """
    model = result.spectral_model
    values = values if values is not None else result.median()
    shapes = model.shapes(values)
    reference = band_quadrature([model.flux_band[0]], [model.flux_band[1]], max_log_width=0.01)
    nodes = np.exp(reference.node_log_energy)
    weights = np.exp(reference.node_log_weight)
    out = np.empty((len(model.components), energy.size))
    for k, component in enumerate(model.components):
        code = component.type.code
        norm_integral = np.sum(weights * nodes * photon_shape(code, nodes, shapes[k]))
        flux_kev = values[f"{component.name}.flux"] * KEV_PER_FLUX_UNIT
        out[k] = energy**2 * flux_kev / norm_integral * photon_shape(code, energy, shapes[k])
    return out


def plot_spectrum(result: Any, *, path: str | Path | None = None) -> plt.Figure:
    """Data, total model, components and residuals; mCrab (left), E^2 F(E) (right).

    Parameters
    ----------
    result : `bayesbg.spectra.fit.SpectralFitResult`
    path : str or `~pathlib.Path`, optional
        Save the figure here (PNG).

    Returns
    -------
    figure : `matplotlib.figure.Figure`
    """
    data, model = result.data, result.spectral_model
    values = result.median()
    components = predict_components(result.prepared, values)
    total = components.sum(axis=0)
    sigma = np.sqrt(data.error**2 + (data.systematic[data.dataset] * total) ** 2)
    centre = np.sqrt(data.energy_min * data.energy_max)
    xerr = np.vstack([centre - data.energy_min, data.energy_max - centre])
    fig, axes = plt.subplots(2, 2, figsize=(11, 6.5), sharex="col",
                             gridspec_kw={"height_ratios": [3, 1]})
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    crab_e2 = CRAB_NORM * centre ** (2 - CRAB_INDEX)
    for d, name in enumerate(data.dataset_names):
        sel = data.dataset == d
        det = sel & ~data.upper_limit
        lim = sel & data.upper_limit
        c = colours[d % len(colours)]
        cross = float(np.asarray(values["cross_norm"])[d])
        axes[0, 0].errorbar(centre[det], data.value[det], yerr=data.error[det],
                            xerr=xerr[:, det], fmt="o", ms=3, color=c, label=name)
        axes[0, 0].errorbar(centre[lim], data.value[lim], xerr=xerr[:, lim], yerr=0.2
                            * data.value[lim], uplims=True, fmt="none", color=c)
        # unfolded: mCrab / 1000 x Crab E^2 N(E) at the band centre, divided by C
        unfolded = data.value / 1000 * crab_e2 / cross
        axes[0, 1].errorbar(centre[det], unfolded[det],
                            yerr=(data.error / 1000 * crab_e2 / cross)[det], xerr=xerr[:, det],
                            fmt="o", ms=3, color=c, label=name)
        axes[0, 1].errorbar(centre[lim], unfolded[lim], xerr=xerr[:, lim],
                            yerr=0.2 * unfolded[lim], uplims=True, fmt="none", color=c)
        axes[1, 0].errorbar(centre[det], ((data.value - total) / sigma)[det], yerr=1,
                            xerr=xerr[:, det], fmt="o", ms=3, color=c)
        edges = np.append(data.energy_min[sel], data.energy_max[sel][-1])
        axes[0, 0].stairs(total[sel], edges, color="k", lw=1.2,
                          label="total" if d == 0 else None)
        for k, component in enumerate(model.components):
            axes[0, 0].stairs(components[k, sel], edges, ls="--", color=colours[(k + 3)
                              % len(colours)], label=component.name if d == 0 else None)
    energy = np.geomspace(data.energy_min.min(), data.energy_max.max(), 300)
    e2f = component_e2f(result, energy, values)
    axes[0, 1].plot(energy, e2f.sum(axis=0), color="k", lw=1.2, label="total")
    for k, component in enumerate(model.components):
        axes[0, 1].plot(energy, e2f[k], ls="--", color=colours[(k + 3) % len(colours)],
                        label=component.name)
    frac = (data.value - total) / total
    axes[1, 1].errorbar(centre[~data.upper_limit], frac[~data.upper_limit],
                        yerr=(sigma / total)[~data.upper_limit], fmt="o", ms=3, color="k")
    for ax in axes[1]:
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_xlabel("Energy (keV)")
    for ax in axes.ravel():
        ax.set_xscale("log")
    axes[0, 1].set_yscale("log")
    peak = float(np.max(e2f.sum(axis=0)))
    axes[0, 1].set_ylim(peak * 1e-2, peak * 3)
    axes[0, 0].set_ylabel("mCrab")
    axes[0, 1].set_ylabel(r"$E^2 F(E)$ (keV cm$^{-2}$ s$^{-1}$)")
    axes[1, 0].set_ylabel(r"$\chi$")
    axes[1, 1].set_ylabel("(data - model) / model")
    chi2 = result.chi_square
    axes[0, 0].set_title(f"{model.expression}: chi2_red = {chi2.reduced:.2f} / {chi2.dof} dof",
                         fontsize=10)
    axes[0, 0].legend(fontsize=8)
    axes[0, 1].legend(fontsize=8)
    fig.tight_layout()
    if path is not None:
        fig.savefig(str(path), dpi=110)
        plt.close(fig)
    return fig
