"""[COSI-PS] Tables 2-4 (joint spectral fits of the Crab, Cyg X-1 and Cen A) and the band
fluxes of its section 5, and tables of a fit in their layout: the paper's value, the
posterior median with its 90 % interval, the injected truth and the pull
(docs/cosi_spectral.md, "Results in the paper's layout").
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["PAPER", "PHOTON_INDICES", "TWO_SIGMA_TAIL", "PaperSource", "paper_draws",
           "paper_rows", "pull", "truth_tail_probability"]


@dataclass(frozen=True)
class PaperSource:
    """One source of [COSI-PS]: its joint fit (a table) and its band flux.

    Attributes
    ----------
    name, title : str
    position : (float, float)
        Galactic (lon, lat), deg.
    kind : str
        Spectral shape (`bayesbg.cosi.spectral.SPECTRUM_TYPES`).
    nh : float
        1e22 cm-2, frozen.
    parameters : dict
        Shape parameter -> (value, 90 % error); ``"norm"`` at 1 keV (ph cm-2 s-1 keV-1).
    cross_norm : dict
        Data group -> (value, 90 % error or None when frozen).
    band : (float, float)
        keV, the band of the reported COSI flux.
    band_flux : (float, float)
        ph cm-2 s-1 and its 1-sigma error.
    significance : float
        sigma, the paper's detection significance in that band.
    observation_time : float
        s, the paper's T_obs.
    """

    name: str
    title: str
    position: tuple[float, float]
    kind: str
    nh: float
    parameters: Mapping[str, tuple[float, float]]
    cross_norm: Mapping[str, tuple[float, float | None]]
    band: tuple[float, float]
    band_flux: tuple[float, float]
    significance: float
    observation_time: float

    def shape(self) -> dict[str, float]:
        """The shape parameters' values (without ``norm``)."""
        return {k: v[0] for k, v in self.parameters.items() if k != "norm"}


PAPER: dict[str, PaperSource] = {
    "crab": PaperSource(
        "crab", "Table 2: Crab, constant*TBabs*bknpower", (184.56, -5.78), "bknpower", 0.3,
        {"index1": (2.137, 0.002), "break_energy": (43.0, 9.0), "index2": (2.19, 0.01),
         "norm": (9.44, 0.03)},
        {"NuSTAR FPMA": (1.0, None), "NuSTAR FPMB": (0.966, 0.002),
         "Swift-BAT": (1.22, 0.27), "COSI": (1.022, 0.006)},
        (325.0, 480.0), (4.5e-3, 1.6e-3), 7.0, 0.55e6),
    "cygx1": PaperSource(
        "cygx1", "Table 3: Cyg X-1, constant*cutoffpl", (71.33, 3.07), "cutoffpl", 0.0,
        {"index": (1.358, 0.002), "ecut": (138.3, 0.9), "norm": (0.731, 0.003)},
        {"NuSTAR FPMA": (1.0, None), "NuSTAR FPMB": (1.0112, 0.0008),
         "Swift-BAT": (0.876, 0.002), "COSI": (0.71, 0.06),
         "INTEGRAL/IBIS": (0.957, 0.005)},
        (325.0, 480.0), (1.4e-3, 0.2e-3), 6.0, 0.35e6),
    "cena": PaperSource(
        "cena", "Table 4: Cen A, constant*powerlaw", (309.52, 19.42), "powerlaw", 0.0,
        {"index": (1.732, 0.008), "norm": (0.0432, 0.0009)},
        {"NuSTAR FPMA": (1.0, None), "NuSTAR FPMB": (0.981, 0.007),
         "Swift-BAT": (1.15, 0.03), "COSI": (1.0, 0.3)},
        (220.0, 325.0), (0.2e-3, 0.1e-3), 9.0, 0.7e6),
}
"""[COSI-PS] Tables 2-4 (errors are 90 % confidence) and section 5's band fluxes."""

_SYMBOLS = {"index": "Gamma", "index1": "Gamma1", "index2": "Gamma2",
            "break_energy": "E_break", "ecut": "E_cutoff", "norm": "norm (1 keV)"}
_UNITS = {"break_energy": "keV", "ecut": "keV", "norm": "ph cm-2 s-1 keV-1"}


def pull(draws: Any, truth: float) -> float:
    """``(median - truth) / sd`` of posterior draws."""
    values = np.asarray(draws, dtype=float).ravel()
    sd = float(values.std(ddof=1))
    return float((np.median(values) - truth) / sd) if sd > 0 else math.nan


def _cell(draws: Any) -> str:
    values = np.asarray(draws, dtype=float).ravel()
    q5, q50, q95 = np.quantile(values, [0.05, 0.5, 0.95])
    return f"{q50:.4g} [{q5:.4g}, {q95:.4g}]"


