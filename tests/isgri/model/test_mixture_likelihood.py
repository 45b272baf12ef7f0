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
