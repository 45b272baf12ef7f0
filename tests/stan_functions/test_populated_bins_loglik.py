"""The fused C++ likelihood of populated bins equals the plain Stan program."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bayesbg.stan import compile_model, stan_models_dir

pytestmark = pytest.mark.stan

HERE = Path(__file__).parent / "stan"


def _problem(rng: np.random.Generator, n_bins: int = 400, n_templates: int = 2,
             n_blocks: int = 5) -> dict:
    """Populated bins sorted by block, with totals over all (also empty) bins."""
    sky = rng.gamma(2.0, 1.0, size=(n_bins, n_templates))
    background = rng.gamma(3.0, 2.0, size=n_bins)
    edges = np.sort(rng.choice(np.arange(1, n_bins), size=n_blocks - 1, replace=False))
    block_start = np.concatenate([[1], edges + 1, [n_bins + 1]])
    block = np.repeat(np.arange(n_blocks), np.diff(block_start))
    expected = sky @ np.full(n_templates, 0.5) + background
    counts = rng.poisson(expected) + 1  # populated: at least one count
    return {
        "N": n_bins, "K": n_templates, "B": n_blocks,
        "counts": counts.astype(float), "sky_response": sky, "background": background,
        "block_start": block_start.astype(int),
        "template_totals": sky.sum(axis=0) * 1.3,
        "block_totals": np.bincount(block, weights=background) * 1.1,
    }


@pytest.fixture(scope="module")
def models():
    header = stan_models_dir() / "functions" / "populated_bins_loglik.hpp"
    fused = compile_model(HERE / "populated_bins_fused.stan", user_header=header)
    reference = compile_model(HERE / "populated_bins_reference.stan")
    return fused, reference


def test_log_density_and_gradient_agree(models):
    fused, reference = models
    rng = np.random.default_rng(5)
    data = _problem(rng)
    for _ in range(4):
        params = {"flux": rng.uniform(0.1, 2.0, size=2).tolist(),
                  "amplitude": rng.uniform(0.5, 1.5, size=5).tolist()}
        a = fused.log_prob(params=params, data=data, sig_figs=18)
        b = reference.log_prob(params=params, data=data, sig_figs=18)
        np.testing.assert_allclose(a.to_numpy(), b.to_numpy(), rtol=1e-8)


def test_posterior_agrees(models):
    fused, reference = models
    data = _problem(np.random.default_rng(6))
    fits = [m.sample(data=data, chains=4, seed=3, show_progress=False) for m in models]
    # Rounding differs between the two gradients, so the chains differ draw by draw;
    # the posteriors must agree within Monte Carlo error.
    for name in ("flux", "amplitude"):
        a, b = (fit.stan_variable(name) for fit in fits)
        se = np.hypot(a.std(axis=0), b.std(axis=0)) / np.sqrt(1000)  # ESS ~ 1000 or more
        assert np.all(np.abs(a.mean(axis=0) - b.mean(axis=0)) < 4 * se), name
        np.testing.assert_allclose(a.std(axis=0), b.std(axis=0), rtol=0.15)
    check = fits[0].stan_variable("loglik_check")
    assert np.all(np.isfinite(check))


def test_bad_block_layout_is_rejected(models):
    fused, _ = models
    data = _problem(np.random.default_rng(7))
    data["block_start"] = data["block_start"].copy()
    data["block_start"][-1] = data["N"]  # must end at N + 1
    with pytest.raises(RuntimeError, match="block_start"):
        fused.sample(data=data, chains=1, iter_sampling=10, iter_warmup=10,
                     show_progress=False)
