"""The bright-source study's results: tables in the layout of [COSI-PS] Tables 2-4, the
checks of the acceptance, spectrum figures, and the run directory with its HTML report
(docs/cosi_spectral.md, "Bright sources end to end").
"""

from __future__ import annotations

import io
import json
import logging
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bayesbg.cosi.spectral.spectrum import PhotonSpectrum
from bayesbg.cosi.spectral.study import SourceOutcome, StudySettings
from bayesbg.cosi.spectral.tables import (
    TWO_SIGMA_TAIL,
    paper_draws,
    paper_rows,
    pull,
    truth_tail_probability,
)
from bayesbg.stan import stan_versions, write_analysis_run_dir

__all__ = ["joint_truth_check", "outcome_checks", "outcome_record", "outcome_tables",
           "write_study_run_dir"]

log = logging.getLogger(__name__)

COLUMNS = ["parameter", "unit", "paper (90 %)", "bayesbg median [5 %, 95 %]", "truth",
           "pull"]


def _draws(result: Any, name: str) -> np.ndarray:
    return np.asarray(result.inference_data.posterior[name].values, dtype=float).ravel()


def _fit_rows(result: Any, truth: dict[str, float]) -> list[list[Any]]:
    rows = []
    posterior = result.inference_data.posterior
    free = [n for n in ("index", "index1", "break_energy", "index2", "ecut")
            if n in posterior]
    for name in ("photon_flux", *free, "norm"):
        draws = _draws(result, name)
        q5, q50, q95 = np.quantile(draws, [0.05, 0.5, 0.95])
        rows.append([name, "", "", f"{q50:.4g} [{q5:.4g}, {q95:.4g}]",
                     truth.get(name, math.nan),
                     pull(draws, truth[name]) if name in truth else math.nan])
    return rows


def _band_row(label: str, mean: float, sd: float, truth: float, paper: str,
              significance: float | None) -> list[Any]:
    sig = "" if significance is None else f", {significance:.1f} sigma"
    return [label, "ph cm-2 s-1", paper, f"{mean:.3g} +- {sd:.2g}{sig}", truth,
            (mean - truth) / sd if sd > 0 else math.nan]


def outcome_tables(outcome: SourceOutcome) -> list[dict[str, Any]]:
    """The source's tables: the joint fit in the paper's layout, band fluxes, and the
    COSI-only fits (forward-folded and two-step)."""
    source = outcome.source
    joint = outcome.joint
    datasets = tuple(joint.inference_data.posterior["cross_norm"].coords["dataset"].values)
    rows = paper_rows(source, joint.inference_data.posterior, outcome.truth,
                      datasets=datasets)
    tables = [{"title": f"{source.title} (joint fit; paper errors 90 %)", "columns": COLUMNS,
               "rows": rows}]
    lo, hi = source.band
    report = outcome.report_band
    band_label = f"{report.energy_min:g}-{report.energy_max:g} keV"
    ff = _draws(outcome.cosi_only, "report_flux")
    ts = _draws(outcome.two_step, "report_flux")
    paper = f"{source.band_flux[0]:.2g} +- {source.band_flux[1]:.1g} ({lo:g}-{hi:g} keV, " \
            f"{source.significance:g} sigma)"
    tables.append({
        "title": f"{source.name}: COSI band flux, {band_label}", "columns": COLUMNS,
        "rows": [
            _band_row("template fit, 60-deg cut (paper's route)", report.mean, report.sd,
                      outcome.report_band_truth, paper, report.significance),
            _band_row("forward-folded COSI-only, 90-deg cut", float(ff.mean()),
                      float(ff.std(ddof=1)), outcome.report_band_truth, "", None),
            _band_row("two-step COSI-only, 90-deg cut", float(ts.mean()),
                      float(ts.std(ddof=1)), outcome.report_band_truth, "", None)]})
    cosi_truth = outcome.observation["cosi_truth"]
    for label, result in (("forward-folded", outcome.cosi_only),
                          ("two-step", outcome.two_step)):
        tables.append({"title": f"{source.name}: COSI-only fit, {label}", "columns": COLUMNS,
                       "rows": _fit_rows(result, cosi_truth)})
    return tables


