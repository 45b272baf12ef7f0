"""Flight-like simulation: counts, tracers and truth on the real geometry."""

from __future__ import annotations

import numpy as np
import pytest

from bayesbg.cosi.flight import (
    background_rate,
    bulge,
    default_background_rate,
    flight_background_response,
    simulate_flight,
    thick_disk,
    truth_to_json,
)


def test_default_rate_spreads_the_file_over_603_hours(flight_inputs, two_days):
    _, _, background = flight_inputs
    assert default_background_rate(background, two_days) == pytest.approx(350282 / 603)


def test_background_rate_has_the_given_mean_and_steps(two_days):
    rate = background_rate(two_days, np.random.default_rng(0), mean_rate=500.0,
                           change_points=[10, 30], factors=[1.2, 0.9])
    assert rate.rate.mean() == pytest.approx(500.0)
    ratio = rate.rate / rate.tracked
    np.testing.assert_allclose(ratio / ratio[0], np.r_[np.ones(10), np.full(20, 1.2),
                                                       np.full(18, 1.08)])
    drawn = background_rate(two_days, np.random.default_rng(0), mean_rate=500.0,
                            n_change_points=3)
    assert drawn.change_points.size == 3 and np.all(np.diff(drawn.change_points) > 0)
    with pytest.raises(ValueError, match="change_points"):
        background_rate(two_days, np.random.default_rng(0), mean_rate=1.0,
                        change_points=[0])


def test_simulation_matches_its_truth(flight_inputs, two_days):
    _, _, background = flight_inputs
    response = flight_background_response(background, two_days)
    template = two_days.template(bulge(10.0))
    dataset, truth = simulate_flight(
        7, two_days, response, sky=[(bulge(10.0), 1e-3), (thick_disk(), 0.5e-3)],
        templates={"bulge": template}, mean_background_rate=580.0)
    assert dataset.template_names == ("bulge", "thick_disk")
    assert set(dataset.tracers) == {"photo_event_rate", "flight_tracer", "inverse_altitude"}
    counts = dataset.counts_per_time()
    expected = truth["sky_counts"] + truth["background_counts"]
    assert abs(counts.sum() - expected.sum()) < 4 * np.sqrt(expected.sum())
    # counts only where the event selection keeps events
    assert np.all(two_days.selection[0][dataset.counts.col])
    assert truth["flux"] == {"bulge": 1e-3, "thick_disk": 5e-4}
    assert '"change_points"' in truth_to_json(truth)
    again, _ = simulate_flight(7, two_days, response, sky=[(bulge(10.0), 1e-3),
                                                           (thick_disk(), 0.5e-3)],
                               templates={"bulge": template}, mean_background_rate=580.0)
    np.testing.assert_array_equal(again.counts.data, dataset.counts.data)
    with pytest.raises(ValueError, match="sky"):
        simulate_flight(7, two_days, response, sky=[], mean_background_rate=580.0)
