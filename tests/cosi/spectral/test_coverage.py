"""Coverage of the forward-folded fit over many simulated data sets (slow).

40 replications of the toy problem (12 h, ten bands, a cutoffpl at 0.05 ph cm-2 s-1 in
150-5000 keV over a background 100 times the source in the 325-480 keV band), each fitted
with NUTS (2 chains x (250 + 250)): the injected photon flux, index and cut-off lie inside
the central 90 % posterior interval in about 90 % of the replications. With 40
replications and a true coverage of 0.9 the count is below 31 with probability 0.6 %."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from bayesbg.config import SamplerConfig
from bayesbg.cosi.spectral import ForwardFoldProblem, fit_forward_folded
from bayesbg.stan import SamplerWarning

from .conftest import FLUX, TRUTH, needs_rmf, toy_problem

pytestmark = [pytest.mark.slow, pytest.mark.stan, needs_rmf]


@pytest.mark.xfail(strict=False, reason=(
    "issue 18, open: on main (2026-12-06) the photon flux's 90 % interval held the truth in "
    "30 of 40 replications (31 needed; index 40, cut-off 38); the cause, prior or "
    "the short 2 x (250 + 250) chains, is not yet measured"))
def test_ninety_percent_intervals_cover_the_truth(energy_response, spectral_model):
    truth = {"photon_flux": FLUX, **TRUTH}
    inside = {name: 0 for name in truth}
    n = 40
    config = SamplerConfig(chains=2, iter_warmup=250, iter_sampling=250)
    for seed in range(n):
        problem = toy_problem(energy_response, 1000 + seed, n_time=12)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SamplerWarning)
            result = fit_forward_folded(
                ForwardFoldProblem(problem["spectrum"], cosi=problem["counts"]),
                seed=seed + 1, config=config, model=spectral_model)
        posterior = result.inference_data.posterior
        for name, value in truth.items():
            lo, hi = np.quantile(posterior[name].values.ravel(), [0.05, 0.95])
            inside[name] += int(lo <= value <= hi)
    print("replications with the truth inside the 90 % interval:", inside, "of", n)
    for name, count in inside.items():
        assert count >= 31, f"{name}: {count} of {n}"
