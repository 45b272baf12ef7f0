"""MEGAlib orientation files: the 2016 and newer layouts, interpolation, frames, bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from astropy.time import Time

from bayesbg.cosi.io import Orientation, read_ori
from bayesbg.cosi.io.orientation import lonlat_to_vectors
from bayesbg.cosi.io.sample_data import sample_data_dir

DATA = sample_data_dir()
ORI_2016 = DATA / "classic-2016" / "OP_160628_FullDay.ori"
ORI_NEW = DATA / "cosipy-test" / "20280301_first_10sec.ori"
needs_data = pytest.mark.skipif(not ORI_2016.exists(), reason="real COSI files not available")


@needs_data
def test_2016_layout_values_and_times() -> None:
    orientation = read_ori(ORI_2016)
    assert len(orientation) == 5706
    assert orientation.extra == {}
    assert orientation.seconds[0] == pytest.approx(1467072123.9515739, abs=1e-6)
    assert (orientation.x_lat[0], orientation.x_lon[0]) == (12.3032, 187.152)
    assert (orientation.z_lat[-1], orientation.z_lon[-1]) == (46.1035, 289.152)
    assert orientation.time[0].utc.isot.startswith("2016-06-28T00:02:03.95")


@needs_data
def test_newer_layout_has_named_extra_columns() -> None:
    orientation = read_ori(ORI_NEW)
    assert len(orientation) == 11
    assert set(orientation.extra) == {"altitude", "earth_zenith_lat", "earth_zenith_lon",
                                      "livetime"}
    np.testing.assert_array_equal(orientation.extra["livetime"], [1.0] * 10 + [0.0])
    # the x and z axes of every row are orthogonal to the file's precision
    x, _, z = orientation.axes()
    raw_x = lonlat_to_vectors(orientation.x_lon, orientation.x_lat)
    np.testing.assert_allclose(np.sum(raw_x * z, axis=1), 0.0, atol=1e-12)
    np.testing.assert_allclose(x, raw_x, atol=1e-12)


@needs_data
def test_interpolation_at_a_known_time() -> None:
    orientation = read_ori(ORI_NEW)
    half = orientation.interpolate(Time(1835478000.5, format="unix"))
    mean = lonlat_to_vectors(orientation.x_lon[:2], orientation.x_lat[:2]).mean(axis=0)
    expected = mean / np.linalg.norm(mean)
    np.testing.assert_allclose(lonlat_to_vectors(half.x_lon, half.x_lat)[0], expected,
                               atol=1e-12)
    # by hand: lat halfway between 73.14907746670937 and 73.09517926980278 (to 1e-5 deg)
    assert half.x_lat[0] == pytest.approx(73.1221, abs=1e-3)
    exact = orientation.interpolate(orientation.seconds[[3, 10]])
    np.testing.assert_allclose(exact.z_lat, orientation.z_lat[[3, 10]], atol=1e-10)
    with pytest.raises(ValueError, match="outside the orientation range"):
        orientation.interpolate([1835478011.0])


def test_frames_round_trip() -> None:
    orientation = Orientation(Time([0.0, 10.0], format="unix"), x_lat=[0.0, 0.0],
                              x_lon=[0.0, 90.0], z_lat=[90.0, 0.0], z_lon=[0.0, 0.0])
    x, y, z = orientation.axes()
    np.testing.assert_allclose(y[0], [0, 1, 0], atol=1e-12)     # x=l0, z=NGP -> y = l90
    np.testing.assert_allclose(y[1], [0, 0, 1], atol=1e-12)     # x=l90, z=l0 -> y = z x x
    theta, phi = orientation.to_local(90.0, 0.0)                 # (l, b) = (90, 0)
    np.testing.assert_allclose(theta, [90.0, 90.0], atol=1e-9)
    np.testing.assert_allclose(phi, [90.0, 0.0], atol=1e-9)
    rng = np.random.default_rng(1)
    local = rng.normal(size=(2, 3))
    local /= np.linalg.norm(local, axis=1, keepdims=True)
    galactic = orientation.to_galactic(local)
    lon = np.degrees(np.arctan2(galactic[:, 1], galactic[:, 0]))
    lat = np.degrees(np.arcsin(galactic[:, 2]))
    theta, phi = orientation.to_local(lon, lat)
    np.testing.assert_allclose(theta, np.degrees(np.arccos(local[:, 2])), atol=1e-9)
    np.testing.assert_allclose(phi, np.mod(np.degrees(np.arctan2(local[:, 1], local[:, 0])),
                                           360), atol=1e-9)


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "bad.ori"
    path.write_text("Type OrientationsGalactic\n" + body)
    return path


@pytest.mark.parametrize(("body", "match"), [
    ("OG 1 2 3 4 5\nOG 2 2 abc 4 5\nEN\n", r"bad\.ori:3: expected numbers"),
    ("OG 1 2 3 4 5\nOG 2 2 3 4\nEN\n", r"bad\.ori:3: expected at least 5"),
    ("OG 1 2 3 4 5 6\nOG 2 2 3 4 5\nEN\n", r"bad\.ori:3: expected 6 numbers"),
    ("OG 5 2 3 4 5\nOG 2 2 3 4 5\nEN\n", r"bad\.ori:3: time 2.0 before"),
    ("OG 1 2 3 4 5\nXX 2 2 3 4 5\nEN\n", r"bad\.ori:3: unknown keyword 'XX'"),
    ("OG 1 95 3 4 5\nEN\n", r"bad\.ori:2: latitude outside"),
    ("EN\n", r"no OG rows"),
])
def test_malformed_rows_name_file_and_line(tmp_path: Path, body: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        read_ori(_write(tmp_path, body))


def test_missing_en_warns_and_rows_after_en_are_ignored(tmp_path: Path) -> None:
    with pytest.warns(UserWarning, match="no final EN"):
        orientation = read_ori(_write(tmp_path, "OG 1 0 0 90 0\nOG 2 0 10 90 0\n"))
    assert len(orientation) == 2
    orientation = read_ori(_write(tmp_path, "OG 1 0 0 90 0\nEN\nOG 2 0 10 90 0\n"))
    assert len(orientation) == 1
