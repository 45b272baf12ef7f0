"""The PyPI-built CmdStan gives correct answers through cmdstanpy's normal API.

Each test compares with an analytic result, so a wrong driver fails it.
"""

from __future__ import annotations

import re
from pathlib import Path

import arviz as az
import numpy as np
import pytest
from scipy import stats

pytestmark = pytest.mark.stan

BETA_BINOMIAL = {"n": 20, "y": 7, "a": 2.0, "b": 3.0}
# Posterior Beta(a + y, b + n - y) = Beta(9, 16)
BB_SHAPE = (9.0, 16.0)


def _normal_normal_data() -> tuple[dict, float, float]:
    rng = np.random.default_rng(7)
    y = rng.normal(1.3, 1.5, size=15)
    data = {"N": 15, "y": y.tolist(), "sigma": 1.5, "mu0": 1.0, "tau0": 2.0}
    precision = 1 / 2.0**2 + 15 / 1.5**2
    mean = (1.0 / 2.0**2 + y.sum() / 1.5**2) / precision
    return data, mean, precision**-0.5


def _assert_within_mcse(draws: np.ndarray, mean: float, sd: float, k: float = 4.0) -> None:
    """Posterior mean and sd within k Monte Carlo standard errors of the truth."""
    idata = az.convert_to_dataset(draws)  # (chain, draw)
    mcse_mean = float(az.mcse(idata, method="mean")["x"])
    mcse_sd = float(az.mcse(idata, method="sd")["x"])
    assert abs(draws.mean() - mean) < k * mcse_mean, (draws.mean(), mean, mcse_mean)
    assert abs(draws.std(ddof=1) - sd) < k * mcse_sd, (draws.std(ddof=1), sd, mcse_sd)


def _chains(fit, name: str) -> np.ndarray:
    """Draws of a scalar as (chain, draw)."""
    return fit.draws_xr(vars=[name])[name].values


def test_beta_binomial_posterior(test_model):
    fit = test_model("beta_binomial").sample(
        data=BETA_BINOMIAL, chains=4, seed=11, show_progress=False
    )
    a, b = BB_SHAPE
    _assert_within_mcse(_chains(fit, "theta"), a / (a + b), stats.beta(a, b).std())


def test_normal_normal_posterior(test_model):
    data, mean, sd = _normal_normal_data()
    fit = test_model("normal_normal").sample(data=data, chains=4, seed=12, show_progress=False)
    _assert_within_mcse(_chains(fit, "mu"), mean, sd)


def test_poisson_gamma_posterior(test_model):
    rng = np.random.default_rng(3)
    y = rng.poisson(4.0, size=12)
    data = {"N": 12, "y": y.tolist(), "alpha": 3.0, "beta": 0.5}
    shape, rate = 3.0 + y.sum(), 0.5 + 12
    fit = test_model("poisson_gamma").sample(data=data, chains=4, seed=13, show_progress=False)
    _assert_within_mcse(_chains(fit, "lambda"), shape / rate, np.sqrt(shape) / rate)


def test_correlated_gaussian_dense_metric(test_model):
    dim = 10
    scales = np.linspace(0.5, 5.0, dim)
    correlation = np.full((dim, dim), 0.8) + 0.2 * np.eye(dim)
    sigma = correlation * np.outer(scales, scales)
    mu = np.arange(dim, dtype=float)
    fit = test_model("correlated_gaussian").sample(
        data={"D": dim, "mu": mu, "Sigma": sigma},
        chains=4,
        seed=14,
        metric="dense_e",
        show_progress=False,
    )
    assert fit.metric_type == "dense_e"
    assert fit.metric.shape == (4, dim, dim)
    x = fit.draws_xr(vars=["x"])["x"].values  # (chain, draw, dim)
    for d in range(dim):
        _assert_within_mcse(x[:, :, d], mu[d], scales[d])


def test_csv_metadata_read_by_cmdstanpy(test_model):
    fit = test_model("beta_binomial").sample(
        data=BETA_BINOMIAL, chains=2, seed=99, iter_warmup=300, iter_sampling=200,
        show_progress=False,
    )
    config = fit.metadata.cmdstan_config
    assert config["stan_version_major"] == 2 and config["stan_version_minor"] == 35
    assert config["model"] == "beta_binomial_model"
    assert config["seed"] == 99
    assert config["num_samples"] == 200 and config["num_warmup"] == 300
    assert fit.metric_type == "diag_e"
    assert fit.step_size.shape == (2,) and np.all(fit.step_size > 0)
    assert fit.draws().shape == (200, 2, len(fit.column_names))
    assert fit.divergences.shape == (2,)
    for csv in fit.runset.csv_files:
        text = Path(csv).read_text()
        assert "Elapsed Time" in text and "# Adaptation terminated" in text


