"""Model comparison across run directories: PSIS-LOO, WAIC, AIC and BIC.

``bayesbg compare RUN_DIR...`` ranks fits of the *same data* by their expected log
predictive density (PSIS-LOO, Vehtari, Gelman & Gabry 2017) with standard errors of
the differences and stacking weights (``az.compare``), and adds WAIC, and AIC / BIC
at the maximum of the likelihood:

    AIC = 2 k - 2 ln L_max,    BIC = k ln n - 2 ln L_max

with k the number of parameters and n the number of pointwise log-likelihood terms.
``ln L_max`` is the maximum-likelihood value a run recorded (``max_log_likelihood`` in
``summary.json``, or ``max_likelihood.log_likelihood`` with its ``n_parameters``, from
an optimisation) or, failing that, the largest total
log-likelihood over the posterior draws (a lower bound, flagged in the table).
Runs whose observed data differ are refused: their log-likelihoods are not comparable.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json
import logging
import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import arviz as az
import numpy as np
import pandas as pd

from bayesbg.atomic import write_text_atomic
from bayesbg.stan.rundir import load_run

__all__ = ["ComparisonResult", "compare_runs", "observed_data_digest"]

log = logging.getLogger(__name__)

#: Pareto k above which PSIS-LOO is unreliable for that observation.
PARETO_K_BAD = 0.7


def observed_data_digest(idata: az.InferenceData) -> str:
    """SHA-256 over the ``observed_data`` group (names, shapes and values)."""
    if "observed_data" not in idata.groups():
        raise ValueError("run has no observed_data group: cannot check it fits the same data")
    digest = hashlib.sha256()
    for name in sorted(idata.observed_data.data_vars):
        values = np.ascontiguousarray(idata.observed_data[name].values)
        digest.update(name.encode() + str(values.shape).encode() + values.tobytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class ComparisonResult:
    """Table of the compared runs, best first.

    Attributes
    ----------
    table : `pandas.DataFrame`
        One row per run: elpd_loo, se, p_loo, elpd_diff, dse, weight (stacking),
        pareto_k_bad (count of k > 0.7), elpd_waic, p_waic, log_lik_max, lnL_source,
        n_parameters, n_observations, AIC, BIC, dAIC, dBIC.
    warnings : list of str
        Problems to show the user (high Pareto k, WAIC warnings, missing maxima).
    """

    table: pd.DataFrame
    warnings: list[str]

    def to_text(self) -> str:
        """The table and the warnings as plain text."""
        shown = self.table.copy()
        text = shown.to_string(float_format=lambda v: f"{v:.2f}")
        if self.warnings:
            text += "\n\nWarnings:\n" + "\n".join(f"  - {w}" for w in self.warnings)
        return text

    def write(self, out_dir: str | Path, *, overwrite: bool = False) -> list[Path]:
        """Write ``comparison.csv``, ``comparison.json`` and ``comparison.html``.

        Each file is written to a temporary name and renamed; existing files are
        kept unless ``overwrite``.
        """
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        files = {
            "comparison.csv": self.table.to_csv(),
            "comparison.json": json.dumps(
                {"runs": json.loads(self.table.to_json(orient="index")),
                 "warnings": self.warnings}, indent=2) + "\n",
            "comparison.html": self._html(),
        }
        existing = [name for name in files if (out / name).exists()]
        if existing and not overwrite:
            raise FileExistsError(
                f"{out}: {', '.join(existing)} exist; use --overwrite to replace them"
            )
        written = []
        for name, content in files.items():
            written.append(write_text_atomic(out / name, content))
        return written

    def _html(self) -> str:
        import matplotlib  # noqa: PLC0415

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # noqa: PLC0415

        fig, ax = plt.subplots(figsize=(7, 0.6 * len(self.table) + 1.5))
        order = self.table.index[::-1]
        y = np.arange(len(order))
        ax.errorbar(self.table.loc[order, "elpd_loo"], y, xerr=self.table.loc[order, "se"],
                    fmt="o", color="k", label="elpd_loo +- se")
        best = self.table["elpd_loo"].iloc[0]
        ax.errorbar(best - self.table.loc[order, "elpd_diff"], y - 0.15,
                    xerr=self.table.loc[order, "dse"], fmt="^", color="tab:blue",
                    label="best - difference, +- se of the difference")
        ax.axvline(best, color="0.6", ls="--")
        ax.set_yticks(y, [str(name) for name in order])
        ax.set_xlabel("expected log predictive density (PSIS-LOO)")
        ax.legend(loc="lower left", fontsize=8)
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=110)
        plt.close(fig)
        image = base64.b64encode(buffer.getvalue()).decode()
        warning_items = "".join(f"<li>{html.escape(w)}</li>" for w in self.warnings)
        return (
            "<!DOCTYPE html><html><head><meta charset='utf-8'><title>bayesbg model "
            "comparison</title><style>body{font-family:sans-serif;max-width:1100px;"
            "margin:1em auto}table{border-collapse:collapse;font-size:13px}"
            "td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}"
            ".warn{color:#b00}</style></head><body><h1>Model comparison</h1>"
            f"{self.table.to_html(float_format=lambda v: f'{v:.2f}')}"
            f"<ul class='warn'>{warning_items}</ul>"
            f"<img alt='comparison plot' src='data:image/png;base64,{image}'>"
            "</body></html>\n"
        )


def _log_lik_name(idata: az.InferenceData, run: Path) -> str:
    if "log_likelihood" not in idata.groups() or not idata.log_likelihood.data_vars:
        raise ValueError(f"{run}: no log_likelihood group; PSIS-LOO needs pointwise values")
    names = list(idata.log_likelihood.data_vars)
    if len(names) != 1:
        raise ValueError(f"{run}: several log-likelihood variables {names}; expected one")
    return names[0]


def compare_runs(run_dirs: list[str | Path], *, names: list[str] | None = None
                 ) -> ComparisonResult:
    """Compare fits of the same data.

    Parameters
    ----------
    run_dirs : list of path
        At least two finished run directories (``posterior.nc`` with a
        ``log_likelihood`` and an ``observed_data`` group, ``summary.json``).
    names : list of str, optional
        Labels; default the directory names.

    Returns
    -------
    ComparisonResult

    Raises
    ------
    ValueError
        Fewer than two runs, duplicate labels, a run without pointwise
        log-likelihood, or runs fitted to different data.
    """
    if len(run_dirs) < 2:
        raise ValueError(f"run_dirs: need at least two runs to compare, found {len(run_dirs)}")
    labels = names or [Path(p).resolve().name for p in run_dirs]
    if len(set(labels)) != len(labels):
        raise ValueError(f"names: labels must be unique, found {labels}")
    runs = [load_run(p) for p in run_dirs]
    for run in runs:
        if not run.has_posterior:
            raise ValueError(f"{run.path}: a {run.run_type} run has no posterior draws and no "
                             "pointwise log-likelihood; compare needs fits (posterior.nc)")
    digests = {label: observed_data_digest(run.inference_data) for label, run in zip(
        labels, runs, strict=True)}
    if len(set(digests.values())) > 1:
        groups: dict[str, list[str]] = {}
        for label, digest in digests.items():
            groups.setdefault(digest[:12], []).append(label)
        raise ValueError(
            "runs were fitted to different data (observed_data differs): "
            + "; ".join(f"{', '.join(v)} (data {k})" for k, v in groups.items())
            + ". Their log-likelihoods cannot be compared."
        )
    messages: list[str] = []
    compare_input = {}
    rows = {}
    for label, run in zip(labels, runs, strict=True):
        idata = run.inference_data
        variable = _log_lik_name(idata, run.path)
        compare_input[label] = idata
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            loo = az.loo(idata, var_name=variable, pointwise=True)
            waic = az.waic(idata, var_name=variable)
        for w in caught:
            messages.append(f"{label}: {w.message}")
        k_bad = int(np.sum(np.asarray(loo.pareto_k) > PARETO_K_BAD))
        if k_bad:
            messages.append(f"{label}: {k_bad} observations with Pareto k > {PARETO_K_BAD}; "
                            "PSIS-LOO is unreliable there (consider K-fold or moment matching)")
        log_lik = idata.log_likelihood[variable]
        pointwise_dims = [d for d in log_lik.dims if d not in ("chain", "draw")]
        n_obs = int(np.prod([log_lik.sizes[d] for d in pointwise_dims]))
        totals = log_lik.sum(dim=pointwise_dims).values
        summary = run.summary
        optimum = summary.get("max_likelihood") or {}  # {"log_likelihood", "n_parameters"}
        n_par = int(optimum.get("n_parameters", summary.get(
            "n_parameters", len(summary.get("parameters", {})))))
        recorded = optimum.get("log_likelihood", summary.get("max_log_likelihood"))
        if recorded is not None:
            lnl, source = float(recorded), "optimum"
        else:
            lnl, source = float(np.max(totals)), "best draw"
            messages.append(f"{label}: no maximum-likelihood value recorded; AIC/BIC use the "
                            "best posterior draw (an upper bound on AIC)")
        rows[label] = {
            "pareto_k_bad": k_bad,
            "elpd_waic": float(waic.elpd_waic),
            "p_waic": float(waic.p_waic),
            "log_lik_max": lnl,
            "lnL_source": source,
            "n_parameters": n_par,
            "n_observations": n_obs,
            "AIC": 2 * n_par - 2 * lnl,
            "BIC": n_par * math.log(n_obs) - 2 * lnl,
        }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ranking = az.compare(compare_input, ic="loo", method="stacking")
    table = ranking[["elpd_loo", "se", "p_loo", "elpd_diff", "dse", "weight"]].join(
        pd.DataFrame.from_dict(rows, orient="index")
    )
    table["dAIC"] = table["AIC"] - table["AIC"].min()
    table["dBIC"] = table["BIC"] - table["BIC"].min()
    table.index.name = "run"
    return ComparisonResult(table=table, warnings=messages)
