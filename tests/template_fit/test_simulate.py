"""Tests of bayesbg.template_fit.simulate_template_data."""

from __future__ import annotations

import numpy as np
import pytest

from bayesbg.template_fit import BinnedCounts, simulate_template_data


def test_shapes_and_truth():
    data, truth = simulate_template_data(3, n_time=12, n_pixel=5, n_template=3, n_block=4)
    assert isinstance(data, BinnedCounts)
    assert (data.n_bin, data.n_template, data.n_block) == (60, 3, 4)
    assert truth["flux"].shape == (3,) and truth["background_amplitude"].shape == (4,)
    assert np.all(truth["flux"] >= 0) and np.all(truth["background_amplitude"] >= 0)


def test_same_seed_same_data_different_seed_different_data():
    first, truth_first = simulate_template_data(5)
    second, truth_second = simulate_template_data(np.random.default_rng(5))
    np.testing.assert_array_equal(first.counts, second.counts)
    np.testing.assert_array_equal(truth_first["flux"], truth_second["flux"])
    third, _ = simulate_template_data(6)
    assert not np.array_equal(first.counts, third.counts)


def test_given_truth_is_used_and_sets_the_mean_counts():
    flux = np.array([2e-3, 1e-3])
    amplitude = np.array([1.0, 0.9, 1.1])
    totals = []
    for seed in range(20):
        data, truth = simulate_template_data(seed, flux=flux, background_amplitude=amplitude)
        np.testing.assert_array_equal(truth["flux"], flux)
        expected = flux @ data.sky_response + amplitude[data.background_blocks - 1] * (
            data.background
        )
        totals.append(data.counts.sum() / expected.sum())
    # 20 Poisson totals of ~10,000 counts: mean ratio 1 within ~0.3 %
    assert abs(np.mean(totals) - 1) < 0.005


def test_sky_exposure_sets_counts_per_unit_flux():
    data, _ = simulate_template_data(1, sky_exposure=2e6)
    np.testing.assert_allclose(data.sky_response.sum(axis=1), 2e6)


def test_truth_from_prior_has_prior_mean():
    draws = np.array([
        simulate_template_data(seed, n_time=2, n_pixel=2, n_block=1,
                               flux_prior_mean=1e-3, flux_prior_sd=1e-4)[1]["flux"]
        for seed in range(200)
    ])
    assert abs(draws.mean() - 1e-3) < 3e-5


@pytest.mark.parametrize(("name", "value"), [("n_time", 0), ("n_block", 100),
                                               ("sky_exposure", -1.0)])
def test_bad_arguments_raise(name, value):
    with pytest.raises(ValueError, match=name):
        simulate_template_data(1, **{name: value})
