"""Figures of the COSI scans: AIC against parameters, the template-width likelihood profile.

Both functions return a `matplotlib.figure.Figure` built without pyplot (no global
state); save it with ``fig.savefig(path)``.
"""

from __future__ import annotations

import logging

import numpy as np
from matplotlib.figure import Figure

from bayesbg.cosi.scan.background import BackgroundScanResult
from bayesbg.cosi.scan.template import CONTOUR_LEVELS, TemplateScanResult

__all__ = ["background_scan_figure", "template_scan_figure"]

log = logging.getLogger(__name__)

_MARKERS = {"equidistant": "o", "altitude": "s", "bayesian_blocks": "^"}


def background_scan_figure(result: BackgroundScanResult, *, template: str | None = None
                           ) -> Figure:
    """``delta AIC`` against the number of parameters, coloured by the fitted flux.

    One marker shape per node scheme, one outline colour per tracer; the selected
    variant (minimum AIC) is ringed. The y axis is symmetric-log (linear below 10).

    Parameters
    ----------
    result : `BackgroundScanResult`
    template : str, optional
        Template whose flux colours the points. Default: the first.

    Returns
    -------
    figure : `matplotlib.figure.Figure`
    """
    name = template if template is not None else result.template_names[0]
    table = result.table.dropna(subset=["aic"])
    flux = table[f"flux_{name}"].to_numpy()
    fig = Figure(figsize=(7.0, 4.6), layout="constrained")
    ax = fig.add_subplot()
    tracers = sorted(table["tracer"].unique())
    edge = {tracer: f"C{i}" for i, tracer in enumerate(tracers)}
    norm = _norm(flux)
    mappable = None
    for (scheme, tracer), group in table.groupby(["scheme", "tracer"], sort=True):
        mappable = ax.scatter(
            group["n_parameters"], group["delta_aic"], c=group[f"flux_{name}"],
            cmap="viridis", norm=norm, marker=_MARKERS.get(scheme, "o"), s=55,
            edgecolors=edge[tracer], linewidths=1.4 if len(tracers) > 1 else 0.5,
            label=f"{scheme.replace('_', ' ')}" + (f", {tracer}" if len(tracers) > 1 else ""),
            zorder=3,
        )
    best = result.selected_row
    ax.scatter([best["n_parameters"]], [best["delta_aic"]], s=260, facecolors="none",
               edgecolors="crimson", linewidths=1.8, zorder=4,
               label=f"selected: {result.selected.key}")
    ax.set_yscale("symlog", linthresh=10.0)
    ax.set_xlabel("number of parameters (templates + background blocks)")
    ax.set_ylabel(r"$\Delta$AIC to the minimum")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    if mappable is not None:
        fig.colorbar(mappable, ax=ax, label=f"fitted flux of {name} (ph cm$^{{-2}}$ s$^{{-1}}$)")
    ax.set_title("COSI background-model scan (maximum likelihood)", fontsize=10)
    return fig


def template_scan_figure(result: TemplateScanResult, *, truth: tuple[float, float] | None = None
                         ) -> Figure:
    """``-2 delta ln L`` over the width grid with contours, and the symmetric-width profile.

    Left: the map over ``(sigma_l, sigma_b)`` with contours at `CONTOUR_LEVELS` (68.3,
    95.4, 99.7 % for two parameters) and the best point; right: ``-2 delta ln L`` along
    ``sigma_l = sigma_b`` (relative to its own minimum) with the 1 and 4 lines (68.3 and
    95.4 % for one parameter), when the grid has symmetric points.

    Parameters
    ----------
    result : `TemplateScanResult`
    truth : tuple of float, optional
        True ``(sigma_l, sigma_b)``, marked if given.

    Returns
    -------
    figure : `matplotlib.figure.Figure`
    """
    grid = result.profile_map()
    profile = result.symmetric_profile()
    two = len(profile) > 1
    fig = Figure(figsize=(10.5 if two else 6.0, 4.5), layout="constrained")
    axes = fig.subplots(1, 2 if two else 1, squeeze=False)[0]
    ax = axes[0]
    shown = np.clip(grid, 0.0, None)
    upper = float(np.nanmax(shown)) if np.isfinite(shown).any() else 1.0
    mesh = ax.pcolormesh(_edges(result.sigma_l), _edges(result.sigma_b), shown,
                         cmap="magma_r", vmin=0.0, vmax=max(upper, CONTOUR_LEVELS[-1]),
                         shading="flat")
    if result.sigma_l.size > 1 and result.sigma_b.size > 1:
        contours = ax.contour(result.sigma_l, result.sigma_b, shown, levels=CONTOUR_LEVELS,
                              colors=["white", "lightgrey", "grey"], linewidths=1.2)
        ax.clabel(contours, fmt={level: f"{level:g}" for level in CONTOUR_LEVELS},
                  fontsize=7)
    ax.plot(*result.best, marker="*", color="cyan", markersize=14, markeredgecolor="k",
            linestyle="none", label=f"best ({result.best[0]:g}, {result.best[1]:g})")
    if truth is not None:
        ax.plot(*truth, marker="x", color="lime", markersize=10, mew=2, linestyle="none",
                label=f"truth ({truth[0]:g}, {truth[1]:g})")
    ax.set_xlabel(r"$\sigma_l$ (deg)")
    ax.set_ylabel(r"$\sigma_b$ (deg)")
    ax.legend(fontsize=8, loc="upper right")
    fig.colorbar(mesh, ax=ax, label=r"$-2\,\Delta\ln L$")
    ax.set_title(f"{result.template}: flux at best width {result.best_flux:.3e} "
                 r"ph cm$^{-2}$ s$^{-1}$", fontsize=9)
    if two:
        ax = axes[1]
        ax.plot(profile["sigma"], profile["delta_symmetric"], marker="o", color="k")
        for level, style in ((1.0, "--"), (4.0, ":")):
            ax.axhline(level, color="grey", linestyle=style, linewidth=1)
        ax.set_ylim(bottom=-0.05 * max(float(profile["delta_symmetric"].max()), 4.0))
        ax.set_xlabel(r"$\sigma_l = \sigma_b$ (deg)")
        ax.set_ylabel(r"$-2\,\Delta\ln L$ (symmetric widths)")
        ax.grid(alpha=0.3)
        best = profile.loc[profile["delta_symmetric"].idxmin()]
        ax.set_title(f"symmetric profile: best {best['sigma']:g} deg", fontsize=9)
    return fig


def _edges(centres: np.ndarray) -> np.ndarray:
    """Cell edges around grid centres (midpoints; half a step beyond the ends)."""
    if centres.size == 1:
        return np.array([centres[0] - 0.5, centres[0] + 0.5])
    middle = 0.5 * (centres[1:] + centres[:-1])
    return np.concatenate([[2 * centres[0] - middle[0]], middle,
                           [2 * centres[-1] - middle[-1]]])


def _norm(values: np.ndarray):  # noqa: ANN202 - matplotlib Normalize
    from matplotlib.colors import Normalize

    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return Normalize(0.0, 1.0)
    low, high = float(finite.min()), float(finite.max())
    if high <= low:
        high = low + abs(low) * 1e-3 + 1e-12
    return Normalize(low, high)
