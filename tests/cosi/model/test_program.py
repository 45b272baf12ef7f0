"""The Stan program (fused and plain, threaded or not) equals the dense reference and the
numpy likelihood of the fit data."""

from __future__ import annotations

import numpy as np
import pytest

from bayesbg.cosi.model import cosi_fit_model

pytestmark = pytest.mark.stan

POINTS = [
    {"flux": [1.0e-3], "background_amplitude": [1.0, 1.0, 1.0]},
    {"flux": [2.7e-3], "background_amplitude": [0.93, 1.04, 0.99]},
    {"flux": [1.0e-5], "background_amplitude": [1.2, 0.8, 1.1]},
]


def _log_density(model, point, data):
    return float(model.log_prob(point, data, sig_figs=18)["lp__"].iloc[0])


@pytest.mark.parametrize("use_priors", [True, False])
def test_fast_and_dense_log_density_agree(cosi_model, dense_model, tiny_fit_data, use_priors):
    fast = tiny_fit_data.to_stan_data(use_priors=use_priors)
    chunked = tiny_fit_data.to_stan_data(use_priors=use_priors, grainsize=1000)
    plain = tiny_fit_data.to_stan_data(use_priors=use_priors, fused=False)
    assert fast["fused_likelihood"] == 1 and plain["fused_likelihood"] == 0
    dense = tiny_fit_data.to_dense_stan_data(use_priors=use_priors)
    assert tiny_fit_data.n_nonzero < 0.6 * dense["T"] * dense["C"]  # zero bins exist
    for point in POINTS:
        reference = _log_density(dense_model, point, dense)
        assert _log_density(cosi_model, point, fast) == pytest.approx(reference, rel=1e-8)
        assert _log_density(cosi_model, point, chunked) == pytest.approx(reference, rel=1e-8)
        # The fused C++ pass and the plain Stan expression: same density and gradient.
        fused_lp = cosi_model.log_prob(point, fast, sig_figs=18).to_numpy()
        plain_lp = cosi_model.log_prob(point, plain, sig_figs=18).to_numpy()
        np.testing.assert_allclose(fused_lp, plain_lp, rtol=1e-8)


def test_numpy_likelihood_matches_stan(cosi_model, tiny_fit_data):
    data = tiny_fit_data.to_stan_data(use_priors=False)
    for point in POINTS:
        stan = float(cosi_model.log_prob(point, data, jacobian=False, sig_figs=18)["lp__"].iloc[0])
        numpy = tiny_fit_data.log_likelihood(point["flux"], point["background_amplitude"])
        assert stan == pytest.approx(numpy, rel=1e-10)


@pytest.fixture(scope="module")
def threaded_model():
    """``cosi_template_fit.stan`` compiled with STAN_THREADS."""
    return cosi_fit_model(threads=True)


def test_threaded_fused_pass_equals_plain_program(cosi_model, threaded_model, tiny_fit_data,
                                                  monkeypatch):
    # Chunks of 97 bins: ~100 chunks shared out over two threads.
    chunked = tiny_fit_data.to_stan_data(grainsize=97)
    plain = tiny_fit_data.to_stan_data(fused=False)
    assert chunked["fused_likelihood"] == 1
    results = {}
    for threads in (1, 2):
        monkeypatch.setenv("STAN_NUM_THREADS", str(threads))
        results[threads] = [threaded_model.log_prob(point, chunked, sig_figs=18).to_numpy()
                            for point in POINTS]
    monkeypatch.setenv("STAN_NUM_THREADS", "1")
    for n, point in enumerate(POINTS):
        reference = cosi_model.log_prob(point, plain, sig_figs=18).to_numpy()
        np.testing.assert_allclose(results[2][n], reference, rtol=1e-8)
        # Chunk sums are added in chunk order: the thread count does not change a bit.
        np.testing.assert_array_equal(results[1][n], results[2][n])
        serial = cosi_model.log_prob(point, chunked, sig_figs=18).to_numpy()
        np.testing.assert_array_equal(serial, results[2][n])


