"""``bayesbg report RUN_DIR``: one self-contained HTML page per run directory.

For a fit (``posterior.nc``), the page holds what was run (model, seed, versions, input
hashes, configuration), the posterior summary (with the truth beside it for simulated
data), the sampler checks with a pass/fail verdict and advice for each failure, trace,
rank and pair plots of the key parameters, and the run type's own figures and tables.
For a run without posterior draws (`bayesbg.stan.write_analysis_run_dir`: ISGRI runs,
scans, deconvolution), it holds the key result, the run's checks (pass / warn / fail
with advice), its tables and figures, and what was run. Both read the ``summary.json``
conventions of `bayesbg.report.analysis` (``tables``, ``figures``, ``checks``,
``key_result``). Figures are embedded as base64, so the file needs no network access
and no other files.
"""

from __future__ import annotations

import base64
import html
import io
import json
import logging
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from bayesbg.atomic import write_text_atomic
from bayesbg.report.analysis import (
    render_checks,
    render_figures,
    render_run_info,
    render_tables,
)
from bayesbg.stan.diagnostics import ADVICE
from bayesbg.stan.rundir import CONFIG_FILE, RunDirectory, load_run

__all__ = ["render_report", "write_report"]

log = logging.getLogger(__name__)

REPORT_FILE = "report.html"
#: Largest number of scalar parameters drawn in the trace, rank and pair plots.
MAX_PLOTTED = 6

_STYLE = """
body{font-family:system-ui,sans-serif;max-width:1200px;margin:1em auto;padding:0 1em;
color:#222}h1{font-size:1.5em}h2{font-size:1.2em;border-bottom:1px solid #ddd;
margin-top:1.5em}table{border-collapse:collapse;font-size:13px;margin:.5em 0}
td,th{border:1px solid #ccc;padding:3px 7px;text-align:right}th{background:#f3f3f3}
td.name{text-align:left;font-family:monospace}.pass{color:#11791f;font-weight:bold}
.fail{color:#c00;font-weight:bold}.advice{color:#c00}pre{background:#f6f6f6;padding:.5em;
overflow-x:auto;font-size:12px}img{max-width:100%;height:auto}
.verdict-fail{background:#fde8e8;border:1px solid #c00;padding:.5em}
.verdict-pass{background:#e8f6ea;border:1px solid #11791f;padding:.5em}
.warn{color:#a35c00;font-weight:bold}.advice-warn{color:#a35c00}.advice-fail{color:#c00}
.verdict-warn{background:#fff4e0;border:1px solid #a35c00;padding:.5em}
td.text{text-align:left}.mono{font-family:monospace;word-break:break-all}
.key-result{font-size:1.1em;background:#f3f6fb;border-left:4px solid #3a6fb0;padding:.5em}
figure{margin:1em 0}figcaption{font-size:13px;color:#444}.file{color:#888}
.note{font-size:13px;color:#444}.scroll{overflow-x:auto}
table.result td{white-space:nowrap}
"""


def _png(fig: Any) -> str:
    import matplotlib.pyplot as plt  # noqa: PLC0415

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode()


def _img(data: str, alt: str) -> str:
    return f"<img alt='{html.escape(alt)}' src='data:image/png;base64,{data}'>"


def _key_variables(idata: Any) -> list[str]:
    """Posterior variables to plot: the smallest first, at most MAX_PLOTTED scalars."""
    posterior = idata.posterior
    sizes = {
        name: int(np.prod([posterior[name].sizes[d] for d in posterior[name].dims
                           if d not in ("chain", "draw")]))
        for name in posterior.data_vars
    }
    chosen, total = [], 0
    for name in sorted(sizes, key=lambda n: (sizes[n], n)):
        if total + sizes[name] > MAX_PLOTTED or sizes[name] == 0:
            continue
        chosen.append(name)
        total += sizes[name]
    return chosen


def _figures(idata: Any) -> list[tuple[str, str]]:
    import arviz as az  # noqa: PLC0415
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    names = _key_variables(idata)
    if not names:
        return []
    figures = []
    n_rows = sum(int(np.prod([idata.posterior[n].sizes[d] for d in idata.posterior[n].dims
                              if d not in ("chain", "draw")])) for n in names)
    axes = az.plot_trace(idata, var_names=names, compact=False, figsize=(11, 2.4 * n_rows))
    np.ravel(axes)[0].figure.tight_layout()
    figures.append(("Trace plots", _png(np.ravel(axes)[0].figure)))
    axes = az.plot_rank(idata, var_names=names)
    figures.append(("Rank plots (uniform when the chains mix)",
                    _png(np.ravel(axes)[0].figure)))
    if n_rows >= 2:
        axes = az.plot_pair(idata, var_names=names, kind="scatter", marginals=True,
                            divergences="diverging" in idata.sample_stats)
        figures.append(("Pair plot (divergent transitions in red)",
                        _png(np.ravel(axes)[0].figure)))
    plt.close("all")
    return figures


#: Largest number of observations drawn one by one in the data-versus-model figure.
MAX_PREDICTIVE_POINTS = 5000