def _width(result: Any, names: Sequence[str]) -> dict[str, float]:
    return {n: float(_draws(result, n).std(ddof=1)) for n in names}


def outcome_checks(outcome: SourceOutcome) -> list[dict[str, Any]]:
    """The acceptance checks of one source (pass / warn / fail with advice)."""
    source = outcome.source
    checks = []
    rows = outcome_tables(outcome)[0]["rows"]
    pulls = {row[0]: row[5] for row in rows if not math.isnan(row[5])}
    worst = max(pulls.items(), key=lambda kv: abs(kv[1]))
    names, tail, n_draws = joint_truth_check(outcome)
    beyond = [name for name, value in pulls.items() if abs(value) >= 2]
    checks.append({"name": f"{source.name}: joint fit recovers the truth",
                   "status": "pass" if tail > TWO_SIGMA_TAIL else "fail",
                   "detail": f"truth {'inside' if tail > TWO_SIGMA_TAIL else 'outside'} the "
                             f"joint 2-sigma (95.45 %) credible region of the "
                             f"{len(names)} parameters and constants (posterior mass "
                             f"farther out: {_tail_text(tail, n_draws)}); one by "
                             f"one, {len(beyond)} pull(s) beyond 2"
                             + (f" ({', '.join(beyond)})" if beyond else "")
                             + f", largest |pull| {abs(worst[1]):.2f} ({worst[0]}); "
                             f"{len(pulls) * TWO_SIGMA_TAIL:.2f} expected by chance",
                   "advice": "Look at the posterior of the parameters with the largest "
                             "pulls and at their priors; refit the other instruments alone "
                             "(analyses/cosi_bright_sources/reference_pulls.py)."})
    cosi_truth = outcome.observation["cosi_truth"]
    outside = []
    for name, value in cosi_truth.items():
        posterior = outcome.cosi_only.inference_data.posterior
        if name in posterior:
            q = np.quantile(_draws(outcome.cosi_only, name), [0.025, 0.975])
            if not q[0] <= value <= q[1]:
                outside.append(name)
    checks.append({"name": f"{source.name}: COSI-only fit consistent with the injected "
                           "spectrum", "status": "pass" if not outside else "fail",
                   "detail": "every parameter's truth inside its 95 % interval" if not outside
                   else f"outside: {', '.join(outside)}",
                   "advice": "Check the energy response and the background model."})
    report = outcome.report_band
    z = (report.mean - outcome.report_band_truth) / report.sd
    checks.append({"name": f"{source.name}: band flux recovered",
                   "status": "pass" if abs(z) < 2 else "fail",
                   "detail": f"{report.mean:.3g} +- {report.sd:.2g} against "
                             f"{outcome.report_band_truth:.3g} ({z:+.2f} sigma)",
                   "advice": "Compare the fiducial shape with the truth."})
    ratio = report.significance / source.significance
    checks.append({"name": f"{source.name}: significance of the paper's order",
                   "status": "pass" if 1 / 3 <= ratio <= 3 else "warn",
                   "detail": f"{report.significance:.1f} sigma against the paper's "
                             f"{source.significance:g} (ratio {ratio:.2f})",
                   "advice": "See the README: one instrument cannot match all three of the "
                             "paper's significances over the public day's orientation."})
    shape_names = [n for n in ("index", "index2", "ecut") if n in
                   outcome.cosi_only.inference_data.posterior]
    ff = _width(outcome.cosi_only, ["photon_flux", *shape_names])
    ts = _width(outcome.two_step, ["photon_flux", *shape_names])
    tighter = {n: "forward-folded" if ff[n] <= ts[n] else "two-step" for n in ff}
    checks.append({"name": f"{source.name}: forward-folded and two-step both recover the "
                           "truth",
                   "status": "pass" if _both_recover(outcome) else "fail",
                   "detail": "posterior sd forward-folded / two-step: " + ", ".join(
                       f"{n} {ff[n]:.3g}/{ts[n]:.3g} ({tighter[n]} tighter)" for n in ff),
                   "advice": "The two-step route depends on the fiducial shape of step 1."})
    for label, result in (("COSI-only", outcome.cosi_only), ("two-step", outcome.two_step),
                          ("joint", outcome.joint)):
        checks.append({"name": f"{source.name}: sampler diagnostics, {label}",
                       "status": "pass" if result.diagnostics.passed else "warn",
                       "detail": "all passed" if result.diagnostics.passed else
                       "; ".join(c.name for c in result.diagnostics.checks if not c.passed),
                       "advice": "Run more iterations."})
    return checks


