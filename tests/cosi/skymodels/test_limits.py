"""Posterior intervals, upper limits, prior quantiles, the choice of model, the config."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from bayesbg.cosi.skymodels import (
    ONE_SIDED_2_SIGMA,
    SkyModelsConfig,
    choose_model,
    flux_interval,
    truncated_normal_quantile,
    upper_limit,
)


def test_intervals_limits_and_prior_quantiles():
    draws = np.random.default_rng(3).normal(2.0, 0.5, 400_000)
    interval = flux_interval(draws)
    assert interval.median == pytest.approx(2.0, abs=0.01)
    assert (interval.lower, interval.upper) == pytest.approx((1.5, 2.5), abs=0.01)
    assert upper_limit(draws) == pytest.approx(3.0, abs=0.01)
    assert ONE_SIDED_2_SIGMA == pytest.approx(0.97725, abs=1e-5)
    # a normal truncated at 0: by Monte Carlo
    prior = stats.norm(1.7e-3, 5.1e-3).rvs(2_000_000, random_state=1)
    prior = prior[prior > 0]
    assert truncated_normal_quantile(1.7e-3, 5.1e-3, 0.97725) == pytest.approx(
        np.quantile(prior, 0.97725), rel=5e-3)
    with pytest.raises(ValueError, match="quantile"):
        upper_limit(draws, 0.3)
    with pytest.raises(ValueError, match="draws"):
        flux_interval([1.0])


def test_choose_model_prefers_the_simpler_within_two_se():
    table = pd.DataFrame({"elpd_loo": [-100.0, -101.0, -110.0], "dse": [0.0, 1.0, 2.0]},
                         index=["bulge + disk", "bulge", "bulge + halo"])
    sizes = {"bulge + disk": 2, "bulge": 1, "bulge + halo": 2}
    assert choose_model(table, sizes) == "bulge"
    table.loc["bulge", "elpd_loo"] = -105.0
    assert choose_model(table, sizes) == "bulge + disk"


TOML = """
run_dir = "runs/fit"
[data]
dataset = "d.nc"
[background]
from_scan = "runs/fit-scan-background"
[sky_models]
limits = ["disk"]
width = 10.0
geometry = "g.nc"
[sky_models.models]
"Bulge" = ["bulge"]
"Bulge + disk" = ["bulge", "disk"]
[sky_models.priors]
bulge = [1e-3, 3e-3]
disk = [1.7e-3, 5.1e-3]
"""


def test_sky_models_table(tmp_path):
    (tmp_path / "cosi.toml").write_text(TOML)
    config = SkyModelsConfig.read(tmp_path / "cosi.toml")
    assert [m.name for m in config.models] == ["Bulge", "Bulge + disk"]
    assert config.models[1].slug == "bulge-disk"
    assert config.priors["disk"] == (1.7e-3, 5.1e-3)
    assert config.quantile == pytest.approx(0.97725, abs=1e-5)
    assert config.run_dir == tmp_path / "runs" / "fit-sky-models"
    for old, new, message in (
        ('disk = [1.7e-3, 5.1e-3]', '', r"sky_models\.priors: no prior for \['disk'\]"),
        ('limits = ["disk"]', 'limits = ["halo"]', r"sky_models\.limits"),
        ('geometry = "g.nc"', '', r"sky_models\.geometry"),
        ('width = 10.0', 'width = 10.0\nquantile = 0.2', r"sky_models\.quantile"),
        ('width = 10.0', 'width = 10.0\nwidht = 3', r"sky_models\.widht"),
    ):
        with pytest.raises(ValueError, match=message):
            SkyModelsConfig.from_toml(TOML.replace(old, new))