def _predictive_pairs(idata: Any) -> list[tuple[str, str]]:
    """(observed, predictive) variable names: ``x`` with ``x_rep`` (or ``x``)."""
    if not (hasattr(idata, "observed_data") and hasattr(idata, "posterior_predictive")):
        return []
    predicted = set(idata.posterior_predictive.data_vars)
    pairs = []
    for name in idata.observed_data.data_vars:
        for candidate in (f"{name}_rep", name):
            if candidate in predicted:
                pairs.append((str(name), candidate))
                break
    return pairs


def _predictive_figures(idata: Any) -> list[tuple[str, str]]:
    """Observed values against the posterior predictive median and 90 % band, per bin."""
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    from matplotlib.figure import Figure  # noqa: PLC0415

    figures = []
    for observed_name, predicted_name in _predictive_pairs(idata):
        observed = np.ravel(idata.observed_data[observed_name].values).astype(float)
        draws = idata.posterior_predictive[predicted_name].values
        draws = draws.reshape(draws.shape[0] * draws.shape[1], -1).astype(float)
        if draws.shape[1] != observed.size or observed.size > MAX_PREDICTIVE_POINTS:
            continue
        low, median, high = np.quantile(draws, [0.05, 0.5, 0.95], axis=0)
        sd = draws.std(axis=0, ddof=1)
        index = np.arange(observed.size)
        fig = Figure(figsize=(11, 5.2))
        top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [2, 1]})
        top.fill_between(index, low, high, step="mid", color="tab:blue", alpha=0.3,
                         label="posterior predictive 90 % band")
        top.step(index, median, where="mid", color="tab:blue", lw=1, label="median")
        top.plot(index, observed, ".", color="k", ms=3, label=f"data ({observed_name})")
        top.set_ylabel(observed_name)
        top.legend(fontsize=8)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(sd > 0, (observed - draws.mean(axis=0)) / sd, 0.0)
        outside = int(np.count_nonzero((observed < low) | (observed > high)))
        bottom.axhline(0, color="0.5", lw=0.8)
        bottom.plot(index, z, ".", color="k", ms=3)
        bottom.set_ylabel("(data - mean) / sd")
        bottom.set_xlabel("bin")
        fig.tight_layout()
        figures.append((f"{observed_name}: data and posterior predictive, {outside} of "
                        f"{observed.size} bins outside the 90 % band", _png(fig)))
    return figures


def _truth_coverage(parameters: dict[str, dict[str, Any]]) -> list[str]:
    """The line the terminal prints: truths inside the 90 % intervals, on simulations."""
    rows = [v for v in parameters.values()
            if all(isinstance(v.get(k), int | float) for k in ("truth", "q5", "q95"))]
    if not rows:
        return []
    inside = sum(v["q5"] <= v["truth"] <= v["q95"] for v in rows)
    return [f"<p class='note'>Truth inside the 90 % interval for {inside} of {len(rows)} "
            "parameters.</p>"]


