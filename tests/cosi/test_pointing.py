"""Pointing histories: validated once, simulated (balloon aspect) or from a MEGAlib .ori
file, kept in a file."""

from __future__ import annotations

import numpy as np
import pytest

from bayesbg.cosi.io.orientation import lonlat_to_vectors, read_ori
from bayesbg.cosi.io.sample_data import sample_data_dir
from bayesbg.cosi.pointing import HOUR, Pointing, balloon_aspect, balloon_pointing, load_pointing

ORI = sample_data_dir() / "classic-2016" / "OP_160628_FullDay.ori"
needs_ori = pytest.mark.skipif(not ORI.is_file(), reason=f"{ORI} not available")


def test_balloon_pointing_is_the_aspect_drawn_first_from_the_seed():
    pointing = balloon_pointing(5, n_time=6, substeps=2)
    aspect = balloon_aspect(6, np.random.default_rng(5), substeps=2)
    assert np.array_equal(pointing.rotation, aspect["rotation"])
    assert np.array_equal(pointing.altitude, aspect["altitude"])
    assert np.array_equal(pointing.time_bin, np.repeat(np.arange(6), 2))
    assert np.allclose(pointing.live_time, HOUR / 2)
    assert pointing.n_step == 12 and pointing.n_time == 6
    # a generator's state moves on, as in the simulator
    generator = np.random.default_rng(5)
    assert np.array_equal(balloon_pointing(generator, n_time=6, substeps=2).altitude,
                          pointing.altitude)
    assert not np.array_equal(balloon_pointing(generator, n_time=6, substeps=2).altitude,
                              pointing.altitude)
    with pytest.raises(ValueError, match="substeps"):
        balloon_pointing(5, n_time=6, substeps=0)


def test_pointing_arrays_are_validated():
    good = balloon_pointing(1, n_time=2)
    fields = {"rotation": good.rotation, "altitude": good.altitude,
              "live_time": good.live_time, "time_bin": good.time_bin}
    for name, value, match in (
        ("rotation", good.rotation[:, :2], "rotation"),
        ("rotation", 2.0 * good.rotation, "orthonormal"),
        ("altitude", good.altitude[:3], "altitude"),
        ("live_time", -good.live_time, "live_time"),
        ("time_bin", good.time_bin - 1, "time_bin"),
        ("time_bin", good.time_bin.astype(float), "time_bin"),
    ):
        with pytest.raises(ValueError, match=match):
            Pointing(**{**fields, name: value})


def test_pointing_round_trips_through_a_file(tmp_path):
    pointing = balloon_pointing(2, n_time=6)
    path = pointing.write(tmp_path / "pointing.nc")
    again = load_pointing(path)
    assert np.allclose(again.rotation, pointing.rotation)
    assert np.array_equal(again.time_bin, pointing.time_bin)
    with pytest.raises(FileExistsError):
        pointing.write(path)


@pytest.fixture(scope="module")
def orientation():
    return read_ori(ORI)


@needs_ori
def test_pointing_from_orientation_averages_the_rows_over_each_time_bin(orientation):
    seconds = orientation.seconds
    edges = seconds[0] + 600.0 + 3600.0 * np.arange(7)
    pointing = Pointing.from_orientation(orientation, edges, altitude=33.0)
    assert pointing.n_time == 6
    assert np.allclose(np.bincount(pointing.time_bin, pointing.live_time), 3600.0)
    assert np.allclose(pointing.altitude, 33.0)
    lon, lat = pointing.zenith_lonlat()
    zenith = lonlat_to_vectors(lon, lat)
    rows = lonlat_to_vectors(orientation.z_lon, orientation.z_lat)
    for k in range(6):
        # dwell-time weighted: each row holds until the next one, sampled every second
        t = np.arange(edges[k], edges[k + 1]) + 0.5
        held = rows[np.searchsorted(seconds, t, side="right") - 1].mean(axis=0)
        held /= np.linalg.norm(held)
        assert np.degrees(np.arccos(min(1.0, held @ zenith[k]))) < 0.01
        # and close to the plain mean of the rows in the bin (about 12 s apart)
        inside = rows[(seconds >= edges[k]) & (seconds < edges[k + 1])].mean(axis=0)
        inside /= np.linalg.norm(inside)
        assert np.degrees(np.arccos(min(1.0, inside @ zenith[k]))) < 1.0
    coarse = Pointing.from_orientation(orientation, edges, altitude=33.0, substeps=4)
    assert coarse.n_step == 24
    assert np.allclose(coarse.zenith_lonlat()[1], lat, atol=1e-3)
    # the last bin runs past the end of the file: only covered time counts
    late = Pointing.from_orientation(orientation, seconds[-1] - 1800.0 + 3600.0 * np.arange(2),
                                     altitude=33.0)
    assert late.live_time.sum() == pytest.approx(1800.0)
    with pytest.raises(ValueError, match="altitude"):
        Pointing.from_orientation(orientation, edges)
    with pytest.raises(ValueError, match="overlap"):
        Pointing.from_orientation(orientation, np.arange(7) * 3600.0, altitude=33.0)
