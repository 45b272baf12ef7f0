"""``bayesbg runs``: an index of run directories with their status at a glance."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from bayesbg.report.analysis import check_status

__all__ = ["RunInfo", "list_runs", "runs_table"]


@dataclass(frozen=True)
class RunInfo:
    """One line of the run index."""

    path: Path  #: the run directory
    run_type: str  #: model or run type recorded in summary.json
    created: str  #: creation time, UTC
    key_result: str  #: summary["key_result"], else the first parameter's mean +- sd
    diagnostics: str  #: status: "pass", "warn: <checks>", "FAIL: <checks>" or "no checks"


def _key_result(summary: dict) -> str:
    if isinstance(summary.get("key_result"), str):
        return summary["key_result"]
    parameters = summary.get("parameters")
    if isinstance(parameters, dict) and parameters:
        name, values = next(iter(parameters.items()))
        if isinstance(values, dict) and "mean" in values and "sd" in values:
            return f"{name} = {values['mean']:.4g} +- {values['sd']:.2g}"
    return ""


def _sampler_status(diagnostics: object) -> str:
    if not isinstance(diagnostics, dict) or "passed" not in diagnostics:
        return "no checks"
    if diagnostics["passed"]:
        return "pass"
    checks = diagnostics.get("checks", {})
    failed = [name for name, check in checks.items()
              if isinstance(check, dict) and check.get("passed") is False]
    return "FAIL: " + ", ".join(failed) if failed else "FAIL"


def _status(summary: dict) -> str:
    """Sampler diagnostics (fits) and the run's own checks (``summary["checks"]``)."""
    sampler = _sampler_status(summary.get("diagnostics"))
    checks = summary.get("checks")
    if not isinstance(checks, list) or not checks:
        return sampler
    checks = [c for c in checks if isinstance(c, dict)]
    worst = check_status(checks)
    named = ", ".join(str(c.get("name")) for c in checks if c.get("status") == worst)
    own = {"pass": "pass", "warn": f"warn: {named}", "fail": f"FAIL: {named}"}.get(worst,
                                                                                   "unknown")
    if sampler == "no checks":
        return own
    return "; ".join(part for part in (sampler, own) if part != "pass") or "pass"


def list_runs(directory: str | Path = "runs") -> list[RunInfo]:
    """Finished run directories (those with a ``summary.json``) below ``directory``.

    Parameters
    ----------
    directory : path
        Searched recursively; hidden (partial) directories are skipped.

    Returns
    -------
    list of RunInfo
        Newest first.
    """
    root = Path(directory)
    if not root.is_dir():
        raise FileNotFoundError(f"directory: {root} does not exist")
    infos = []
    for summary_file in root.rglob("summary.json"):
        run = summary_file.parent
        if any(part.startswith(".") for part in run.relative_to(root).parts):
            continue
        try:
            summary = json.loads(summary_file.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            infos.append(RunInfo(run, "?", "?", "unreadable summary.json", "unknown"))
            continue
        infos.append(RunInfo(
            path=run,
            run_type=str(summary.get("run_type", summary.get("model", "?"))),
            created=str(summary.get("created_utc", "?")),
            key_result=_key_result(summary),
            diagnostics=_status(summary),
        ))
    return sorted(infos, key=lambda info: info.created, reverse=True)


def runs_table(infos: list[RunInfo]) -> pd.DataFrame:
    """The index as a table for printing."""
    return pd.DataFrame(
        [{"run": str(i.path), "type": i.run_type, "created (UTC)": i.created,
          "key result": i.key_result, "status": i.diagnostics} for i in infos]
    )