def test_per_time_log_lik_sums_to_log_likelihood(cosi_model, tiny_fit_data):
    from bayesbg.cosi.fit import maximum_likelihood

    ml = maximum_likelihood(tiny_fit_data, seed=1, model=cosi_model)
    flux = ml.estimate["flux"]
    amplitude = ml.estimate["background_amplitude"]
    assert ml.log_likelihood == pytest.approx(
        tiny_fit_data.log_likelihood(flux, amplitude), rel=1e-10)
    log_lik = ml.fit.stan_variable("log_lik")
    assert log_lik.shape == (tiny_fit_data.n_time,)
    assert log_lik.sum() == pytest.approx(ml.log_likelihood, rel=1e-12)


def _generated_at(model, point, data, seed=1):
    """Generated quantities at one parameter point (fixed_param: the draw is the init)."""
    fit = model.sample(data=data, inits=point, fixed_param=True, chains=1, iter_sampling=1,
                       seed=seed, sig_figs=18, show_progress=False)
    return {name: fit.stan_variable(name)[0]
            for name in ("log_lik", "sky_counts_time", "background_counts_time")}


def _without_populated_bins(data, times):
    """Stan data with the populated bins of time bins ``times`` removed (as if empty)."""
    data = dict(data)
    per_time = np.array(data["nonzero_per_time"])
    start = np.concatenate([[0], np.cumsum(per_time)])
    keep = np.ones(data["N"], bool)
    for t in times:
        keep[start[t]:start[t + 1]] = False
    lengths = np.diff(np.asarray(data["design_row_start"]))
    entries = np.repeat(keep, lengths)
    data["counts"] = np.asarray(data["counts"])[keep]
    data["design_value"] = np.asarray(data["design_value"])[entries]
    data["design_column"] = np.asarray(data["design_column"])[entries]
    data["design_row_start"] = np.concatenate([[1], 1 + np.cumsum(lengths[keep])])
    data["N"], data["W"] = int(keep.sum()), int(entries.sum())
    per_time[list(times)] = 0
    data["nonzero_per_time"] = per_time
    return data


def test_fused_per_time_log_lik_equals_plain_expression(cosi_model, threaded_model,
                                                        tiny_fit_data, monkeypatch):
    # Generated quantities: the double-only C++ pass (fused) against the Stan expression,
    # also with empty time bins at the start, the end and both sides of a block edge.
    empty = [0, 7, 8, 23]
    assert list(tiny_fit_data.time_block[[7, 8]]) == [1, 2]
    cases = [(tiny_fit_data.to_stan_data(), tiny_fit_data.to_stan_data(fused=False))]
    cases.append(tuple(_without_populated_bins(case, empty) for case in cases[0]))
    monkeypatch.setenv("STAN_NUM_THREADS", "2")
    for n, (fused, plain) in enumerate(cases):
        assert fused["fused_likelihood"] == 1 and plain["fused_likelihood"] == 0
        for point in POINTS[:2]:
            reference = _generated_at(cosi_model, point, plain)
            for model in (cosi_model, threaded_model):
                result = _generated_at(model, point, fused)
                assert result["log_lik"].shape == (tiny_fit_data.n_time,)
                np.testing.assert_allclose(result["log_lik"], reference["log_lik"],
                                           rtol=1e-10, atol=0)
                for name in ("sky_counts_time", "background_counts_time"):
                    np.testing.assert_array_equal(result[name], reference[name])
            if n == 0:  # and the sum is the numpy log-likelihood
                assert reference["log_lik"].sum() == pytest.approx(
                    tiny_fit_data.log_likelihood(point["flux"], point["background_amplitude"]),
                    rel=1e-10)
            else:  # an empty time bin keeps only -(expected counts)
                expected = reference["sky_counts_time"] + reference["background_counts_time"]
                np.testing.assert_allclose(reference["log_lik"][empty], -expected[empty],
                                           rtol=1e-12)
