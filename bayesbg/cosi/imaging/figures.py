"""Figures of a deconvolution: all-sky Mollweide and zoomed maps, the TS(k) curve.

Maps are in Galactic coordinates with longitude increasing to the left, the exposure
(sensitivity ``sum_i R_ij`` relative to its maximum) as contours and an optional marker
at a known source. Each function returns a `matplotlib.figure.Figure` (Agg canvas, no
pyplot state).
"""

from __future__ import annotations

import io

import astropy.units as u
import astropy_healpix as ahp
import numpy as np
from astropy.coordinates import Latitude, Longitude
from matplotlib.figure import Figure
from numpy.typing import ArrayLike, NDArray

from bayesbg.cosi.imaging.selection import IterationChoice

__all__ = ["figure_bytes", "map_figure", "ts_curve_figure"]

_EXPOSURE_LEVELS = (0.1, 0.5, 0.9)


def _sample(values: NDArray, nside: int, lon: NDArray, lat: NDArray) -> NDArray:
    index = ahp.lonlat_to_healpix(Longitude(np.mod(lon, 360.0) * u.deg),
                                  Latitude(lat * u.deg), nside, order="ring")
    return values[index]


def map_figure(
    image: ArrayLike,
    nside: int,
    *,
    sensitivity: ArrayLike | None = None,
    source: tuple[float, float] | None = None,
    source_name: str = "source",
    zoom_centre: tuple[float, float] | None = None,
    zoom_width: float = 60.0,
    title: str = "",
) -> Figure:
    """Mollweide all-sky map and a zoomed Cartesian view side by side.

    Parameters
    ----------
    image : array_like, shape (12 nside^2,)
        ph cm-2 s-1 per pixel.
    nside : int
    sensitivity : array_like, optional
        ``sum_i R_ij`` per pixel (cm2 s), drawn as contours at 10, 50, 90 % of the maximum.
    source : (l, b) deg, optional
        Known source, marked with a cross.
    source_name : str
    zoom_centre : (l, b) deg, optional
        Centre of the zoomed view. Default: the source, else the brightest pixel.
    zoom_width : float
        Side of the zoomed view, deg. Default is 60.
    title : str

    Returns
    -------
    figure : `matplotlib.figure.Figure`
    """
    values = np.asarray(image, dtype=np.float64)
    exposure = None if sensitivity is None else np.asarray(sensitivity, dtype=np.float64)
    if exposure is not None and exposure.max() > 0:
        exposure = exposure / exposure.max()
    figure = Figure(figsize=(12.5, 4.6), layout="constrained")
    sky = figure.add_subplot(1, 2, 1, projection="mollweide")
    lon = np.linspace(180.0, -180.0, 361)
    lat = np.linspace(-90.0, 90.0, 181)
    lon_grid, lat_grid = np.meshgrid(lon, lat)
    sampled = _sample(values, nside, lon_grid, lat_grid)
    mesh = sky.pcolormesh(np.radians(-lon_grid), np.radians(lat_grid), sampled,
                          cmap="magma", shading="auto", rasterized=True)
    if exposure is not None:
        sky.contour(np.radians(-lon_grid), np.radians(lat_grid),
                    _sample(exposure, nside, lon_grid, lat_grid), levels=_EXPOSURE_LEVELS,
                    colors="cyan", linewidths=0.7)
    ticks = np.array([150, 120, 90, 60, 30, 0, -30, -60, -90, -120, -150])
    sky.set_xticks(np.radians(-ticks))
    sky.set_xticklabels([f"{t % 360:d}" for t in ticks], fontsize=7, color="white")
    sky.grid(True, color="0.6", linewidth=0.3)
    if source is not None:
        l_src = (source[0] + 180.0) % 360.0 - 180.0
        sky.plot(np.radians(-l_src), np.radians(source[1]), marker="x", color="lime",
                 markersize=9, mew=1.8, linestyle="none", label=source_name)
        sky.legend(loc="lower right", fontsize=7)
    sky.set_title(title or "Galactic, Mollweide", fontsize=9)
    figure.colorbar(mesh, ax=sky, orientation="horizontal", shrink=0.6, pad=0.06,
                    label="ph cm$^{-2}$ s$^{-1}$ pixel$^{-1}$")

    if zoom_centre is None:
        if source is not None:
            zoom_centre = source
        else:
            grid = ahp.HEALPix(nside=nside, order="ring")
            l_max, b_max = grid.healpix_to_lonlat(int(np.argmax(values)))
            zoom_centre = (float(l_max.to_value(u.deg)), float(b_max.to_value(u.deg)))
    half = zoom_width / 2.0
    l0, b0 = zoom_centre
    l_axis = np.linspace(l0 + half, l0 - half, 241)
    b_axis = np.clip(np.linspace(b0 - half, b0 + half, 241), -90.0, 90.0)
    l_zoom, b_zoom = np.meshgrid(l_axis, b_axis)
    zoom = figure.add_subplot(1, 2, 2)
    extent = (l_axis[0], l_axis[-1], b_axis[0], b_axis[-1])
    shown = zoom.imshow(_sample(values, nside, l_zoom, b_zoom), origin="lower", extent=extent,
                        cmap="magma", aspect="equal", interpolation="nearest")
    if exposure is not None:
        zoom.contour(l_axis, b_axis, _sample(exposure, nside, l_zoom, b_zoom),
                     levels=_EXPOSURE_LEVELS, colors="cyan", linewidths=0.7)
    if source is not None:
        zoom.plot(source[0] if abs(source[0] - l0) < 180 else source[0] - 360, source[1],
                  marker="x", color="lime", markersize=10, mew=2, linestyle="none")
    zoom.set_xlim(extent[0], extent[1])
    zoom.set_xlabel("Galactic longitude l (deg)")
    zoom.set_ylabel("Galactic latitude b (deg)")
    zoom.set_title(f"{zoom_width:g} x {zoom_width:g} deg around ({l0:.1f}, {b0:.1f})",
                   fontsize=9)
    figure.colorbar(shown, ax=zoom, shrink=0.85, label="ph cm$^{-2}$ s$^{-1}$ pixel$^{-1}$")
    return figure


