"""MEGAlib .tra reader: counts and energies against an independent parse, hand-computed
angles of the first event, streaming, and corrupted files."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from bayesbg.cosi.io import iter_tra, read_ori, read_tra
from bayesbg.cosi.io.megalib import TraChunk
from bayesbg.cosi.io.sample_data import sample_data_dir

DATA = sample_data_dir()
CLASSIC = DATA / "classic-2016"
STEM = "SRC9det_PS511keV_l-010_b-010_simOP_160628_FullDay"
COMPTON = CLASSIC / f"{STEM}_CE0000-1000keV_EHCstandard.tra.gz"
PHOTO = CLASSIC / f"{STEM}_PE0000-1000keV_EHCstandard.tra.gz"
CRAB = DATA / "cosipy-test" / "GalacticScan.inc1.id1.crab10sec.extracted.testsample.tra.gz"
needs_data = pytest.mark.skipif(not COMPTON.exists(), reason="real COSI files not available")
M_E = 510.99895


@pytest.fixture(scope="module")
def compton_file() -> TraChunk:
    return read_tra(COMPTON)


@pytest.fixture(scope="module")
def photo_file() -> TraChunk:
    return read_tra(PHOTO)


def _simple_parse(path: Path) -> dict[str, float]:
    """Count events and sum energies with plain string handling (no bayesbg code)."""
    out = {"CO": 0, "PH": 0, "compton_energy": 0.0, "photo_energy": 0.0}
    with gzip.open(path, "rt") as handle:
        for line in handle:
            words = line.split()
            if words[:2] == ["ET", "CO"]:
                out["CO"] += 1
            elif words[:2] == ["ET", "PH"]:
                out["PH"] += 1
            elif words and words[0] == "CE":
                out["compton_energy"] += float(words[1]) + float(words[3])
            elif words and words[0] == "PE":
                out["photo_energy"] += float(words[1])
    return out


@needs_data
@pytest.mark.parametrize("path", [COMPTON, PHOTO, CRAB], ids=["CE", "PE", "crab"])
def test_counts_and_energy_sums_match_a_simple_parse(path: Path, compton_file: TraChunk,
                                                     photo_file: TraChunk) -> None:
    expected = _simple_parse(path)
    events = {COMPTON: compton_file, PHOTO: photo_file}.get(path) or read_tra(path)
    assert len(events.compton) == expected["CO"]
    assert len(events.photo) == expected["PH"]
    assert events.errors == ()
    assert events.compton.energy.sum() == pytest.approx(expected["compton_energy"], rel=1e-12)
    assert events.photo.energy.sum() == pytest.approx(expected["photo_energy"], rel=1e-12)


@needs_data
def test_known_counts_and_the_511_kev_line(compton_file: TraChunk, photo_file: TraChunk) -> None:
    events = compton_file.compton
    assert len(events) == 340
    assert len(photo_file.photo) == 8698
    counts, edges = np.histogram(events.energy, bins=np.arange(300.0, 700.0, 5.0))
    peak = np.argmax(counts)
    assert edges[peak] <= 511.0 < edges[peak + 1]


@needs_data
def test_first_event_by_hand(compton_file: TraChunk) -> None:
    # SE / ET CO / ID 71 / TI 1467074809.143991708 / GX 202.846 10.8055 / GZ 304.263 46.0436
    # CE 340.378 1.48236 26.7182 0.734798
    # CD -4.8184 -6.62935 -2.731 ... -3.2184 -7.42935 -3.93955 ...
    events = compton_file.compton
    assert events.event_id[0] == 71
    assert events.time[0] == pytest.approx(1467074809.143991708, abs=1e-6)
    assert events.energy_gamma[0] == 340.378 and events.energy_electron[0] == 26.7182
    phi = np.degrees(np.arccos(1 - M_E * (1 / 340.378 - 1 / (340.378 + 26.7182))))
    assert events.phi[0] == pytest.approx(phi, abs=1e-9)
    assert phi == pytest.approx(27.034, abs=1e-3)
    d = np.array([-4.8184 - -3.2184, -6.62935 - -7.42935, -2.731 - -3.93955])  # C1 - C2
    psi = np.degrees(np.arccos(d[2] / np.linalg.norm(d)))
    chi = np.degrees(np.arctan2(d[1], d[0])) % 360
    local_psi, local_chi = events.psi_chi_local()
    assert (local_psi[0], local_chi[0]) == (pytest.approx(psi), pytest.approx(chi))
    assert events.lever_arm[0] == pytest.approx(np.linalg.norm(d))
    # Galactic: d = d_x X + d_y Y + d_z Z with X, Z from GX, GZ (lon, lat) and Y = Z x X
    def unit(lon: float, lat: float) -> np.ndarray:
        lon, lat = np.radians(lon), np.radians(lat)
        return np.array([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])
    z_axis = unit(304.263, 46.0436)
    x_axis = unit(202.846, 10.8055)
    x_axis -= (x_axis @ z_axis) * z_axis
    x_axis /= np.linalg.norm(x_axis)
    g = (d / np.linalg.norm(d)) @ np.stack([x_axis, np.cross(z_axis, x_axis), z_axis])
    lon, lat = events.psi_chi_galactic()
    assert lon[0] == pytest.approx(np.degrees(np.arctan2(g[1], g[0])) % 360, abs=1e-9)
    assert lat[0] == pytest.approx(np.degrees(np.arcsin(g[2])), abs=1e-9)


@needs_data
def test_source_lies_on_the_cone(compton_file: TraChunk) -> None:
    """The ARM (angle to the source minus phi) of the 511 keV line events centres on 0."""
    events = compton_file.compton
    line = np.abs(events.energy - 511.0) < 5.0
    source = np.array([np.cos(np.radians(-10)) ** 2, -np.cos(np.radians(-10))
                       * np.sin(np.radians(10)), -np.sin(np.radians(10))])
    for orientation in (None, read_ori(CLASSIC / "OP_160628_FullDay.ori")):
        direction = events.data_space_direction_galactic(orientation)[line]
        arm = np.degrees(np.arccos(direction @ source)) - events.phi[line]
        assert abs(np.median(arm)) < 2.0
        assert np.percentile(np.abs(arm), 68) < 15.0


@needs_data
def test_streaming_gives_the_same_events(photo_file: TraChunk) -> None:
    chunks = list(iter_tra(PHOTO, chunk_size=1000))
    assert len(chunks) == 9
    assert max(chunk.n_event for chunk in chunks) <= 1000
    whole = photo_file.photo
    np.testing.assert_array_equal(np.concatenate([c.photo.energy for c in chunks]), whole.energy)


def _text(path: Path) -> list[str]:
    with gzip.open(path, "rt") as handle:
        return handle.readlines()


@needs_data
def test_corrupted_record_is_refused_or_skipped_with_its_line(tmp_path: Path) -> None:
    lines = _text(CRAB)
    index = [i for i, line in enumerate(lines) if line.startswith("CE")][5]
    lines[index] = "CE 164.427 0.634011 abc 0.514657\n"
    bad = tmp_path / "bad.tra"
    bad.write_text("".join(lines))
    with pytest.raises(ValueError, match=rf"bad\.tra:{index + 1}: CE: expected numbers"):
        read_tra(bad)
    with pytest.warns(UserWarning, match="skipped 1 malformed"):
        events = read_tra(bad, on_error="skip")
    assert len(events.compton) == 620
    assert events.errors[0].line == index + 1


@needs_data
def test_truncated_files_name_file_and_line(tmp_path: Path) -> None:
    lines = _text(CRAB)
    cut = [i for i, line in enumerate(lines) if line.startswith("CE")][3] + 1
    truncated = tmp_path / "cut.tra"
    truncated.write_text("".join(lines[:cut]))  # ends after a CE line: no CD
    start = max(i for i in range(cut) if lines[i].startswith("SE")) + 1
    with pytest.raises(ValueError, match=rf"cut\.tra:{start}: event without CD"):
        read_tra(truncated)
    mid_line = tmp_path / "mid.tra"
    cd = [i for i, line in enumerate(lines) if line.startswith("CD")][2]
    mid_line.write_text("".join(lines[:cd]) + lines[cd][:20])
    with pytest.raises(ValueError, match=rf"mid\.tra:{cd + 1}: CD: expected 12 numbers"):
        read_tra(mid_line)
    raw = CRAB.read_bytes()
    short_gz = tmp_path / "short.tra.gz"
    short_gz.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ValueError, match=r"short\.tra\.gz:\d+: corrupt or truncated gzip"):
        read_tra(short_gz)


def test_missing_event_type_and_bad_option(tmp_path: Path) -> None:
    path = tmp_path / "noet.tra"
    path.write_text("SE\nID 1\nTI 5\nSE\nET PA\nTI 6\nEN\n")
    with pytest.raises(ValueError, match=r"noet\.tra:1: event without ET"):
        read_tra(path)
    with pytest.warns(UserWarning):
        events = read_tra(path, on_error="skip")
    assert events.other == {"PA": 1}
    with pytest.raises(ValueError, match="on_error"):
        read_tra(path, on_error="ignore")  # type: ignore[arg-type]


SYNTHETIC = """Version 1
Type TRA
SE
ET CO
ID 7
TI 100.5
GX 0 0
GZ 0 90
SQ 2
CE 300 1 211 1
CD 0 0 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
SE
ET PH
ID 8
TI 101
PE 511
PP 1 2 3
SE
ET PA
TI 102
SE
ET CO
TI 103
CE 300 1 211 1
CE 300 1 211 1
CD 0 0 1 0 0 0 0 0 0 0 0 0
SE
ET CO
TI 104
CE 10 1 600 1
CD 0 0 1 0 0 0 0 0 0 0 0 0
EN
SE
ET CO
"""


def test_synthetic_file_known_values_and_problems(tmp_path: Path) -> None:
    path = tmp_path / "syn.tra"
    path.write_text(SYNTHETIC)
    with pytest.raises(ValueError, match=r"syn\.tra:25: CE: repeated in one event"):
        read_tra(path)
    with pytest.warns(UserWarning, match="skipped 2 malformed"):
        events = read_tra(path, on_error="skip")
    assert [e.line for e in events.errors] == [25, 30]
    assert "kinematically forbidden" in events.errors[1].message
    assert events.other == {"PA": 1}           # after EN nothing is read
    compton, photo = events.compton, events.photo
    assert compton.event_id.tolist() == [7] and compton.line.tolist() == [3]
    assert compton.energy[0] == 511.0 and compton.sequence_length[0] == 2
    # 300 keV scattered, 211 keV electron: cos phi = 1 - m_e (1/300 - 1/511)
    assert compton.phi[0] == pytest.approx(np.degrees(np.arccos(1 - M_E * (1 / 300 - 1 / 511))))
    psi, chi = compton.psi_chi_local()
    assert psi[0] == pytest.approx(0.0)        # C1 - C2 along +z
    lon, lat = compton.psi_chi_galactic()
    assert lat[0] == pytest.approx(90.0)       # instrument z towards the Galactic pole
    assert photo.energy.tolist() == [511.0] and photo.position.tolist() == [[1.0, 2.0, 3.0]]
    assert np.isnan(photo.x_lon[0])            # no GX on this record
    with pytest.raises(ValueError, match="no GX/GZ"):
        photo.rotation_axes()
