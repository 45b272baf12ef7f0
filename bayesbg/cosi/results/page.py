"""The results page of a [COSI-511] analysis: one self-contained HTML file.

:func:`render_results_page` lays out what :func:`~bayesbg.cosi.results.collect_results`
gathered: the data and the injected truth; [COSI-511] Table 3 (bulge, disk and total
flux of each model with 68.3 % intervals, disk limits, PSIS-LOO / AIC / BIC) with the
injected values and pulls; the bulge width; the background variant and its time nodes;
the predictive checks of the chosen model; the image; the MEGAlib check; the acceptance
checks; and links to every run directory. Figures are copied in as base64 from the runs,
so the page needs no other file; the links are relative to its own run directory.
"""

from __future__ import annotations

import base64
import html
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["RESULTS_FILE", "render_results_page"]

RESULTS_FILE = "results.html"

_STYLE = """
body{font-family:system-ui,sans-serif;max-width:1200px;margin:1em auto;padding:0 1em;
color:#222}h1{font-size:1.5em}h2{font-size:1.2em;border-bottom:1px solid #ddd;
margin-top:1.5em}table{border-collapse:collapse;font-size:13px;margin:.5em 0}
td,th{border:1px solid #ccc;padding:3px 7px;text-align:right}th{background:#f3f3f3}
td.text,th.text{text-align:left}tr.chosen td{background:#eef5ff;font-weight:bold}
tr.truth td{background:#f7f7f7;font-style:italic}.pass{color:#11791f;font-weight:bold}
.fail{color:#c00;font-weight:bold}img{max-width:100%;height:auto}figure{margin:1em 0}
figcaption{font-size:13px;color:#444}.note{font-size:13px;color:#444}
.key{font-size:1.1em;background:#f3f6fb;border-left:4px solid #3a6fb0;padding:.5em}
.mono{font-family:monospace;word-break:break-all}
"""


def _e(value: Any) -> str:
    return html.escape(str(value))


def _num(value: Any, digits: int = 3) -> str:
    if value is None:
        return "-"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return _e(value)
    if number != number:  # NaN
        return "-"
    return f"{number:.{digits}g}"


