"""Background response, tracer normalisation and the three time-node schemes."""

from __future__ import annotations

import numpy as np
import pytest

from bayesbg.cosi import CosiDataset, InstrumentSettings, simulate_cosi
from bayesbg.cosi.model import (
    SCHEMES,
    altitude_blocks,
    background_response_from_counts,
    bayesian_blocks,
    build_background_model,
    equidistant_blocks,
    false_alarm_probability,
    merge_blocks,
    read_background_response,
    scheme_blocks,
)


def _dataset(counts, *, altitude=None, energy_edges=None, tracer=None):
    n_time, n_bin = counts.shape
    return CosiDataset(
        counts=counts,
        time_edges=3600.0 * np.arange(n_time + 1),
        phi_edges=np.linspace(0, 180, 3),
        n_psi_chi=n_bin // 2 // (1 if energy_edges is None else len(energy_edges) - 1),
        tracers={"rate": np.ones(n_time) if tracer is None else tracer},
        altitude=altitude,
        energy_edges=energy_edges,
    )


def test_equidistant_blocks_are_equal_runs():
    blocks = equidistant_blocks(603, 24)
    sizes = np.bincount(blocks)[1:]
    assert blocks[0] == 1 and blocks[-1] == 24 and np.all(np.diff(blocks) >= 0)
    assert sizes.max() - sizes.min() <= 1
    assert np.array_equal(equidistant_blocks(5, 1), np.ones(5))
    with pytest.raises(ValueError, match="n_blocks: expected at most"):
        equidistant_blocks(5, 6)


def test_altitude_blocks_split_at_whole_km_crossings():
    altitude = np.array([33.4, 33.1, 32.7, 31.2, 30.9, 31.5, 33.2, 33.3])
    # levels 33, 33, 32, 31, 30, 31, 33, 33 -> nodes before bins 2, 3, 4, 5, 6
    assert altitude_blocks(altitude).tolist() == [1, 1, 2, 3, 4, 5, 6, 6]
    assert altitude_blocks(altitude, step=2.0).tolist() == [1, 1, 1, 2, 2, 2, 3, 3]


def test_false_alarm_probability_is_normal_survival():
    assert false_alarm_probability(1.0) == pytest.approx(0.158655, rel=1e-5)
    with pytest.raises(ValueError, match="sigma"):
        false_alarm_probability(0.0)


def test_bayesian_blocks_find_injected_change_points():
    rng = np.random.default_rng(7)
    rate = np.full(300, 400.0)
    rate[80:] *= 1.15
    rate[190:] *= 0.85
    counts = rng.poisson(rate)
    blocks = bayesian_blocks(counts, 3600.0 * np.arange(301), sigma=3.0)
    nodes = np.flatnonzero(np.diff(blocks)) + 1
    assert len(nodes) == 2
    assert np.all(np.abs(nodes - [80, 190]) <= 2)


def test_bayesian_blocks_with_tracer_find_only_untracked_jumps():
    rng = np.random.default_rng(8)
    hours = np.arange(400)
    tracer = 1.0 + 0.8 * np.sin(2 * np.pi * hours / 24.0) ** 2  # tracked daily swing
    untracked = np.where(hours >= 250, 1.12, 1.0)
    counts = rng.poisson(500.0 * tracer * untracked)
    edges = 3600.0 * np.arange(401)
    detrended = bayesian_blocks(counts, edges, sigma=3.0, tracer=tracer)
    nodes = np.flatnonzero(np.diff(detrended)) + 1
    assert len(nodes) == 1 and abs(nodes[0] - 250) <= 2
    raw = bayesian_blocks(counts, edges, sigma=3.0)
    assert raw.max() > 10  # the raw rate is cut at every daily swing


def test_merge_blocks_unites_nodes():
    merged = merge_blocks(equidistant_blocks(12, 3), [1] * 5 + [2] * 7)
    assert merged.tolist() == [1, 1, 1, 1, 2, 3, 3, 3, 4, 4, 4, 4]


