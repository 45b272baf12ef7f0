"""The run directory of an ISGRI pipeline run: tables, figures, checks (no posterior).

`write_isgri_run_dir` writes, through `bayesbg.stan.write_analysis_run_dir`:

- ``flux_table.csv``: the [ISGRI] Table-1 analogue, one row per (region, band);
- ``background_lightcurve.png``, ``residuals.png``, ``crab_calibration.png``,
  ``longitude_profile.png`` (`bayesbg.isgri.figures.write_figures`);
- ``summary.json``: the flux table and the screening report as tables, the figures with
  captions, the checks (high-latitude field consistent with zero, Crab-calibration
  scatter against the paper's, background coverage, and on simulated data the recovery
  of the injected fluxes; with the mixture fit, its sampler diagnostics) and a one-line
  key result, in the conventions `bayesbg report` reads.
"""

from __future__ import annotations

import logging
import math
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bayesbg.isgri.pipeline import PipelineResult
from bayesbg.isgri.regions import PAPER_REGIONS, SkyRegion
from bayesbg.stan.rundir import stan_versions, write_analysis_run_dir

__all__ = ["CRAB_SCATTER_PAPER", "HIGH_LATITUDE_REGION", "isgri_checks", "isgri_summary",
           "write_isgri_run_dir"]

log = logging.getLogger(__name__)

RUN_TYPE = "isgri_run"
TABLE_FILE = "flux_table.csv"
#: Region where no Galactic emission is expected ([ISGRI] Table 1: consistent with 0).
HIGH_LATITUDE_REGION = "3C 273/Coma"
#: Scatter of the Crab rate around the cubic P(orbit) in [ISGRI], mCrab, by band.
CRAB_SCATTER_PAPER = {"25-60": 37.0, "60-80": 47.0, "80-200": 44.0}
#: Figures of the run and their captions.
FIGURES = {
    "background_lightcurve": "Background model: per-orbit mean rate of the BKG pointings "
    "(red) and the model's prediction for them (green), per band.",
    "residuals": "Residual flux distributions per region and band (mCrab per FOV): "
    "histogram, fitted Gaussian core of the paper's Gaussian-plus-wings histogram fit "
    "(blue), the full mixture density at the posterior mean when the Stan mixture was "
    "fitted (orange), and the reported flux (red line).",
    "crab_calibration": "Crab calibration: per-orbit Crab rate and the cubic P(orbit) "
    "per band, with the residual scatter used as systematic error.",
    "longitude_profile": "Longitude profile (15-deg bins, |b| < 10 deg) with the "
    "stellar-mass model convolved with the collimator response, scaled.",
}

_ADVICE_ZERO = (
    "A flux where no Galactic emission is expected points to a background-model offset: "
    "check the BKG sky split and the orbit clipping (background light-curve figure), and "
    "quote an extra systematic error of this size on every region.")
_ADVICE_CRAB = (
    "The Crab rate scatters more around the cubic P(orbit) than in [ISGRI] (37/47/44 "
    "mCrab): look for outlier orbits or a gain change the cubic cannot follow in the "
    "Crab-calibration figure; the region fluxes carry this fractional systematic.")
_ADVICE_COVERAGE = (
    "Many pointings have no background prediction (orbits excluded, clipped or without "
    "calibrated neighbours): check the background settings and the screening.")
_ADVICE_TRUTH = (
    "The pipeline does not recover the injected fluxes within the quoted errors: the "
    "errors miss a term (sigma/sqrt(N) alone ignores the orbit-correlated background-model "
    "and calibration errors) or the estimator is biased; look at the pulls per region "
    "and band in the flux table before trusting the intervals.")
_ADVICE_SAMPLER = (
    "The Stan mixture fit failed its sampler checks: run more warm-up and draws "
    "([sampler] in the configuration) and look at the mixture fit's own diagnostics.")


def _pm(value: float, error: float) -> str:
    """``value ± error`` with two significant digits of the error."""
    if not (math.isfinite(value) and math.isfinite(error)) or error <= 0:
        return f"{value:.4g} ± {error:.2g}"
    decimals = max(0, 1 - int(math.floor(math.log10(error))))
    return f"{value:.{decimals}f} ± {error:.{decimals}f}"


