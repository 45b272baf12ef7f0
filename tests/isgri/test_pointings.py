"""The pointing table: validation naming the column, file round trips, Parquet."""

from __future__ import annotations

import numpy as np
import pytest

from bayesbg.isgri.pointings import BANDS, PointingTable, read_pointings, write_pointings


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