def test_optimize_finds_analytic_modes(test_model):
    model = test_model("beta_binomial")
    a, b = BB_SHAPE
    # Without the Jacobian: the mode of the density in theta.
    mle = model.optimize(data=BETA_BINOMIAL, seed=1)
    assert mle.optimized_params_dict["theta"] == pytest.approx((a - 1) / (a + b - 2), abs=1e-5)
    # With it: the mode in logit(theta), i.e. of theta^a (1 - theta)^b.
    for algorithm in ("lbfgs", "bfgs", "newton"):
        fit = model.optimize(data=BETA_BINOMIAL, seed=1, jacobian=True, algorithm=algorithm)
        assert fit.optimized_params_dict["theta"] == pytest.approx(a / (a + b), abs=1e-4)


def test_laplace_and_pathfinder_match_gaussian_posterior(test_model):
    data, mean, sd = _normal_normal_data()
    model = test_model("normal_normal")
    laplace = model.laplace_sample(data=data, seed=2, draws=4000)
    draws = laplace.stan_variable("mu")
    assert draws.shape == (4000,)
    assert draws.mean() == pytest.approx(mean, abs=4 * sd / np.sqrt(4000))
    assert draws.std() == pytest.approx(sd, rel=0.05)
    pathfinder = model.pathfinder(data=data, seed=3)
    draws = pathfinder.stan_variable("mu")
    assert draws.mean() == pytest.approx(mean, abs=0.15 * sd)
    assert draws.std() == pytest.approx(sd, rel=0.2)
    single = model.pathfinder(data=data, seed=3, num_paths=1)
    assert single.stan_variable("mu").mean() == pytest.approx(mean, abs=0.2 * sd)


def test_variational_runs_and_is_close(test_model):
    data, mean, sd = _normal_normal_data()
    for algorithm in ("meanfield", "fullrank"):
        vb = test_model("normal_normal").variational(data=data, seed=4, algorithm=algorithm)
        draws = vb.stan_variable("mu", mean=False)
        assert draws.mean() == pytest.approx(mean, abs=0.5 * sd)


def test_generate_quantities_reproduces_deterministic_function(test_model):
    model = test_model("beta_binomial")
    fit = model.sample(data=BETA_BINOMIAL, chains=2, seed=5, iter_sampling=300,
                       show_progress=False)
    gq = model.generate_quantities(data=BETA_BINOMIAL, previous_fit=fit, seed=6)
    theta = fit.stan_variable("theta")
    np.testing.assert_allclose(gq.stan_variable("odds"), theta / (1 - theta), rtol=1e-5)


def test_log_prob_matches_analytic_density_and_gradient(test_model):
    model = test_model("beta_binomial")
    a, b = BB_SHAPE
    for theta in (0.1, 0.3, 0.8):
        out = model.log_prob(params={"theta": theta}, data=BETA_BINOMIAL, jacobian=True,
                             sig_figs=15)
        # Up to a constant: a log(theta) + b log(1 - theta) on the logit scale
        # (prior and likelihood kernels plus the Jacobian theta (1 - theta)).
        expected = a * np.log(theta) + b * np.log1p(-theta)
        assert out["lp__"].iloc[0] == pytest.approx(expected, rel=1e-10)
        assert out["g_theta"].iloc[0] == pytest.approx(a - (a + b) * theta, abs=1e-9)
    without = model.log_prob(params={"theta": 0.3}, data=BETA_BINOMIAL, jacobian=False,
                             sig_figs=15)
    assert without["lp__"].iloc[0] == pytest.approx(
        (a - 1) * np.log(0.3) + (b - 1) * np.log(0.7), rel=1e-10
    )


def test_gradient_diagnose_method(test_model):
    table = test_model("beta_binomial").diagnose(data=BETA_BINOMIAL)
    assert list(table.columns) == ["param_idx", "value", "model", "finite_diff", "error"]
    assert abs(table["error"].iloc[0]) < 1e-6


def _draw_lines(path: str) -> list[str]:
    """CSV lines without what legitimately varies: timings, date, file names."""
    keep = []
    for line in Path(path).read_text().splitlines():
        if re.search(r"Elapsed Time|seconds|start_datetime|file = ", line):
            continue
        keep.append(line)
    return keep


