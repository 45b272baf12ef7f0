"""The run directory of an ISGRI run: tables, spectra, figures, checks (no posterior of
its own; the spectral fits' posteriors are kept as netCDF files).

`write_isgri_run_dir` writes, through `bayesbg.stan.write_analysis_run_dir`:

- ``table1.ecsv``: [ISGRI] Table 1 and bayesbg's fluxes with every error term, and on a
  simulation the injected fluxes and pulls (`bayesbg.isgri.paper_tables`);
  ``flux_table.csv``: the pipeline's Table-1 table with all its columns;
- ``spectra/<name>.ecsv``: one spectrum per region and point source in the format of
  `bayesbg.spectra.read_spectrum` (`bayesbg.isgri.products.spectrum_table`);
  ``point_sources.ecsv``: the point sources' fluxes in every band;
- ``profile.ecsv`` and ``profile_fit.ecsv``: the longitude profile (bin, band, flux,
  error terms, N, the scaled stellar-mass model, on a simulation the injected values)
  and the model's scale and chi2 per band (`bayesbg.isgri.profile`);
- ``orbits.ecsv``: every orbit's background regime, slope rejection, clipping, Crab
  calibration (`bayesbg.isgri.products.orbit_table`); ``crab_calibration.ecsv`` and
  ``crab_scatter.ecsv``: [ISGRI] Appendix B per orbit and per band;
- with the spectral fits: ``table2.ecsv``, ``table3.ecsv``, ``appendix_c.ecsv`` and the
  posteriors ``spectral_fits/<name>_<model>.nc``;
- figures (PNG): background light curve, residual distributions, Crab calibration and
  its residuals, longitude profile, spectra, and the spectral fits;
- ``summary.json``: the comparison tables, the profile, the Crab scatter, the detailed
  flux table, screening and orbit counts as tables; the figures with captions; the
  checks (`bayesbg.isgri.checks`) and a one-line key result, in the conventions
  `bayesbg report` reads.
"""

from __future__ import annotations

import logging
import math
import re
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bayesbg.isgri.checks import (
    crab_scatter,
    injected_fluxes,
    isgri_checks,
    plus_minus,
    point_source_checks,
    profile_checks,
    spectral_checks,
)
from bayesbg.isgri.model.background import REGIME_NAMES
from bayesbg.isgri.paper_fits import PaperFits
from bayesbg.isgri.paper_tables import (
    spectral_comparison,
    spectral_summary,
    table1_comparison,
    table1_summary,
)
from bayesbg.isgri.pipeline import PipelineResult
from bayesbg.isgri.products import (
    crab_scatter_table,
    crab_table,
    orbit_table,
    spectrum_table,
    to_ecsv,
)
from bayesbg.isgri.profile import ProfileFit
from bayesbg.isgri.simulate import IsgriTruth
from bayesbg.stan.rundir import stan_versions, write_analysis_run_dir

__all__ = ["FIGURES", "RUN_TYPE", "TABLE_FILE", "file_name", "isgri_summary",
           "write_isgri_run_dir"]

log = logging.getLogger(__name__)

RUN_TYPE = "isgri_run"
"""``run_type`` of the run directory (`bayesbg runs`, the report)."""
TABLE_FILE = "flux_table.csv"
"""The pipeline's Table-1 table of the run directory."""
#: Figures of every run and their captions.
FIGURES = {
    "background_lightcurve": "Background model: per-orbit mean rate of the BKG pointings "
    "(red) and the model's prediction for them (green), per band.",
    "residuals": "Residual flux distributions per region and band (mCrab per FOV): "
    "histogram, fitted Gaussian core of the paper's Gaussian-plus-wings histogram fit "
    "(blue), the full mixture density at the posterior mean when the Stan mixture was "
    "fitted (orange), and the reported flux (red line).",
    "crab_calibration": "Crab calibration ([ISGRI] Fig. B.8): per-orbit Crab rate and the "
    "cubic P(orbit) per band, with the residual scatter used as systematic error.",
    "crab_residuals": "Crab-rate residuals about the cubic per band with a Gaussian of "
    "their standard deviation ([ISGRI] Fig. B.9).",
    "longitude_profile": "Longitude profile ([ISGRI] Fig. 1; 15-deg bins, |b| < 10 deg) "
    "with total errors, the stellar-mass model convolved with the collimator response and "
    "scaled per band, and on a simulation the injected profile.",
    "spectra": "Spectra per IBIS field of view of the regions, mCrab, with 2-sigma upper "
    "limits ([ISGRI] Fig. 2).",
}
_FIT_FIGURES = {
    "table2": ("spectral_fits_table2", "Spectra of GB, L+20, L-20 with cutoffpl (index 0) + "
               "powerlaw (index 1.55) at the posterior median ([ISGRI] Fig. 4, Table 2)."),
    "table3": ("spectral_fits_table3", "The same spectra with IPM + powerlaw (index 1.55) "
               "([ISGRI] Table 3)."),
    "point_source": ("point_source_fit", "Collimator-mode spectrum of the point source "
                     "(pointings within 4.5 deg) with expcutoff + powerlaw ([ISGRI] "
                     "Fig. C.10)."),
}

