"""Event selections of [COSI-PS] Table 1 applied when binning MEGAlib events."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from bayesbg.cosi.io import (
    PAPER_SELECTION,
    BinningConfig,
    EventSelection,
    bin_events,
    read_ori,
    read_tra,
    select_events,
)
from bayesbg.cosi.io.orientation import Orientation
from bayesbg.cosi.io.sample_data import sample_data_dir

CLASSIC = sample_data_dir() / "classic-2016"
COMPTON = CLASSIC / ("SRC9det_PS511keV_l-010_b-010_simOP_160628_FullDay_CE0000-1000keV_"
                     "EHCstandard.tra.gz")
ORI = CLASSIC / "OP_160628_FullDay.ori"
needs_data = pytest.mark.skipif(not COMPTON.exists(), reason="real COSI files not available")

RECORD = """SE
ET CO
ID {id}
TI 1467074809.5
GX 202.846 10.8055
GZ 304.263 46.0436
SQ {sq}
CE 340.0 1.0 {ee} 0.7
CD 0 0 0 0.05 0.05 0.05 {d} 0 0 0.05 0.05 0.05 0 0 0 0 0 0
CH 0 0 0 0 26.7 0 0.05 0.05 0.05 0.7 0
CH 1 {d} 0 0 140.0 0 0.05 0.05 0.05 1.0 0
CH 2 {d} {e} 0 84.5 0 0.05 0.05 0.05 0.8 0
"""


def _events(tmp_path: Path):
    """Four events: good; first distance 0.4 cm; other distance 0.2 cm; SQ 8."""
    text = "".join(RECORD.format(id=i, sq=sq, ee=26.7, d=d, e=e) for i, (sq, d, e) in
                   enumerate([(3, 1.0, 1.0), (3, 0.4, 1.0), (3, 1.0, 0.2), (8, 1.0, 1.0)]))
    path = tmp_path / "events.tra.gz"
    with gzip.open(path, "wt") as handle:
        handle.write(text + "EN\n")
    return read_tra(path).compton


def test_interactions_and_distances(tmp_path):
    events = _events(tmp_path)
    np.testing.assert_allclose(events.other_distance, [1.0, 1.0, 0.2, 1.0])
    keep, removed = select_events(events, EventSelection(
        sequence_min=2, sequence_max=7, first_distance_min=0.5, other_distance_min=0.3))
    np.testing.assert_array_equal(keep, [True, False, False, False])
    assert removed == {"sequence_min": 0, "sequence_max": 1, "first_distance_min": 1,
                       "other_distance_min": 1}


@needs_data
def test_pointing_cut_and_phi_window_on_the_simulated_source():
    orientation = read_ori(ORI)
    selection = EventSelection(energy_min=500, energy_max=520, phi_max=60.0,
                               source_lon=-10.0, source_lat=-10.0, pointing_cut=60.0)
    plain = bin_events(COMPTON, BinningConfig(energy_edges=(500, 520)), orientation=orientation)
    cut = bin_events(COMPTON, BinningConfig(energy_edges=(500, 520), selection=selection),
                     orientation=orientation)
    removed = cut.summary["selection_removed"]
    assert cut.summary["compton_binned"] < plain.summary["compton_binned"]
    assert removed["pointing_cut"] > 0
    assert cut.summary["compton_binned"] + sum(removed.values()) + \
        cut.summary["outside_energy"] + cut.summary["outside_phi"] == cut.summary["compton_read"]
    # every kept event has phi <= 60 deg: no counts above the 10th phi bin of 6 deg
    _, phi_bin, _ = cut.dataset.data_space_index(cut.dataset.counts.col)
    assert phi_bin.max() < 10


@needs_data
def test_criteria_the_files_cannot_carry_are_errors():
    orientation = read_ori(ORI)
    events = read_tra(COMPTON).compton
    with pytest.raises(ValueError, match="altitude_min: needs the orientation's 'altitude'"):
        select_events(events, PAPER_SELECTION, orientation=orientation)
    with pytest.raises(ValueError, match="earth_horizon"):
        select_events(events, EventSelection(earth_horizon=True), orientation=orientation)


def test_earth_horizon_cut_with_an_earth_zenith(tmp_path):
    events = _events(tmp_path)
    times = np.array([1467074800.0, 1467074820.0])
    base = dict(time=__import__("astropy.time", fromlist=["Time"]).Time(times, format="unix"),
                x_lat=np.array([10.8055, 10.8055]), x_lon=np.array([202.846, 202.846]),
                z_lat=np.array([46.0436, 46.0436]), z_lon=np.array([304.263, 304.263]))
    direction = events.data_space_direction_galactic()[0]
    lat = float(np.degrees(np.arcsin(direction[2])))
    lon = float(np.degrees(np.arctan2(direction[1], direction[0])))
    for zenith_lat, zenith_lon, expected in ((lat, lon, True), (-lat, lon + 180.0, False)):
        orientation = Orientation(**base, extra={
            "earth_zenith_lat": np.full(2, zenith_lat), "earth_zenith_lon":
            np.full(2, zenith_lon), "altitude": np.full(2, 33.5)})
        keep, _ = select_events(events, EventSelection(earth_horizon=True, altitude_min=33.0),
                                orientation=orientation)
        # up along the event's direction: its cone reaches the sky; straight down: an
        # event of phi ~ 30 deg has its whole cone below the horizon
        assert bool(keep[0]) == expected


def test_selection_table_in_the_binning_file(tmp_path):
    path = tmp_path / "bin.toml"
    path.write_text('[binning]\nenergy_edges = [150, 5000]\n[binning.selection]\n'
                    'sequence_max = 7\nphi_max = 60.0\n')
    config = BinningConfig.read(path)
    assert config.selection == EventSelection(sequence_max=7, phi_max=60.0)
    path.write_text('[binning]\n[binning.selection]\nphi_maximum = 60.0\n')
    with pytest.raises(ValueError, match="binning.selection.phi_maximum: unknown key"):
        BinningConfig.read(path)
    with pytest.raises(ValueError, match="pointing_cut"):
        EventSelection(source_lon=10.0, source_lat=0.0)
    with pytest.raises(ValueError, match="phi_max"):
        EventSelection(phi_max=-1.0)
