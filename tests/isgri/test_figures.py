"""The pipeline's figures: the background light curve leaves orbits without a model out
instead of drawing the model at 0 (which squashed the axis and hid the data)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from bayesbg.isgri.figures import (
    background_lightcurve,
    lightcurve_figure,
    plot_background_lightcurve,
)


def test_orbits_without_a_model_have_no_model_value(pipeline_run):
    _, result, _ = pipeline_run
    curve = background_lightcurve(result)
    assert set(curve["band"]) == {band.name for band in result.bands}
    missing = curve["n_model"] == 0
    # the full-size run has BKG pointings in orbits without a prediction (clipped orbits)
    assert missing.any()
    assert curve.loc[missing, "model"].isna().all()
    assert np.all(curve.loc[~missing, "model"] > 0)
    assert np.all(curve["rate"] > 0)
    fig = lightcurve_figure(curve)
    try:
        for ax, band in zip(fig.axes, curve["band"].unique(), strict=True):
            rows = curve[curve["band"] == band]
            model = next(line for line in ax.get_lines() if line.get_label() == "model")
            y = np.asarray(model.get_ydata(), dtype=float)
            gap = rows["n_model"].to_numpy() == 0
            assert np.all(np.isnan(y[gap])) and np.all(y[~gap] > 0)
            # the axis follows the data, not a model point at 0
            assert ax.get_ylim()[0] > 0.5 * rows["rate"].min()
    finally:
        plt.close(fig)


def test_lightcurve_figure_leaves_gaps(tmp_path):
    curve = pd.DataFrame({"orbit": [1, 2, 3, 4], "band": "25-60", "n": 5,
                          "n_model": [5, 0, 5, 0], "rate": [10.0, 10.5, 10.2, 9.9],
                          "model": [10.1, np.nan, 10.0, np.nan]})
    fig = lightcurve_figure(curve)
    try:
        model = next(line for line in fig.axes[0].get_lines() if line.get_label() == "model")
        y = np.asarray(model.get_ydata(), dtype=float)
        np.testing.assert_array_equal(np.isnan(y), [False, True, False, True])  # gaps
        assert np.nanmin(y) > 9
        assert fig.axes[0].get_ylim()[0] > 9
    finally:
        plt.close(fig)
    path = plot_background_lightcurve(curve, tmp_path / "lc.png")
    assert path.stat().st_size > 1000
