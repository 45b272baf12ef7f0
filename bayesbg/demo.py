"""``bayesbg demo``: simulate a small template-fit dataset, fit it, report against the truth."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TextIO

from bayesbg.config import SamplerConfig
from bayesbg.stan.summary import format_summary
from bayesbg.template_fit import TemplateFitResult, fit_templates, simulate_template_data

__all__ = ["run_demo"]

log = logging.getLogger(__name__)

_SUMMARY_TITLE = "Posterior summary (flux in ph cm-2 s-1, background amplitudes dimensionless)"


def run_demo(
    *,
    seed: int = 1,
    run_dir: str | Path | None = None,
    overwrite: bool = False,
    config: SamplerConfig | None = None,
    stream: TextIO | None = None,
) -> TemplateFitResult:
    """Simulate 2 sky templates and 3 background blocks over 300 bins, fit, print a report.

    Parameters
    ----------
    seed : int
        Seed of the simulation and of the sampler. Default is 1.
    run_dir : str or `~pathlib.Path`, optional
        Run directory to write. Default is ``runs/demo-<seed>``.
    overwrite : bool
        Replace an existing run directory. Default is False.
    config : `bayesbg.config.SamplerConfig`, optional
        Sampler settings. Default is ``SamplerConfig()`` (4 chains, 1000 + 1000).
    stream : file-like, optional
        Where the report goes. Default is ``sys.stdout``.

    Returns
    -------
    result : `bayesbg.template_fit.TemplateFitResult`
    """
    out = stream if stream is not None else sys.stdout
    target = Path(run_dir) if run_dir is not None else Path("runs") / f"demo-{seed}"
    data, truth = simulate_template_data(
        seed, template_names=("point_source", "diffuse")
    )
    print(
        f"Simulated {data.n_bin} bins ({data.n_template} sky templates, {data.n_block} "
        f"background blocks), {int(data.counts.sum())} counts, seed {seed}.",
        file=out,
    )
    print("Sampling the posterior with Stan (NUTS) ...", file=out, flush=True)
    result = fit_templates(
        data, seed=seed, config=config, run_dir=target, overwrite=overwrite, truth=truth
    )
    print("", file=out)
    print(format_summary(result.summary, title=_SUMMARY_TITLE), file=out)
    print("", file=out)
    print(result.diagnostics.render(), file=out)
    print("", file=out)
    print(f"Run directory: {result.run_dir}", file=out)
    return result
