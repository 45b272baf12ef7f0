"""PSIS-LOO of background variants beside their AIC."""

from __future__ import annotations

import numpy as np
import pytest

from bayesbg.config import SamplerConfig
from bayesbg.cosi import simulate_cosi
from bayesbg.cosi.scan import BackgroundVariant, background_loo

from ..conftest import SMALL

pytestmark = pytest.mark.stan


def test_loo_prefers_the_variant_with_the_true_nodes(tmp_path):
    dataset, truth = simulate_cosi(8, n_time=48, bin_size=20.0, instrument=SMALL,
                                   n_change_points=2)
    good = BackgroundVariant("bayesian_blocks", 3.0, "photo_event_rate")
    flat = BackgroundVariant("equidistant", 1, "inverse_altitude")
    config = SamplerConfig(chains=2, iter_warmup=200, iter_sampling=200)
    table = background_loo(dataset, [good, flat], seed=2, config=config,
                           work_dir=tmp_path / "loo", processes=False)
    assert list(table["key"]) == [good.key, flat.key]
    assert (table["error"] == "").all()
    assert table["elpd_loo"].iloc[0] > table["elpd_loo"].iloc[1]
    assert np.all(table["se_loo"] > 0) and np.all(table["p_loo"] > 0)
    # a re-run resumes from the stored points
    again = background_loo(dataset, [good, flat], seed=2, config=config,
                           work_dir=tmp_path / "loo", processes=False)
    np.testing.assert_array_equal(again["elpd_loo"], table["elpd_loo"])
