"""Checks of COSI fits, a stage after the fit: posterior predictive checks, SBC.

- :mod:`~bayesbg.cosi.checks.ppc`: predictive checks along time, phi, psi-chi or energy
  ([COSI-511] eq. 12), :func:`predictive_check`;
- :mod:`~bayesbg.cosi.checks.figures`: their three-panel figures;
- :mod:`~bayesbg.cosi.checks.run`: :func:`check_cosi_fit`, the checks of a finished fit
  added to its run directory (``bayesbg cosi fit`` runs it after the fit);
- :mod:`~bayesbg.cosi.checks.sbc`: the fit as a model for simulation-based calibration
  (:class:`CosiSbcModel` for :func:`bayesbg.sbc.run_sbc`).
"""

from bayesbg.cosi.checks.figures import plot_predictive_check, write_predictive_check_figures
from bayesbg.cosi.checks.ppc import (
    AXES,
    FIT_AXES,
    AxisSums,
    PredictiveCheck,
    TimePredictiveCheck,
    axis_sums,
    posterior_parameter_draws,
    predictive_check,
    predictive_checks,
    time_predictive_check,
)
from bayesbg.cosi.checks.run import check_cosi_fit
from bayesbg.cosi.checks.sbc import CosiSbcModel

__all__ = [
    "AXES",
    "FIT_AXES",
    "AxisSums",
    "CosiSbcModel",
    "PredictiveCheck",
    "TimePredictiveCheck",
    "axis_sums",
    "check_cosi_fit",
    "plot_predictive_check",
    "posterior_parameter_draws",
    "predictive_check",
    "predictive_checks",
    "time_predictive_check",
    "write_predictive_check_figures",
]