def joint_truth_check(outcome: SourceOutcome) -> tuple[list[str], float, int]:
    """The joint fit's table rows against the truth, all at once.

    Returns
    -------
    names : list of str
        The rows checked (free shapes, ``norm``, free constants).
    tail : float
        `truth_tail_probability` of their draws: > 0.0455 for the truth inside the joint
        2-sigma credible region.
    n_draws : int
    """
    posterior = outcome.joint.inference_data.posterior
    names, draws, truth = paper_draws(
        outcome.source, posterior, outcome.truth,
        datasets=tuple(posterior["cross_norm"].coords["dataset"].values))
    return names, truth_tail_probability(draws, truth), draws.shape[0]


def _tail_text(tail: float, n_draws: int) -> str:
    return f"p < {1 / n_draws:.1g}" if tail == 0 else f"p = {tail:.3f}"


def _both_recover(outcome: SourceOutcome) -> bool:
    cosi_truth = outcome.observation["cosi_truth"]
    for result in (outcome.cosi_only, outcome.two_step):
        for name, value in cosi_truth.items():
            if name in result.inference_data.posterior:
                q = np.quantile(_draws(result, name), [0.025, 0.975])
                if not q[0] <= value <= q[1]:
                    return False
    return True


def outcome_record(outcome: SourceOutcome) -> dict[str, Any]:
    """JSON-ready numbers of one source."""
    def summary(result: Any) -> dict[str, Any]:
        table = result.summary.reset_index()
        return {"rows": json.loads(table.to_json(orient="records")),
                "diagnostics_passed": bool(result.diagnostics.passed)}

    return {"observation": outcome.observation, "truth": outcome.truth,
            "cosi_only": summary(outcome.cosi_only), "two_step": summary(outcome.two_step),
            "joint": summary(outcome.joint),
            "joint_truth_check": dict(zip(("rows", "tail_probability", "n_draws"),
                                          joint_truth_check(outcome), strict=True)),
            "band_fluxes": [b.to_dict() for b in outcome.band_fluxes],
            "report_band": {**outcome.report_band.to_dict(),
                            "truth": outcome.report_band_truth},
            "seconds": outcome.seconds}


