"""The paper's histogram estimator and its sandwich error."""

from __future__ import annotations

import numpy as np

from bayesbg.isgri.model.histogram_estimate import gaussian_histogram_estimate


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
