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
