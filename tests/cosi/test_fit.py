"""COSI fits: flux recovery with NUTS, maximum likelihood with AIC, configuration and CLI."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from bayesbg.cli import main
from bayesbg.config import SamplerConfig
from bayesbg.cosi import CosiDataset, CosiFitConfig, InstrumentSettings, simulate_cosi
from bayesbg.cosi.fit import fit_cosi, fit_data_from_config, maximum_likelihood
from bayesbg.cosi.model import build_background_model, equidistant_blocks, prepare_fit_data
from bayesbg.stan import SamplerWarning

SMALL = InstrumentSettings(instrument_nside=4, sky_nside=16)

CONFIG = """
seed = 3

[data]
dataset = "{dataset}"

[background]
tracer = "photo_event_rate"
scheme = "{scheme}"
n_blocks = 3

[priors]
flux_mean = 1e-3
flux_sd = 3e-3

[sampler]
chains = 2
parallel_chains = 2
iter_warmup = 150
iter_sampling = 150
"""


@pytest.fixture(scope="module")
def reduced_fit(cosi_model, reduced_problem):
    data, truth = reduced_problem
    config = SamplerConfig(chains=4, parallel_chains=2, iter_warmup=500, iter_sampling=500)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplerWarning)
        return fit_cosi(data, seed=21, config=config, truth=truth, model=cosi_model)


@pytest.mark.stan
def test_flux_recovered_on_reduced_simulation(reduced_fit, reduced_problem):
    _, truth = reduced_problem
    flux = reduced_fit.inference_data.posterior["flux"].values.ravel()
    low, high = np.quantile(flux, [0.025, 0.975])
    assert low <= truth["flux"][0] <= high
    assert high - low < 1.5 * truth["flux"][0]  # informative, not the prior
    assert reduced_fit.diagnostics.passed, reduced_fit.diagnostics.render()


@pytest.mark.stan
def test_generated_quantities_are_per_time_bin(reduced_fit, reduced_problem):
    data, _ = reduced_problem
    idata = reduced_fit.inference_data
    n_time = data.n_time
    assert idata.log_likelihood["log_lik"].shape[-1] == n_time
    assert idata.posterior_predictive["counts_time_rep"].shape[-1] == n_time
    assert idata.posterior["sky_counts_time"].dims[-1] == "time"
    draw = idata.posterior.isel(chain=0, draw=5)
    flux = draw["flux"].values
    amplitude = draw["background_amplitude"].values
    total = float(idata.log_likelihood["log_lik"].isel(chain=0, draw=5).sum())
    # CSV values have 6 significant digits
    assert total == pytest.approx(data.log_likelihood(flux, amplitude), rel=1e-5)
    expected = draw["sky_counts_time"].values + draw["background_counts_time"].values
    model_total = (data.sky_per_time @ flux).sum() \
        + data.background_per_time @ amplitude[data.time_block - 1]
    assert expected.sum() == pytest.approx(model_total, rel=1e-5)


@pytest.mark.stan
def test_maximum_likelihood_gives_log_l_and_aic(cosi_model, reduced_problem):
    data, truth = reduced_problem
    result = maximum_likelihood(data, seed=1, model=cosi_model)
    flux = np.atleast_1d(result.estimate["flux"])
    amplitude = np.atleast_1d(result.estimate["background_amplitude"])
    assert result.kind == "maximum likelihood"
    assert result.n_parameters == data.n_template + data.n_block
    assert result.log_likelihood == pytest.approx(data.log_likelihood(flux, amplitude),
                                                  rel=1e-9)
    assert result.aic == pytest.approx(2 * result.n_parameters - 2 * result.log_likelihood)
    for step in (0.97, 1.03):  # a maximum in the flux direction
        assert data.log_likelihood(flux * step, amplitude) < result.log_likelihood
    assert abs(flux[0] - truth["flux"][0]) < 0.5 * truth["flux"][0]


def test_bad_inputs_fail_before_stan(tmp_path):
    dataset, _ = simulate_cosi(5, n_time=24, bin_size=20.0, instrument=SMALL)
    background = build_background_model(dataset, blocks=equidistant_blocks(24, 2),
                                        tracer="photo_event_rate")
    with pytest.raises(ValueError, match="templates: 'disk' is not in the dataset"):
        prepare_fit_data(dataset, background, templates=["disk"])
    with pytest.raises(ValueError, match="flux_prior_sd: expected positive values"):
        prepare_fit_data(dataset, background, flux_prior_sd=0.0)
    response = background.response.copy()
    response[dataset.counts.col[0]] = 0.0
    response /= response.sum()
    bad_background = build_background_model(dataset, blocks=equidistant_blocks(24, 2),
                                            tracer="photo_event_rate", response=response)
    template = np.asarray(dataset.templates["bulge"]).copy()
    template[:, dataset.counts.col[0]] = 0.0
    no_sky = CosiDataset(counts=dataset.counts, time_edges=dataset.time_edges,
                         phi_edges=dataset.phi_edges, n_psi_chi=dataset.n_psi_chi,
                         tracers=dataset.tracers, templates={"bulge": template})
    with pytest.raises(ValueError, match="zero sky response and zero background"):
        prepare_fit_data(no_sky, bad_background)
    path = dataset.write(tmp_path / "data.nc")
    text = CONFIG.format(dataset=path, scheme="equidistant")
    with pytest.raises(ValueError, match="config: background.n_block: unknown key"):
        CosiFitConfig.from_toml(text.replace("n_blocks = 3", "n_block = 3"))
    with pytest.raises(ValueError, match="scheme: expected one of"):
        CosiFitConfig.from_toml(CONFIG.format(dataset=path, scheme="weekly"))
    config = CosiFitConfig.from_toml(text.replace("n_blocks = 3", "n_blocks = 30"))
    with pytest.raises(ValueError, match="n_blocks: expected at most n_time"):
        fit_data_from_config(config)


@pytest.mark.stan
@pytest.mark.filterwarnings("ignore::bayesbg.stan.SamplerWarning")
def test_cli_simulate_fit_and_optimize(tmp_path, capsys, cosi_model):
    dataset_path = tmp_path / "sim.nc"
    assert main(["cosi", "simulate", "--output", str(dataset_path), "--seed", "4",
                 "--n-time", "24", "--bin-size", "20", "--change-points", "1"]) == 0
    assert "Wrote" in capsys.readouterr().out
    assert main(["cosi", "simulate", "--output", str(dataset_path), "--n-time", "24"]) == 1
    assert "exists" in capsys.readouterr().err
    config = tmp_path / "cosi.toml"
    config.write_text(CONFIG.format(dataset="sim.nc", scheme="equidistant"))
    run_dir = tmp_path / "run"
    assert main(["cosi", "fit", str(config), "--run-dir", str(run_dir)]) == 0
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["model"] == "cosi_template_fit"
    assert summary["problem"]["n_block"] == 3
    assert "flux[sim_bulge]" in summary["parameters"] or "flux[bulge]" in summary["parameters"]
    assert (run_dir / "posterior.nc").is_file()
    # the fit, then its checks: figures, entries and numbers in the run directory
    assert set(summary["predictive_checks"]) == {"time", "phi", "psi_chi"}
    assert [c["name"] for c in summary["checks"]] == [
        "predictive check: time", "predictive check: phi", "predictive check: psi_chi"]
    for axis in ("time", "phi", "psi_chi"):
        assert (run_dir / f"ppc_{axis}.png").is_file()
    assert summary["files"]["extra"] == ["cosi.toml", "ppc_phi.png", "ppc_psi_chi.png",
                                         "ppc_time.png"]
    assert "Posterior summary (flux in ph cm-2 s-1" in capsys.readouterr().out
    assert main(["cosi", "fit", str(config), "--run-dir", str(run_dir)]) == 1  # no overwrite
    capsys.readouterr()
    assert main(["cosi", "optimize", str(config)]) == 0
    out = capsys.readouterr().out
    assert "AIC" in out and "flux[bulge]" in out


@pytest.mark.parametrize("scheme, extra", [
    ("altitude", "altitude_step = 2.0"),
    ("bayesian_blocks", "sigma = 2.0"),
    ("equidistant", "response = \"response.npy\""),
])
def test_config_schemes_build_fit_data(tmp_path, scheme, extra):
    dataset, _ = simulate_cosi(6, n_time=48, bin_size=20.0, instrument=SMALL,
                               n_change_points=2)
    dataset.write(tmp_path / "data.nc")
    np.save(tmp_path / "response.npy", dataset.background_response)
    text = CONFIG.format(dataset="data.nc", scheme=scheme).replace(
        "n_blocks = 3", f"n_blocks = 3\n{extra}")
    (tmp_path / "cosi.toml").write_text(text)
    config = CosiFitConfig.read(tmp_path / "cosi.toml")
    assert config.scheme == scheme and config.run_dir.name == "cosi"
    data = fit_data_from_config(config)
    assert data.n_time == 48 and data.n_nonzero == dataset.n_nonzero
    if scheme == "altitude":
        assert data.n_block > 3  # night-time drops cross several 2-km marks
    elif scheme == "equidistant":
        assert data.n_block == 3
    stan = data.to_stan_data()
    assert stan["W"] == data.n_nonzero * 2 and stan["B"] == data.n_block


def test_config_merges_the_nodes_of_several_schemes(tmp_path):
    dataset, _ = simulate_cosi(6, n_time=48, bin_size=20.0, instrument=SMALL,
                               n_change_points=2)
    dataset.write(tmp_path / "data.nc")
    parts = {}
    for scheme in ("altitude", "equidistant", "altitude+equidistant"):
        text = CONFIG.format(dataset="data.nc", scheme=scheme).replace(
            "n_blocks = 3", "n_blocks = 3\naltitude_step = 2.0")
        (tmp_path / "cosi.toml").write_text(text)
        config = CosiFitConfig.read(tmp_path / "cosi.toml")
        parts[scheme] = config.background_model(dataset).blocks
    merged = parts["altitude+equidistant"]

    def starts(blocks):
        return set(np.flatnonzero(np.diff(blocks)) + 1)

    assert starts(merged) == starts(parts["altitude"]) | starts(parts["equidistant"])
    for bad in ("altitude+altitude", "altitude+weekly", ""):
        with pytest.raises(ValueError, match="scheme: expected one of"):
            CosiFitConfig.from_toml(CONFIG.format(dataset="data.nc", scheme=bad),
                                    base=tmp_path)


def test_maximum_likelihood_asks_for_a_tight_gradient_tolerance(reduced_problem,
                                                                 monkeypatch):
    """CmdStan's default relative-gradient tolerance stopped a weak-source band fit at its
    start (TS 4.4 instead of 22.8; `bayesbg.cosi.fit.maximum_likelihood`); the slow
    test below reproduces that fit."""
    import bayesbg.cosi.fit as fit_module

    seen = {}

    def capture(model, data, **kwargs):
        seen.update(kwargs)
        raise RuntimeError("captured")

    monkeypatch.setattr(fit_module, "optimize", capture)
    with pytest.raises(RuntimeError, match="captured"):
        maximum_likelihood(reduced_problem[0], seed=1, model=object())
    assert seen["algorithm"] == "lbfgs" and seen["tol_rel_grad"] <= 1e3
    assert seen["jacobian"] is False and seen["sig_figs"] == 15