def _table(rows: dict[str, dict[str, Any]], columns: list[str]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in ["parameter", *columns])
    body = []
    for name, values in rows.items():
        cells = []
        for column in columns:
            value = values.get(column)
            cells.append(f"<td>{value:.4g}</td>" if isinstance(value, int | float)
                         else f"<td>{html.escape(str(value if value is not None else ''))}</td>")
        body.append(f"<tr><td class='name'>{html.escape(name)}</td>{''.join(cells)}</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _diagnostics(diagnostics: dict[str, Any]) -> str:
    checks = diagnostics.get("checks", {})
    passed = diagnostics.get("passed", False)
    verdict = ("<p class='verdict-pass'>All sampler checks passed.</p>" if passed else
               "<p class='verdict-fail'><b>Sampler checks FAILED</b>: do not trust these "
               "results before acting on the advice below.</p>")
    rows = []
    for name, check in checks.items():
        ok = check.get("passed")
        status = "<span class='pass'>pass</span>" if ok else "<span class='fail'>FAIL</span>"
        if check.get("note"):
            status = "n/a"
        advice = "" if ok else f"<span class='advice'>{html.escape(ADVICE.get(name, ''))}</span>"
        if check.get("note"):
            advice = html.escape(check["note"])
        value = check.get("value")
        shown = f"{value:.4g}" if isinstance(value, int | float) else html.escape(str(value))
        rows.append(
            f"<tr><td class='name'>{html.escape(check.get('label', name))}</td><td>{shown}</td>"
            f"<td>{html.escape(str(check.get('comparison', '')))} {check.get('threshold', '')}"
            f"</td><td>{status}</td><td class='name'>{html.escape(str(check.get('where') or ''))}"
            f"</td><td style='text-align:left'>{advice}</td></tr>"
        )
    return (verdict + "<table><tr><th>check</th><th>value</th><th>threshold</th>"
            "<th>status</th><th>worst</th><th>what to do</th></tr>" + "".join(rows)
            + "</table>")


def render_report(run_dir: str | Path) -> str:
    """The HTML text of the report of a finished run directory.

    Parameters
    ----------
    run_dir : path
        Written by a bayesbg fit (``summary.json``, ``posterior.nc``, ``config.toml``)
        or by `bayesbg.stan.write_analysis_run_dir` (``summary.json`` and the run's
        files).

    Returns
    -------
    str
        A complete, self-contained HTML document.
    """
    run = load_run(run_dir)
    body = _fit_body(run) if run.has_posterior else _analysis_body(run)
    title = f"bayesbg run: {run.run_type}"
    return "".join([
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        *body,
        "</body></html>\n",
    ])


def _key_result(summary: dict[str, Any]) -> list[str]:
    if not summary.get("key_result"):
        return []
    return [f"<p class='key-result' id='key-result'>{html.escape(str(summary['key_result']))}"
            "</p>"]


def _analysis_body(run: RunDirectory) -> list[str]:
    """Sections of a run without posterior draws."""
    summary = run.summary
    parts = _key_result(summary)
    parts += ["<h2 id='checks'>Checks</h2>", render_checks(summary.get("checks", []))]
    if summary.get("tables"):
        parts += ["<h2 id='tables'>Tables</h2>", render_tables(summary["tables"])]
    figures = render_figures(run.path, summary.get("figures", []))
    if figures:
        parts += ["<h2 id='figures'>Figures</h2>", figures]
    parts += ["<h2 id='run'>What was run</h2>", render_run_info(run.path, summary)]
    return parts


def _fit_body(run: RunDirectory) -> list[str]:
    """Sections of a fit: diagnostics, posterior summary, what was run, figures, plots."""
    run_dir = run.path
    summary = run.summary
    info_rows = {
        "run directory": {"value": str(Path(run_dir).resolve())},
        "created (UTC)": {"value": summary.get("created_utc", "")},
        "seed": {"value": summary.get("seed", "")},
        **{f"version: {k}": {"value": v} for k, v in summary.get("versions", {}).items()},
        **{f"input sha256: {k}": {"value": v[:16] + "..."}
           for k, v in summary.get("inputs_sha256", {}).items()},
    }
    for key in ("wall_time_s", "model", "spectral_model", "inits"):
        if key in summary:
            info_rows[key] = {"value": summary[key]}
    parameters = summary.get("parameters", {})
    columns = [c for c in ("truth", "mean", "sd", "q5", "q50", "q95", "r_hat", "ess_bulk",
                           "ess_tail") if any(c in v for v in parameters.values())]
    config_path = Path(run_dir) / CONFIG_FILE
    config_text = config_path.read_text(encoding="utf-8") if config_path.is_file() else ""
    parts = [
        *_key_result(summary),
        "<h2 id='diagnostics'>Sampler diagnostics</h2>",
        _diagnostics(summary.get("diagnostics", {})),
    ]
    if summary.get("checks"):
        parts += ["<h2 id='checks'>Checks of this run</h2>", render_checks(summary["checks"])]
    units = summary.get("units", {})
    if units:
        parameters = {name: {"unit": units.get(name.split("[")[0], ""), **values}
                      for name, values in parameters.items()}
        columns = ["unit", *columns]
    parts += [
        "<h2 id='parameters'>Posterior summary</h2>",
        _table(parameters, columns),
        *_truth_coverage(parameters),
    ]
    if summary.get("tables"):
        parts += ["<h2 id='tables'>Tables of this run</h2>", render_tables(summary["tables"])]
    parts += [
        "<h2 id='run'>What was run</h2>",
        _table(info_rows, ["value"]),
        f"<pre>{html.escape(config_text)}</pre>",
    ]
    extras = {k: v for k, v in summary.items() if k in ("chi_square", "max_likelihood")}
    if extras:
        parts.append(f"<pre>{html.escape(json.dumps(extras, indent=2))}</pre>")
    own = render_figures(Path(run_dir), summary.get("figures", []))
    if own:
        parts += ["<h2 id='figures'>Figures of this run</h2>", own]
    with warnings.catch_warnings():  # KDEs of stuck chains warn; the checks say it already
        warnings.simplefilter("ignore")  # also ArviZ 0.23 on matplotlib 3.11 deprecations
        predictive = _predictive_figures(run.inference_data)
        figures = _figures(run.inference_data)
    if predictive:
        parts.append("<h2 id='data-vs-model'>Data and model</h2>")
        for caption, data in predictive:
            parts.append(f"<h3>{html.escape(caption)}</h3>{_img(data, caption)}")
    if figures:
        parts.append("<h2 id='sampler-plots'>Sampler plots</h2>")
        for caption, data in figures:
            parts.append(f"<h3>{html.escape(caption)}</h3>{_img(data, caption)}")
    return parts


def write_report(run_dir: str | Path) -> Path:
    """Render the report and write it to ``<run_dir>/report.html`` (atomically).

    The report is derived from the run's files, so an existing one is replaced.
    """
    target = Path(run_dir) / REPORT_FILE
    write_text_atomic(target, render_report(run_dir))
    log.info("wrote %s", target)
    return target
