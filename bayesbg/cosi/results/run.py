"""``bayesbg cosi results CONFIG``: the results page of a [COSI-511] analysis in a run directory."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

from bayesbg.cosi.results.collect import collect_results
from bayesbg.cosi.results.config import ResultsConfig
from bayesbg.cosi.results.page import RESULTS_FILE, render_results_page
from bayesbg.stan import check_run_dir, write_analysis_run_dir

__all__ = ["run_results_config"]

log = logging.getLogger(__name__)


def run_results_config(path: str | Path, *, run_dir: str | Path | None = None,
                       overwrite: bool = False) -> tuple[dict[str, Any], Path]:
    """Collect the analysis' runs, judge the checks, write ``results.html`` and its run.

    Parameters
    ----------
    path : str or `~pathlib.Path`
        The analysis' COSI configuration (with ``[results]``).
    run_dir : str or `~pathlib.Path`, optional
        Default ``[results] run_dir``.
    overwrite : bool

    Returns
    -------
    results : dict
        :func:`~bayesbg.cosi.results.collect_results`.
    run_dir : `~pathlib.Path`
    """
    started = time.perf_counter()
    config = ResultsConfig.read(path)
    target = Path(run_dir) if run_dir is not None else config.run_dir
    assert target is not None
    check_run_dir(target, overwrite=overwrite)
    results = collect_results(config)
    page = render_results_page(results, target)
    failed = [c["name"] for c in results["checks"] if c["status"] != "pass"]
    summary = {
        "key_result": f"chosen model {results['sky_models']['chosen']}; "
                      f"{len(results['checks']) - len(failed)} of {len(results['checks'])} "
                      "checks pass",
        "checks": [{**check, "advice": "" if check["status"] == "pass" else
                    "see results.html and the run directories it links"}
                   for check in results["checks"]],
        "results_page": RESULTS_FILE,
        "runs": results["runs"],
    }
    inputs: dict[str, str | Path] = {"dataset": config.sky_models.fit.dataset,
                                     "config": Path(path)}
    written = write_analysis_run_dir(
        target, run_type="cosi_511_results", summary=summary,
        files={RESULTS_FILE: page.encode(),
               "results.json": (json.dumps(results, indent=1, default=str) + "\n").encode()},
        inputs=inputs, config={"results": config.to_dict()}, seed=None, overwrite=overwrite,
        wall_time_s=time.perf_counter() - started)
    return results, written
