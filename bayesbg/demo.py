"""``bayesbg demo``: simulate a small template-fit dataset, fit it, report against the truth."""

from __future__ import annotations

import logging
import math
import sys
from pathlib import Path
from typing import TextIO

import pandas as pd

from bayesbg.config import SamplerConfig
from bayesbg.template_fit import TemplateFitResult, fit_templates, simulate_template_data

__all__ = ["format_summary", "run_demo"]

log = logging.getLogger(__name__)


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
    print(format_summary(result.summary), file=out)
    print("", file=out)
    print(result.diagnostics.render(), file=out)
    print("", file=out)
    print(f"Run directory: {result.run_dir}", file=out)
    return result


def format_summary(summary: pd.DataFrame) -> str:
    """Fixed-width text of a summary table (as from `bayesbg.stan.parameter_summary`).

    Parameters
    ----------
    summary : `pandas.DataFrame`
        With columns ``mean, sd, q5, q95, r_hat, ess_bulk`` and optionally ``truth``.

    Returns
    -------
    text : str
        One line per parameter, a header, and with ``truth`` a count of truths inside
        the 90 % intervals. Fluxes are in ph cm-2 s-1, amplitudes dimensionless.
    """
    has_truth = "truth" in summary.columns
    header = f"{'parameter':<28}"
    if has_truth:
        header += f" {'truth':>10}"
    header += (f" {'mean':>10} {'sd':>10} {'5%':>10} {'95%':>10} {'R-hat':>7} "
               f"{'ESS bulk':>9} {'ESS tail':>9}")
    lines = ["Posterior summary (flux in ph cm-2 s-1, background amplitudes dimensionless)",
             header]
    inside = 0
    for label, row in summary.iterrows():
        line = f"{label!s:<28}"
        if has_truth:
            line += f" {_number(row['truth']):>10}"
            inside += int(row["q5"] <= row["truth"] <= row["q95"])
        line += (
            f" {_number(row['mean']):>10} {_number(row['sd']):>10} {_number(row['q5']):>10}"
            f" {_number(row['q95']):>10} {row['r_hat']:>7.3f} {row['ess_bulk']:>9.0f}"
            f" {row['ess_tail']:>9.0f}"
        )
        lines.append(line)
    if has_truth:
        lines.append(f"Truth inside the 90 % interval for {inside} of {len(summary)} parameters.")
    return "\n".join(lines)


def _number(value: float) -> str:
    if not math.isfinite(value):
        return "-"
    if value != 0 and (abs(value) < 1e-2 or abs(value) >= 1e4):
        return f"{value:.3e}"
    return f"{value:.4f}"
