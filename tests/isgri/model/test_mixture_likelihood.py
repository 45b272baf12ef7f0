"""The binned flux-mixture likelihood."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats

from bayesbg.isgri.model.mixture_likelihood import bin_probability


def test_bin_probability_integrates_the_mixture_density():
    weight = np.array([0.8, 0.05, 0.15])
    mu, sigma, low, high = 10.0, 2.0, -30.0, 60.0
    edges = np.linspace(low, high, 46)

    def density(r):
        wing = np.where(r <= mu, weight[1] / (mu - low), weight[2] / (high - mu))
        return weight[0] * stats.norm.pdf(r, mu, sigma) + wing

    expected = [integrate.quad(density, a, b, points=[mu])[0] for a, b in
                zip(edges[:-1], edges[1:], strict=True)]
    probability = bin_probability(edges[:-1], edges[1:], mu, sigma, weight, low, high)
    np.testing.assert_allclose(probability, expected, rtol=1e-6, atol=1e-12)
    assert probability.sum() == pytest.approx(1.0, abs=1e-9)


def test_analytic_gradient_matches_finite_differences():
    from scipy.special import softmax

    from bayesbg.isgri.model.mixture_likelihood import (
        bin_log_probability,
        bin_log_probability_gradient,
    )

    edges = np.concatenate([np.linspace(-600, -100, 21)[:-1], np.linspace(-100, 300, 101),
                            np.linspace(300, 1500, 21)[1:]])
    core = 0.88
    x = np.array([80.3, 45.0, np.log(0.04 / core), np.log(0.08 / core)])

    def log_p(point):
        w = softmax([0.0, point[2], point[3]])
        return bin_log_probability(edges, np.array([point[0], point[1], w[1], w[2]]))

    value, gradient = bin_log_probability_gradient(edges, np.array([80.3, 45.0, 0.04, 0.08]))
    np.testing.assert_allclose(value, log_p(x))
    numeric = np.stack([(log_p(x + h) - log_p(x - h)) / 2e-6 for h in np.eye(4) * 1e-6],
                       axis=1)
    np.testing.assert_allclose(gradient, numeric, atol=1e-6)
