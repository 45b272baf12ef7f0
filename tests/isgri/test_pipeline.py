"""Full-size simulated pipeline: Table-1 fluxes recovered with calibrated errors, the
collimator convention and its systematic term, the spectra and the point source."""

from __future__ import annotations

import numpy as np
import pytest

from bayesbg.isgri import PAPER_REGIONS, run_pipeline, simulate_isgri
from bayesbg.isgri.bands import BROAD_BANDS, NARROW_BANDS


def _pulls(table, result, truth):
    rows = []
    for region in PAPER_REGIONS:
        injected = truth.injected_flux(result.region_ids(region), result.background_ids,
                                       bands=result.bands)
        sub = result.table[result.table["region"] == region.name].reset_index()
        for k in range(3):
            rows.append((region.name, sub["band"][k], sub["flux"][k], sub["error"][k],
                         injected[k], sub["error_random"][k]))
    return table, result, rows


@pytest.fixture(scope="module")
def full_run(pipeline_run):
    return _pulls(*pipeline_run)


def test_full_size_table1_pulls_are_centred_and_none_beyond_two_and_a_half(full_run):
    _, result, rows = full_run
    assert 125_000 < result.screening.table.n_pointing < 137_000
    pulls = np.array([(flux - injected) / error for _, _, flux, error, injected, _ in rows])
    for (name, band, flux, error, injected, _), pull in zip(rows, pulls, strict=True):
        print(f"{name:12s} {band:7s} {flux:8.2f} +- {error:6.2f}  injected {injected:8.2f} "
              f"pull {pull:+.2f}")
    print(f"mean pull {pulls.mean():+.2f}, largest |pull| {np.abs(pulls).max():.2f}")
    assert abs(pulls.mean()) < 0.5
    assert np.all(np.abs(pulls) < 2.5)
    # the injected values follow the simulated [ISGRI] Table 2 spectrum: GB 25-60 keV is
    # the cutoffpl + powerlaw model's 177 mCrab (the paper's Table 1 has 154.9)
    assert rows[0][4] == pytest.approx(177.5, abs=2.0)


def test_error_budget_adds_in_quadrature_with_a_measured_collimator_term(full_run):
    _, result, _ = full_run
    table = result.table
    assert result.collimator == "flat" and result.collimator_alternative == "tapered"
    random = np.sqrt(table["error_statistical"] ** 2 + table["error_background"] ** 2
                     + table["error_calibration"] ** 2)
    np.testing.assert_allclose(table["error_random"], random)
    np.testing.assert_allclose(table["error"], np.hypot(random, table["error_collimator"]))
    np.testing.assert_allclose(table["error_collimator"],
                               np.abs(table["flux_alternative"] - table["flux"]))
    # the tapered response (0.92 at the break) refers the Crab rate within 4.5 deg to the
    # axis and raises P(orbit) by ~4 %: fluxes ~4 % lower, measured per region and band
    galactic = table["region"] != "3C 273/Coma"
    ratio = table.loc[galactic, "flux_alternative"] / table.loc[galactic, "flux"]
    assert np.all((ratio > 0.94) & (ratio < 0.98)), ratio.to_numpy()
    assert np.all(table["error_background"] > 0)
    assert np.all(table["error_calibration"][table["region"] == "GB"] > 0)
    gb = table[table["region"] == "GB"]
    assert np.all(gb["error_statistical"] > gb["paper_error"])
    assert set(table["method"]) == {"mixture-ml"}


def test_the_old_collimator_convention_reads_low_on_the_papers_collimator(pipeline_run):
    table, result, truth = pipeline_run
    tapered = run_pipeline(table, collimator="tapered", collimator_alternative=None,
                           spectral_bands=(), profile_bins=())
    gb = PAPER_REGIONS[0]
    injected = truth.injected_flux(tapered.region_ids(gb), tapered.background_ids,
                                   bands=BROAD_BANDS[:1])[0]
    old = tapered.table.iloc[0]
    new = result.table.iloc[0]
    print(f"GB 25-60 keV: tapered {old['flux']:.1f} +- {old['error']:.1f}, flat "
          f"{new['flux']:.1f} +- {new['error_random']:.1f}, injected {injected:.1f}")
    assert (old["flux"] - injected) / old["error"] < -2  # the bias the issue found
    assert abs(new["flux"] - injected) < 2 * new["error_random"]


def test_high_latitude_field_consistent_with_zero(full_run):
    _, _, rows = full_run
    for name, band, flux, error, _, _ in rows:
        if name == "3C 273/Coma":
            assert abs(flux) < 2.5 * error, band


