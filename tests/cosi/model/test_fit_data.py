"""The fit data: populated bins, design matrix and numpy likelihood (no Stan)."""

from __future__ import annotations

import numpy as np
import pytest


def test_design_matrix_rows_give_expected_counts(tiny_fit_data):
    design = tiny_fit_data.design_matrix()
    k = tiny_fit_data.n_template
    values = design["design_value"].reshape(-1, k + 1)
    columns = design["design_column"].reshape(-1, k + 1)
    theta = np.concatenate([[1.5e-3], [0.9, 1.0, 1.1]])
    expected = (values * theta[columns - 1]).sum(axis=1)
    assert np.allclose(expected, tiny_fit_data.expected_nonzero([1.5e-3], [0.9, 1.0, 1.1]))
    assert design["design_row_start"][-1] == design["W"] + 1


def test_numpy_likelihood_is_the_poisson_sum_over_all_bins(tiny_fit_data):
    from scipy import special

    data = tiny_fit_data
    dense = data.to_dense_stan_data()
    flux, amplitude = np.array([1.2e-3]), np.array([0.95, 1.0, 1.05])
    expected = (flux[0] * dense["sky_response"][0]
                + amplitude[dense["time_block"] - 1][:, None] * dense["background"])
    counts = dense["counts"]
    full = np.sum(special.xlogy(counts, expected) - expected - special.gammaln(counts + 1.0))
    assert data.log_likelihood(flux, amplitude) == pytest.approx(full, rel=1e-12)


def test_fisher_information_is_the_negative_hessian_of_the_likelihood(tiny_fit_data):
    data = tiny_fit_data
    theta = np.array([1.3e-3, 0.95, 1.0, 1.05])
    k = data.n_template

    def log_like(values):
        return data.log_likelihood(values[:k], values[k:])

    steps = np.abs(theta) * 1e-4
    n = theta.size
    hessian = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            shifted = []
            for si, sj in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
                values = theta.copy()
                values[i] += si * steps[i]
                values[j] += sj * steps[j]
                shifted.append(log_like(values))
            hessian[i, j] = (shifted[0] - shifted[1] - shifted[2] + shifted[3]) / (
                4 * steps[i] * steps[j])
    information = data.fisher_information(theta[:k], theta[k:])
    assert np.allclose(information, -hessian, rtol=2e-3, atol=1e-6 * np.abs(hessian).max())
