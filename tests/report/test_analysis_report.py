"""Reports and the run index for run directories without posterior draws."""

from __future__ import annotations

import hashlib
import re

import matplotlib
import pytest

from bayesbg.cli import main
from bayesbg.report import compare_runs, list_runs, render_report, runs_table, write_report
from bayesbg.stan import write_analysis_run_dir

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def _figure(path):
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1, 2], [1, 0, 1])
    fig.savefig(path)
    plt.close(fig)


def _analysis(root, name, checks, key="TS = 25.3 at (l, b) = (0, 0)"):
    data = root / f"{name}.dat"
    data.write_bytes(name.encode() * 100)
    return write_analysis_run_dir(
        root / "runs" / name, run_type="cosi_scan",
        summary={
            "key_result": key,
            "tables": [{"title": "TS per position", "columns": ["l", "b", "TS", "note"],
                        "rows": [[0.0, 0.0, 25.3, "best <peak>"], [5.0, 0.0, 3.25, None]]}],
            "figures": [{"file": "ts_curve.png", "caption": "TS curve along l"}],
            "checks": checks,
        },
        files={"ts_curve.png": _figure}, inputs={"dataset": data},
        config={"step_deg": 5.0, "method": "scan"}, seed=None, wall_time_s=12.5,
    )


CHECKS_MIXED = [
    {"name": "converged", "status": "pass", "detail": "all 73 optimisations",
     "advice": "never shown"},
    {"name": "edge of the grid", "status": "warn", "detail": "peak 1 step from the edge",
     "advice": "Extend the grid."},
    {"name": "background model", "status": "fail", "detail": "chi2/dof 3.1",
     "advice": "Refine the background blocks."},
]


def test_analysis_report_shows_key_result_checks_tables_figures_and_provenance(tmp_path):
    run_dir = _analysis(tmp_path, "scan", CHECKS_MIXED)
    text = render_report(run_dir)
    assert "<title>bayesbg run: cosi_scan</title>" in text
    assert "TS = 25.3 at (l, b) = (0, 0)" in text
    assert "Checks FAILED" in text
    assert "<td class='warn'>warn</td>" in text and "<td class='fail'>FAIL</td>" in text
    assert "<td class='pass'>pass</td>" in text
    assert "Extend the grid." in text and "Refine the background blocks." in text
    assert "never shown" not in text  # no advice for passing checks
    assert "<h3>TS per position</h3>" in text and "<td>25.3</td>" in text
    assert "best &lt;peak&gt;" in text  # escaped
    assert text.count("data:image/png;base64,") == 1 and "TS curve along l" in text
    digest = hashlib.sha256(b"scan" * 100).hexdigest()
    assert digest in text and "12.5 s" in text and "&quot;step_deg&quot;: 5.0" in text
    assert "version: astropy" in text
    assert not re.search(r"(src|href)=['\"]https?://", text)  # self-contained


def test_verdict_is_warn_or_pass_when_nothing_fails(tmp_path):
    warn = render_report(_analysis(tmp_path, "w", CHECKS_MIXED[:2]))
    assert "Some checks gave warnings" in warn and "Checks FAILED" not in warn
    good = render_report(_analysis(tmp_path, "p", CHECKS_MIXED[:1]))
    assert "All checks passed." in good


def test_missing_figure_file_is_reported_not_fatal(tmp_path):
    run_dir = _analysis(tmp_path, "m", CHECKS_MIXED[:1])
    (run_dir / "ts_curve.png").unlink()
    assert "missing figure file ts_curve.png" in render_report(run_dir)


def test_run_index_lists_analysis_runs_with_key_result_and_status(tmp_path):
    _analysis(tmp_path, "bad", CHECKS_MIXED)
    _analysis(tmp_path, "warned", CHECKS_MIXED[:2], key="TS = 9.0")
    _analysis(tmp_path, "good", CHECKS_MIXED[:1], key="TS = 4.0")
    infos = {info.path.name: info for info in list_runs(tmp_path / "runs")}
    assert infos["bad"].diagnostics == "FAIL: background model"
    assert infos["warned"].diagnostics == "warn: edge of the grid"
    assert infos["good"].diagnostics == "pass"
    assert infos["warned"].key_result == "TS = 9.0" and infos["good"].run_type == "cosi_scan"
    table = runs_table(list(infos.values()))
    assert list(table.columns) == ["run", "type", "created (UTC)", "key result", "status"]


def test_cli_report_runs_and_compare_on_analysis_runs(tmp_path, capsys):
    first = _analysis(tmp_path, "a", CHECKS_MIXED[:1])
    second = _analysis(tmp_path, "b", CHECKS_MIXED[:1])
    assert main(["report", str(first)]) == 0
    assert (first / "report.html").is_file()
    assert main(["runs", str(tmp_path / "runs")]) == 0
    out = capsys.readouterr().out
    assert "cosi_scan" in out and "TS = 25.3" in out and "status" in out
    with pytest.raises(ValueError, match="no posterior draws"):
        compare_runs([first, second])
    assert write_report(second) == second / "report.html"
