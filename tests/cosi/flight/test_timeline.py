"""The flight-like time axis: one real day repeated, tracer and altitude per bin."""

from __future__ import annotations

import numpy as np
import pytest

from bayesbg.cosi.flight import altitude_from_tracer, flight_timeline, rebin_piecewise


def test_rebin_piecewise_averages_and_holds_the_ends():
    values = np.array([1.0, 3.0])
    edges = np.array([0.0, 1.0, 2.0])
    np.testing.assert_allclose(rebin_piecewise(values, edges, [0.0, 2.0]), [2.0])
    np.testing.assert_allclose(rebin_piecewise(values, edges, [0.5, 1.5, 3.0]), [2.0, 3.0])
    np.testing.assert_allclose(rebin_piecewise(values, edges, [-1.0, 0.0]), [1.0])
    with pytest.raises(ValueError, match="edges"):
        rebin_piecewise(values, [0.0, 1.0], [0.0, 1.0])


def test_altitude_from_tracer_inverts_the_rate_law():
    altitude = altitude_from_tracer([1.0, np.e, 1.0, 1e6])
    np.testing.assert_allclose(altitude, [33.3, 27.3, 33.3, 22.0])
    with pytest.raises(ValueError, match="tracer"):
        altitude_from_tracer([1.0, 0.0])


def test_timeline_repeats_the_day(flight_inputs):
    orientation, tracer, _ = flight_inputs
    timeline = flight_timeline(orientation, tracer, n_time=50)
    assert timeline.period == 24 and timeline.start == orientation.seconds[0]
    np.testing.assert_allclose(np.diff(timeline.time_edges), 3600.0)
    # tracer.npz holds hourly values: the day's tracer is the file's
    np.testing.assert_allclose(timeline.day_tracer, tracer.values, rtol=1e-12)
    np.testing.assert_array_equal(timeline.tracer()[24:48], timeline.tracer()[:24])
    assert timeline.tracer()[49] == timeline.day_tracer[1]
    altitude = timeline.day_altitude
    assert altitude.max() == pytest.approx(33.3) and 26.0 < altitude.min() < 27.0
    assert np.argmin(altitude) == np.argmax(timeline.day_tracer) == 8
    pointing = timeline.day_pointing(substeps=60)
    assert pointing.n_step == 24 * 60 and pointing.n_time == 24
    np.testing.assert_allclose(np.bincount(pointing.time_bin, pointing.live_time), 3600.0)
    # the altitude of the sub-pointings follows the hourly track
    mean = np.bincount(pointing.time_bin, pointing.altitude) / 60
    assert np.max(np.abs(mean - altitude)) < 0.5
    fixed = timeline.day_pointing(substeps=4, altitude=33.0)
    np.testing.assert_allclose(fixed.altitude, 33.0)


def test_timeline_rejects_bad_settings(flight_inputs):
    orientation, tracer, _ = flight_inputs
    with pytest.raises(ValueError, match="time_bin"):
        flight_timeline(orientation, tracer, time_bin=7000.0)
    with pytest.raises(ValueError, match="n_time"):
        flight_timeline(orientation, tracer, n_time=0)
