"""Tests of bayesbg.stan.parameter_summary on synthetic draws."""

from __future__ import annotations

import arviz as az
import numpy as np
import pytest

from bayesbg.stan import parameter_summary


def _idata():
    rng = np.random.default_rng(0)
    flux = rng.normal(loc=[1.0, 5.0], scale=[0.1, 2.0], size=(2, 2000, 2))
    return az.from_dict(
        posterior={"flux": flux, "scale": rng.gamma(2.0, size=(2, 2000))},
        coords={"template": ["bulge", "disk"]},
        dims={"flux": ["template"]},
    )


def test_rows_labels_and_statistics():
    table = parameter_summary(_idata())
    assert list(table.index) == ["flux[bulge]", "flux[disk]", "scale"]
    assert list(table.columns) == ["mean", "sd", "q5", "q50", "q95", "r_hat", "ess_bulk",
                                   "ess_tail"]
    disk = table.loc["flux[disk]"]
    assert disk["mean"] == pytest.approx(5.0, abs=0.15)
    assert disk["sd"] == pytest.approx(2.0, rel=0.05)
    assert disk["q5"] == pytest.approx(5.0 - 1.645 * 2.0, abs=0.25)
    assert disk["q95"] == pytest.approx(5.0 + 1.645 * 2.0, abs=0.25)
    assert disk["r_hat"] < 1.01 and disk["ess_bulk"] > 1000


def test_truth_column_broadcasts_and_marks_missing_as_nan():
    table = parameter_summary(_idata(), truth={"flux": [1.0, 5.0]})
    assert table["truth"].tolist()[:2] == [1.0, 5.0]
    assert np.isnan(table.loc["scale", "truth"])
    with pytest.raises(ValueError, match="truth"):
        parameter_summary(_idata(), truth={"flux": [1.0, 2.0, 3.0]})


def test_unknown_variable_is_an_error():
    with pytest.raises(ValueError, match="var_names"):
        parameter_summary(_idata(), var_names=["flux", "nope"])
