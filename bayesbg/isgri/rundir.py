"""The run directory of an ISGRI pipeline run: tables, figures, checks (no posterior draws).

`write_isgri_run_dir` writes, through `bayesbg.stan.write_analysis_run_dir`:

- ``flux_table.csv``: the [ISGRI] Table-1 analogue, one row per (region, band);
- ``background_lightcurve.png``, ``residuals.png``, ``crab_calibration.png``,
  ``longitude_profile.png`` (`bayesbg.isgri.figures.write_figures`);
- ``summary.json``: the flux table and the screening report as tables, the figures with
  captions, the checks (high-latitude field consistent with zero, Crab-calibration
  scatter against the paper's, background coverage, and on simulated data the recovery
  of the injected fluxes; with the mixture fit, its sampler diagnostics) and a one-line
  key result, in the conventions `bayesbg report` reads; the checks are those of
  `bayesbg.isgri.checks`.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bayesbg.isgri.checks import crab_scatter, injected_fluxes, isgri_checks, plus_minus
from bayesbg.isgri.model.background import REGIME_NAMES
from bayesbg.isgri.pipeline import PipelineResult
from bayesbg.isgri.simulate import IsgriTruth
from bayesbg.isgri.sky import PAPER_REGIONS, SkyRegion
from bayesbg.stan.rundir import stan_versions, write_analysis_run_dir

__all__ = ["FIGURES", "RUN_TYPE", "TABLE_FILE", "isgri_summary", "write_isgri_run_dir"]

log = logging.getLogger(__name__)

RUN_TYPE = "isgri_run"
"""``run_type`` of the run directory (`bayesbg runs`, the report)."""
TABLE_FILE = "flux_table.csv"
"""The flux table of the run directory."""
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

#: Error-budget columns of `PipelineResult.table` shown when present, with their labels.
_ERROR_COLUMNS = {"error_statistical": "statistical", "error_background": "background",
                  "error_calibration": "calibration", "paper_error": "paper error"}


def _flux_table(result: PipelineResult, injected: Mapping[tuple[str, str], float]
                ) -> dict[str, Any]:
    table = result.table
    budget = [c for c in _ERROR_COLUMNS if c in table.columns]
    scatter = crab_scatter(result)
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
        cells: list[Any] = [str(row["region"]), str(row["band"]), plus_minus(flux, error),
                            *(round(float(row[c]), 3) for c in budget), int(row["n"]),
                            round(float(row["exposure_ms"]), 3)]
        if crab_column:
            cells.append(round(abs(flux) * scatter.get(str(row["band"]), float("nan")) / 1000,
                               2))
        cells += [plus_minus(float(row["gauss_mu"]), float(row["gauss_error"])),
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
    model = result.background
    regimes, counts = np.unique(model.regime, return_counts=True)
    rows: list[list[Any]] = [[f"calibrated: {REGIME_NAMES.get(int(r), str(r))}", int(c)]
                             for r, c in zip(regimes, counts, strict=True)]
    rows += [["dropped by the slope filter", int(np.size(model.slope_rejected))],
             ["clipped (168-185 keV residuals)", int(np.size(model.clipped))],
             ["Crab calibration orbits", int(result.crab.orbit.size)]]
    return {"title": "Background model and Crab calibration (orbits)",
            "columns": ["orbits", "number"], "rows": rows}


def isgri_summary(result: PipelineResult, *, truth: IsgriTruth | None = None,
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
    injected = injected_fluxes(result, truth=truth, regions=regions) if truth is not None else {}
    first = str(result.table["region"].iloc[0])
    rows = result.table[result.table["region"] == first]
    key = f"{first}: " + ", ".join(f"{b} keV {plus_minus(f, e)}" for b, f, e in zip(
        rows["band"], rows["flux"], rows["error"], strict=True)) + " mCrab per FOV"
    return {
        "key_result": key,
        "method": "mixture-nuts" if result.mixture is not None else "mixture-ml",
        "flux": result.table.to_dict(orient="records"),
        "crab_scatter_mcrab": crab_scatter(result),
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
    truth: IsgriTruth | None = None,
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
