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

__all__ = ["PAPER", "PaperSource", "paper_rows", "pull"]


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
