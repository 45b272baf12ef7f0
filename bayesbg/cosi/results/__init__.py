"""The results page of a [COSI-511] analysis (``bayesbg cosi results``).

- :mod:`~bayesbg.cosi.results.config`: the ``[results]`` table (:class:`ResultsConfig`);
- :mod:`~bayesbg.cosi.results.collect`: the numbers of every run and the acceptance
  checks of a simulation (:func:`collect_results`);
- :mod:`~bayesbg.cosi.results.page`: the HTML page in the layout of [COSI-511] Table 3
  (:func:`render_results_page`);
- :mod:`~bayesbg.cosi.results.run`: configuration to run directory
  (:func:`run_results_config`).
"""

from bayesbg.cosi.results.collect import collect_results, read_summary
from bayesbg.cosi.results.config import ResultsConfig
from bayesbg.cosi.results.page import RESULTS_FILE, render_results_page
from bayesbg.cosi.results.run import run_results_config

__all__ = [
    "RESULTS_FILE",
    "ResultsConfig",
    "collect_results",
    "read_summary",
    "render_results_page",
    "run_results_config",
]
