"""Flux per FOV: binned mixture likelihood, sandwich errors, orbit-level error terms."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats

from bayesbg.isgri.background import BackgroundSettings, fit_background, orbit_correlated_variance
from bayesbg.isgri.crab import CrabCalibration
from bayesbg.isgri.fov_flux import (
    FluxGroups,
    bin_probability,
    gaussian_histogram_estimate,
    systematic_variance,
)
from bayesbg.isgri.scw import Band, PointingTable


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


def test_groups_are_binned_finely_in_the_core_and_cover_the_wings():
    rng = np.random.default_rng(1)
    values = np.concatenate([rng.normal(0, 10, 5000), rng.uniform(-200, 400, 300)])
    groups = FluxGroups.from_mapping({"a": values, "b": rng.normal(5, 1, 50)})
    edges, counts = groups.bins("a")
    assert counts.sum() == values.size
    assert edges[0] < values.min() and edges[-1] > values.max()
    widths = np.diff(edges)
    assert np.min(widths) == pytest.approx(0.2 * 10, rel=0.1)  # s / 5 in the core
    assert edges.size - 1 < 120
    data = groups.to_stan_data(save_log_lik=True)
    assert data["K"] == data["bin_size"].sum() and data["bin_count"].sum() == 5350
    assert data["pointing_bin"].size == 5350 and data["pointing_bin"].max() <= data["K"]
    with pytest.raises(ValueError, match="wing_bins"):
        FluxGroups.from_mapping({"a": values}, wing_bins=0)


def test_sandwich_error_of_the_histogram_fit_matches_the_scatter():
    # core widths that vary between pointings, and asymmetric wings: sigma/sqrt(N) is
    # too small, the sandwich error is right
    rng = np.random.default_rng(2)
    estimates, robust, paper = [], [], []
    for _ in range(150):
        n = 3000
        x = rng.normal(0, 1, n) * rng.choice([40.0, 80.0, 200.0], n)
        wing = rng.random(n)
        x[wing < 0.04] -= rng.uniform(0, 1000, np.count_nonzero(wing < 0.04))
        x[wing > 0.9] += rng.uniform(0, 2000, np.count_nonzero(wing > 0.9))
        estimate = gaussian_histogram_estimate(x, wings=True)
        estimates.append(estimate.mu)
        robust.append(estimate.robust_error)
        paper.append(estimate.error)
    scatter = np.std(estimates, ddof=1)
    print(f"scatter {scatter:.2f}, sandwich {np.mean(robust):.2f}, sigma/sqrt(N) "
          f"{np.mean(paper):.2f}")
    assert 0.85 < np.mean(robust) / scatter < 1.2  # 150 replications: +-6 %
    assert np.mean(paper) / scatter < 0.85


def test_orbit_correlated_variance():
    assert orbit_correlated_variance([1, 1, 2], [1.0, 1.0, 2.0]) == pytest.approx(8 / 9)
    # equal errors: e**2 sum (n_o / N)**2
    orbit = np.repeat(np.arange(50), 4)
    assert orbit_correlated_variance(orbit, np.full(200, 3.0)) == pytest.approx(9 / 50)
    assert orbit_correlated_variance([], []) == 0.0
    with pytest.raises(ValueError, match="error"):
        orbit_correlated_variance([1, 2], [1.0])


def _calibration(systematic, covariance=None):
    band = (Band(25.0, 60.0),)
    polynomial = np.polynomial.Polynomial.fit([100.0, 200.0, 300.0, 400.0],
                                              [2.0, 2.0, 2.0, 2.0], 3)
    return CrabCalibration(band, (polynomial,), np.array([100, 200, 300, 400]),
                           np.full(4, 10), np.full((4, 1), 2.0), np.zeros((4, 1)),
                           np.array([systematic]), covariance)


def test_calibration_variance_per_orbit_and_polynomial_terms():
    orbit = np.repeat([150, 250, 350, 450], 25)
    assert _calibration(0.0).flux_variance(100.0, orbit, 0) == 0.0
    # per-orbit gain scatter 37 mCrab = 3.7 %, four equal orbits: F^2 0.037^2 / 4
    assert _calibration(37.0).flux_variance(100.0, orbit, 0) == pytest.approx(
        100.0**2 * 0.037**2 / 4)
    # a constant polynomial known to 1 %: F^2 (0.01)^2 whatever the orbits
    covariance = np.zeros((4, 4))
    covariance[0, 0] = (0.01 * 2.0) ** 2
    assert _calibration(0.0, (covariance,)).flux_variance(50.0, orbit, 0) == pytest.approx(
        50.0**2 * 1e-4)
    background, calibration = systematic_variance(100.0, orbit, np.full(100, 2.0),
                                                  _calibration(37.0), 0)
    assert background == pytest.approx(4.0 / 4)
    assert calibration == pytest.approx(100.0**2 * 0.037**2 / 4)


def _bkg_table(orbit, phase, rate):
    n = orbit.size
    return PointingTable(
        scw_id=[f"{i:012d}" for i in range(n)], orbit=orbit, phase=phase, time=np.zeros(n),
        l=np.zeros(n), b=np.full(n, 60.0), exposure=np.full(n, 2000.0),
        mode=np.ones(n, int), rate=rate[:, None], rate_error=np.full((n, 1), 1e-4),
        bands=(Band(25.0, 60.0),),
    )


def test_model_error_counts_the_orbit_scatter_interpolation_cannot_follow():
    rng = np.random.default_rng(3)
    n_orbit, per_orbit, tau = 300, 12, 1e-3
    orbit = np.repeat(np.arange(0, 2 * n_orbit, 2), per_orbit)  # odd orbits: none
    phase = np.tile(np.linspace(0.2, 0.8, per_orbit), n_orbit)
    level = 0.05 + tau * rng.standard_normal(n_orbit)
    rate = np.repeat(level, per_orbit) + 2e-4 * rng.standard_normal(orbit.size)
    model = fit_background(_bkg_table(orbit, phase, rate), BackgroundSettings(clip_band=None))
    assert model.orbit_scatter[0] == pytest.approx(tau, rel=0.15)
    prediction = model.evaluate([101, 100], [0.5, 0.5])
    # interpolated half way: own orbit's jitter plus half of each neighbour's
    assert prediction.model_error[0, 0] == pytest.approx(tau * np.sqrt(1.5), rel=0.2)
    # a calibrated orbit: only the standard error of its line
    assert prediction.model_error[1, 0] == pytest.approx(prediction.error[1, 0])
    assert prediction.model_error[1, 0] < 1e-4


def test_constant_model_error_is_the_error_of_the_mean():
    rate = 0.04 + 1e-4 * np.arange(6)
    model = fit_background(_bkg_table(np.full(6, 7), np.linspace(0.3, 0.6, 6), rate),
                           BackgroundSettings(clip_band=None))
    prediction = model.evaluate([7], [0.45])
    assert prediction.error[0, 0] == pytest.approx(rate.std(ddof=1))  # the paper's
    assert prediction.model_error[0, 0] == pytest.approx(rate.std(ddof=1) / np.sqrt(6))


@pytest.mark.stan
def test_posterior_mean_agrees_with_the_maximum_likelihood_fit_and_log_lik_is_kept():
    from bayesbg.config import SamplerConfig
    from bayesbg.isgri.fov_flux import fit_flux_mixture, fit_mixture_ml, flux_mixture_model

    rng = np.random.default_rng(4)
    values = {}
    for name, mu in (("a", 20.0), ("b", -5.0)):
        x = rng.normal(mu, 30.0, 3000)
        wing = rng.random(3000) < 0.1
        x[wing] = mu + rng.uniform(0, 400, np.count_nonzero(wing))
        values[name] = x
    groups = FluxGroups.from_mapping(values)
    result = fit_flux_mixture(groups, seed=3, model=flux_mixture_model(), save_log_lik=True,
                              config=SamplerConfig(chains=2, iter_warmup=200,
                                                   iter_sampling=200))
    assert result.inference_data.log_likelihood["log_lik"].shape[-1] == 6000
    for name, x in values.items():
        ml = fit_mixture_ml(x)
        row = result.table.loc[name]
        assert abs(row["mu"] - ml.mu) < 0.3 * ml.error
        assert row["mu_sd"] == pytest.approx(ml.model_error, rel=0.25)
        assert row["mu_sd_robust"] == pytest.approx(ml.error, rel=0.25)
