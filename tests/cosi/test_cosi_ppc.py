"""Per-time-bin posterior predictive checks flag a misspecified background, not a correct one."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from bayesbg.config import SamplerConfig
from bayesbg.cosi import (
    bayesian_blocks,
    build_background_model,
    equidistant_blocks,
    fit_cosi,
    merge_blocks,
    prepare_fit_data,
    simulate_cosi,
)
from bayesbg.cosi.ppc import time_predictive_check


def test_check_counts_bins_outside_the_band():
    rng = np.random.default_rng(2)
    replicates = rng.poisson(1000.0, size=(2000, 300))
    observed = rng.poisson(1000.0, size=300).astype(float)
    adequate = time_predictive_check(observed=observed, replicates=replicates)
    assert adequate.fraction_outside < 0.04 and not adequate.flagged()
    assert abs(np.mean(adequate.z_scores)) < 0.3
    shifted = time_predictive_check(observed=observed * 1.1, replicates=replicates)
    assert shifted.fraction_outside > 0.5 and shifted.flagged()
    with pytest.raises(ValueError, match="replicates: expected shape"):
        time_predictive_check(observed=observed[:10], replicates=replicates)


@pytest.mark.stan
def test_predictive_check_flags_misspecified_background(cosi_model):
    dataset, _ = simulate_cosi(31, n_time=240, bin_size=30.0, instrument_nside=4,
                               sky_nside=16, n_change_points=2)
    correct_blocks = merge_blocks(
        equidistant_blocks(dataset.n_time, 8),
        bayesian_blocks(dataset.counts_per_time(), dataset.time_edges, sigma=3.0,
                        tracer=dataset.tracers["photo_event_rate"]),
    )
    correct = build_background_model(dataset, blocks=correct_blocks, tracer="photo_event_rate")
    # a flat tracer misses the altitude-driven swings and the untracked jumps
    wrong = build_background_model(dataset, blocks=equidistant_blocks(dataset.n_time, 8),
                                   tracer=np.ones(dataset.n_time))
    config = SamplerConfig(chains=2, parallel_chains=2, iter_warmup=200, iter_sampling=250)
    checks = {}
    for name, background in (("correct", correct), ("wrong", wrong)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = fit_cosi(prepare_fit_data(dataset, background), seed=5, config=config,
                              model=cosi_model)
        checks[name] = time_predictive_check(result.inference_data)
    assert checks["correct"].fraction_outside < 0.05
    assert not checks["correct"].flagged()
    assert checks["wrong"].fraction_outside > 0.2
    assert checks["wrong"].flagged()
