"""The check stage of a COSI fit: predictive checks recorded in its run directory.

:func:`check_cosi_fit` runs after :func:`bayesbg.cosi.fit_cosi` (``bayesbg cosi fit``
calls both): the posterior predictive checks along time, phi and psi-chi
(:func:`bayesbg.cosi.checks.predictive_checks`, [COSI-511] eq. 12), added to a finished
run directory with `bayesbg.stan.add_to_run_dir`: ``predictive_checks`` (the numbers of
each check), ``checks`` entries (pass, or warn where clearly more bins than expected
fall outside the band), ``figures`` and the files ``ppc_<axis>.png``.
"""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path
from typing import Any

from bayesbg.cosi.checks.figures import AXIS_TITLES, plot_predictive_check
from bayesbg.cosi.checks.ppc import FIT_AXES, PredictiveCheck, predictive_checks
from bayesbg.cosi.model.fit_data import CosiFitData
from bayesbg.stan import FitResult, add_to_run_dir, load_run

__all__ = ["check_cosi_fit"]

log = logging.getLogger(__name__)


def check_cosi_fit(
    fit: FitResult | str | Path,
    data: CosiFitData | None = None,
    *,
    seed: int | None = None,
    axes: tuple[str, ...] = FIT_AXES,
    level: float = 0.99,
    alpha: float = 1e-3,
) -> dict[str, PredictiveCheck]:
    """Posterior predictive checks of a finished COSI fit, added to its run directory.

    Parameters
    ----------
    fit : `bayesbg.cosi.CosiFitResult`, str or `~pathlib.Path`
        A fit result (its ``run_dir``, if it wrote one, takes the checks) or a run
        directory written by :func:`bayesbg.cosi.fit_cosi`.
    data : `CosiFitData`, optional
        The data fitted; default the result's ``data``. Needed with a run directory.
    seed : int, optional
        Seed of the replicated counts; default the fit's seed.
    axes : tuple of str
        Default ``("time", "phi", "psi_chi")``.
    level : float
        Probability of the predictive band. Default is 0.99.
    alpha : float
        A check whose binomial p-value (of so many bins outside the band) is below
        ``alpha`` is recorded as ``"warn"``, else ``"pass"``. Default is 1e-3.

    Returns
    -------
    checks : dict of str to `PredictiveCheck`
        By axis.

    Raises
    ------
    ValueError
        If ``data`` is missing for a run directory, or does not match the draws.
    FileNotFoundError
        If ``fit`` is a path but not a finished run directory.

    Examples
    --------
    >>> result = fit_cosi(data, seed=1, run_dir="runs/cosi-1")  # doctest: +SKIP
    >>> checks = check_cosi_fit(result)  # doctest: +SKIP
    >>> checks["phi"].fraction_outside  # doctest: +SKIP
    0.0
    """
    if isinstance(fit, FitResult):
        posterior: Any = fit.inference_data
        run_dir, fit_seed = fit.run_dir, fit.seed
        data = data if data is not None else getattr(fit, "data", None)
    else:
        run = load_run(fit)
        if run.inference_data is None:
            raise ValueError(f"fit: {run.path} holds no posterior draws")
        posterior, run_dir, fit_seed = run.inference_data, run.path, run.summary["seed"]
    if not isinstance(data, CosiFitData):
        raise ValueError("data: expected the CosiFitData that was fitted (required with a "
                         f"run directory), found {type(data).__name__}")
    checks = predictive_checks(posterior, data, axes=axes, level=level,
                               seed=int(fit_seed if seed is None else seed))
    if run_dir is not None:
        add_to_run_dir(
            run_dir,
            summary={
                "predictive_checks": {axis: check.to_dict() for axis, check in checks.items()},
                "checks": [_check_entry(check, alpha=alpha) for check in checks.values()],
                "figures": [{"file": f"ppc_{axis}.png", "caption": _caption(check)}
                            for axis, check in checks.items()],
            },
            files={f"ppc_{axis}.png": partial(_write_figure, check)
                   for axis, check in checks.items()},
        )
        log.info("predictive checks (%s) added to %s", ", ".join(checks), run_dir)
    return checks


def _check_entry(check: PredictiveCheck, *, alpha: float) -> dict[str, str]:
    """A ``summary["checks"]`` entry: pass, or warn when the check is flagged."""
    flagged = check.flagged(alpha=alpha)
    advice = (f"the model misses structure along {AXIS_TITLES.get(check.axis, check.axis)} "
              f"(ppc_{check.axis}.png): revise the background model (tracer, time nodes, "
              "response) or the sky templates") if flagged else ""
    return {
        "name": f"predictive check: {check.axis}",
        "status": "warn" if flagged else "pass",
        "detail": f"{check.n_outside} of {check.observed.size} bins outside the "
                  f"{100 * check.level:.0f} % band ({100 * check.fraction_outside:.1f} %), "
                  f"binomial p = {check.p_value:.2g}",
        "advice": advice,
    }


def _caption(check: PredictiveCheck) -> str:
    return (f"Posterior predictive check along {AXIS_TITLES.get(check.axis, check.axis)}: "
            f"counts with the {100 * check.level:.0f} % band, the posterior mean and its sky "
            "and background parts; residuals; z-scores (bins outside the band in red).")


def _write_figure(check: PredictiveCheck, path: Path) -> None:
    plot_predictive_check(check, path=path)
