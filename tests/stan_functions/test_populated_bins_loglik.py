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


@pytest.fixture(scope="module")
def log_values_model():
    header = stan_models_dir() / "functions" / "populated_bins_loglik.hpp"
    return compile_model(HERE / "populated_bins_log_values.stan", user_header=header)


def _group_log_sums(model, values: np.ndarray, group_size: np.ndarray) -> np.ndarray:
    fit = model.sample(data={"N": values.size, "G": group_size.size, "values": values,
                             "group_size": group_size.astype(int)},
                       fixed_param=True, chains=1, iter_sampling=1, sig_figs=18,
                       show_progress=False)
    return fit.stan_variable("group_log_sum")[0], fit.stan_variable("zero_rate_loglik")[0]


def test_vectorised_log_is_within_one_ulp(log_values_model):
    """One value per group: each result is log(x) from the tile code, tails included
    (groups of one value are all padding but one lane), over the whole double range."""
    rng = np.random.default_rng(11)
    values = np.concatenate([
        np.exp(rng.uniform(-700, 700, 3000)), rng.uniform(0.5, 2.0, 3000),
        [1.0, np.nextafter(1.0, 0), np.nextafter(1.0, 2), np.sqrt(2) / 2, np.sqrt(2),
         np.finfo(float).tiny, np.finfo(float).max, 5e-324],  # last: subnormal
    ])
    got, zero_rate = _group_log_sums(log_values_model, values, np.ones(values.size))
    assert zero_rate == -np.inf  # m = 0: -inf, not an exception
    want = np.log(values)
    ulp = np.spacing(np.abs(want))
    error = np.abs(got - want) / np.where(want == 0, np.finfo(float).tiny, ulp)
    assert got[values == 1.0][0] == 0.0
    assert error.max() <= 1.0, (error.max(), values[np.argmax(error)])


def test_zero_rate_gives_minus_infinity_per_group(log_values_model):
    """m = 0 in a group: -inf for that group only (no exception in generated quantities)."""
    values = np.array([2.0, 3.0, 0.0, 5.0, 7.0])
    got, _ = _group_log_sums(log_values_model, values, np.array([2, 2, 1]))
    np.testing.assert_allclose(got[[0, 2]], [np.log(6.0), np.log(7.0)], rtol=1e-15)
    assert got[1] == -np.inf


def test_vectorised_log_sums_over_full_vectors(log_values_model):
    """Groups of 4 to 600 values: full vectors, tails and more than one tile."""
    rng = np.random.default_rng(12)
    group_size = rng.integers(4, 600, 40)
    values = rng.gamma(2.0, 1.0, group_size.sum()) + 1e-3
    got, _ = _group_log_sums(log_values_model, values, group_size)
    edges = np.concatenate([[0], np.cumsum(group_size)])
    want = np.array([np.log(values[a:b]).sum() for a, b in zip(edges[:-1], edges[1:], strict=True)])
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-12)


def test_avx2_and_portable_paths_agree(models, monkeypatch):
    """The run-time-chosen AVX2 tiles equal the portable Eigen tiles to rounding (both
    paths are exercised on a CPU with AVX2; elsewhere both calls take the portable one).
    """
    fused, _ = models
    rng = np.random.default_rng(13)
    data = _problem(rng, n_bins=1303, n_templates=3, n_blocks=7)
    params = {"flux": [0.3, 1.1, 0.7], "amplitude": rng.uniform(0.5, 1.5, 7).tolist()}
    default = fused.log_prob(params=params, data=data, sig_figs=18).to_numpy()
    monkeypatch.setenv("BAYESBG_PORTABLE_LIKELIHOOD", "1")
    portable = fused.log_prob(params=params, data=data, sig_figs=18).to_numpy()
    np.testing.assert_allclose(default, portable, rtol=1e-13)
