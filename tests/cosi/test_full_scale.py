"""Full-scale acceptance run of issue 5: >= 600 h x >= 30,000 data-space bins, >= 20 blocks."""

from __future__ import annotations

import json
import time
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
from bayesbg.stan import SamplerWarning

pytestmark = [pytest.mark.stan, pytest.mark.slow]


def test_full_scale_bulge_flux_recovered(tmp_path):
    start = time.perf_counter()
    dataset, truth = simulate_cosi(2026)  # 603 h x 30 x 1,144 bins, 511 keV bulge 1e-3
    simulated = time.perf_counter()
    assert dataset.n_time >= 600 and dataset.n_data_bin >= 30_000
    blocks = merge_blocks(
        equidistant_blocks(dataset.n_time, 24),
        bayesian_blocks(dataset.counts_per_time(), dataset.time_edges, sigma=3.0,
                        tracer=dataset.tracers["photo_event_rate"]),
    )
    background = build_background_model(dataset, blocks=blocks, tracer="photo_event_rate")
    assert background.n_block >= 20
    data = prepare_fit_data(dataset, background, flux_prior_mean=1e-3, flux_prior_sd=3e-3)
    config = SamplerConfig(chains=4, parallel_chains=2, iter_warmup=1000, iter_sampling=1000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplerWarning)
        result = fit_cosi(data, seed=2026, config=config, truth=truth,
                          run_dir=tmp_path / "run")
    finished = time.perf_counter()
    flux = result.inference_data.posterior["flux"].values.ravel()
    low, high = np.quantile(flux, [0.025, 0.975])
    report = {
        "n_time": dataset.n_time, "n_data_bin": dataset.n_data_bin,
        "n_nonzero": dataset.n_nonzero, "n_block": background.n_block,
        "flux_true": float(truth["flux"][0]), "flux_mean": float(flux.mean()),
        "flux_sd": float(flux.std()), "flux_95": [float(low), float(high)],
        "simulate_s": simulated - start, "fit_s": finished - simulated,
        "diagnostics_passed": result.diagnostics.passed,
    }
    print(json.dumps(report, indent=2))
    assert low <= truth["flux"][0] <= high
    assert result.diagnostics.passed, result.diagnostics.render()