def _region(name: str, regions: Sequence[SkyRegion]) -> SkyRegion | None:
    return next((r for r in regions if r.name == name), None)


def _injected(result: PipelineResult, truth: Any, regions: Sequence[SkyRegion]
              ) -> dict[tuple[str, str], float]:
    """Injected flux per (region, band) of a simulated run (`IsgriTruth.injected_flux`)."""
    out = {}
    for name in result.table["region"].unique():
        region = _region(str(name), regions)
        if region is None:
            continue
        values = truth.injected_flux(result.region_ids(region), result.background_ids)
        for k, band in enumerate(result.bands):
            out[(str(name), band.name)] = float(values[k])
    return out


def _crab_scatter(result: PipelineResult) -> dict[str, float]:
    crab = result.crab
    return {band.name: float(crab.systematic[k]) for k, band in enumerate(crab.bands)
            if band in result.bands}


#: Error-budget columns of `PipelineResult.table` shown when present, with their labels.
_ERROR_COLUMNS = {"error_statistical": "statistical", "error_background": "background",
                  "error_calibration": "calibration", "paper_error": "paper error"}


def _flux_table(result: PipelineResult, injected: Mapping[tuple[str, str], float]
                ) -> dict[str, Any]:
    table = result.table
    budget = [c for c in _ERROR_COLUMNS if c in table.columns]
    scatter = _crab_scatter(result)
    crab_column = "error_calibration" not in table.columns
    columns = ["region", "band (keV)", "flux ± error", *(_ERROR_COLUMNS[c] for c in budget),
               "N pointings", "exposure (Ms)"]
    if crab_column:
        columns.append("Crab-calibration syst.")
    columns += ["Gaussian only", "energy flux (erg s-1 cm-2)"]
    if injected:
        columns += ["injected", "pull"]
    rows = []
    for _, row in table.iterrows():
        flux, error = float(row["flux"]), float(row["error"])
        cells: list[Any] = [str(row["region"]), str(row["band"]), _pm(flux, error),
                            *(round(float(row[c]), 3) for c in budget), int(row["n"]),
                            round(float(row["exposure_ms"]), 3)]
        if crab_column:
            cells.append(round(abs(flux) * scatter.get(str(row["band"]), float("nan")) / 1000,
                               2))
        cells += [_pm(float(row["gauss_mu"]), float(row["gauss_error"])),
                  f"{float(row['energy_flux']):.3e} ± {float(row['energy_error']):.1e}"]
        if injected:
            truth = injected.get((str(row["region"]), str(row["band"])))
            cells += [None if truth is None else round(truth, 3),
                      None if truth is None or error <= 0 else round((flux - truth) / error, 2)]
        rows.append(cells)
    centre = ("mixture posterior mean" if result.mixture is not None else
              "the paper's histogram fit of a Gaussian plus two flat wings")
    units = "Fluxes and errors in mCrab per FOV, energy flux per FOV. "
    if budget:
        note = units + (f"flux: {centre}; error: the total 1-sigma error (quadrature sum of the "
                "statistical, background-model and calibration terms); paper error: "
                "sigma/sqrt(N) or the mixture's posterior sd.")
    else:
        note = units + (f"flux and error: {centre} (error sigma/sqrt(N) or posterior sd). "
                "Crab-calibration systematic: |flux| times the Crab rate's scatter around "
                "P(orbit) (per mille).")
    return {"title": "Flux per field of view ([ISGRI] Table 1)", "columns": columns,
            "rows": rows, "note": note}


def _screening_table(result: PipelineResult) -> dict[str, Any]:
    screening = result.screening
    rows: list[list[Any]] = [["input", None, None, int(screening.n_input)]]
    rows += [[item.cut, int(item.failing), int(item.removed), int(item.remaining)]
             for item in screening.report]
    rows.append(["with background prediction, > 15 deg from the Crab", None,
                 int(screening.table.n_pointing - result.pointings.n_pointing),
                 int(result.pointings.n_pointing)])
    return {"title": "Screening", "columns": ["cut", "failing", "removed", "remaining"],
            "rows": rows,
            "note": "failing: pointings of the input failing the cut; removed: after the "
            "earlier cuts (applied in order)."}


