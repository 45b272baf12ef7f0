"""Three-panel figures of COSI posterior predictive checks (matplotlib, without pyplot).

Top: observed counts along the axis, the central predictive band, the posterior mean of the
expected counts and its sky and background components (log scale, as the sky is about 1 %
of the background). Middle: residuals ``d - mean(d_rep)`` with the band around zero.
Bottom: z-scores with the two-sided normal quantile of the band level; bins outside the
band are marked. :func:`write_predictive_check_figures` writes ``ppc_<axis>.png``
(``ppc_time.png``, ``ppc_phi.png``, ``ppc_psi_chi.png`` after a fit) into a directory.
The figures are built without pyplot (no global state); save them with ``fig.savefig``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from scipy import stats

from bayesbg.atomic import atomic_file
from bayesbg.cosi.checks.ppc import PredictiveCheck

__all__ = ["AXIS_TITLES", "plot_predictive_check", "write_predictive_check_figures"]

log = logging.getLogger(__name__)

AXIS_TITLES = {"time": "time", "phi": "Compton scatter angle phi", "psi_chi": "psi-chi",
               "energy": "energy"}
"""How each axis of a check is named in titles and captions."""


def plot_predictive_check(
    check: PredictiveCheck,
    *,
    path: str | Path | None = None,
    title: str | None = None,
) -> Figure:
    """Counts with components and band; residuals; z-scores (three panels, shared x).

    Parameters
    ----------
    check : `PredictiveCheck`
        From :func:`bayesbg.cosi.predictive_check` or
        :func:`bayesbg.cosi.time_predictive_check`.
    path : str or `~pathlib.Path`, optional
        Write the figure there as PNG (atomically).
    title : str, optional
        Figure title. Default: the axis and the fraction of bins outside the band.

    Returns
    -------
    fig : `matplotlib.figure.Figure`
    """
    if not isinstance(check, PredictiveCheck):
        raise TypeError(f"check: expected PredictiveCheck, found {type(check).__name__}")
    x = check.coordinates if check.coordinates is not None \
        else np.arange(check.observed.size, dtype=float)
    many = x.size > 150
    fig = Figure(figsize=(9, 8))
    axes = fig.subplots(3, 1, sharex=True, gridspec_kw={"height_ratios": [2.2, 1, 1]})
    top, middle, bottom = axes
    percent = 100 * check.level
    step = {"step": "mid"}
    top.fill_between(x, check.lower, check.upper, color="tab:blue", alpha=0.25, lw=0, **step,
                     label=f"{percent:.0f} % predictive band")
    top.plot(x, check.mean, color="tab:blue", lw=1, drawstyle="steps-mid",
             label="posterior predictive mean")
    if check.background is not None:
        top.plot(x, check.background, color="tab:orange", lw=1, drawstyle="steps-mid",
                 label="background")
    if check.sky is not None:
        top.plot(x, check.sky, color="tab:green", lw=1, drawstyle="steps-mid", label="sky")
    top.plot(x, check.observed, ".", color="k", ms=2 if many else 4, label="data")
    positive = np.concatenate([check.observed, check.mean,
                               check.sky if check.sky is not None else []])
    positive = positive[positive > 0]
    if positive.size and positive.max() / positive.min() > 30:
        top.set_yscale("log")  # the sky is ~1 % of the background; show 4 decades at most
        top.set_ylim(bottom=0.5 * max(positive.min(), 1e-4 * positive.max()))
    top.set_ylabel("counts per bin")
    top.legend(fontsize=8, ncol=3, loc="best")

    middle.fill_between(x, check.lower - check.mean, check.upper - check.mean,
                        color="tab:blue", alpha=0.25, lw=0, **step)
    middle.axhline(0, color="tab:blue", lw=0.8)
    middle.plot(x, check.residuals, ".", color="k", ms=2 if many else 4)
    middle.set_ylabel("data - mean")

    z_band = stats.norm.isf(0.5 * (1 - check.level))
    for sign in (-1, 1):
        bottom.axhline(sign * z_band, color="tab:blue", lw=0.8, ls="--")
    bottom.axhline(0, color="tab:blue", lw=0.8)
    inside = ~check.outside
    bottom.plot(x[inside], check.z_scores[inside], ".", color="k", ms=2 if many else 4)
    bottom.plot(x[check.outside], check.z_scores[check.outside], "o", color="tab:red",
                ms=3 if many else 5, label=f"outside the {percent:.0f} % band")
    bottom.set_ylabel("z-score")
    bottom.set_xlabel(check.coordinate_label or check.axis)
    if check.n_outside:
        bottom.legend(fontsize=8, loc="best")
    fig.suptitle(title if title is not None else (
        f"Posterior predictive check, {AXIS_TITLES.get(check.axis, check.axis)}: "
        f"{check.n_outside} of {check.observed.size} bins outside the {percent:.0f} % band "
        f"({100 * check.fraction_outside:.1f} %, binomial p = {check.p_value:.2g})"),
        fontsize=10)
    fig.tight_layout()
    if path is not None:
        _save(fig, Path(path))
    return fig


def write_predictive_check_figures(
    checks: Mapping[str, PredictiveCheck],
    *,
    run_dir: str | Path,
) -> dict[str, Path]:
    """Write one three-panel figure ``ppc_<axis>.png`` per check into a run directory.

    Parameters
    ----------
    checks : mapping of str to `PredictiveCheck`
        By axis, e.g. from :func:`bayesbg.cosi.checks.predictive_checks`.
    run_dir : str or `~pathlib.Path`
        Existing directory to write into. (After a fit,
        :func:`bayesbg.cosi.checks.check_cosi_fit` adds the figures to its run
        directory and its summary.)

    Returns
    -------
    paths : dict of str to `~pathlib.Path`

    Examples
    --------
    >>> checks = predictive_checks(result, data)  # doctest: +SKIP
    >>> write_predictive_check_figures(checks, run_dir=result.run_dir)  # doctest: +SKIP
    """
    directory = Path(run_dir)
    if not directory.is_dir():
        raise ValueError(f"run_dir: expected an existing directory, found {directory}")
    paths = {}
    for axis, check in checks.items():
        paths[axis] = directory / f"ppc_{axis}.png"
        plot_predictive_check(check, path=paths[axis])
    log.info("wrote %s", ", ".join(str(p) for p in paths.values()))
    return paths


def _save(fig: Figure, path: Path) -> None:
    """Save as PNG under a temporary name, then rename into place."""
    with atomic_file(path, keep_suffix=True) as partial:
        fig.savefig(partial, dpi=100)
