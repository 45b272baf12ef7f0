"""Tests of bayesbg.stan.parameter_summary and format_summary on synthetic draws."""

from __future__ import annotations

import arviz as az
import numpy as np
import pytest

from bayesbg.stan import format_summary, parameter_summary


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


def test_text_has_title_header_rows_and_truth_count():
    table = parameter_summary(_idata(), truth={"flux": [1.0, 50.0]})
    lines = format_summary(table, title="Posterior summary (flux in ph cm-2 s-1)").splitlines()
    assert lines[0] == "Posterior summary (flux in ph cm-2 s-1)"
    assert lines[1].split()[:3] == ["parameter", "truth", "mean"]
    assert lines[2].startswith("flux[bulge]") and "1.0000" in lines[2]
    assert lines[4].startswith("scale") and " - " in lines[4]  # no truth given
    assert lines[-1] == "Truth inside the 90 % interval for 1 of 3 parameters."
    assert format_summary(parameter_summary(_idata())).splitlines()[0] == "Posterior summary"
