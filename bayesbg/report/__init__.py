"""Reports across runs: model comparison and the run index."""

from bayesbg.report.compare import ComparisonResult, compare_runs, observed_data_digest
from bayesbg.report.html import render_report, write_report
from bayesbg.report.runs import RunInfo, list_runs, runs_table

__all__ = [
    "ComparisonResult",
    "RunInfo",
    "compare_runs",
    "list_runs",
    "observed_data_digest",
    "render_report",
    "runs_table",
    "write_report",
]
