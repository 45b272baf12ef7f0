"""The COSI simulator: data of the [COSI-511] design with known truth."""

from __future__ import annotations

import numpy as np
import pytest

from bayesbg.cosi import InstrumentSettings, simulate_cosi

INSTRUMENT = InstrumentSettings(instrument_nside=8)


def test_simulation_of_reduced_size_has_the_designed_structure():
    dataset, truth = simulate_cosi(11, n_time=72, bin_size=15.0, instrument=INSTRUMENT,
                                   n_change_points=2)
    assert dataset.n_time == 72 and dataset.n_phi == 12
    assert set(dataset.tracers) == {"photo_event_rate", "shield_rate", "inverse_altitude"}
    ratio = truth["background_counts"].sum() / truth["sky_counts"].sum()
    assert ratio == pytest.approx(100.0)
    assert 22.0 <= dataset.altitude.min() < 30.0 and dataset.altitude.max() <= 34.0
    rate = dataset.counts_per_time()
    assert np.corrcoef(rate, dataset.tracers["photo_event_rate"])[0, 1] > 0.8
    assert np.corrcoef(rate, dataset.altitude)[0, 1] < -0.5  # rises in altitude drops
    assert len(truth["change_points"]) == 2
    assert dataset.counts.sum() == pytest.approx(
        truth["sky_counts"].sum() + truth["background_counts"].sum(), rel=0.02)
    point, truth_point = simulate_cosi(11, n_time=24, bin_size=15.0, instrument=INSTRUMENT,
                                       sky="point", source_lon=184.56, source_lat=-5.78)
    assert point.template_names == ("point_source",)


@pytest.mark.slow
def test_full_size_simulation_is_fast_and_large():
    dataset, truth = simulate_cosi(3)
    assert dataset.n_time >= 600
    assert dataset.n_phi >= 30 and dataset.n_psi_chi >= 1100
    assert dataset.n_data_bin >= 30_000
    assert dataset.n_nonzero < 0.1 * dataset.n_time * dataset.n_data_bin
