"""[ISGRI] Tables 1-3 and Appendix C side by side with bayesbg's values.

For every cell: the paper's value, bayesbg's value with its errors (statistical and
systematic terms apart) and, on a simulation, the injected value and the pull
``(value - injected) / error``. Each table comes twice: as a ``summary["tables"]`` entry
for the report (`table1_summary`, `spectral_summary`) and as an astropy table for ECSV
(`table1_comparison`, `spectral_comparison`).

Pulls: Table 1 with the total error (all four terms); the spectral fits with the
posterior sd and the collimator systematic in quadrature.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from astropy.table import Table

from bayesbg.isgri.checks import plus_minus
from bayesbg.isgri.paper import TABLE1, paper_value
from bayesbg.isgri.paper_fits import FitQuantity, PaperFits
from bayesbg.isgri.pipeline import PipelineResult

__all__ = [
    "QUANTITY_LABELS",
    "spectral_comparison",
    "spectral_summary",
    "table1_comparison",
    "table1_summary",
]

log = logging.getLogger(__name__)

_FLUX = "1e-10 erg s-1 cm-2 FOV-1, 30-80 keV"
QUANTITY_LABELS = {
    "cutoffpl.ecut": "E_cut (keV)", "ipm.mass": "M_WD (Msun)",
    "expcutoff.ecut": "E_cut of exp(-E/E_cut) (keV)", "powerlaw.index": "Gamma (powerlaw)",
    "cutoffpl.flux": f"F_cut ({_FLUX})", "ipm.flux": f"F_IPM ({_FLUX})",
    "expcutoff.flux": f"F_exp ({_FLUX})", "powerlaw.flux": f"F_pow ({_FLUX})",
    "flux_total": f"F_total ({_FLUX})", "fraction.cutoffpl": "F_cut/F_total",
    "fraction.ipm": "F_IPM/F_total", "fraction.expcutoff": "F_exp/F_total",
    "fraction.powerlaw": "F_pow/F_total",
}
"""Row labels of the spectral tables."""
_TITLES = {"table2": "[ISGRI] Table 2: cutoffpl (index 0) + powerlaw (index 1.55)",
           "table3": "[ISGRI] Table 3: IPM + powerlaw (index 1.55)",
           "point_source": "[ISGRI] Appendix C: expcutoff + powerlaw (index free)"}


def _round(value: float, error: float) -> float | None:
    if not math.isfinite(value):
        return None
    if not math.isfinite(error) or error <= 0:
        return round(value, 3)
    return round(value, max(0, 2 - int(math.floor(math.log10(error)))))


def _pull(value: float, injected: float | None, error: float) -> float | None:
    if injected is None or not (math.isfinite(value) and math.isfinite(error)) or error <= 0:
        return None
    return (value - injected) / error


def table1_comparison(result: PipelineResult,
                      injected: Mapping[tuple[str, str], float] | None = None) -> Table:
    """[ISGRI] Table 1 and bayesbg's fluxes, one row per (region, band).

    Parameters
    ----------
    result : `PipelineResult`
    injected : mapping, optional
        ``{(region, band): injected flux}`` (`bayesbg.isgri.checks.injected_fluxes`).

    Returns
    -------
    table : `astropy.table.Table`
        ``region``, ``band``, ``paper_flux``, ``paper_error``, ``flux``, ``error``,
        ``error_statistical``, ``error_background``, ``error_calibration``,
        ``error_collimator``, ``error_random``, ``n``, ``exposure_ms``, ``injected``,
        ``pull`` (total error), ``pull_random`` (without the collimator term), all mCrab
        per FOV.
    """
    injected = dict(injected or {})
    rows = []
    for _, row in result.table.iterrows():
        paper = TABLE1.get(str(row["region"]), {}).get(str(row["band"]), (np.nan, np.nan))
        truth = injected.get((str(row["region"]), str(row["band"])))
        pull = _pull(float(row["flux"]), truth, float(row["error"]))
        pull_random = _pull(float(row["flux"]), truth, float(row["error_random"]))
        rows.append({
            "region": str(row["region"]), "band": str(row["band"]),
            "paper_flux": paper[0], "paper_error": paper[1],
            **{name: float(row[name]) for name in (
                "flux", "error", "error_statistical", "error_background",
                "error_calibration", "error_collimator", "error_random")},
            "n": int(row["n"]), "exposure_ms": float(row["exposure_ms"]),
            "injected": np.nan if truth is None else truth,
            "pull": np.nan if pull is None else pull,
            "pull_random": np.nan if pull_random is None else pull_random})
    table = Table(rows=rows)
    table.meta["unit"] = "mCrab per IBIS field of view (Omega = 286 deg2)"
    table.meta["collimator"] = result.collimator
    table.meta["collimator_alternative"] = result.collimator_alternative or "none"
    return table


def table1_summary(table: Table) -> dict[str, Any]:
    """A `table1_comparison` as a ``summary["tables"]`` entry."""
    simulated = bool(np.any(np.isfinite(np.asarray(table["injected"], dtype=float))))
    columns = ["region", "band (keV)", "paper", "bayesbg", "statistical", "background model",
               "Crab calibration", "collimator (syst.)", "total error", "N"]
    if simulated:
        columns += ["injected", "pull"]
    rows = []
    for row in table:
        error = float(row["error"])
        cells: list[Any] = [
            str(row["region"]), str(row["band"]),
            plus_minus(float(row["paper_flux"]), float(row["paper_error"]))
            if math.isfinite(float(row["paper_flux"])) else None,
            _round(float(row["flux"]), error),
            *(_round(float(row[c]), 1.0) for c in (
                "error_statistical", "error_background", "error_calibration",
                "error_collimator", "error")),
            int(row["n"])]
        if simulated:
            cells += [_round(float(row["injected"]), error),
                      None if not math.isfinite(float(row["pull"])) else round(
                          float(row["pull"]), 2)]
        rows.append(cells)
    pulls = np.asarray(table["pull"], dtype=float)
    pulls = pulls[np.isfinite(pulls)]
    note = ("mCrab per FOV. bayesbg: centre of the Gaussian-plus-flat-wings mixture; errors: "
            "statistical (sandwich), background model (shared within an orbit), Crab "
            "calibration, collimator convention (the flux with the "
            f"{table.meta.get('collimator_alternative')!s} shape's calibration minus the "
            f"{table.meta.get('collimator')!s} one's), and all four in quadrature.")
    if pulls.size:
        note += (f" Pull = (bayesbg - injected) / total error: mean {pulls.mean():+.2f}, "
                 f"sd {pulls.std(ddof=1):.2f}, largest |pull| {np.abs(pulls).max():.2f} "
                 f"over {pulls.size} cells.")
    return {"title": "[ISGRI] Table 1: flux per field of view, paper and bayesbg",
            "columns": columns, "rows": rows, "note": note}


def _quoted(quantity: FitQuantity) -> str:
    low, high = quantity.median - quantity.lower, quantity.upper - quantity.median
    spread = min(low, high)
    digits = 2 if not math.isfinite(spread) or spread <= 0 else int(
        min(max(1 - math.floor(math.log10(spread)), 0), 4))
    return f"{quantity.median:.{digits}f} +{high:.{digits}f} -{low:.{digits}f}"


def spectral_comparison(fits: PaperFits, key: str) -> Table:
    """Table 2, Table 3 or Appendix C and bayesbg's fits, one row per (spectrum, quantity).

    Parameters
    ----------
    fits : `PaperFits`
    key : {"table2", "table3", "point_source"}

    Returns
    -------
    table : `astropy.table.Table`
        ``spectrum``, ``quantity``, ``paper``, ``paper_lower``, ``paper_upper`` (the
        paper's errors), ``median``, ``lower``, ``upper`` (the 16 and 84 % quantiles),
        ``sd``, ``systematic`` (collimator), ``injected``, ``pull``; then per spectrum a
        row ``chi2_red`` (``median`` = chi2_red, ``sd`` = dof) and ``p_value``.
    """
    rows = []
    for (name, model_key), fit in fits.fits.items():
        if model_key != key:
            continue
        truth = fits.truth.get((name, key), {})
        for label, quantity in fits.quantities(name, key).items():
            paper = paper_value(key, name, label) or (np.nan, np.nan, np.nan)
            injected = truth.get(label)
            if label == "flux_total" and truth and injected is None:
                injected = sum(v for k, v in truth.items() if k.endswith(".flux"))
            if label.startswith("fraction.") and truth:
                total = sum(v for k, v in truth.items() if k.endswith(".flux"))
                injected = truth.get(label.removeprefix("fraction.") + ".flux", np.nan) / total
            error = math.hypot(quantity.sd, quantity.systematic)
            pull = _pull(quantity.median, injected, error)
            rows.append({"spectrum": name, "quantity": label, "paper": paper[0],
                         "paper_lower": paper[1], "paper_upper": paper[2],
                         "median": quantity.median, "lower": quantity.lower,
                         "upper": quantity.upper, "sd": quantity.sd,
                         "systematic": quantity.systematic,
                         "injected": np.nan if injected is None else float(injected),
                         "pull": np.nan if pull is None else pull})
        chi2 = fit.chi_square
        paper_chi2 = paper_value(key, name, "chi2_red") or (np.nan, 0.0, 0.0)
        paper_dof = paper_value(key, name, "dof") or (np.nan, 0.0, 0.0)
        rows.append({"spectrum": name, "quantity": "chi2_red", "paper": paper_chi2[0],
                     "paper_lower": paper_dof[0], "paper_upper": np.nan,
                     "median": chi2.reduced, "lower": np.nan, "upper": np.nan,
                     "sd": float(chi2.dof), "systematic": np.nan, "injected": np.nan,
                     "pull": np.nan})
        rows.append({"spectrum": name, "quantity": "p_value", "paper": np.nan,
                     "paper_lower": np.nan, "paper_upper": np.nan, "median": chi2.p_value,
                     "lower": np.nan, "upper": np.nan, "sd": np.nan, "systematic": np.nan,
                     "injected": np.nan, "pull": np.nan})
    table = Table(rows=rows)
    table.meta["model"] = _TITLES[key]
    table.meta["note"] = ("fluxes in 1e-10 erg s-1 cm-2 FOV-1 (30-80 keV); for chi2_red the "
                          "columns paper_lower and sd hold the paper's and bayesbg's degrees "
                          "of freedom")
    return table


def spectral_summary(fits: PaperFits, key: str, table: Table | None = None) -> dict[str, Any]:
    """A `spectral_comparison` as a ``summary["tables"]`` entry."""
    table = table if table is not None else spectral_comparison(fits, key)
    simulated = bool(np.any(np.isfinite(np.asarray(table["injected"], dtype=float))))
    columns = ["spectrum", "quantity", "paper", "bayesbg (68 % interval)",
               "collimator (syst.)"]
    if simulated:
        columns += ["injected", "pull"]
    rows = []
    for row in table:
        label = str(row["quantity"])
        if label == "chi2_red":
            paper = (f"{float(row['paper']):.2f}/{int(row['paper_lower'])}"
                     if math.isfinite(float(row["paper"])) else None)
            cells: list[Any] = [str(row["spectrum"]), "chi2_red/dof", paper,
                                f"{float(row['median']):.2f}/{int(row['sd'])}", None]
        elif label == "p_value":
            cells = [str(row["spectrum"]), "p-value of chi2", None,
                     f"{float(row['median']):.3g}", None]
        else:
            paper_value_ = float(row["paper"])
            paper = None
            if math.isfinite(paper_value_):
                lower, upper = float(row["paper_lower"]), float(row["paper_upper"])
                paper = (plus_minus(paper_value_, lower) if lower == upper else
                         f"{paper_value_:g} +{upper:g} -{lower:g}")
            quantity = FitQuantity(float(row["median"]), float(row["lower"]),
                                   float(row["upper"]), float(row["sd"]),
                                   float(row["systematic"]))
            cells = [str(row["spectrum"]), QUANTITY_LABELS.get(label, label), paper,
                     _quoted(quantity),
                     _round(quantity.systematic, quantity.sd) if quantity.systematic else None]
        if simulated:
            injected, pull = float(row["injected"]), float(row["pull"])
            cells += [None if not math.isfinite(injected) else round(injected, 3),
                      None if not math.isfinite(pull) else round(pull, 2)]
        rows.append(cells)
    note = ("bayesbg: posterior median and 16-84 % interval of the fit to the spectrum the "
            "pipeline measured (band errors: statistical, background model, Crab "
            "calibration); collimator (syst.): the change of the fluxes when the Crab "
            "calibration is re-run with the alternative collimator shape (shapes and "
            "fractions do not change). chi2 at the posterior median over the detected "
            "bands (upper limits excluded), dof = detected bands - free parameters; the "
            "paper fitted all 21 bands in XSPEC.")
    if simulated:
        note += " Pull = (median - injected) / sqrt(sd^2 + syst^2)."
    return {"title": f"{_TITLES[key]}, paper and bayesbg", "columns": columns, "rows": rows,
            "note": note}
