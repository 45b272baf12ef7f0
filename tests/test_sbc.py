"""The SBC machinery on an exact conjugate posterior: uniform ranks, and a failed test for a
wrong fitted prior (the COSI NUTS version is in tests/cosi/checks/test_sbc.py)."""

from __future__ import annotations

import sys
from dataclasses import dataclass

import cloudpickle
import numpy as np
import pytest

from bayesbg.sbc import (
    PosteriorDraws,
    SbcResult,
    rank_bins,
    run_sbc,
    sbc_replication,
    thin_draws,
)

# the workers are separate processes: send this module's model by value
cloudpickle.register_pickle_by_value(sys.modules[__name__])


@dataclass(frozen=True)
class NormalMean:
    """y_i ~ N(mu, 1), i = 1..n; mu ~ N(0, prior_sd); the exact (conjugate) posterior.

    ``fit_prior_sd`` is the prior the fit assumes (a wrong one makes SBC fail).
    """

    prior_sd: float = 1.0
    fit_prior_sd: float = 1.0
    n: int = 5

    @property
    def parameter_names(self) -> tuple[str, ...]:
        return ("mu",)

    def draw_prior(self, rng):
        return {"mu": float(rng.normal(0.0, self.prior_sd))}

    def simulate(self, parameters, rng):
        return rng.normal(parameters["mu"], 1.0, self.n)

    def fit(self, data, *, seed):
        precision = 1.0 / self.fit_prior_sd**2 + data.size
        mean = data.sum() / precision
        rng = np.random.default_rng(seed)
        return PosteriorDraws({"mu": rng.normal(mean, precision**-0.5, (2, 200))})


def test_thinning_and_bins():
    draws = np.arange(1000.0).reshape(2, 500)
    thinned = thin_draws(draws, 99)
    assert thinned.size == 99 and np.all(np.diff(thinned[:50]) == 10)
    assert thinned[50] == 500.0
    with pytest.raises(ValueError, match="at least 99"):
        thin_draws(np.zeros((1, 50)), 99)
    assert rank_bins(99, 200) == 20 and rank_bins(99, 30) == 5 and rank_bins(9, 12) == 2


def test_replication_records_errors_and_ranks():
    replication = sbc_replication(NormalMean(), index=3, seed=1, n_rank_draws=99)
    assert not replication.error and 0 <= replication.ranks["mu"] <= 99
    broken = sbc_replication(NormalMean(n=-1), index=4, seed=1)
    assert broken.error.startswith("ValueError")


def _local_threads():
    from dask.distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                           dashboard_address=None)
    return cluster, Client(cluster)


def test_exact_posterior_passes_and_wrong_prior_fails():
    cluster, client = _local_threads()
    try:
        good = run_sbc(NormalMean(), n_replications=100, seed=11, scheduler=client)
        bad = run_sbc(NormalMean(prior_sd=1.0, fit_prior_sd=0.2), n_replications=100,
                      seed=11, scheduler=client)
    finally:
        client.close()
        cluster.close()
    assert isinstance(good, SbcResult) and good.n_replications == 100
    assert good.chi_square()["mu"]["p_value"] > 0.01 and good.passed()
    # a too-narrow fitted prior shrinks the posterior: the truth falls in the tails
    assert bad.chi_square()["mu"]["p_value"] < 1e-6 and not bad.passed()
