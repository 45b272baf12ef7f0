"""Simulation-based calibration (SBC) of a Bayesian fit (Talts et al. 2018, arXiv:1804.06788).

One replication draws parameters ``theta ~ p(theta)`` from the prior, simulates data
``y ~ p(y | theta)`` from the model's own generative process, fits ``y`` (NUTS), thins the
posterior draws to ``L`` roughly independent ones and records, per tracked scalar, the rank
``#{l : theta_l < theta}`` in ``0 .. L``. If the fit is the exact posterior of the same
model, every rank is uniform on ``0 .. L`` (the data-averaged posterior is the prior).
The ranks of many replications are binned and tested with Pearson's chi-square test;
:func:`plot_sbc` shows the rank histograms and the ECDF differences with 99 % bands.

Replications are independent and run through `dask.distributed` (a `LocalCluster` of
single-threaded worker processes by default, or a scheduler address). A model is any
picklable object with the :class:`SbcModel` methods; see `bayesbg.cosi.checks.sbc` for the COSI
template fit.
"""

from __future__ import annotations

import json
import logging
import secrets
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from bayesbg.atomic import atomic_file, write_text_atomic
from bayesbg.parallel import dask_client

__all__ = [
    "PosteriorDraws",
    "SbcModel",
    "SbcReplication",
    "SbcResult",
    "plot_sbc",
    "rank_bins",
    "run_sbc",
    "sbc_replication",
    "thin_draws",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class PosteriorDraws:
    """Posterior draws of one SBC fit.

    Attributes
    ----------
    draws : mapping of str to `numpy.ndarray`, shape (n_chain, n_draw) each
        Draws of each tracked scalar, by name.
    n_divergent : int
        Divergent transitions after warm-up (0 if not applicable).
    """

    draws: Mapping[str, NDArray[np.float64]]
    n_divergent: int = 0


@runtime_checkable
class SbcModel(Protocol):
    """What :func:`run_sbc` needs of a model (a picklable object).

    ``parameter_names`` are the scalars whose ranks are recorded; ``draw_prior`` returns
    a value for each of them (and any others ``simulate`` needs); ``fit`` returns their
    posterior draws for simulated data.
    """

    @property
    def parameter_names(self) -> tuple[str, ...]:
        """Tracked scalar parameters."""
        ...

    def draw_prior(self, rng: np.random.Generator) -> Mapping[str, float]:
        """One draw of every parameter from the prior, by scalar name."""
        ...

    def simulate(self, parameters: Mapping[str, float], rng: np.random.Generator) -> Any:
        """Data simulated from the model's generative process at ``parameters``."""
        ...

    def fit(self, data: Any, *, seed: int) -> PosteriorDraws:
        """Posterior draws of the tracked parameters given ``data``."""
        ...


@dataclass(frozen=True, eq=False)
class SbcReplication:
    """One SBC replication: true values, ranks and the effective sample size per parameter.

    Attributes
    ----------
    index : int
    truth, ranks, ess : dict of str
        True value, rank in ``0 .. n_rank_draws`` and bulk ESS of the unthinned draws.
    n_divergent : int
    seconds : float
        Wall time of the replication, s.
    error : str
        Empty, or the error that stopped the replication.
    """

    index: int
    truth: dict[str, float] = field(default_factory=dict)
    ranks: dict[str, int] = field(default_factory=dict)
    ess: dict[str, float] = field(default_factory=dict)
    n_divergent: int = 0
    seconds: float = 0.0
    error: str = ""


@dataclass(frozen=True, eq=False)
class SbcResult:
    """Ranks of all replications and their uniformity tests; see :func:`run_sbc`.

    Attributes
    ----------
    parameter_names : tuple of str
    ranks : `numpy.ndarray` of int, shape (n_ok, n_parameter)
        Ranks in ``0 .. n_rank_draws`` of the successful replications.
    truth : `numpy.ndarray`, shape (n_ok, n_parameter)
    ess : `numpy.ndarray`, shape (n_ok, n_parameter)
        Bulk effective sample size of each fit's unthinned draws.
    n_divergent : `numpy.ndarray` of int, shape (n_ok,)
    n_rank_draws : int
        ``L``, thinned draws per fit.
    failures : tuple of str
        ``"index: error"`` of the replications that failed (not in ``ranks``).
    wall_time_s : float
    seed : int
    """

    parameter_names: tuple[str, ...]
    ranks: NDArray[np.int64]
    truth: NDArray[np.float64]
    ess: NDArray[np.float64]
    n_divergent: NDArray[np.int64]
    n_rank_draws: int
    failures: tuple[str, ...]
    wall_time_s: float
    seed: int

    @property
    def n_replications(self) -> int:
        """Successful replications."""
        return int(self.ranks.shape[0])

    def chi_square(self, *, n_bins: int | None = None) -> dict[str, dict[str, float]]:
        """Pearson's chi-square test of uniform ranks, per parameter.

        Parameters
        ----------
        n_bins : int, optional
            Rank bins; must divide ``n_rank_draws + 1``. Default :func:`rank_bins`.

        Returns
        -------
        tests : dict of str to dict
            ``{"chi2", "dof", "p_value", "n_bins"}`` per parameter.
        """
        bins = n_bins if n_bins is not None else rank_bins(self.n_rank_draws,
                                                           self.n_replications)
        counts = self.histogram(n_bins=bins)
        tests = {}
        for j, name in enumerate(self.parameter_names):
            result = stats.chisquare(counts[:, j])
            tests[name] = {"chi2": float(result.statistic), "dof": bins - 1,
                           "p_value": float(result.pvalue), "n_bins": bins}
        return tests

    def histogram(self, *, n_bins: int) -> NDArray[np.int64]:
        """Rank counts per bin, shape (n_bins, n_parameter)."""
        width = _bin_width(self.n_rank_draws, n_bins)
        return np.stack([np.bincount(self.ranks[:, j] // width, minlength=n_bins)
                         for j in range(len(self.parameter_names))], axis=1)

    def passed(self, *, alpha: float = 0.01, n_bins: int | None = None) -> bool:
        """True when no parameter's chi-square p-value is below ``alpha`` (default 0.01)."""
        return all(t["p_value"] >= alpha for t in self.chi_square(n_bins=n_bins).values())

    def to_dict(self, *, n_bins: int | None = None) -> dict[str, Any]:
        """JSON-ready summary: sizes, tests, ESS and divergences, wall time."""
        return {
            "n_replications": self.n_replications,
            "n_failed": len(self.failures),
            "failures": list(self.failures),
            "n_rank_draws": self.n_rank_draws,
            "seed": self.seed,
            "wall_time_s": self.wall_time_s,
            "chi_square": self.chi_square(n_bins=n_bins),
            "min_ess": {name: float(self.ess[:, j].min()) if self.ess.size else None
                        for j, name in enumerate(self.parameter_names)},
            "fits_with_divergences": int(np.count_nonzero(self.n_divergent)),
        }

    def write_json(self, path: str | Path) -> Path:
        """Write :meth:`to_dict` plus the ranks to ``path``, atomically."""
        payload = {**self.to_dict(), "parameter_names": list(self.parameter_names),
                   "ranks": self.ranks.tolist()}
        return write_text_atomic(path, json.dumps(payload, indent=1) + "\n")


def rank_bins(n_rank_draws: int, n_replications: int, *, max_bins: int = 20,
              min_expected: float = 5.0) -> int:
    """Most bins (dividing ``n_rank_draws + 1``, at most ``max_bins``) with enough counts.

    Parameters
    ----------
    n_rank_draws : int
        ``L``; ranks take ``L + 1`` values.
    n_replications : int
    max_bins : int
        Upper limit. Default is 20.
    min_expected : float
        Least expected count per bin. Default is 5.

    Returns
    -------
    n_bins : int
    """
    best = 1
    for bins in range(1, max_bins + 1):
        if (n_rank_draws + 1) % bins == 0 and n_replications / bins >= min_expected:
            best = bins
    return best


def thin_draws(draws: NDArray[np.float64], n_keep: int) -> NDArray[np.float64]:
    """``n_keep`` draws spread evenly over every chain (thinning towards independence).

    Each chain is thinned with the same stride ``floor(n_chain n_draw / n_keep)``; the
    thinned chains are concatenated and the first ``n_keep`` draws kept.

    Parameters
    ----------
    draws : array_like, shape (n_chain, n_draw)
    n_keep : int

    Returns
    -------
    thinned : `numpy.ndarray`, shape (n_keep,)

    Raises
    ------
    ValueError
        If there are fewer than ``n_keep`` draws.
    """
    draws = np.asarray(draws, dtype=np.float64)
    if draws.ndim == 1:
        draws = draws[None, :]
    if draws.ndim != 2 or draws.size < n_keep:
        raise ValueError(f"draws: expected (n_chain, n_draw) with at least {n_keep} draws, "
                         f"found shape {draws.shape}")
    stride = max(1, draws.size // n_keep)
    return draws[:, ::stride].reshape(-1)[:n_keep]


def sbc_replication(
    model: SbcModel,
    *,
    index: int,
    seed: np.random.SeedSequence | int,
    n_rank_draws: int = 99,
) -> SbcReplication:
    """Run one replication: prior draw, simulation, fit, ranks.

    Ties between a draw and the true value (possible for discrete or clipped draws) are
    broken at random, so ranks stay uniform.

    Parameters
    ----------
    model : `SbcModel`
    index : int
        Replication number (for the record).
    seed : `numpy.random.SeedSequence` or int
        Seed of the prior draw, the simulation and the fit.
    n_rank_draws : int
        ``L``: thinned posterior draws per fit. Default is 99 (100 rank values).

    Returns
    -------
    replication : `SbcReplication`
        With ``error`` set (and no ranks) if any step raised.
    """
    import arviz as az

    start = time.perf_counter()
    try:
        rng = np.random.default_rng(seed)
        parameters = dict(model.draw_prior(rng))
        data = model.simulate(parameters, rng)
        posterior = model.fit(data, seed=int(rng.integers(1, 2**31 - 1)))
        truth, ranks, ess = {}, {}, {}
        for name in model.parameter_names:
            draws = np.asarray(posterior.draws[name], dtype=np.float64)
            if draws.ndim == 1:
                draws = draws[None, :]
            thinned = thin_draws(draws, n_rank_draws)
            value = float(parameters[name])
            ties = int(np.count_nonzero(thinned == value))
            ranks[name] = int(np.count_nonzero(thinned < value)) + int(rng.integers(0, ties + 1))
            truth[name] = value
            split = draws.reshape(2, -1) if draws.shape[0] == 1 and draws.size % 2 == 0 \
                else draws  # one chain: its two halves (ArviZ wants >= 2 chains)
            ess[name] = float(az.ess(split, method="bulk"))
        return SbcReplication(index=index, truth=truth, ranks=ranks, ess=ess,
                              n_divergent=int(posterior.n_divergent),
                              seconds=time.perf_counter() - start)
    except Exception as err:  # noqa: BLE001 - recorded; the other replications go on
        return SbcReplication(index=index, seconds=time.perf_counter() - start,
                              error=f"{type(err).__name__}: {err}")


def run_sbc(
    model: SbcModel,
    *,
    n_replications: int,
    seed: int,
    n_rank_draws: int = 99,
    workers: int = 2,
    scheduler: Any = None,
    show_progress: bool | None = None,
) -> SbcResult:
    """Simulation-based calibration: ``n_replications`` independent replications in parallel.

    Parameters
    ----------
    model : `SbcModel`
        Picklable; sent to every worker once.
    n_replications : int
        Replications (at least 2; 200 or more for a meaningful test).
    seed : int
        Seed of the whole run; replication ``i`` uses the ``i``-th spawned child.
    n_rank_draws : int
        ``L``, thinned posterior draws per fit. Default is 99. The fit must return at
        least this many draws; for nearly independent draws, several times more.
    workers : int
        Worker processes of the local cluster (one thread each). Default is 2.
    scheduler : str or `dask.distributed.Client`, optional
        Address of a running Dask scheduler, or a client. Default: a `LocalCluster`.
    show_progress : bool or None
        tqdm bar over finished replications; None (default) only when stderr is a
        terminal.

    Returns
    -------
    result : `SbcResult`

    Raises
    ------
    TypeError
        If ``model`` lacks the `SbcModel` methods.
    ValueError
        On invalid counts, or if every replication failed.
    """
    from dask.distributed import as_completed
    from tqdm.auto import tqdm

    if not isinstance(model, SbcModel):
        raise TypeError(f"model: expected an SbcModel (parameter_names, draw_prior, simulate, "
                        f"fit), found {type(model).__name__}")
    for name, value, minimum in (("n_replications", n_replications, 2),
                                 ("n_rank_draws", n_rank_draws, 1), ("workers", workers, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ValueError(f"{name}: expected an integer >= {minimum}, found {value!r}")
    names = tuple(model.parameter_names)
    children = np.random.SeedSequence(seed).spawn(n_replications)
    if show_progress is None:
        show_progress = sys.stderr.isatty()
    start = time.perf_counter()
    replications: list[SbcReplication] = []
    with dask_client(scheduler, workers=workers) as client:
        shared = client.scatter(model, broadcast=True)
        futures = [client.submit(sbc_replication, shared, index=i, seed=child,
                                 n_rank_draws=n_rank_draws, pure=False,
                                 key=f"sbc-{i}-{secrets.token_hex(4)}")
                   for i, child in enumerate(children)]
        with tqdm(total=n_replications, desc="SBC", unit="fit",
                  disable=not show_progress) as bar:
            for future in as_completed(futures):
                replications.append(future.result())
                bar.update(1)
    replications.sort(key=lambda r: r.index)
    ok = [r for r in replications if not r.error]
    failures = tuple(f"{r.index}: {r.error}" for r in replications if r.error)
    for failure in failures:
        log.warning("SBC replication %s", failure)
    if not ok:
        raise ValueError(f"model: every SBC replication failed, e.g. {failures[0]}")
    result = SbcResult(
        parameter_names=names,
        ranks=np.array([[r.ranks[n] for n in names] for r in ok], dtype=np.int64),
        truth=np.array([[r.truth[n] for n in names] for r in ok], dtype=np.float64),
        ess=np.array([[r.ess[n] for n in names] for r in ok], dtype=np.float64),
        n_divergent=np.array([r.n_divergent for r in ok], dtype=np.int64),
        n_rank_draws=n_rank_draws, failures=failures,
        wall_time_s=time.perf_counter() - start, seed=seed,
    )
    low_ess = int(np.count_nonzero(result.ess.min(axis=1) < n_rank_draws))
    if low_ess:
        log.warning("SBC: %d of %d fits have a bulk ESS below L = %d; thinned draws are "
                    "correlated there", low_ess, len(ok), n_rank_draws)
    log.info("SBC: %d replications in %.0f s, chi-square p-values %s", len(ok),
             result.wall_time_s,
             {k: round(v["p_value"], 4) for k, v in result.chi_square().items()})
    return result


def plot_sbc(
    result: SbcResult,
    *,
    path: str | Path | None = None,
    n_bins: int | None = None,
    level: float = 0.99,
) -> Any:
    """Rank histograms (top) and ECDF differences (bottom) per parameter, with bands.

    The histogram band is the central ``level`` interval of a bin count under
    uniformity (binomial); the ECDF panel shows ``ECDF(u) - u`` of the normalised ranks
    with the pointwise ``level`` band of a uniform sample of the same size.

    Parameters
    ----------
    result : `SbcResult`
    path : str or `~pathlib.Path`, optional
        Write a PNG there (atomically) and close the figure.
    n_bins : int, optional
        Histogram bins. Default :func:`rank_bins`.
    level : float
        Band probability. Default is 0.99.

    Returns
    -------
    fig : `matplotlib.figure.Figure`
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n_par = len(result.parameter_names)
    n = result.n_replications
    bins = n_bins if n_bins is not None else rank_bins(result.n_rank_draws, n)
    counts = result.histogram(n_bins=bins)
    tests = result.chi_square(n_bins=bins)
    tail = 0.5 * (1 - level)
    low, high = stats.binom.ppf([tail, 1 - tail], n, 1.0 / bins)
    fig, axes = plt.subplots(2, n_par, figsize=(2.6 * n_par + 0.8, 5.2), squeeze=False)
    grid = np.linspace(0, 1, 201)
    band_low = stats.binom.ppf(tail, n, grid) / n - grid
    band_high = stats.binom.ppf(1 - tail, n, grid) / n - grid
    scaled = (result.ranks + 0.5) / (result.n_rank_draws + 1)
    for j, name in enumerate(result.parameter_names):
        top, bottom = axes[0, j], axes[1, j]
        top.axhspan(low, high, color="0.85", lw=0)
        top.axhline(n / bins, color="0.5", lw=0.8)
        top.bar(np.arange(bins), counts[:, j], width=1.0, color="tab:blue", alpha=0.8)
        top.set_title(f"{name}\nchi2 p = {tests[name]['p_value']:.3f}", fontsize=8)
        top.set_xlabel(f"rank bin ({bins} bins)", fontsize=8)
        top.tick_params(labelsize=7)
        ecdf = np.searchsorted(np.sort(scaled[:, j]), grid, side="right") / n
        bottom.fill_between(grid, band_low, band_high, color="0.85", lw=0)
        bottom.axhline(0, color="0.5", lw=0.8)
        bottom.plot(grid, ecdf - grid, color="tab:blue", lw=1)
        bottom.set_xlabel("normalised rank", fontsize=8)
        bottom.tick_params(labelsize=7)
    axes[0, 0].set_ylabel("replications", fontsize=8)
    axes[1, 0].set_ylabel("ECDF - uniform", fontsize=8)
    fig.suptitle(f"Simulation-based calibration: {n} replications, L = {result.n_rank_draws}, "
                 f"{100 * level:.0f} % bands", fontsize=9)
    fig.tight_layout()
    if path is not None:
        with atomic_file(path, keep_suffix=True) as partial:
            fig.savefig(partial, dpi=100)
        plt.close(fig)
    return fig


def _bin_width(n_rank_draws: int, n_bins: int) -> int:
    if (n_rank_draws + 1) % n_bins:
        raise ValueError(f"n_bins: expected a divisor of n_rank_draws + 1 = "
                         f"{n_rank_draws + 1}, found {n_bins}")
    return (n_rank_draws + 1) // n_bins
