"""Pointing table validation, screening, file I/O, regions, collimator, Crab units."""

from __future__ import annotations

import astropy.units as u
import numpy as np
import pytest

from bayesbg.isgri import (
    BANDS,
    CollimatorResponse,
    PointingTable,
    SkyRegion,
    crab_photon_flux,
    longitude_bins,
    read_pointings,
    screen,
    simulate_isgri,
    write_pointings,
)


@pytest.fixture(scope="module")
def small_table():
    table, _ = simulate_isgri(3, n_pointing=3000, orbit_min=100, orbit_max=160)
    return table


def test_effective_solid_angle_within_two_percent_of_286():
    response = CollimatorResponse()
    omega = response.solid_angle()
    print(f"effective solid angle {omega:.1f} deg2 (grid {response.solid_angle_on_grid():.1f})")
    assert abs(omega / 286.0 - 1) < 0.02
    assert response.solid_angle_on_grid() == pytest.approx(omega, rel=2e-3)
    assert response(0.0) == 1.0
    assert response(4.5) == pytest.approx(0.92)
    assert response(20.0) == 0.0


def test_crab_photon_flux_is_the_power_law_integral():
    expected = 10 / 1.1 * (25**-1.1 - 60**-1.1)
    assert crab_photon_flux(25 * u.keV, 60 * u.keV).to_value("cm-2 s-1") == pytest.approx(
        expected
    )


def test_missing_and_invalid_columns_are_named(small_table):
    frame = small_table.to_dataframe()
    with pytest.raises(ValueError, match="exposure"):
        PointingTable.from_dataframe(frame.drop(columns="exposure"))
    bad = frame.copy()
    bad.loc[0, "phase"] = 1.5
    with pytest.raises(ValueError, match="phase"):
        PointingTable.from_dataframe(bad)
    with pytest.raises(ValueError, match="rate_error_60_80"):
        PointingTable.from_dataframe(frame.drop(columns="rate_error_60_80"))


def test_screening_reports_each_cut(small_table):
    result = screen(small_table)
    assert [r.cut.split()[0] for r in result.report] == ["phase", "exposure", "mode"]
    assert sum(r.removed for r in result.report) == small_table.n_pointing - result.table.n_pointing
    assert np.all((result.table.phase >= 0.2) & (result.table.phase <= 0.8))
    assert np.all(result.table.exposure >= 700)
    assert not np.isin(result.table.mode, [41, 43]).any()
    assert all(r.removed > 0 for r in result.report)


@pytest.mark.parametrize("suffix", [".csv", ".ecsv", ".fits"])
def test_file_round_trip(small_table, tmp_path, suffix):
    path = write_pointings(small_table, tmp_path / f"scw{suffix}")
    back = read_pointings(path)
    assert back.bands == BANDS
    np.testing.assert_array_equal(back.scw_id, small_table.scw_id)
    np.testing.assert_allclose(back.rate, small_table.rate)


def test_parquet_without_pyarrow_is_a_clear_error(small_table, tmp_path):
    pytest.importorskip("pandas")
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="pyarrow"):
            write_pointings(small_table, tmp_path / "scw.parquet")
    else:
        path = write_pointings(small_table, tmp_path / "scw.parquet")
        assert read_pointings(path).n_pointing == small_table.n_pointing


def test_regions_wrap_around_longitude_180():
    region = SkyRegion("anticentre", 180.0, 0.0, 20.0, 10.0)
    assert region.contains([175.0, -175.0, 160.0], [0.0, 0.0, 0.0]).tolist() == [True, True, False]
    bins = longitude_bins()
    assert len(bins) == 11 and bins[5].l_center == 0.0
    with pytest.raises(ValueError, match="width"):
        SkyRegion("x", 0, 0, 0, 1)


def test_cli_run_writes_table_and_figures(tmp_path):
    from bayesbg.cli import main

    config = tmp_path / "isgri.toml"
    config.write_text('simulate_seed = 5\noutput = "out"\n')
    assert main(["isgri", "run", str(config)]) == 0
    out = tmp_path / "out"
    assert (out / "flux_table.csv").is_file()
    for name in ("background_lightcurve", "residuals", "crab_calibration", "longitude_profile"):
        assert (out / f"{name}.png").stat().st_size > 1000
    assert main(["isgri", "run", str(config)]) == 1  # exists, no --overwrite
    config.write_text('simulate_seed = 5\nbogus = 1\n')
    assert main(["isgri", "run", str(config), "--overwrite"]) == 1