def paper_rows(source: PaperSource, posterior: Any, truth: Mapping[str, float],
               *, datasets: tuple[str, ...]) -> list[list[Any]]:
    """Rows ``[parameter, unit, paper (90 %), bayesbg median [5 %, 95 %], truth, pull]``.

    Parameters
    ----------
    source : `PaperSource`
    posterior : `xarray.Dataset`
        The fit's posterior (free shapes by name, ``norm``, ``cross_norm`` over
        ``dataset``).
    truth : mapping
        Injected values: shape names, ``norm`` and ``cross_norm:<dataset>``.
    datasets : tuple of str
        The fit's datasets in order (the first frozen at 1).
    """
    rows: list[list[Any]] = []
    for name, (value, error) in source.parameters.items():
        symbol, unit = _SYMBOLS.get(name, name), _UNITS.get(name, "")
        paper = f"{value:g} +- {error:g}"
        if name in posterior:
            rows.append([symbol, unit, paper, _cell(posterior[name].values),
                         truth.get(name, math.nan),
                         pull(posterior[name].values, truth[name]) if name in truth
                         else math.nan])
        else:
            rows.append([symbol, unit, paper, "(fixed)", truth.get(name, math.nan), math.nan])
    if source.nh:
        rows.insert(0, ["N_H", "1e22 cm-2", f"{source.nh:g} (frozen)", "(fixed)",
                        source.nh, math.nan])
    for group, (value, error) in source.cross_norm.items():
        paper = f"{value:g} (frozen)" if error is None else f"{value:g} +- {error:g}"
        if group not in datasets:
            continue
        index = datasets.index(group)
        if index == 0:
            rows.append([f"Const. {group}", "", paper, "1 (fixed)", 1.0, math.nan])
            continue
        draws = posterior["cross_norm"].isel(dataset=index).values
        key = f"cross_norm:{group}"
        rows.append([f"Const. {group}", "", paper, _cell(draws), truth.get(key, math.nan),
                     pull(draws, truth[key]) if key in truth else math.nan])
    return rows


PHOTON_INDICES = ("index", "index1", "index2")
"""Shape parameters taken as they are by `paper_draws` (the others as logarithms)."""

TWO_SIGMA_TAIL = math.erfc(2 / math.sqrt(2))
"""Two-sided tail probability of 2 sigma (0.0455): the truth is inside the joint 2-sigma
region when `truth_tail_probability` exceeds it."""


def paper_draws(source: PaperSource, posterior: Any, truth: Mapping[str, float], *,
                datasets: tuple[str, ...]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The draws and truths of the table's fitted rows, for a joint check of them.

    The rows of `paper_rows` that have a pull: the free shape parameters, ``norm`` and the
    free cross-normalisations with a truth. Photon indices stay as they are; the positive
    parameters (energies, ``norm``, constants) are taken as logarithms, on which their
    posteriors are closer to Gaussian.

    Returns
    -------
    names : list of str
        The rows' symbols (``"Gamma"``, ``"Const. COSI"``, ...).
    draws : ndarray, shape (n_draws, n_rows)
    truth : ndarray, shape (n_rows,)
    """
    names, columns, values = [], [], []
    for name in source.parameters:
        if name in posterior and name in truth:
            draws = np.asarray(posterior[name].values, dtype=float).ravel()
            value = float(truth[name])
            if name not in PHOTON_INDICES:
                draws, value = np.log(draws), math.log(value)
            names.append(_SYMBOLS.get(name, name))
            columns.append(draws)
            values.append(value)
    for index, group in enumerate(datasets[1:], start=1):
        key = f"cross_norm:{group}"
        if key in truth:
            draws = np.asarray(posterior["cross_norm"].isel(dataset=index).values,
                               dtype=float).ravel()
            names.append(f"Const. {group}")
            columns.append(np.log(draws))
            values.append(math.log(float(truth[key])))
    return names, np.column_stack(columns), np.asarray(values)


def truth_tail_probability(draws: np.ndarray, truth: np.ndarray) -> float:
    """Posterior mass at least as far from the posterior mean as the truth.

    The distance is Mahalanobis, with the mean and covariance of the draws: the truth lies
    inside the joint credible region of level ``1 - p`` bounded by the ellipsoid through
    it, and inside the joint 2-sigma region (95.45 %) when ``p > 0.0455``. Unlike a check
    of each parameter's pull, this is one test whatever the number of parameters and
    their correlations (a photon index and its normalisation move together). If the truth
    were a draw of the posterior (a calibrated fit), ``p`` would be uniform on [0, 1]
    whatever the posterior's shape: it is the rank of the truth's distance among the
    draws' distances, as in simulation-based calibration.

    Parameters
    ----------
    draws : array_like, shape (n_draws, n_parameters)
        Posterior draws (at least ``n_parameters + 1`` of them, with a non-singular
        covariance).
    truth : array_like, shape (n_parameters,)

    Returns
    -------
    float
        The fraction of draws whose distance is at least the truth's; 0 when the truth is
        farther than every draw (then ``p < 1 / n_draws``).
    """
    draws = np.asarray(draws, dtype=float)
    truth = np.asarray(truth, dtype=float)
    if draws.ndim != 2 or truth.shape != (draws.shape[1],):
        raise ValueError(f"draws must be (n_draws, n_parameters) and truth (n_parameters,); "
                         f"got {draws.shape} and {truth.shape}")
    if draws.shape[0] <= draws.shape[1] or not np.all(np.isfinite(draws)):
        raise ValueError(f"need more finite draws than parameters; got {draws.shape}")
    mean = draws.mean(axis=0)
    covariance = np.atleast_2d(np.cov(draws, rowvar=False))
    try:
        factor = np.linalg.cholesky(covariance)
    except np.linalg.LinAlgError:
        raise ValueError("the draws' covariance is singular (a parameter that does not "
                         "vary, or two that move exactly together)") from None
    white = np.linalg.solve(factor, (draws - mean).T)
    distance = np.einsum("ij,ij->j", white, white)
    white_truth = np.linalg.solve(factor, truth - mean)
    return float(np.mean(distance >= white_truth @ white_truth))
