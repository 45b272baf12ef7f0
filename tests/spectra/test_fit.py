"""Spectral fits recover injected [ISGRI] Table 2 / 3 values, compare models, handle
systematics and cross-normalisations (fixed seeds)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from bayesbg.spectra import (
    REFERENCE_FITS,
    SpectralData,
    SpectralModel,
    compare_fits,
    fit_spectrum,
    predict_components,
    prepare,
    simulate_spectrum,
)
from bayesbg.spectra.likelihood import chi_square
from bayesbg.stan import SamplerWarning


def _interval(result, label, level=0.95):
    post = result.inference_data.posterior
    if label.endswith(".flux"):
        k = result.spectral_model.component_names.index(label.split(".")[0])
        draws = post["flux"][..., k]
    else:
        draws = post[label]
    tail = (1 - level) / 2
    return np.quantile(np.asarray(draws).ravel(), [tail, 1 - tail])


def _reference(name):
    ref = REFERENCE_FITS[name]
    return SpectralModel.parse(ref["model"], fixed=ref["fixed"]), dict(ref["truth"])


def _fit(data, model, seed, model_exe, config, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplerWarning)
        return fit_spectrum(data, spectral_model=model, seed=seed, config=config, model=model_exe,
                            **kwargs)


@pytest.mark.stan
@pytest.mark.parametrize("region,seed", [("GB", 11), ("L+20", 12), ("L-20", 13)])
def test_table2_values_recovered(region, seed, spectral_model, spectral_config):
    model, truth = _reference(region)
    data = simulate_spectrum(seed, spectral_model=model, truth=truth, region=region)
    result = _fit(data, model, seed, spectral_model, spectral_config, truth=truth)
    for label in ("cutoffpl.ecut", "cutoffpl.flux", "powerlaw.flux"):
        lo, hi = _interval(result, label)
        assert lo <= truth[label] <= hi, (label, lo, truth[label], hi)
    total = truth["cutoffpl.flux"] + truth["powerlaw.flux"]
    lo, hi = np.quantile(result.inference_data.posterior["flux_total"], [0.025, 0.975])
    assert lo <= total <= hi
    assert result.diagnostics["divergences"].passed
    assert result.chi_square.dof == 21 - 3
    assert 0.01 < result.chi_square.p_value


@pytest.mark.stan
def test_table3_ipm_mass_recovered(spectral_model, spectral_config):
    model, truth = _reference("GB-IPM")
    data = simulate_spectrum(20, spectral_model=model, truth=truth, region="GB")
    result = _fit(data, model, 20, spectral_model, spectral_config, truth=truth)
    for label in ("ipm.mass", "ipm.flux", "powerlaw.flux"):
        lo, hi = _interval(result, label)
        assert lo <= truth[label] <= hi, (label, lo, truth[label], hi)
    lo, hi = _interval(result, "ipm.mass")
    assert hi - lo < 0.5  # the data constrain the mass well inside the 0.3-1.35 prior


@pytest.mark.stan
def test_comparison_prefers_two_components_only_when_present(spectral_model,
                                                             spectral_config):
    one = SpectralModel.parse("cutoffpl", fixed={"cutoffpl.index": 0.0})
    two, truth = _reference("GB")
    with_pow = simulate_spectrum(31, spectral_model=two, truth=truth, region="GB")
    fits = {name: _fit(with_pow, m, 31, spectral_model, spectral_config)
            for name, m in (("cutoffpl", one), ("cutoffpl+powerlaw", two))}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplerWarning)
        table = compare_fits(fits)
    assert table.index[0] == "cutoffpl+powerlaw"
    assert table.loc["cutoffpl", "elpd_diff"] > 2 * table.loc["cutoffpl", "dse"]
    assert table.loc["cutoffpl", "delta_aic"] > 10
    assert table.loc["cutoffpl+powerlaw", "delta_aic"] == 0
    # single cut-off power law: poor fit, as in [ISGRI] (chi2_red 2.36 / 19)
    assert fits["cutoffpl"].chi_square.reduced > 1.5
    assert fits["cutoffpl"].chi_square.dof == 19

    no_pow = simulate_spectrum(32, spectral_model=one, truth={"cutoffpl.flux": 11.0,
                                                     "cutoffpl.ecut": 13.0}, region="GB")
    fits = {name: _fit(no_pow, m, 32, spectral_model, spectral_config)
            for name, m in (("cutoffpl", one), ("cutoffpl+powerlaw", two))}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplerWarning)
        table = compare_fits(fits)
    # no claim of a power law: LOO difference within 2 se, AIC not better by > 2
    diff = table.loc[table.index[1], "elpd_diff"]
    assert diff < 2 * table.loc[table.index[1], "dse"] or table.index[0] == "cutoffpl"
    assert fits["cutoffpl+powerlaw"].max_likelihood.aic > fits["cutoffpl"].max_likelihood.aic - 2
    assert _interval(fits["cutoffpl+powerlaw"], "powerlaw.flux")[0] < 0.5


@pytest.mark.stan
def test_sco_x1_systematic_changes_chi2_as_expected(spectral_model, spectral_config):
    """[ISGRI] App. C: boundary layer exp(-E/3.93 keV) + power law (free index),
    chi2_red 1.62 / 17 without and 0.98 / 17 with a 5 % systematic. Simulated: 7 %
    statistical errors and 5 % extra scatter, so chi2 should shrink by
    1 + (5/7)^2 = 1.51 when the systematic is added."""
    model = SpectralModel.parse("expcutoff+powerlaw",
                                priors={"powerlaw.index": {"location": 2.5, "scale": 1.0}})
    truth = {"expcutoff.ecut": 3.93, "expcutoff.flux": 30.0, "powerlaw.index": 2.48,
             "powerlaw.flux": 1.5}
    template = simulate_spectrum(0, spectral_model=model, truth=truth, error=np.ones(21))
    expected = predict_components(prepare(template, spectral_model=model), truth).sum(axis=0)
    data = simulate_spectrum(41, spectral_model=model, truth=truth, error=0.07 * expected,
                             injected_systematic=0.05)
    plain = _fit(data, model, 41, spectral_model, spectral_config)
    with_sys = _fit(data.with_systematic(0.05), model, 41, spectral_model, spectral_config)
    assert plain.chi_square.dof == with_sys.chi_square.dof == 21 - 4
    assert plain.chi_square.reduced > 1.3
    ratio = plain.chi_square.reduced / with_sys.chi_square.reduced
    assert 1.51 / 1.4 < ratio < 1.51 * 1.4, ratio
    assert 0.4 < with_sys.chi_square.reduced < 1.6
    for result in (plain, with_sys):
        assert result.diagnostics["divergences"].passed
    # the fit with the systematic covers the truth
    for label in ("expcutoff.ecut", "powerlaw.index"):
        lo, hi = _interval(with_sys, label)
        assert lo <= truth[label] <= hi, (label, lo, truth[label], hi)
    # chi2 at the median is the numpy formula with the systematic in quadrature
    again = chi_square(prepare(data.with_systematic(0.05), spectral_model=model), with_sys.median())
    assert again.chi2 == pytest.approx(with_sys.chi_square.chi2)


@pytest.mark.stan
def test_two_instruments_recover_cross_normalisation(spectral_model, spectral_config):
    """A Crab-like broken power law over 20-500 keV seen by two instruments, the second
    scaled by 0.9 ([COSI-PS] 5)."""
    model = SpectralModel.parse(
        "bknpower", priors={"bknpower.break_energy": {"lower": 30.0, "upper": 300.0}})
    truth = {"bknpower.index1": 2.05, "bknpower.break_energy": 100.0,
             "bknpower.index2": 2.4, "bknpower.flux": 100.0,
             "cross_norm": np.array([1.0, 0.9])}
    edges_a = np.geomspace(20.0, 150.0, 16)
    edges_b = np.geomspace(50.0, 500.0, 13)
    lo = np.concatenate([edges_a[:-1], edges_b[:-1]])
    hi = np.concatenate([edges_a[1:], edges_b[1:]])
    dataset = np.repeat([0, 1], [15, 12])
    error = np.where(dataset == 0, 8.0, 25.0) * np.sqrt(hi / lo / 1.15)
    data = simulate_spectrum(51, spectral_model=model, truth=truth, energy_min=lo, energy_max=hi,
                             error=error, dataset=dataset, dataset_names=("ISGRI", "SPI"))
    result = _fit(data, model, 51, spectral_model, spectral_config,
                  truth={k: v for k, v in truth.items()})
    post = result.inference_data.posterior
    c = np.asarray(post["cross_norm"].sel(dataset="SPI")).ravel()
    assert np.all(np.asarray(post["cross_norm"].sel(dataset="ISGRI")) == 1.0)
    assert np.quantile(c, 0.025) <= 0.9 <= np.quantile(c, 0.975)
    assert np.std(c) < 0.05
    for label in ("bknpower.index1", "bknpower.index2"):
        lo_, hi_ = _interval(result, label)
        assert lo_ <= truth[label] <= hi_, (label, lo_, truth[label], hi_)
    assert result.chi_square.dof == 27 - 5


@pytest.mark.stan
def test_upper_limits_are_censored(spectral_model, spectral_config):
    model, truth = _reference("L+20")
    data = simulate_spectrum(61, spectral_model=model, truth=truth, region="L+20",
                             upper_limit_sigma=2.0)
    assert data.upper_limit.sum() >= 2
    result = _fit(data, model, 61, spectral_model, spectral_config)
    log_lik = result.inference_data.log_likelihood["log_lik"]
    # a censored band's log-likelihood is a log-probability: <= 0
    assert float(log_lik.isel(band=np.flatnonzero(data.upper_limit)).max()) <= 0.0
    assert result.chi_square.dof == int((~data.upper_limit).sum()) - 3
    lo, hi = _interval(result, "cutoffpl.ecut")
    assert lo <= truth["cutoffpl.ecut"] <= hi


def test_data_must_be_spectral_data():
    model = SpectralModel.parse("powerlaw")
    with pytest.raises(TypeError, match="SpectralData"):
        fit_spectrum({"value": [1.0]}, spectral_model=model, seed=1)
    data = SpectralData([25.0], [30.0], [1.0], [1.0])
    with pytest.raises(TypeError, match="SpectralModel"):
        fit_spectrum(data, spectral_model="powerlaw", seed=1)
