"""The binned MEGAlib 511 keV point source against its convolved template (real files)."""

from __future__ import annotations

import pytest

from bayesbg.cosi.flight import (
    FlightGeometry,
    flight_timeline,
    point_source,
    point_source_agreement,
)
from bayesbg.cosi.io import BinningConfig, bin_events

from .conftest import EVENTS, needs_flight_files


@needs_flight_files
def test_binned_events_and_template_agree(flight_inputs):
    orientation, tracer, background = flight_inputs
    timeline = flight_timeline(orientation, tracer, n_time=24)
    # the MEGAlib run has no altitude drops: the template at a constant 33 km
    geometry = FlightGeometry.from_timeline(timeline, background, altitude=33.0)
    binned = bin_events(EVENTS, BinningConfig(energy_edges=(506.0, 516.0),
                                              time_stop=timeline.time_edges[-1]),
                        orientation=orientation)
    events = binned.dataset
    assert events.n_time == 24 and events.counts.sum() == 182
    # every event lies inside the event selection of the measured background
    assert geometry.selection[0][events.counts.col].all()
    result = point_source_agreement(events, geometry.template(point_source(-10.0, -10.0)),
                                    geometry, lon=-10.0, lat=-10.0)
    # position: the back-projected peaks within one pixel (3.7 deg) of each other
    assert result.adjacent and result.peak_separation < 4.0
    assert result.events_offset < 4.0 and result.template_offset < 4.0
    # counts: calibrated on the even hours, the odd hours within 10 %
    interleaved = result.split("interleaved")
    assert abs(interleaved.ratio - 1.0) < 0.10
    # the zenith dependence within 2 sigma, the time profile consistent (deviance)
    zenith = result.split("zenith")
    assert abs(zenith.ratio - 1.0) < 2 * zenith.ratio_error
    assert result.p_value > 0.05
    assert result.n_events == 182
    with pytest.raises(ValueError, match="template"):
        point_source_agreement(events, geometry.template(point_source(-10.0, -10.0))[:, :10],
                               geometry, lon=-10.0, lat=-10.0)