def test_background_model_is_normalised_per_block():
    rng = np.random.default_rng(3)
    counts = rng.poisson(5.0, size=(12, 8))
    tracer = rng.uniform(0.5, 2.0, 12)
    dataset = _dataset(counts, tracer=tracer)
    model = build_background_model(dataset, blocks=equidistant_blocks(12, 3), tracer="rate")
    profile = model.time_profile()
    per_block = np.bincount(model.blocks - 1, weights=profile)
    measured = np.bincount(model.blocks - 1, weights=counts.sum(axis=1))
    assert np.allclose(per_block, measured)
    within = profile[:4] / tracer[:4]
    assert np.allclose(within, within[0])  # shape of the tracer inside a block
    assert np.isclose(model.response.sum(), 1.0)
    assert np.allclose(model.response, counts.sum(axis=0) / counts.sum())


def test_block_without_counts_raises():
    counts = np.ones((6, 4), dtype=int)
    counts[2:4] = 0
    dataset = _dataset(counts)
    with pytest.raises(ValueError, match=r"background block 2 \(time bins 2-3\) has no counts"):
        build_background_model(dataset, blocks=np.array([1, 1, 2, 2, 3, 3]), tracer="rate")


def test_unknown_tracer_and_bad_blocks_raise():
    dataset = _dataset(np.ones((6, 4), dtype=int))
    with pytest.raises(ValueError, match="tracer: 'shield' is not one of"):
        build_background_model(dataset, blocks=np.ones(6, dtype=int), tracer="shield")
    with pytest.raises(ValueError, match="blocks: block 2 has no time bins"):
        build_background_model(dataset, blocks=np.array([1, 1, 3, 3, 3, 3]), tracer="rate")
    with pytest.raises(ValueError, match="blocks: expected 6 integer block numbers"):
        build_background_model(dataset, blocks=np.ones(5, dtype=int), tracer="rate")


def test_response_from_energy_band_uses_band_shape():
    rng = np.random.default_rng(5)
    n_time, n_spatial = 5, 4
    line = rng.poisson(3.0, size=(n_time, n_spatial))
    continuum = rng.poisson([[50.0, 10.0, 30.0, 10.0]], size=(n_time, n_spatial))
    counts = np.concatenate([line, continuum], axis=1)  # energy bins: line, continuum
    dataset = _dataset(counts, energy_edges=np.array([506.0, 516.0, 600.0]))
    response = background_response_from_counts(dataset, energy_min=516.0, energy_max=600.0)
    shape = continuum.sum(axis=0) / continuum.sum()
    weights = np.array([line.sum(), continuum.sum()]) / counts.sum()
    assert np.allclose(response, np.concatenate([weights[0] * shape, weights[1] * shape]))
    with pytest.raises(ValueError, match="energy_min, energy_max"):
        background_response_from_counts(dataset, energy_min=516.0)


def test_read_background_response(tmp_path):
    response = np.full(8, 1 / 8)
    np.save(tmp_path / "r.npy", response)
    assert np.allclose(read_background_response(tmp_path / "r.npy", n_data_bin=8), response)
    np.save(tmp_path / "bad.npy", response * 2)
    with pytest.raises(ValueError, match="background_response: expected values summing to 1"):
        read_background_response(tmp_path / "bad.npy", n_data_bin=8)


def test_scheme_blocks_dispatch_to_the_three_schemes():
    dataset, _ = simulate_cosi(6, n_time=48, bin_size=20.0, n_change_points=2,
                               instrument=InstrumentSettings(instrument_nside=4, sky_nside=16))
    tracer = dataset.tracers["photo_event_rate"]
    assert SCHEMES == ("equidistant", "altitude", "bayesian_blocks")
    np.testing.assert_array_equal(scheme_blocks(dataset, "equidistant", 4),
                                  equidistant_blocks(48, 4))
    np.testing.assert_array_equal(scheme_blocks(dataset, "altitude", 2.0),
                                  altitude_blocks(dataset.altitude, step=2.0))
    np.testing.assert_array_equal(
        scheme_blocks(dataset, "bayesian_blocks", 3.0, tracer=tracer),
        bayesian_blocks(dataset.counts_per_time(), dataset.time_edges, sigma=3.0,
                        tracer=tracer))
    with pytest.raises(ValueError, match="scheme: expected one of"):
        scheme_blocks(dataset, "daily", 1.0)
