"""Residual fluxes per group and their bins, the data of the flux mixture."""

from __future__ import annotations

import numpy as np
import pytest

from bayesbg.isgri.model.flux_groups import FluxGroups


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


def test_binning_and_fit_scale_with_the_data():
    # the collimator term refits mu on fluxes scaled by ~0.956: the binning (60 core bins
    # of s / 5 when the core is not truncated, 12 s / 0.2 s up to rounding) must scale too
    from bayesbg.isgri.model.mixture_likelihood import fit_mixture_ml

    rng = np.random.default_rng(2)  # 3 of the 41 factors hit the rounding without care
    values = np.concatenate([rng.normal(80.0, 1000.0, 7000), rng.uniform(-3e4, 6e4, 600)])
    a, _ = FluxGroups.from_mapping({"g": values}).bins("g")
    for factor in np.linspace(0.9, 1.1, 41):
        b, _ = FluxGroups.from_mapping({"g": values * factor}).bins("g")
        assert a.size == b.size, factor
        np.testing.assert_allclose(b, factor * a, rtol=1e-12)
    mu = fit_mixture_ml(values).mu
    for factor in (0.9560675, 1.04):
        assert fit_mixture_ml(values * factor).mu == pytest.approx(factor * mu, rel=1e-5)
