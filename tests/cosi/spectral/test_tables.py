"""The joint check of a fit's table against the truth (`truth_tail_probability`) and the
draws it is run on (`paper_draws`)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import xarray as xr
from scipy import stats

from bayesbg.cosi.spectral.tables import PAPER, paper_draws, truth_tail_probability


def _gaussian(rng, n, covariance):
    return rng.multivariate_normal(np.zeros(len(covariance)), covariance, size=n)


def test_tail_probability_is_the_chi_square_tail_for_gaussian_draws():
    rng = np.random.default_rng(1)
    covariance = np.array([[1.0, 0.6, 0.0], [0.6, 2.0, -0.3], [0.0, -0.3, 0.5]])
    draws = _gaussian(rng, 40_000, covariance)
    assert truth_tail_probability(draws, np.zeros(3)) > 0.99
    white = np.linalg.cholesky(covariance)
    for radius in (1.0, 2.0, 3.0):
        truth = white @ (radius * np.array([1.0, 1.0, 1.0]) / math.sqrt(3))
        expected = stats.chi2.sf(radius**2, 3)
        assert truth_tail_probability(draws, truth) == pytest.approx(expected, abs=0.006)


def test_correlated_pulls_along_the_correlation_stay_inside():
    # an index and a normalisation that move together (correlation 0.95): both 2.2 sd
    # off the same way is one 2.2-sigma excursion (distance^2 = 2 x 2.2^2 / 1.95 = 4.96,
    # p = 0.084), 2.2 sd in opposite directions is far outside (p ~ 1e-21)
    rng = np.random.default_rng(2)
    draws = _gaussian(rng, 20_000, np.array([[1.0, 0.95], [0.95, 1.0]]))
    assert truth_tail_probability(draws, np.array([2.2, 2.2])) == pytest.approx(
        stats.chi2.sf(2 * 2.2**2 / 1.95, 2), abs=0.006)
    assert truth_tail_probability(draws, np.array([2.2, -2.2])) == 0.0


def test_tail_probability_is_uniform_when_the_truth_is_a_posterior_draw():
    # the calibration the check relies on: a truth distributed like the posterior gives
    # a uniform p whatever the posterior's shape (here skewed: log-normal columns)
    rng = np.random.default_rng(3)
    p = []
    for _ in range(300):
        sample = np.exp(0.5 * rng.normal(size=(401, 4)))
        p.append(truth_tail_probability(sample[1:], sample[0]))
    assert stats.kstest(p, "uniform").pvalue > 0.01
    assert np.mean(np.array(p) <= 0.0455) < 0.1


def test_tail_probability_rejects_bad_draws():
    with pytest.raises(ValueError, match="n_draws, n_parameters"):
        truth_tail_probability(np.zeros((10, 2)), np.zeros(3))
    with pytest.raises(ValueError, match="more finite draws"):
        truth_tail_probability(np.ones((2, 3)), np.zeros(3))
    constant = np.column_stack([np.arange(10.0), np.ones(10)])
    with pytest.raises(ValueError, match="singular"):
        truth_tail_probability(constant, np.zeros(2))


def test_paper_draws_takes_the_tables_fitted_rows():
    source = PAPER["cena"]
    rng = np.random.default_rng(4)
    n = 50
    posterior = xr.Dataset({
        "index": (("chain", "draw"), rng.normal(1.73, 0.01, (2, n))),
        "norm": (("chain", "draw"), rng.lognormal(math.log(0.0432), 0.01, (2, n))),
        "cross_norm": (("chain", "draw", "dataset"),
                       np.concatenate([np.ones((2, n, 1)),
                                       rng.lognormal(0.0, 0.01, (2, n, 3))], axis=2)),
    }, coords={"dataset": ["NuSTAR FPMA", "NuSTAR FPMB", "Swift-BAT", "COSI"]})
    truth = {"index": 1.732, "norm": 0.0432, "cross_norm:NuSTAR FPMB": 0.981,
             "cross_norm:Swift-BAT": 1.15, "cross_norm:COSI": 1.0}
    names, draws, values = paper_draws(source, posterior, truth,
                                       datasets=("NuSTAR FPMA", "NuSTAR FPMB", "Swift-BAT",
                                                 "COSI"))
    assert names == ["Gamma", "norm (1 keV)", "Const. NuSTAR FPMB", "Const. Swift-BAT",
                     "Const. COSI"]
    assert draws.shape == (2 * n, 5)
    np.testing.assert_allclose(values, [1.732, math.log(0.0432), math.log(0.981),
                                        math.log(1.15), 0.0])
    np.testing.assert_allclose(draws[:, 0], posterior["index"].values.ravel())
    np.testing.assert_allclose(draws[:, 1], np.log(posterior["norm"].values.ravel()))
    # a row without a truth is not part of the check
    del truth["cross_norm:Swift-BAT"]
    assert "Const. Swift-BAT" not in paper_draws(source, posterior, truth,
                                                 datasets=tuple(posterior.dataset.values))[0]