def _table(columns: Sequence[str], rows: Sequence[Sequence[Any]], *,
           classes: Sequence[str] | None = None, text_columns: int = 1) -> str:
    head = "".join(f'<th class="{"text" if i < text_columns else ""}">{_e(c)}</th>'
                   for i, c in enumerate(columns))
    body = []
    for r, row in enumerate(rows):
        cells = "".join(
            f'<td class="{"text" if i < text_columns else ""}">{cell}</td>'
            for i, cell in enumerate(row))
        css = f' class="{classes[r]}"' if classes and classes[r] else ""
        body.append(f"<tr{css}>{cells}</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _figure(path: Path, caption: str) -> str:
    if not path.is_file():
        return f'<p class="note">(figure {_e(path.name)} not found)</p>'
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return (f'<figure><img src="data:image/png;base64,{data}" alt="{_e(path.name)}">'
            f"<figcaption>{_e(caption)}</figcaption></figure>")


def _link(target: str | Path, base: Path, label: str) -> str:
    relative = os.path.relpath(Path(target).absolute(), base.absolute())
    report = Path(target) / "report.html"
    href = os.path.join(relative, "report.html") if report.is_file() else relative
    return f'<a href="{_e(href)}">{_e(label)}</a>'


def _table3(results: dict[str, Any]) -> str:
    sky = results["sky_models"]
    rows, classes = [], []
    truth = results["truth"]
    for row in sky["table3"]:
        pulls = " / ".join(_num(row.get(f"{c}_pull"), 2) for c in ("bulge", "disk", "total"))
        loo = "-" if row.get("elpd_diff") is None else \
            f"{-row['elpd_diff']:.1f} &plusmn; {row.get('dse') or 0:.1f}"
        rows.append([_e(row["model"]), _e(row["bulge"]), _e(row["disk"]), _e(row["total"]),
                     _num(row.get("disk_limit")), _num(row.get("dAIC"), 3),
                     _num(row.get("dBIC"), 3), loo, pulls if truth else "-"])
        classes.append("chosen" if row["model"] == sky["chosen"] else "")
    if truth is not None:
        flux = truth["flux"]
        disks = [k for k in flux if k != "bulge"]
        rows.append(["injected (simulation)", _num(flux.get("bulge", 0) * 1e3),
                     ", ".join(f"{k} {_num(flux[k] * 1e3)}" for k in disks) or "0",
                     _num(sum(flux.values()) * 1e3), "", "", "", "", ""])
        classes.append("truth")
    columns = ["Model", "Bulge", "Disk", "Total",
               f"Disk limit ({sky['quantile']:.5g} quantile)", "dAIC", "dBIC",
               "d elpd_loo &plusmn; dse", "pull bulge / disk / total"]
    head = "".join(f"<th>{c}</th>" for c in columns)
    body = "".join(
        f'<tr class="{css}">' + "".join(
            f'<td class="{"text" if i == 0 else ""}">{cell}</td>' for i, cell in enumerate(r))
        + "</tr>" for r, css in zip(rows, classes, strict=True))
    return (f'<table id="table3"><tr>{head}</tr>{body}</table>'
            '<p class="note">Fluxes in 1e-3 ph cm-2 s-1: posterior median (+ and - to the '
            "68.3 % interval); disk limit in ph cm-2 s-1. dAIC, dBIC: to the smallest; "
            "d elpd_loo: PSIS-LOO per time bin, to the best, with the standard error of the "
            "difference. Pulls: (median - injected) / posterior sd. The chosen model "
            f"(highlighted): {_e(sky['choice_rule'])}.</p>")


def render_results_page(results: dict[str, Any], run_dir: str | Path) -> str:
    """The HTML text of the results page (module docstring).

    Parameters
    ----------
    results : dict
        From :func:`~bayesbg.cosi.results.collect_results`.
    run_dir : str or `~pathlib.Path`
        Where the page will live (links are relative to it).
    """
    base = Path(run_dir)
    runs = {step: Path(path) for step, path in results["runs"].items()}
    sky = results["sky_models"]
    truth = results["truth"]
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{_e(results['title'])}"
             f"</title><style>{_STYLE}</style></head><body><h1>{_e(results['title'])}</h1>"]
    chosen_row = next(r for r in sky["table3"] if r["model"] == sky["chosen"])
    key = (f"Chosen model: <b>{_e(sky['chosen'])}</b>; bulge flux {_e(chosen_row['bulge'])}"
           " x 1e-3 ph cm-2 s-1")
    if results["width"]:
        width = results["width"]
        key += (f"; bulge width {width['best']:.2f} deg (68 % "
                f"{width['intervals']['1'][0]:.2f}-{width['intervals']['1'][1]:.2f})")
    failed = [c for c in results["checks"] if c["status"] != "pass"]
    key += f". Checks: {len(results['checks']) - len(failed)} of {len(results['checks'])} pass."
    parts.append(f'<p class="key">{key}</p>')

    # data and truth
    data = results["data"]
    parts.append('<h2 id="data">Data</h2>')
    rows = [["dataset", f'<span class="mono">{_e(data["dataset"])}</span>'],
            ["time bins x data-space bins", f"{data['n_time']} x {data['n_data_bin']}"],
            ["populated bins, counts", f"{data['n_nonzero']}, {data['counts']}"]]
    provenance = data.get("provenance") or {}
    for label, entry in (provenance.get("inputs") or {}).items():
        rows.append([f"input: {label}", f'{_e(entry["file"])} <span class="mono">'
                                        f'{_e(entry["sha256"])}</span>'])
    parts.append(_table(["", ""], rows))
    if truth is not None:
        rows = [[_e(name), _e(c["kind"]), _num(c["sigma_l"]), _num(c["sigma_b"]),
                 _num(truth["flux"][name])] for name, c in truth["components"].items()]
        parts.append("<p>Injected sky (a flight-like simulation):</p>" + _table(
            ["component", "kind", "sigma_l (deg)", "sigma_b (deg)", "flux (ph cm-2 s-1)"],
            rows))
        parts.append(f"<p>Injected background: mean {truth['mean_background_rate']:.1f} "
                     f"counts per time bin; steps at time bins {truth['change_points']} by "
                     f"factors {[round(f, 3) for f in truth['factors']]}.</p>")

    # Table 3
    parts.append('<h2 id="table-3">Sky models ([COSI-511] Table 3)</h2>')
    parts.append(_table3(results))
    for table in sky["tables"][1:]:
        parts.append(f"<p>{_e(table['title'])}</p>" + _table(
            table["columns"], [[_num(v, 5) if not isinstance(v, str) else _e(v) for v in row]
                               for row in table["rows"]], text_columns=2))
    parts.append(_figure(runs["sky models"] / "sky_model_fluxes.png",
                         "Bulge and disk flux posteriors per model; injected values as "
                         "black ticks, limits as triangles."))

    # width
    if results["width"]:
        width = results["width"]
        rows = [["maximum-likelihood width (deg)", f"{width['best']:.2f}"],
                ["68.3 % interval (deg)", "{:.2f} - {:.2f}".format(*width["intervals"]["1"])],
                ["95.4 % interval (deg)", "{:.2f} - {:.2f}".format(*width["intervals"]["4"])],
                ["open ends (grid edge reached)", _e(width["open_ends"])],
                ["bulge flux over the 68.3 % width interval (ph cm-2 s-1)",
                 "{:.3g} - {:.3g}".format(*width["flux_range"])]]
        if truth is not None and truth.get("bulge_width") is not None:
            rows.append(["injected width (deg)", _num(truth["bulge_width"])])
        parts.append('<h2 id="width">Bulge width</h2>' + _table(["", ""], rows))
        parts.append(_figure(runs["width scan"] / "scan_template.png",
                             "-2 delta ln L over the bulge widths (symmetric profile)."))

    # background
    background = results["background"]
    selected, nodes = background["selected"], background["nodes"]
    parts.append('<h2 id="background">Background model</h2>')
    text = (f"<p>Selected by AIC: <b>{_e(selected['key'])}</b> ({nodes['n_block']} blocks; "
            f"edges at time bins {nodes['block_edges']}).")
    if "injected_nodes" in nodes:
        text += (f" Injected time nodes {nodes['injected_nodes']}: "
                 f"{'all' if nodes['contains'] else 'not all'} within {nodes['tolerance']} "
                 "bins of a block edge.")
    parts.append(text + "</p>")
    table = background["table"]
    columns = [c for c in ("key", "n_block", "aic", "delta_aic", "elpd_loo", "se_loo",
                           "delta_elpd_loo", "pareto_k_bad") if c in table["columns"]]
    index = [table["columns"].index(c) for c in columns]
    ranked = sorted(table["rows"], key=lambda r: float("inf") if r[table["columns"].index(
        "aic")] is None else r[table["columns"].index("aic")])[:10]
    parts.append(f"<p>{_e(table['title'])} (the 10 of lowest AIC):</p>" + _table(
        columns, [[_e(r[i]) if j == 0 else _num(r[i], 8) for j, i in enumerate(index)]
                  for r in ranked]))
    parts.append(_figure(runs["background scan"] / "scan_background.png",
                         "Delta AIC against the number of parameters."))

    # predictive checks of the chosen model
    chosen_dir = runs[f"model: {sky['chosen']}"]
    checks = sky["predictive_checks"].get(sky["chosen"]) or {}
    parts.append(f'<h2 id="ppc">Predictive checks of the chosen model ({_e(sky["chosen"])})'
                 "</h2>")
    parts.append(_table(["axis", "bins", "outside the 99 % band", "fraction", "p-value",
                         "largest |z|"],
                        [[_e(axis), c["n_bin"], c["n_outside"], _num(c["fraction_outside"]),
                          _num(c["p_value"]), _num(c["max_abs_z"])]
                         for axis, c in checks.items()]))
    for axis in ("time", "phi", "psi_chi"):
        parts.append(_figure(chosen_dir / f"ppc_{axis}.png", f"Predictive check along {axis}."))

    # image
    image = results["image"]
    if image is not None:
        parts.append('<h2 id="image">Image (modified Richardson-Lucy)</h2>')
        parts.append(f"<p>Chosen iteration {image['chosen_iteration']} (first curvature "
                     f"maximum of TS(k); curvature maxima {image['curvature_maxima']}, "
                     f"inflection points {image['inflection_points']}): TS "
                     f"{image['ts']:.1f}, total flux {image['flux']:.3g} ph cm-2 s-1, "
                     f"{_e(image['region']['description'])} {image['region']['flux']:.3g} "
                     "ph cm-2 s-1. FITS: "
                     f"{_link(runs['image'] / 'image_cube.fits', base, 'image_cube.fits')}.</p>")
        parts.append(_figure(runs["image"] / "imaging_map.png", "Image at the chosen iteration."))
        parts.append(_figure(runs["image"] / "imaging_ts.png", "TS(k)."))

    # MEGAlib
    megalib = results["megalib"]
    if megalib is not None:
        parts.append('<h2 id="megalib">MEGAlib point source against its template</h2>')
        rows = [["events (506-516 keV)", megalib["n_events"]],
                ["back-projected peak of the events (l, b)", _e(megalib["events_peak"])],
                ["back-projected peak of the template (l, b)", _e(megalib["template_peak"])],
                ["peaks apart (deg); same pixel or neighbours",
                 f"{megalib['peak_separation']:.2f}; {megalib['adjacent']}"],
                ["scale: events per template count (flux x area ratio)",
                 _num(megalib["scale"])],
                ["time profile: Poisson deviance / dof (p)",
                 f"{megalib['deviance']:.1f} / {megalib['dof']} ({megalib['p_value']:.2f})"]]
        for split in megalib["splits"]:
            rows.append([f"split {split['name']}: observed / predicted",
                         f"{split['check_events']} / {split['predicted']:.1f} = "
                         f"{split['ratio']:.3f} &plusmn; {split['ratio_error']:.3f}"])
        parts.append(_table(["", ""], rows))

    # checks
    parts.append('<h2 id="checks">Checks</h2>' + _table(
        ["check", "status", "detail"],
        [[_e(c["name"]), f'<span class="{c["status"]}">{c["status"]}</span>', _e(c["detail"])]
         for c in results["checks"]], text_columns=3))

    # runs
    parts.append('<h2 id="runs">Run directories</h2><ul>')
    for step, path in runs.items():
        parts.append(f"<li>{_e(step)}: {_link(path, base, str(path))}</li>")
    parts.append("</ul></body></html>")
    return "\n".join(parts)