def _background_table(result: PipelineResult) -> dict[str, Any]:
    from bayesbg.isgri.background import REGIME_NAMES  # noqa: PLC0415

    model = result.background
    regimes, counts = np.unique(model.regime, return_counts=True)
    rows: list[list[Any]] = [[f"calibrated: {REGIME_NAMES.get(int(r), str(r))}", int(c)]
                             for r, c in zip(regimes, counts, strict=True)]
    rows += [["dropped by the slope filter", int(np.size(model.slope_rejected))],
             ["clipped (168-185 keV residuals)", int(np.size(model.clipped))],
             ["Crab calibration orbits", int(result.crab.orbit.size)]]
    return {"title": "Background model and Crab calibration (orbits)",
            "columns": ["orbits", "number"], "rows": rows}


def _status(value: float, warn: float, fail: float) -> str:
    if not math.isfinite(value) or value >= fail:
        return "fail"
    return "warn" if value >= warn else "pass"


def isgri_checks(result: PipelineResult, *, truth: Any = None,
                 regions: Sequence[SkyRegion] = PAPER_REGIONS) -> list[dict[str, str]]:
    """Checks of a pipeline run, in the ``summary["checks"]`` convention.

    Parameters
    ----------
    result : `PipelineResult`
    truth : `bayesbg.isgri.IsgriTruth`, optional
        For simulated data: adds a check that the injected fluxes are recovered.
    regions : sequence of `SkyRegion`
        The regions of the run. Default: the [ISGRI] Table-1 regions.

    Returns
    -------
    checks : list of dict
        ``name``, ``status`` (pass / warn / fail), ``detail``, ``advice``. Pull
        thresholds: pass below 2, warn below 3 (standard deviations).
    """
    table = result.table
    checks = []
    high = table[table["region"] == HIGH_LATITUDE_REGION]
    if len(high):
        pulls = (high["flux"] / high["error"]).to_numpy(dtype=float)
        worst = float(np.max(np.abs(pulls)))
        detail = ", ".join(f"{b} keV {_pm(f, e)}" for b, f, e in zip(
            high["band"], high["flux"], high["error"], strict=True))
        checks.append({"name": f"high-latitude field ({HIGH_LATITUDE_REGION}) consistent "
                       "with zero", "status": _status(worst, 2.0, 3.0),
                       "detail": f"{detail} mCrab; largest |flux|/error {worst:.2f}",
                       "advice": _ADVICE_ZERO})
    scatter = _crab_scatter(result)
    ratios = {b: s / CRAB_SCATTER_PAPER[b] for b, s in scatter.items() if b in CRAB_SCATTER_PAPER}
    worst_ratio = max(ratios.values()) if ratios else float("nan")
    n_orbit = int(result.crab.orbit.size)
    status = _status(worst_ratio, 1.5, 3.0) if ratios else "warn"
    if n_orbit < 10:
        status = "fail"
    checks.append({
        "name": "Crab calibration residual scatter",
        "status": status,
        "detail": f"{n_orbit} calibration orbits; scatter around P(orbit) "
        + ", ".join(f"{b} keV {s:.0f}" for b, s in scatter.items())
        + " mCrab (paper 37, 47, 44); warn above 1.5x, fail above 3x the paper's or "
        "with fewer than 10 orbits",
        "advice": _ADVICE_CRAB,
    })
    usable = result.pointings.n_pointing
    screened = result.screening.table.n_pointing
    fraction = usable / screened if screened else 0.0
    checks.append({"name": "background model coverage",
                   "status": "pass" if fraction >= 0.8 else "warn" if fraction >= 0.5
                   else "fail",
                   "detail": f"{usable} of {screened} screened pointings ({fraction:.1%}) "
                   "have a background prediction and are > 15 deg from the Crab "
                   "(warn below 80 %, fail below 50 %)",
                   "advice": _ADVICE_COVERAGE})
    if truth is not None:
        injected = _injected(result, truth, regions)
        pulls = np.array([(f - injected[(r, b)]) / e for r, b, f, e in zip(
            table["region"], table["band"], table["flux"], table["error"], strict=True)
            if (r, b) in injected])
        worst = float(np.max(np.abs(pulls))) if pulls.size else float("nan")
        checks.append({"name": "simulation: injected fluxes recovered",
                       "status": _status(worst, 2.0, 3.0),
                       "detail": f"{pulls.size} region x band pulls; largest |pull| "
                       f"{worst:.2f}, sd {np.std(pulls):.2f} (expected about 1)",
                       "advice": _ADVICE_TRUTH})
    if result.mixture is not None:
        diagnostics = result.mixture.diagnostics
        failed = [name for name, check in diagnostics.to_dict().get("checks", {}).items()
                  if not check.get("passed", True)]
        checks.append({"name": "mixture fit sampler diagnostics",
                       "status": "pass" if diagnostics.passed else "fail",
                       "detail": "all passed" if diagnostics.passed
                       else "failed: " + ", ".join(failed),
                       "advice": _ADVICE_SAMPLER})
    return checks


