"""Classic COSIpy npz files: background response, tracer, RMF; broken files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bayesbg.cosi.io import read_classic_background, read_classic_rmf, read_classic_tracer
from bayesbg.cosi.io.sample_data import sample_data_dir

DATA = sample_data_dir()
CLASSIC = DATA / "classic-2016"
BACKGROUND = CLASSIC / "flight_bg_all_v1_fine_6deg.npz"
needs_data = pytest.mark.skipif(not BACKGROUND.exists(), reason="real COSI files not available")


@needs_data
def test_background_response_band() -> None:
    response = read_classic_background(BACKGROUND)
    assert response.response.shape == (174, 30, 1145)
    assert response.grid.n_bin == 1145
    np.testing.assert_allclose(response.response.sum(axis=(1, 2)), 1.0, rtol=1e-9)
    assert response.counts_per_energy.sum() == 8014103
    band = response.band(500.0, 520.0)
    assert band.shape == (30 * 1145,) and band.sum() == pytest.approx(1.0)
    assert response.band_edges(500.0, 520.0) == (500.0, 516.0)
    # by hand: the two bins 500-506 and 506-516 weighted by their counts
    i = np.flatnonzero(response.energy_edges == 500.0)[0]
    w = response.counts_per_energy[i:i + 2]
    expected = (w[0] * response.response[i] + w[1] * response.response[i + 1]) / w.sum()
    np.testing.assert_allclose(band, expected.ravel(), rtol=1e-12)
    full = response.for_energy_edges([143.0, 500.0, 516.0, 5000.0])
    assert full.shape == (3 * 30 * 1145,) and full.sum() == pytest.approx(1.0)
    with pytest.raises(ValueError, match=r"energy_edges: \[480.0\]"):
        response.for_energy_edges([143.0, 480.0, 5000.0])
    with pytest.raises(ValueError, match="no background response bin"):
        response.band(501.0, 505.0)


@needs_data
def test_tracer_with_and_without_pickle() -> None:
    tracer = read_classic_tracer(CLASSIC / "tracer.npz")
    assert tracer.values.shape == (24,) and tracer.values.mean() == pytest.approx(1.0)
    assert tracer.edges_assumed and tracer.counts is None
    with pytest.raises(ValueError, match="allow_pickle"):
        tracer.rate()
    full = read_classic_tracer(CLASSIC / "tracer.npz", allow_pickle=True)
    assert not full.edges_assumed and full.counts.sum() == 5158715
    np.testing.assert_allclose(full.values, full.counts / full.counts.mean())
    assert full.time_edges[-1] == pytest.approx(86171.68389177)


@needs_data
def test_rmf_axes() -> None:
    rmf = read_classic_rmf(CLASSIC / "RMF_matrices_COSI2016_9dets_10ebins_6deg.npz")
    assert rmf.matrix.shape == (10, 10, 60, 30)
    assert rmf.energy_edges[[0, 4, -1]].tolist() == [150.0, 520.0, 5000.0]
    assert rmf.zenith_edges[-1] == pytest.approx(180.0) and rmf.pixel_size == 6.0
    np.testing.assert_array_equal(rmf.at(10.0, 30.0), rmf.matrix[:, :, 5, 1])
    summed = rmf.matrix.sum(axis=(2, 3))
    # measured (axis 0) never more than one bin above true (axis 1)
    assert np.all(np.tril(summed, k=-2) == 0) and np.all(np.diag(summed) > 0)


def test_broken_npz_files_name_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.npz"
    np.savez(broken, bg_response=np.ones((2, 3, 4)))
    with pytest.raises(ValueError, match=r"broken\.npz: missing arrays \['energy_bin_edges'\]"):
        read_classic_background(broken)
    truncated = tmp_path / "cut.npz"
    np.savez(truncated, tracer=np.ones(5))
    truncated.write_bytes(truncated.read_bytes()[:40])
    with pytest.raises(ValueError, match=r"cut\.npz: not a readable"):
        read_classic_tracer(truncated)
    shapes = tmp_path / "shapes.npz"
    np.savez(shapes, bg_response=np.ones((2, 3, 4)), energy_bin_edges=np.arange(5))
    with pytest.raises(ValueError, match=r"shapes\.npz: expected bg_response"):
        read_classic_background(shapes)


@needs_data
def test_band_response_feeds_the_background_model() -> None:
    from bayesbg.cosi import build_background_model, equidistant_blocks
    from bayesbg.cosi.io import BinningConfig, bin_events

    stem = "SRC9det_PS511keV_l-010_b-010_simOP_160628_FullDay_CE0000-1000keV_EHCstandard"
    binned = bin_events(CLASSIC / f"{stem}.tra.gz",
                        BinningConfig(energy_edges=(500.0, 516.0), time_bin=7200.0))
    dataset = binned.dataset
    response = read_classic_background(BACKGROUND).band(500.0, 516.0)
    assert response.size == dataset.n_data_bin
    model = build_background_model(dataset, blocks=equidistant_blocks(dataset.n_time, 3),
                                   tracer="compton_event_rate", response=response)
    expected = model.expected(np.repeat(np.arange(dataset.n_time), dataset.n_data_bin),
                              np.tile(np.arange(dataset.n_data_bin), dataset.n_time))
    assert expected.sum() == pytest.approx(dataset.counts.sum())