def test_same_seed_gives_identical_csv(test_model):
    model = test_model("beta_binomial", threads=True)
    runs = [
        model.sample(data=BETA_BINOMIAL, chains=2, seed=42, iter_sampling=200,
                     show_progress=False)
        for _ in range(2)
    ]
    for first, second in zip(runs[0].runset.csv_files, runs[1].runset.csv_files, strict=True):
        assert _draw_lines(first) == _draw_lines(second)
    other = model.sample(data=BETA_BINOMIAL, chains=2, seed=43, iter_sampling=200,
                         show_progress=False)
    assert _draw_lines(other.runset.csv_files[0]) != _draw_lines(runs[0].runset.csv_files[0])


def test_one_process_and_multi_chain_process_agree(test_model):
    """Chains run in one process (num_chains) equal chains run one per process."""
    model = test_model("beta_binomial", threads=True)
    together = model.sample(data=BETA_BINOMIAL, chains=3, seed=8, iter_sampling=150,
                            show_progress=False)
    apart = model.sample(data=BETA_BINOMIAL, chains=3, seed=8, iter_sampling=150,
                         show_progress=False, force_one_process_per_chain=True)
    assert together.runset.num_procs == 1 and apart.runset.num_procs == 3
    np.testing.assert_array_equal(together.draws(), apart.draws())


def test_reduce_sum_with_threads_matches_serial_program(test_model):
    rng = np.random.default_rng(21)
    x = rng.normal(size=2000)
    y = rng.poisson(np.exp(0.5 + 0.3 * x))
    data = {"N": 2000, "x": x, "y": y}
    serial = test_model("poisson_regression_serial").sample(
        data=data, chains=4, seed=9, show_progress=False
    )
    parallel = test_model("poisson_regression_reduce_sum", threads=True).sample(
        data={**data, "grainsize": 100}, chains=2, threads_per_chain=2, seed=9,
        show_progress=False,
    )
    assert parallel.metadata.cmdstan_config["num_threads"] == 4
    for name in ("alpha", "beta"):
        a, b = serial.stan_variable(name), parallel.stan_variable(name)
        assert a.std() == pytest.approx(b.std(), rel=0.15)
        combined_se = np.hypot(a.std() / np.sqrt(1000), b.std() / np.sqrt(500))
        assert abs(a.mean() - b.mean()) < 4 * combined_se


def test_summary_agrees_with_arviz(test_model):
    data, _, _ = _normal_normal_data()
    fit = test_model("normal_normal").sample(data=data, chains=4, seed=15, show_progress=False)
    summary = fit.summary()
    idata = az.from_cmdstanpy(fit, log_likelihood="log_lik")
    ess = float(az.ess(idata, var_names=["mu"], method="bulk")["mu"])
    rhat = float(az.rhat(idata, var_names=["mu"])["mu"])
    assert summary.loc["mu", "N_Eff"] == pytest.approx(ess, rel=0.1)
    assert summary.loc["mu", "R_hat"] == pytest.approx(rhat, abs=0.01)
    assert summary.loc["mu", "Mean"] == pytest.approx(fit.stan_variable("mu").mean(), rel=1e-4)
    assert "Processing complete" in fit.diagnose()


def test_from_cmdstanpy_groups(test_model):
    data, _, _ = _normal_normal_data()
    fit = test_model("normal_normal").sample(data=data, chains=2, seed=16, iter_sampling=200,
                                             show_progress=False)
    idata = az.from_cmdstanpy(fit, log_likelihood="log_lik")
    assert {"posterior", "sample_stats", "log_likelihood"} <= set(idata.groups())
    assert idata.log_likelihood["log_lik"].shape == (2, 200, 15)
    assert int(idata.sample_stats["diverging"].sum()) == 0
    loo = az.loo(idata)
    assert np.isfinite(loo.elpd_loo)


def test_allow_undefined_with_user_header(test_model):
    """A function declared in Stan and defined in C++ (USER_HEADER) is linked and used."""
    model = test_model("external_twice", user_header="external_twice_header.hpp")
    fit = model.sample(data={"y": 3.0}, chains=2, seed=17, show_progress=False)
    # y ~ normal(2 mu, 1) with mu ~ normal(0, 10): posterior mean of mu = 1.5 / (1 + 1/400)
    mu = fit.stan_variable("mu")
    assert mu.mean() == pytest.approx(1.5 / (1 + 1 / 400), abs=4 * 0.5 / np.sqrt(len(mu) / 2))