def test_background_and_crab_steps_behave(full_run):
    _, result, _ = full_run
    assert result.background.clipped.size > 0
    assert result.background.slope_rejected.size > 0
    assert result.crab.orbit.size >= 10
    assert result.crab_alternative.orbit.size == result.crab.orbit.size
    assert np.all(result.table["energy_flux"][result.table["region"] == "GB"] > 0)


def test_spectra_in_the_narrow_bands_follow_the_injected_spectrum(pipeline_run):
    _, result, truth = pipeline_run
    spectra = result.spectra
    assert len(spectra) == 4 * 21
    pulls = []
    for region in PAPER_REGIONS[:3]:
        rows = spectra[spectra["region"] == region.name]
        assert tuple(rows["band"]) == tuple(band.name for band in NARROW_BANDS)
        injected = truth.injected_flux(result.region_ids(region), result.background_ids,
                                       bands=NARROW_BANDS)
        pulls += list((rows["flux"] - injected) / rows["error_random"])
    pulls = np.asarray(pulls)
    print(f"63 narrow-band pulls: mean {pulls.mean():+.2f}, sd {pulls.std():.2f}, "
          f"within 2 sigma {np.mean(np.abs(pulls) < 2):.0%}")
    assert abs(pulls.mean()) < 0.4
    assert np.mean(np.abs(pulls) < 2) >= 0.85


def test_point_source_in_collimator_mode_recovers_the_injected_flux(pipeline_run):
    _, result, truth = pipeline_run
    (source,) = result.point_sources
    assert source.source.name == "Sco X-1"
    ids = source.fluxes.pointings.scw_id
    assert 600 < ids.size < 1200  # [ISGRI] Appendix C: 838 ScWs within 4.5 deg
    assert np.all(source.source.offset(source.fluxes.pointings.l,
                                       source.fluxes.pointings.b) < 4.5)
    injected = truth.injected_flux(ids, result.background_ids, bands=BROAD_BANDS)
    row = source.table.iloc[0]
    assert row["band"] == "25-60"
    print(f"Sco X-1 25-60 keV {row['flux']:.1f} +- {row['error']:.1f}, injected "
          f"{injected[0]:.1f}")
    assert abs(row["flux"] - injected[0]) < 2 * row["error"]
    assert 250 < injected[0] < 350
    # none of its pointings (nor any within 15 deg) is in the diffuse measurements
    assert not np.any(np.isin(ids, result.pointings.scw_id))


@pytest.mark.slow
def test_coverage_over_thirty_seeds():
    # 30 seeds x 4 regions x 3 bands = 360 intervals; a correct 2-sigma interval covers
    # 95.4 %. With the collimator term (a fixed convention difference, not scatter: the
    # simulation uses the default shape) the coverage must stay >= 0.9; the random part
    # of the error is compared with the actual scatter of flux - injected per cell.
    records = []
    for seed in range(100, 130):
        table, truth = simulate_isgri(seed)
        result = run_pipeline(table, spectral_bands=(), profile_bins=())
        _, _, rows = _pulls(table, result, truth)
        records += [(name, band, flux - injected, error, random)
                    for name, band, flux, error, injected, random in rows]
    deviation = np.array([r[2] for r in records])
    error = np.array([r[3] for r in records])
    random = np.array([r[4] for r in records])
    fraction = np.mean(np.abs(deviation) < 2 * error)
    fraction_random = np.mean(np.abs(deviation) < 2 * random)
    cells = sorted({(r[0], r[1]) for r in records})
    ratio = []
    for cell in cells:
        mask = np.array([(r[0], r[1]) == cell for r in records])
        ratio.append(random[mask].mean() / deviation[mask].std(ddof=1))
        print(f"{cell[0]:12s} {cell[1]:7s} bias {deviation[mask].mean():+6.2f} +- "
              f"{deviation[mask].std(ddof=1) / np.sqrt(mask.sum()):.2f} mCrab, random error "
              f"{random[mask].mean():5.2f}, scatter {deviation[mask].std(ddof=1):5.2f}, "
              f"coverage {np.mean(np.abs(deviation[mask]) < 2 * error[mask]):.2f}")
    pulls = deviation / error
    print(f"2-sigma coverage over 30 seeds: {fraction:.3f} with the collimator term, "
          f"{fraction_random:.3f} without; mean random error / scatter {np.mean(ratio):.2f} "
          f"(per cell {np.min(ratio):.2f}-{np.max(ratio):.2f}); mean pull {pulls.mean():+.3f}")
    assert fraction >= 0.9
    assert fraction_random >= 0.85
    assert 0.75 < np.mean(ratio) < 1.35
