"""Gather the numbers of a [COSI-511] analysis from its run directories; the acceptance checks.

:func:`collect_results` reads the ``summary.json`` of every run of the chain (background
scan, bulge fit, template scan, sky models and their fits, image), the dataset's
provenance and, for a simulation, its injected truth; recomputes the blocks of the
selected background variant to see whether they contain the injected time nodes; runs
the MEGAlib agreement check when its files are named; and judges the acceptance criteria
of a simulation (``checks``: each pass or fail with its numbers):

- the bulge flux of the chosen model within 2 sigma of the injected one (and of every
  model, for information);
- the injected bulge width inside the template scan's 95.4 % width interval;
- every disk upper limit above the injected disk flux of its kind (0 if not injected);
- every injected time node within ``node_tolerance`` bins of a block edge of the
  selected background variant;
- the binned MEGAlib events' back-projected peak within one pixel of the template's,
  and the counts of the odd hours within 10 % of those predicted from the even hours.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from bayesbg.cosi.data import load_dataset
from bayesbg.cosi.flight import load_flight_geometry, point_source_agreement, read_truth
from bayesbg.cosi.results.config import ResultsConfig
from bayesbg.cosi.scan.background import BackgroundVariant

__all__ = ["collect_results", "read_summary"]

log = logging.getLogger(__name__)


def read_summary(run_dir: str | Path, *, what: str) -> dict[str, Any]:
    """``summary.json`` of a finished run directory.

    Raises
    ------
    FileNotFoundError
        Naming the step (``what``) whose run is missing.
    """
    path = Path(run_dir) / "summary.json"
    if not path.is_file():
        raise FileNotFoundError(f"{what}: {Path(run_dir)} holds no finished run (no "
                                "summary.json); run that step first")
    return json.loads(path.read_text(encoding="utf-8"))


def _node_check(dataset_path: Path, selected: dict[str, Any], truth: dict[str, Any] | None,
                tolerance: int) -> dict[str, Any]:
    dataset = load_dataset(dataset_path)
    variant = BackgroundVariant(selected["scheme"], float(selected["setting"]),
                                selected["tracer"], bool(selected["detrend"]))
    blocks = variant.blocks(dataset)
    edges = (np.flatnonzero(np.diff(blocks)) + 1).tolist()
    result: dict[str, Any] = {"block_edges": edges, "n_block": int(blocks.max()),
                              "tolerance": tolerance}
    if truth is not None:
        nodes = [int(n) for n in truth.get("change_points", [])]
        found = {node: (min((abs(node - e) for e in edges), default=None)) for node in nodes}
        result["injected_nodes"] = nodes
        result["distance"] = {str(k): v for k, v in found.items()}
        result["contains"] = all(v is not None and v <= tolerance for v in found.values())
    return result


def _provenance(path: Path) -> dict[str, Any] | None:
    try:
        with h5py.File(path, "r") as handle:
            text = handle.attrs.get("provenance")
    except OSError:
        return None
    if text is None:
        return None
    return json.loads(text.decode() if isinstance(text, bytes) else str(text))


def collect_results(config: ResultsConfig) -> dict[str, Any]:
    """Everything the results page shows, JSON-ready (module docstring).

    Parameters
    ----------
    config : `ResultsConfig`

    Returns
    -------
    results : dict
        ``runs`` (step -> run directory), ``data``, ``truth``, ``background``,
        ``bulge_fit`` (None without the fit's run directory), ``width``, ``sky_models``,
        ``image``, ``megalib``, ``checks``.
    """
    models_config = config.sky_models
    fit_config = models_config.fit
    assert fit_config.from_scan is not None
    runs: dict[str, Path] = {"background scan": fit_config.from_scan}
    if (config.fit_run_dir / "summary.json").is_file():  # optional: the bulge at 10 deg
        runs["bulge fit"] = config.fit_run_dir
    if models_config.width_scan is not None:
        runs["width scan"] = models_config.width_scan
    assert models_config.run_dir is not None
    runs["sky models"] = models_config.run_dir
    if config.image is not None:
        runs["image"] = config.image
    summaries = {step: read_summary(path, what=step) for step, path in runs.items()}
    sky = summaries["sky models"]
    for name, entry in sky["models"].items():
        path = models_config.run_dir.parent / entry["run_dir"]
        runs[f"model: {name}"] = path
        summaries[f"model: {name}"] = read_summary(path, what=f"sky model {name}")

    injected = read_truth(fit_config.dataset)
    truth: dict[str, Any] | None = None
    if injected is not None:
        components = {c["name"]: c for c in injected["components"]}
        truth = {"flux": injected["flux"], "components": components,
                 "change_points": injected["change_points"],
                 "factors": injected["factors"],
                 "mean_background_rate": injected["mean_background_rate"],
                 "bulge_width": components.get(models_config.bulge, {}).get("sigma_l")}
    background = summaries["background scan"]
    selected = background["selected"]
    nodes = _node_check(fit_config.dataset, selected, truth, config.node_tolerance)
    dataset = load_dataset(fit_config.dataset)
    data = {"dataset": str(fit_config.dataset), "n_time": dataset.n_time,
            "n_data_bin": dataset.n_data_bin, "n_nonzero": dataset.n_nonzero,
            "counts": int(dataset.counts.data.sum()),
            "provenance": _provenance(fit_config.dataset)}
    width = summaries["width scan"].get("width") if "width scan" in summaries else None
    megalib = None
    if config.megalib is not None and config.megalib_geometry is not None:
        events = load_dataset(config.megalib)
        geometry = load_flight_geometry(config.megalib_geometry)
        source = geometry.provenance.get("source", [-10.0, -10.0])
        agreement = point_source_agreement(events, events.templates["point_source"],
                                           geometry, lon=source[0], lat=source[1])
        megalib = agreement.to_dict()
    results = {
        "title": config.title,
        "runs": {step: str(Path(path).absolute()) for step, path in runs.items()},
        "data": data,
        "truth": truth,
        "background": {"selected": selected, "nodes": nodes,
                       "table": background["tables"][0]},
        "bulge_fit": None if "bulge fit" not in summaries else {
            "parameters": summaries["bulge fit"].get("parameters"),
            "diagnostics_passed": summaries["bulge fit"]["diagnostics"]["passed"],
            "predictive_checks": summaries["bulge fit"].get("predictive_checks")},
        "width": width,
        "sky_models": {"chosen": sky["chosen_model"], "choice_rule": sky["choice_rule"],
                       "table3": sky["table3"], "models": sky["models"],
                       "tables": sky["tables"], "bulge_width": sky.get("bulge_width"),
                       "quantile": models_config.quantile,
                       "predictive_checks": {
                           name: summaries[f"model: {name}"].get("predictive_checks")
                           for name in sky["models"]}},
        "image": _image(summaries.get("image")),
        "megalib": megalib,
    }
    results["checks"] = _checks(results, models_config.bulge)
    return results


def _image(summary: dict[str, Any] | None) -> dict[str, Any] | None:
    if summary is None:
        return None
    k = summary["chosen_iteration"]
    return {"chosen_iteration": k, "ts": summary["ts"][k], "flux": summary["flux"][k],
            "region": summary["region"], "curvature_maxima": summary["curvature_maxima"],
            "inflection_points": summary["inflection_points"]}


def _check(name: str, passed: bool, detail: str) -> dict[str, str]:
    return {"name": name, "status": "pass" if passed else "fail", "detail": detail}


def _checks(results: dict[str, Any], bulge: str) -> list[dict[str, str]]:
    checks: list[dict[str, str]] = []
    truth = results["truth"]
    sky = results["sky_models"]
    rows = {row["model"]: row for row in sky["table3"]}
    if truth is not None:
        chosen = rows[sky["chosen"]]
        pull = chosen.get("bulge_pull")
        checks.append(_check(
            f"bulge flux of the chosen model ({sky['chosen']}) within 2 sigma",
            pull is not None and abs(pull) < 2.0,
            f"median {chosen['bulge_median']:.4g}, sd {chosen['bulge_sd']:.3g}, injected "
            f"{chosen['bulge_truth']:.4g} ph cm-2 s-1: pull {pull:+.2f}" if pull is not None
            else "no pull"))
        width, injected_width = results["width"], truth.get("bulge_width")
        if width is not None and injected_width is not None:
            low, high = width["intervals"]["4"]
            checks.append(_check(
                "bulge width: injected inside the 95.4 % interval (-2 delta ln L <= 4)",
                low <= injected_width <= high,
                f"fitted {width['best']:.2f} deg, 95.4 % {low:.2f}-{high:.2f}, injected "
                f"{injected_width:g} deg"))
        for name, entry in sky["models"].items():
            for template, limit in entry["limits"].items():
                injected = float(truth["flux"].get(template, 0.0))
                checks.append(_check(
                    f"{template} upper limit ({name}) above the injected flux",
                    limit["upper_limit"] > injected,
                    f"{limit['quantile']:.5g} quantile {limit['upper_limit']:.3g} against "
                    f"{injected:.3g} ph cm-2 s-1 injected"))
        nodes = results["background"]["nodes"]
        checks.append(_check(
            "selected background variant contains the injected time nodes",
            bool(nodes.get("contains")),
            f"{results['background']['selected']['key']}: nodes {nodes.get('injected_nodes')}"
            f", nearest block edges at distances {nodes.get('distance')} (tolerance "
            f"{nodes['tolerance']} bins)"))
    megalib = results["megalib"]
    if megalib is not None:
        checks.append(_check(
            "MEGAlib point source: back-projected peaks within one pixel",
            bool(megalib["adjacent"]),
            f"events {megalib['events_peak']}, template {megalib['template_peak']} (l, b) "
            f"deg, {megalib['peak_separation']:.2f} deg apart"))
        split = next(s for s in megalib["splits"] if s["name"] == "interleaved")
        checks.append(_check(
            "MEGAlib point source: counts within 10 % (odd hours from the even hours' scale)",
            abs(split["ratio"] - 1.0) < 0.10,
            f"observed {split['check_events']}, predicted {split['predicted']:.1f}: ratio "
            f"{split['ratio']:.3f} +- {split['ratio_error']:.3f} (Poisson)"))
    for name, entry in sky["models"].items():
        checks.append(_check(f"sampler diagnostics of {name}", bool(entry["diagnostics_passed"]),
                             "R-hat, ESS, divergences, tree depth, E-BFMI"))
    return checks