def _figure(outcome: SourceOutcome) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    source = outcome.source
    energy = np.geomspace(3.0, 5000.0, 200)
    truth = PhotonSpectrum(source.kind, nh=source.nh)
    log_truth = math.log(source.parameters["norm"][0])
    from bayesbg.cosi.spectral.spectrum import log_photon_shape

    true_curve = np.exp(log_truth + log_photon_shape(source.kind, energy,
                                                     truth.shape_vector(source.shape())))
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.loglog(energy, energy**2 * true_curve, "k-", label="injected")
    for label, result, colour in (("joint", outcome.joint, "C0"),
                                  ("COSI-only forward-folded", outcome.cosi_only, "C1")):
        posterior = result.inference_data.posterior
        names = [n for n in ("index", "index1", "break_energy", "index2", "ecut")
                 if n in posterior]
        fixed = {k: v for k, v in source.shape().items() if k not in names}
        spec = PhotonSpectrum(source.kind, fixed=fixed, nh=source.nh)
        norm = posterior["norm"].values.ravel()
        pick = np.linspace(0, norm.size - 1, min(200, norm.size)).astype(int)
        curves = []
        for i in pick:
            values = {n: float(posterior[n].values.ravel()[i]) for n in names}
            curves.append(norm[i] * np.exp(log_photon_shape(
                source.kind, energy, spec.shape_vector(values))))
        lo, hi = np.quantile(np.array(curves), [0.05, 0.95], axis=0)
        ax.fill_between(energy, energy**2 * lo, energy**2 * hi, color=colour, alpha=0.3,
                        label=f"{label}, 90 %")
    for flux in outcome.band_fluxes:
        centre = math.sqrt(flux.energy_min * flux.energy_max)
        width = flux.energy_max - flux.energy_min
        density = flux.mean / width / source.cross_norm["COSI"][0]
        error = flux.sd / width / source.cross_norm["COSI"][0]
        ax.errorbar(centre, centre**2 * density, yerr=centre**2 * error,
                    xerr=[[centre - flux.energy_min], [flux.energy_max - centre]],
                    fmt="o", color="C3", ms=3)
    ax.plot([], [], "o", color="C3", label="COSI band fluxes (step 1, / C_COSI)")
    ax.set_xlabel("energy (keV)")
    ax.set_ylabel("E^2 N(E) (keV cm-2 s-1)")
    ax.set_title(source.title)
    ax.set_ylim(bottom=max(ax.get_ylim()[0], 1e-3 * float(np.max(energy**2 * true_curve))))
    ax.legend(fontsize=8)
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    return buffer.getvalue()


def _netcdf(result: Any) -> Any:
    def write(path: Path) -> None:
        result.inference_data.to_netcdf(str(path), engine="h5netcdf")
    return write


def write_study_run_dir(outcomes: Sequence[SourceOutcome], settings: StudySettings,
                        run_dir: str | Path, *, overwrite: bool = False,
                        wall_time_s: float | None = None,
                        inputs: dict[str, Path] | None = None) -> Path:
    """The study's run directory (``summary.json`` with tables, checks and figures,
    ``results.json``, one spectrum figure per source, the posteriors of each source's
    three fits as ``posterior_<source>_<joint|cosi_only|two_step>.nc``) and its
    ``report.html``."""
    from bayesbg.report import write_report

    tables, checks, figures, files = [], [], [], {}
    for outcome in outcomes:
        tables += outcome_tables(outcome)
        checks += outcome_checks(outcome)
        name = f"spectrum_{outcome.source.name}.png"
        files[name] = _figure(outcome)
        figures.append({"file": name, "caption": f"{outcome.source.title}: injected "
                        "spectrum, joint and COSI-only posteriors (90 %), COSI band fluxes"})
        for label, result in (("joint", outcome.joint), ("cosi_only", outcome.cosi_only),
                              ("two_step", outcome.two_step)):
            files[f"posterior_{outcome.source.name}_{label}.nc"] = _netcdf(result)
    record = {o.source.name: outcome_record(o) for o in outcomes}
    files["results.json"] = (json.dumps(record, indent=1, default=float) + "\n").encode()
    key = "; ".join(f"{o.source.name} {o.report_band.energy_min:g}-"
                    f"{o.report_band.energy_max:g} keV: {o.report_band.mean:.2g} +- "
                    f"{o.report_band.sd:.1g} ph cm-2 s-1, {o.report_band.significance:.1f} "
                    f"sigma" for o in outcomes)
    target = write_analysis_run_dir(
        run_dir, run_type="cosi_bright_sources",
        summary={"key_result": key, "tables": tables, "figures": figures, "checks": checks},
        files=files, inputs=inputs or {}, config=settings.to_dict(), seed=settings.seed,
        overwrite=overwrite, wall_time_s=wall_time_s, stan_versions=stan_versions())
    write_report(target)
    return target