def isgri_summary(result: PipelineResult, *, truth: Any = None,
                  regions: Sequence[SkyRegion] = PAPER_REGIONS) -> dict[str, Any]:
    """``tables``, ``figures``, ``checks``, ``key_result`` and numbers for summary.json.

    Parameters
    ----------
    result : `PipelineResult`
    truth : `bayesbg.isgri.IsgriTruth`, optional
    regions : sequence of `SkyRegion`

    Returns
    -------
    summary : dict
    """
    injected = _injected(result, truth, regions) if truth is not None else {}
    first = str(result.table["region"].iloc[0])
    rows = result.table[result.table["region"] == first]
    key = f"{first}: " + ", ".join(f"{b} keV {_pm(f, e)}" for b, f, e in zip(
        rows["band"], rows["flux"], rows["error"], strict=True)) + " mCrab per FOV"
    return {
        "key_result": key,
        "method": "mixture-nuts" if result.mixture is not None else "mixture-ml",
        "flux": result.table.to_dict(orient="records"),
        "crab_scatter_mcrab": _crab_scatter(result),
        "n_pointings": {"input": int(result.screening.n_input),
                        "screened": int(result.screening.table.n_pointing),
                        "with_flux": int(result.pointings.n_pointing)},
        "tables": [_flux_table(result, injected), _screening_table(result),
                   _background_table(result)],
        "figures": [{"file": f"{name}.png", "caption": caption}
                    for name, caption in FIGURES.items()],
        "checks": isgri_checks(result, truth=truth, regions=regions),
    }


def write_isgri_run_dir(
    result: PipelineResult,
    run_dir: str | Path,
    *,
    config: Mapping[str, Any],
    inputs: Mapping[str, str | Path],
    seed: int | None,
    truth: Any = None,
    overwrite: bool = False,
    wall_time_s: float | None = None,
) -> Path:
    """Write the run directory of a pipeline run (module docstring), atomically.

    Parameters
    ----------
    result : `PipelineResult`
    run_dir : str or `~pathlib.Path`
    config : mapping
        The run's configuration (JSON-ready).
    inputs : mapping of str to path
        Input files (pointing table, configuration file) to hash.
    seed : int or None
        Seed of the simulation or the mixture fit.
    truth : `bayesbg.isgri.IsgriTruth`, optional
        For simulated data: injected fluxes beside the measured ones.
    overwrite : bool
        Replace an existing run. Default is False.
    wall_time_s : float, optional
        Duration of the run, s.

    Returns
    -------
    run_dir : `~pathlib.Path`
    """
    from bayesbg.isgri.figures import write_figures  # noqa: PLC0415

    summary = isgri_summary(result, truth=truth)
    files: dict[str, Any] = {TABLE_FILE: result.table.to_csv(index=False).encode()}
    with tempfile.TemporaryDirectory(prefix="bayesbg-isgri-") as scratch:
        for name, path in write_figures(result, scratch).items():
            files[f"{name}.png"] = Path(path).read_bytes()
    versions = stan_versions(result.mixture.fit) if result.mixture is not None else None
    return write_analysis_run_dir(
        run_dir, run_type=RUN_TYPE, summary=summary, files=files, inputs=inputs,
        config=config, seed=seed, overwrite=overwrite, wall_time_s=wall_time_s,
        stan_versions=versions,
    )