#: Error-budget columns of `PipelineResult.table` shown when present, with their labels.
_ERROR_COLUMNS = {"error_statistical": "statistical", "error_background": "background",
                  "error_calibration": "calibration", "error_collimator": "collimator",
                  "paper_error": "paper error"}


def file_name(name: str) -> str:
    """A file-name stem for a region or source name (``"3C 273/Coma"`` -> ``3C_273_Coma``)."""
    return re.sub(r"[^A-Za-z0-9+.-]+", "_", name).strip("_")


def _flux_table(result: PipelineResult, injected: Mapping[tuple[str, str], float]
                ) -> dict[str, Any]:
    table = result.table
    budget = [c for c in _ERROR_COLUMNS if c in table.columns]
    columns = ["region", "band (keV)", "flux ± error", *(_ERROR_COLUMNS[c] for c in budget),
               "N pointings", "exposure (Ms)", "paper's histogram fit", "Gaussian only",
               "energy flux (erg s-1 cm-2)"]
    if injected:
        columns += ["injected", "pull"]
    rows = []
    for _, row in table.iterrows():
        flux, error = float(row["flux"]), float(row["error"])
        cells: list[Any] = [str(row["region"]), str(row["band"]), plus_minus(flux, error),
                            *(round(float(row[c]), 3) for c in budget), int(row["n"]),
                            round(float(row["exposure_ms"]), 3),
                            plus_minus(float(row["paper_mu"]), float(row["paper_error"])),
                            plus_minus(float(row["gauss_mu"]), float(row["gauss_error"])),
                            f"{float(row['energy_flux']):.3e} ± {float(row['energy_error']):.1e}"]
        if injected:
            truth = injected.get((str(row["region"]), str(row["band"])))
            cells += [None if truth is None else round(truth, 3),
                      None if truth is None or error <= 0 else round((flux - truth) / error, 2)]
        rows.append(cells)
    centre = ("the mixture's posterior mean" if result.mixture is not None else
              "the maximum-likelihood centre of the Gaussian-plus-flat-wings mixture")
    return {"title": "Flux per field of view ([ISGRI] Table 1)", "columns": columns,
            "rows": rows,
            "note": f"mCrab per FOV, energy flux per FOV. flux: {centre}; error: statistical, "
                    "background-model, calibration and collimator terms in quadrature; "
                    "paper error: sigma/sqrt(N) of the paper's histogram fit."}


