"""Flight-like fixtures from the real 2016 files: a two-day geometry, built once."""

from __future__ import annotations

import pytest

from bayesbg.cosi.flight import FlightGeometry, flight_timeline
from bayesbg.cosi.io import read_classic_background, read_classic_tracer, read_ori
from bayesbg.cosi.io.sample_data import sample_data_dir

CLASSIC = sample_data_dir() / "classic-2016"
ORIENTATION = CLASSIC / "OP_160628_FullDay.ori"
TRACER = CLASSIC / "tracer.npz"
BACKGROUND = CLASSIC / "flight_bg_all_v1_fine_6deg.npz"
EVENTS = CLASSIC / ("SRC9det_PS511keV_l-010_b-010_simOP_160628_FullDay_CE0000-1000keV_"
                    "EHCstandard.tra.gz")
PHOTO = CLASSIC / ("SRC9det_PS511keV_l-010_b-010_simOP_160628_FullDay_PE0000-1000keV_"
                   "EHCstandard.tra.gz")

needs_flight_files = pytest.mark.skipif(
    not all(p.exists() for p in (ORIENTATION, TRACER, BACKGROUND, EVENTS)),
    reason="real COSI 2016 files not available")


@pytest.fixture(scope="session")
def flight_inputs():
    """The orientation, tracer and background response of the 2016 flight."""
    if not all(p.exists() for p in (ORIENTATION, TRACER, BACKGROUND)):
        pytest.skip("real COSI 2016 files not available")
    return (read_ori(ORIENTATION), read_classic_tracer(TRACER),
            read_classic_background(BACKGROUND))


@pytest.fixture(scope="session")
def two_days(flight_inputs) -> FlightGeometry:
    """48 one-hour bins at 506-516 keV, default instrument, 60 sub-pointings per hour."""
    orientation, tracer, background = flight_inputs
    return FlightGeometry.from_timeline(flight_timeline(orientation, tracer, n_time=48),
                                        background)
