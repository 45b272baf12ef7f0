"""HTML sections from the ``summary.json`` conventions every run type can use.

``summary["tables"]``: list of ``{"title", "columns", "rows"}``;
``summary["figures"]``: list of ``{"file", "caption"}`` (PNG, SVG, JPEG or GIF files in
the run directory, embedded as base64); ``summary["checks"]``: list of ``{"name",
"status": "pass"|"warn"|"fail", "detail", "advice"}``; ``summary["key_result"]``: one
line. Written by `bayesbg.stan.write_analysis_run_dir` (runs without posterior draws) and
optionally by fits (``extra=``).
"""

from __future__ import annotations

import base64
import html
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["check_status", "render_checks", "render_figures", "render_run_info",
           "render_tables"]

_MIME = {".png": "image/png", ".svg": "image/svg+xml", ".jpg": "image/jpeg",
         ".jpeg": "image/jpeg", ".gif": "image/gif"}


def _cell(value: Any) -> str:
    if value is None:
        return "<td></td>"
    if isinstance(value, bool):
        return f"<td>{value}</td>"
    if isinstance(value, int):
        return f"<td>{value}</td>"
    if isinstance(value, float):
        return f"<td>{value:.4g}</td>" if math.isfinite(value) else "<td>n/a</td>"
    if isinstance(value, dict | list):
        value = json.dumps(value)
    return f"<td class='text'>{html.escape(str(value))}</td>"


def render_tables(tables: Sequence[Mapping[str, Any]]) -> str:
    """``summary["tables"]`` as HTML tables, one ``<h3>`` title each.

    Parameters
    ----------
    tables : sequence of mapping
        ``{"title": str, "columns": [str], "rows": [[...]]}``; optional ``"note"``.

    Returns
    -------
    str
        HTML fragment.
    """
    parts = []
    for table in tables:
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in table.get("columns", []))
        body = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>"
                       for row in table.get("rows", []))
        parts.append(f"<h3>{html.escape(str(table.get('title', '')))}</h3>"
                     f"<div class='scroll'><table class='result'><tr>{head}</tr>{body}"
                     "</table></div>")
        if table.get("note"):
            parts.append(f"<p class='note'>{html.escape(str(table['note']))}</p>")
    return "".join(parts)


def render_figures(run_dir: Path, figures: Sequence[Mapping[str, Any]],
                   *, others: bool = True) -> str:
    """The figures listed in ``summary["figures"]``, embedded, with their captions.

    Parameters
    ----------
    run_dir : `~pathlib.Path`
    figures : sequence of mapping
        ``{"file": relative path, "caption": str}``.
    others : bool
        Also embed PNG files at the top of ``run_dir`` that are not listed (captioned
        with their names). Default is True.

    Returns
    -------
    str
        HTML fragment (a note in place of a missing file).
    """
    parts = []
    listed = set()
    entries = [(str(f.get("file", "")), str(f.get("caption", ""))) for f in figures]
    for name in (str(f.get("file", "")) for f in figures):
        listed.add(Path(name).as_posix())
    if others:
        entries += [(p.name, p.stem.replace("_", " ")) for p in sorted(run_dir.glob("*.png"))
                    if p.name not in listed]
    for name, caption in entries:
        path = run_dir / name
        title = html.escape(caption or name)
        if not path.is_file():
            parts.append(f"<figure><p class='fail'>missing figure file {html.escape(name)}"
                         f"</p><figcaption>{title}</figcaption></figure>")
            continue
        mime = _MIME.get(path.suffix.lower(), "image/png")
        data = base64.b64encode(path.read_bytes()).decode()
        parts.append(f"<figure><img alt='{title}' src='data:{mime};base64,{data}'>"
                     f"<figcaption>{title} <span class='file'>({html.escape(name)})</span>"
                     "</figcaption></figure>")
    return "".join(parts)


def check_status(checks: Sequence[Mapping[str, Any]]) -> str:
    """``"pass"``, ``"warn"`` or ``"fail"``: the worst status of the checks.

    Returns ``"unknown"`` for no checks.
    """
    statuses = {str(c.get("status")) for c in checks}
    if not statuses:
        return "unknown"
    for status in ("fail", "warn"):
        if status in statuses:
            return status
    return "pass"


def render_checks(checks: Sequence[Mapping[str, Any]]) -> str:
    """``summary["checks"]`` with a verdict and pass / warn / FAIL per check.

    Parameters
    ----------
    checks : sequence of mapping
        ``{"name", "status", "detail", "advice"}``.

    Returns
    -------
    str
        HTML fragment; advice is shown for warnings and failures only.
    """
    worst = check_status(checks)
    verdict = {
        "pass": "<p class='verdict-pass'>All checks passed.</p>",
        "warn": "<p class='verdict-warn'><b>Some checks gave warnings</b>: read the advice "
                "before relying on the results concerned.</p>",
        "fail": "<p class='verdict-fail'><b>Checks FAILED</b>: do not trust the results "
                "concerned before acting on the advice below.</p>",
    }.get(worst, "<p>No checks recorded.</p>")
    rows = []
    for check in checks:
        status = str(check.get("status"))
        label = {"pass": "pass", "warn": "warn", "fail": "FAIL"}.get(status, status)
        css = status if status in ("pass", "warn", "fail") else ""
        advice = "" if status == "pass" else html.escape(str(check.get("advice") or ""))
        rows.append(
            f"<tr><td class='name'>{html.escape(str(check.get('name', '')))}</td>"
            f"<td class='{css}'>{html.escape(label)}</td>"
            f"<td class='text'>{html.escape(str(check.get('detail') or ''))}</td>"
            f"<td class='text advice-{css}'>{advice}</td></tr>"
        )
    if not rows:
        return verdict
    return (verdict + "<table><tr><th>check</th><th>status</th><th>detail</th>"
            "<th>what to do</th></tr>" + "".join(rows) + "</table>")


def render_run_info(run_dir: Path, summary: Mapping[str, Any]) -> str:
    """What was run: type, time, seed, wall time, versions, input hashes, configuration.

    Returns
    -------
    str
        HTML fragment: a two-column table and the configuration as JSON.
    """
    rows: list[tuple[str, Any]] = [
        ("run type", summary.get("run_type", summary.get("model", "fit"))),
        ("run directory", str(run_dir.resolve())),
        ("created (UTC)", summary.get("created_utc", "")),
        ("seed", summary.get("seed")),
    ]
    wall = summary.get("wall_time_s")
    if isinstance(wall, int | float):
        rows.append(("wall time", f"{wall:.1f} s"))
    rows += [(f"version: {k}", v) for k, v in summary.get("versions", {}).items()]
    rows += [(f"input sha256: {k}", v) for k, v in summary.get("inputs_sha256", {}).items()]
    if "config_sha256" in summary:
        rows.append(("config sha256", summary["config_sha256"]))
    files = summary.get("files", {})
    listed = [*files.get("extra", []), *([files["log"]] if "log" in files else [])] \
        if isinstance(files, dict) else []
    if listed:
        rows.append(("files", ", ".join(map(str, listed))))
    body = "".join(f"<tr><td class='name'>{html.escape(k)}</td>"
                   f"<td class='text mono'>{html.escape('' if v is None else str(v))}</td></tr>"
                   for k, v in rows)
    parts = [f"<table><tr><th>item</th><th>value</th></tr>{body}</table>"]
    if "config" in summary:
        parts.append("<h3>Configuration</h3><pre>"
                     f"{html.escape(json.dumps(summary['config'], indent=2))}</pre>")
    return "".join(parts)