def _screening_table(result: PipelineResult) -> dict[str, Any]:
    screening = result.screening
    rows: list[list[Any]] = [["input", None, None, int(screening.n_input)]]
    rows += [[item.cut, int(item.failing), int(item.removed), int(item.remaining)]
             for item in screening.report]
    rows.append(["with background prediction, away from the Crab and point sources", None,
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
             ["clipped (residuals in the clipping band)", int(np.size(model.clipped))],
             ["Crab calibration orbits", int(result.crab.orbit.size)]]
    return {"title": "Background model and Crab calibration (orbits)",
            "columns": ["orbits", "number"], "rows": rows,
            "note": "every orbit with its regime and flags: orbits.ecsv"}


def _profile_table(profile: ProfileFit) -> dict[str, Any]:
    table = profile.table
    simulated = "injected" in table
    columns = ["bin", "band (keV)", "flux ± error", "random error", "N", "model (scaled)"]
    if simulated:
        columns += ["injected", "pull"]
    rows = []
    for _, row in table.iterrows():
        flux, error = float(row["flux"]), float(row["error"])
        random = float(row["error_random"])
        cells: list[Any] = [str(row["bin"]), str(row["band"]),
                            plus_minus(flux, error) if math.isfinite(flux) else None,
                            round(random, 2) if math.isfinite(random) else None,
                            int(row["n"]),
                            None if not math.isfinite(float(row["model"])) else round(
                                float(row["model"]), 2)]
        if simulated:
            injected, pull = float(row["injected"]), float(row["pull"])
            cells += [None if not math.isfinite(injected) else round(injected, 2),
                      None if not math.isfinite(pull) else round(pull, 2)]
        rows.append(cells)
    fits = "; ".join(f"{row['band']} keV: scale {row['scale']:.3g} ± {row['scale_error']:.2g} "
                     f"mCrab per Msun, chi2 {row['chi2']:.1f}/{row['dof']}"
                     for _, row in profile.bands.iterrows())
    return {"title": "Longitude profile ([ISGRI] Fig. 1)", "columns": columns, "rows": rows,
            "note": "mCrab per FOV in 15-deg bins with |b| < 10 deg. model: stellar mass "
                    "(bulge + disk) in the FOV through the collimator, bin mean minus BKG "
                    f"mean, times a fitted factor; {fits} (random errors)."}


def _crab_table(result: PipelineResult) -> dict[str, Any]:
    table = crab_scatter_table(result)
    alternative = "scatter_alternative" in table.colnames
    columns = ["band (keV)", "orbits", "scatter (mCrab)", "paper (mCrab)"]
    if alternative:
        columns += [f"scatter, {result.collimator_alternative} collimator",
                    "P / P_alt"]
    rows = []
    for row in table:
        paper = float(row["paper"])
        cells: list[Any] = [str(row["band"]), int(row["orbits"]), round(float(row["scatter"]), 1),
                            paper if math.isfinite(paper) else None]
        if alternative:
            cells += [round(float(row["scatter_alternative"]), 1),
                      round(float(row["mean_ratio"]), 4)]
        rows.append(cells)
    return {"title": "Crab calibration ([ISGRI] Appendix B): scatter about the cubic",
            "columns": columns, "rows": rows,
            "note": "scatter: sd of 1000 (rate - P) / P over the calibration orbits; P / P_alt:"
                    " mean ratio of the cubics fitted with the two collimator shapes (the "
                    "collimator systematic). Per orbit: crab_calibration.ecsv."}


def _point_source_table(result: PipelineResult,
                        truth: IsgriTruth | None) -> dict[str, Any] | None:
    if not result.point_sources:
        return None
    columns = ["source", "band (keV)", "flux ± error", "statistical", "background",
               "calibration", "collimator", "N"]
    if truth is not None:
        columns += ["injected", "pull"]
    rows = []
    for source in result.point_sources:
        injected = (truth.injected_flux(source.fluxes.pointings.scw_id, result.background_ids,
                                        bands=source.fluxes.pointings.bands)
                    if truth is not None else None)
        for k, (_, row) in enumerate(source.table.iterrows()):
            flux, error = float(row["flux"]), float(row["error"])
            cells: list[Any] = [source.source.name, str(row["band"]), plus_minus(flux, error),
                                *(round(float(row[c]), 2) for c in (
                                    "error_statistical", "error_background",
                                    "error_calibration", "error_collimator")),
                                int(row["n"])]
            if injected is not None:
                cells += [round(float(injected[k]), 2), round((flux - injected[k]) / error, 2)]
            rows.append(cells)
    return {"title": "Point sources in collimator mode ([ISGRI] Appendix C)",
            "columns": columns, "rows": rows,
            "note": "mCrab (on axis: each pointing divided by the collimator response at the "
                    "source); pointings within 4.5 deg of the source; spectra in spectra/."}


def isgri_summary(result: PipelineResult, *, truth: IsgriTruth | None = None,
                  profile: ProfileFit | None = None, fits: PaperFits | None = None,
                  comparison: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``tables``, ``figures``, ``checks``, ``key_result`` and numbers for summary.json.

    Parameters
    ----------
    result : `PipelineResult`
    truth : `bayesbg.isgri.IsgriTruth`, optional
    profile : `bayesbg.isgri.profile.ProfileFit`, optional
    fits : `bayesbg.isgri.paper_fits.PaperFits`, optional
    comparison : mapping, optional
        Precomputed comparison tables by key (``table1``, ``table2``, ...).

    Returns
    -------
    summary : dict
    """
    injected = injected_fluxes(result, truth=truth, regions=result.regions) \
        if truth is not None else {}
    comparison = dict(comparison or {})
    if "table1" not in comparison:
        comparison["table1"] = table1_comparison(result, injected)
    first = str(result.table["region"].iloc[0])
    rows = result.table[result.table["region"] == first]
    key = f"{first}: " + ", ".join(f"{b} keV {plus_minus(f, e)}" for b, f, e in zip(
        rows["band"], rows["flux"], rows["error"], strict=True)) + " mCrab per FOV"
    tables = [table1_summary(comparison["table1"])]
    checks = isgri_checks(result, truth=truth, regions=result.regions)
    figures = [name for name in FIGURES if name != "spectra" or not result.spectra.empty]
    if fits is not None:
        for model_key in ("table2", "table3", "point_source"):
            if any(k == model_key for _, k in fits.fits):
                table = comparison.get(model_key) or spectral_comparison(fits, model_key)
                tables.append(spectral_summary(fits, model_key, table))
                figures.append(model_key)
        checks += spectral_checks(fits)
        gb = [q for (name, k), q in fits.fits.items() if name == first and k == "table2"]
        if gb:
            total = fits.quantities(first, "table2")["flux_total"]
            key += (f"; Table 2 F_total {total.median:.2f} (+{total.upper - total.median:.2f} "
                    f"-{total.median - total.lower:.2f}) 1e-10 erg s-1 cm-2")
    if profile is not None:
        tables.append(_profile_table(profile))
        checks += profile_checks(profile)
    point_sources = _point_source_table(result, truth)
    if point_sources is not None:
        tables.append(point_sources)
        if truth is not None:
            checks += point_source_checks(result, truth=truth)
    tables += [_crab_table(result), _flux_table(result, injected), _screening_table(result),
               _background_table(result)]
    captions = {**{name: caption for name, caption in FIGURES.items()},
                **{k: caption for k, (_, caption) in _FIT_FIGURES.items()}}
    files = {**{name: name for name in FIGURES},
             **{k: stem for k, (stem, _) in _FIT_FIGURES.items()}}
    return {
        "key_result": key,
        "method": "mixture-nuts" if result.mixture is not None else "mixture-ml",
        "collimator": result.collimator,
        "collimator_alternative": result.collimator_alternative,
        "flux": result.table.to_dict(orient="records"),
        "crab_scatter_mcrab": crab_scatter(result),
        "n_pointings": {"input": int(result.screening.n_input),
                        "screened": int(result.screening.table.n_pointing),
                        "with_flux": int(result.pointings.n_pointing)},
        "tables": tables,
        "figures": [{"file": f"{files[name]}.png", "caption": captions[name]}
                    for name in figures],
        "checks": checks,
    }


def _netcdf(fit: Any) -> Any:
    def write(path: Path) -> None:
        fit.inference_data.to_netcdf(str(path), engine="h5netcdf")
    return write


def write_isgri_run_dir(
    result: PipelineResult,
    run_dir: str | Path,
    *,
    config: Mapping[str, Any],
    inputs: Mapping[str, str | Path],
    seed: int | None,
    truth: IsgriTruth | None = None,
    profile: ProfileFit | None = None,
    fits: PaperFits | None = None,
    overwrite: bool = False,
    wall_time_s: float | None = None,
) -> Path:
    """Write the run directory of a run (module docstring), atomically.

    Parameters
    ----------
    result : `PipelineResult`
    run_dir : str or `~pathlib.Path`
    config : mapping
        The run's configuration (JSON-ready).
    inputs : mapping of str to path
        Input files (pointing table, configuration file) to hash.
    seed : int or None
        Seed of the simulation or the Stan fits.
    truth : `bayesbg.isgri.IsgriTruth`, optional
        For simulated data: injected values beside the measured ones.
    profile : `bayesbg.isgri.profile.ProfileFit`, optional
        Default `bayesbg.isgri.profile.fit_longitude_profile` of the result.
    fits : `bayesbg.isgri.paper_fits.PaperFits`, optional
        The spectral fits of Tables 2, 3 and Appendix C.
    overwrite : bool
        Replace an existing run. Default is False.
    wall_time_s : float, optional
        Duration of the run, s.

    Returns
    -------
    run_dir : `~pathlib.Path`
    """
    from bayesbg.isgri.figures import write_figures  # noqa: PLC0415
    from bayesbg.isgri.figures_paper import (  # noqa: PLC0415
        plot_crab_residuals,
        plot_spectra,
        plot_spectral_fits,
    )
    from bayesbg.isgri.profile import fit_longitude_profile  # noqa: PLC0415

    if profile is None:
        profile = fit_longitude_profile(result, truth=truth)
    injected = injected_fluxes(result, truth=truth, regions=result.regions) \
        if truth is not None else {}
    comparison: dict[str, Any] = {"table1": table1_comparison(result, injected)}
    files: dict[str, Any] = {TABLE_FILE: result.table.to_csv(index=False).encode(),
                             "table1.ecsv": to_ecsv(comparison["table1"]),
                             "profile.ecsv": to_ecsv(profile.table),
                             "profile_fit.ecsv": to_ecsv(profile.bands),
                             "orbits.ecsv": to_ecsv(orbit_table(result)),
                             "crab_calibration.ecsv": to_ecsv(crab_table(result)),
                             "crab_scatter.ecsv": to_ecsv(crab_scatter_table(result))}
    names: Sequence[str] = list(dict.fromkeys(result.spectra["region"])) \
        if not result.spectra.empty else []
    for name in (*names, *(s.source.name for s in result.point_sources)):
        files[f"spectra/{file_name(name)}.ecsv"] = to_ecsv(spectrum_table(result, name))
    if result.point_sources:
        files["point_sources.ecsv"] = to_ecsv(pd.concat([s.table for s in result.point_sources],
                                                         ignore_index=True))
    if fits is not None:
        for key, file in (("table2", "table2"), ("table3", "table3"),
                          ("point_source", "appendix_c")):
            if any(k == key for _, k in fits.fits):
                comparison[key] = spectral_comparison(fits, key)
                files[f"{file}.ecsv"] = to_ecsv(comparison[key])
        for (name, key), fit in fits.fits.items():
            files[f"spectral_fits/{file_name(name)}_{key}.nc"] = _netcdf(fit)
    summary = isgri_summary(result, truth=truth, profile=profile, fits=fits,
                            comparison=comparison)
    with tempfile.TemporaryDirectory(prefix="bayesbg-isgri-") as scratch:
        for name, path in write_figures(result, scratch, profile=profile).items():
            files[f"{name}.png"] = Path(path).read_bytes()
        files["crab_residuals.png"] = plot_crab_residuals(
            result, Path(scratch) / "crab_residuals.png").read_bytes()
        if names:
            files["spectra.png"] = plot_spectra(result, Path(scratch) / "spectra.png").read_bytes()
        if fits is not None:
            for key, (stem, _) in _FIT_FIGURES.items():
                if any(k == key for _, k in fits.fits):
                    path = plot_spectral_fits(fits, key, Path(scratch) / f"{stem}.png")
                    files[f"{stem}.png"] = path.read_bytes()
    versions = None
    if result.mixture is not None:
        versions = stan_versions(result.mixture.fit)
    elif fits is not None and fits.fits:
        versions = stan_versions(next(iter(fits.fits.values())).fit)
    return write_analysis_run_dir(
        run_dir, run_type=RUN_TYPE, summary=summary, files=files, inputs=inputs,
        config=config, seed=seed, overwrite=overwrite, wall_time_s=wall_time_s,
        stan_versions=versions,
    )