def ts_curve_figure(
    ts: ArrayLike,
    choice: IterationChoice,
    *,
    reference: ArrayLike | None = None,
    reference_label: str = "classic RL",
) -> Figure:
    """TS(k) with the chosen iteration, curvature maxima and inflection points.

    Parameters
    ----------
    ts : array_like, shape (n_iter + 1,)
    choice : `IterationChoice`
    reference : array_like, optional
        Another TS(k) curve to compare with (e.g. classic Richardson-Lucy).
    reference_label : str

    Returns
    -------
    figure : `matplotlib.figure.Figure`
    """
    values = np.asarray(ts, dtype=np.float64)
    k = np.arange(values.size)
    figure = Figure(figsize=(6.4, 4.2), layout="constrained")
    axes = figure.add_subplot(1, 1, 1)
    axes.plot(k[1:], values[1:], "o-", ms=3, color="C0", label="modified RL")
    if reference is not None:
        other = np.asarray(reference, dtype=np.float64)
        axes.plot(np.arange(other.size)[1:], other[1:], "-", color="0.5",
                  label=reference_label)
    for i, it in enumerate(choice.curvature_maxima):
        axes.axvline(it, color="C1", lw=0.8, ls="--",
                     label="curvature maxima" if i == 0 else None)
    for i, it in enumerate(choice.inflection_points):
        axes.axvline(it, color="C2", lw=0.8, ls=":",
                     label="inflection points" if i == 0 else None)
    axes.plot(choice.iteration, values[choice.iteration], "*", color="C3", ms=14,
              label=f"chosen: k = {choice.iteration}")
    axes.set_xscale("log")
    axes.set_xlabel("iteration k")
    axes.set_ylabel("TS = 2 (ln L - ln L$_{bg}$)")
    axes.legend(fontsize=8)
    axes.grid(alpha=0.3)
    return figure


def figure_bytes(figure: Figure, *, dpi: int = 110) -> bytes:
    """PNG bytes of a figure."""
    stream = io.BytesIO()
    figure.savefig(stream, format="png", dpi=dpi)
    return stream.getvalue()
