"""Posterior predictive checks along time, phi and psi-chi flag a misspecified background;
the check stage after a fit records them in its run directory."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from bayesbg.config import SamplerConfig
from bayesbg.cosi import InstrumentSettings, fit_cosi, simulate_cosi
from bayesbg.cosi.checks import (
    axis_sums,
    check_cosi_fit,
    plot_predictive_check,
    predictive_check,
    time_predictive_check,
)
from bayesbg.cosi.model import (
    bayesian_blocks,
    build_background_model,
    equidistant_blocks,
    merge_blocks,
    prepare_fit_data,
)

SMALL = InstrumentSettings(instrument_nside=4, sky_nside=16)


def test_check_counts_bins_outside_the_band():
    rng = np.random.default_rng(2)
    replicates = rng.poisson(1000.0, size=(2000, 300))
    observed = rng.poisson(1000.0, size=300).astype(float)
    adequate = time_predictive_check(observed=observed, replicates=replicates)
    assert adequate.fraction_outside < 0.04 and not adequate.flagged()
    assert abs(np.mean(adequate.z_scores)) < 0.3
    shifted = time_predictive_check(observed=observed * 1.1, replicates=replicates)
    assert shifted.fraction_outside > 0.5 and shifted.flagged()
    with pytest.raises(ValueError, match="replicates: expected shape"):
        time_predictive_check(observed=observed[:10], replicates=replicates)


@pytest.mark.parametrize("axis", ["time", "phi", "psi_chi", "energy"])
def test_axis_sums_equal_the_dense_model_summed(tiny_fit_data, axis):
    data = tiny_fit_data
    dataset = data.dataset
    dense = data.to_dense_stan_data()
    flux, amplitude = np.array([1.3e-3]), np.array([0.9, 1.05, 1.1])
    expected = (flux[0] * dense["sky_response"][0]
                + amplitude[dense["time_block"] - 1][:, None] * dense["background"])
    shape = (dataset.n_time, dataset.n_energy, dataset.n_phi, dataset.n_psi_chi)
    keep = {"time": 0, "energy": 1, "phi": 2, "psi_chi": 3}[axis]
    others = tuple(i for i in range(4) if i != keep)
    sums = axis_sums(data, axis=axis)
    np.testing.assert_allclose(sums.expected(flux, amplitude),
                               expected.reshape(shape).sum(axis=others), rtol=1e-10)
    np.testing.assert_array_equal(
        sums.observed, dataset.counts.toarray().reshape(shape).sum(axis=others))


def test_check_from_draws_flags_a_wrong_response_shape(tiny_fit_data, tmp_path):
    """Draws at the truth pass; a response tilted in phi fails along phi (no Stan)."""
    data = tiny_fit_data
    rng = np.random.default_rng(4)
    # amplitudes that reproduce each block's counts, fluxes near the simulated 1e-3
    draws = {"flux": rng.normal(1e-3, 5e-5, (400, 1)),
             "background_amplitude": rng.normal(0.99, 0.003, (400, data.n_block))}
    checks = {axis: predictive_check(draws, data, axis=axis) for axis in ("phi", "psi_chi")}
    assert all(not c.flagged() and c.fraction_outside < 0.05 for c in checks.values())
    phi = np.deg2rad(0.5 * (data.dataset.phi_edges[1:] + data.dataset.phi_edges[:-1]))
    _, phi_index, _ = data.dataset.data_space_index(np.arange(data.dataset.n_data_bin))
    tilted = data.background_model.response * (1 + 0.15 * np.cos(phi))[phi_index]
    wrong = prepare_fit_data(data.dataset, build_background_model(
        data.dataset, blocks=data.time_block, tracer="photo_event_rate",
        response=tilted / tilted.sum()))
    bad = predictive_check(draws, wrong, axis="phi")
    assert bad.flagged() and bad.fraction_outside > 0.5
    assert np.nanmax(np.abs(bad.z_scores)) > 3
    figure = plot_predictive_check(bad, path=tmp_path / "ppc_phi.png")
    assert len(figure.axes) == 3 and (tmp_path / "ppc_phi.png").stat().st_size > 10_000
    with pytest.raises(ValueError, match="axis: expected one of"):
        predictive_check(draws, data, axis="chi")
    with pytest.raises(ValueError, match="do not match the data"):
        predictive_check({"flux": draws["flux"], "background_amplitude": draws["flux"]},
                         data, axis="phi")


def _perturbed_response(dataset, rng):
    """The true response tilted by +-15 % in phi and with a 10 % texture in psi-chi."""
    phi = np.deg2rad(0.5 * (dataset.phi_edges[1:] + dataset.phi_edges[:-1]))
    _, phi_index, psi_chi_index = dataset.data_space_index(np.arange(dataset.n_data_bin))
    texture = rng.lognormal(0.0, 0.1, dataset.n_psi_chi)
    response = dataset.background_response * (1 + 0.15 * np.cos(phi))[phi_index] \
        * texture[psi_chi_index]
    return response / response.sum()


@pytest.mark.stan
def test_predictive_check_flags_misspecified_background(cosi_model, tmp_path):
    dataset, _ = simulate_cosi(31, n_time=240, bin_size=30.0, instrument=SMALL, n_change_points=2)
    correct_blocks = merge_blocks(
        equidistant_blocks(dataset.n_time, 8),
        bayesian_blocks(dataset.counts_per_time(), dataset.time_edges, sigma=3.0,
                        tracer=dataset.tracers["photo_event_rate"]),
    )
    backgrounds = {
        "correct": build_background_model(dataset, blocks=correct_blocks,
                                          tracer="photo_event_rate"),
        # a flat tracer misses the altitude-driven swings and the untracked jumps
        "wrong_time": build_background_model(dataset, blocks=equidistant_blocks(
            dataset.n_time, 8), tracer=np.ones(dataset.n_time)),
        # right in time, wrong data-space shape (tilted in phi, textured in psi-chi)
        "wrong_shape": build_background_model(
            dataset, blocks=correct_blocks, tracer="photo_event_rate",
            response=_perturbed_response(dataset, np.random.default_rng(8))),
    }
    config = SamplerConfig(chains=2, parallel_chains=2, iter_warmup=200, iter_sampling=250)
    checks = {}
    recorded = {}
    for name, background in backgrounds.items():
        data = prepare_fit_data(dataset, background)
        run_dir = tmp_path / name if name != "wrong_shape" else None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = fit_cosi(data, seed=5, config=config, model=cosi_model, run_dir=run_dir)
        if run_dir is not None:  # checks are the next stage, not part of the fit
            assert not list(run_dir.glob("ppc_*.png"))
            assert "predictive_checks" not in json.loads((run_dir / "summary.json").read_text())
            recorded[name] = check_cosi_fit(run_dir, data)  # from the run directory
            again = check_cosi_fit(result)  # from the result: the same numbers, replaced
            assert again["phi"].to_dict() == recorded[name]["phi"].to_dict()
        checks[name] = {"stan_time": time_predictive_check(result.inference_data)}
        for axis in ("time", "phi", "psi_chi"):
            checks[name][axis] = predictive_check(result, data, axis=axis, rng=1)
    correct, wrong_time, wrong_shape = (checks[k] for k in backgrounds)
    for axis in ("stan_time", "time", "phi", "psi_chi"):
        assert correct[axis].fraction_outside < 0.05, axis
        assert not correct[axis].flagged(), axis
    # the Python replicates per time bin agree with the Stan program's counts_time_rep
    monte_carlo = correct["time"].sd * np.sqrt(2.0 / 500)  # sd of a difference of means
    assert np.all(np.abs(correct["time"].mean - correct["stan_time"].mean) < 5 * monte_carlo)
    np.testing.assert_allclose(correct["time"].sd, correct["stan_time"].sd, rtol=0.15)
    for axis in ("stan_time", "time"):
        assert wrong_time[axis].fraction_outside > 0.2 and wrong_time[axis].flagged(), axis
    for axis in ("phi", "psi_chi"):
        assert wrong_shape[axis].fraction_outside > 0.2 and wrong_shape[axis].flagged(), axis
    # the run directories hold the three figures, the numbers and a check entry per axis
    for name, status in (("correct", "pass"), ("wrong_time", "warn")):
        run_dir = tmp_path / name
        for axis in ("time", "phi", "psi_chi"):
            assert (run_dir / f"ppc_{axis}.png").stat().st_size > 10_000
        summary = json.loads((run_dir / "summary.json").read_text())
        assert set(summary["predictive_checks"]) == {"time", "phi", "psi_chi"}
        assert summary["predictive_checks"]["time"] == recorded[name]["time"].to_dict()
        assert [f["file"] for f in summary["figures"]] == ["ppc_time.png", "ppc_phi.png",
                                                           "ppc_psi_chi.png"]
        entries = {c["name"]: c for c in summary["checks"]}
        assert len(summary["checks"]) == 3  # checked twice, recorded once
        assert entries["predictive check: time"]["status"] == status
    summary = json.loads((tmp_path / "correct" / "summary.json").read_text())
    assert summary["predictive_checks"]["phi"]["n_bin"] == dataset.n_phi
    assert summary["predictive_checks"]["psi_chi"]["fraction_outside"] < 0.05
    with pytest.raises(ValueError, match="data: expected the CosiFitData"):
        check_cosi_fit(tmp_path / "correct")
