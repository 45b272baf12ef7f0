"""The pointing table: validation naming the column, file round trips, Parquet."""

from __future__ import annotations

import numpy as np
import pandas as pd
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


def test_repeated_scw_ids_are_an_error_naming_them(small_table, tmp_path):
    frame = small_table.to_dataframe()
    doubled = pd.concat([frame, frame.iloc[:3]], ignore_index=True)
    first = frame["scw_id"].iloc[0]
    with pytest.raises(ValueError, match=rf"scw_id: 3 identifiers occur more than once .*{first}"):
        PointingTable.from_dataframe(doubled)
    path = tmp_path / "doubled.csv"
    doubled.to_csv(path, index=False)
    with pytest.raises(ValueError, match=r"doubled\.csv: scw_id: 3 identifiers"):
        read_pointings(path)
    # explicit de-duplication drops exact repeats and gives the table back
    back = read_pointings(path, deduplicate=True)
    np.testing.assert_array_equal(back.scw_id, small_table.scw_id)
    np.testing.assert_allclose(back.rate, small_table.rate)
    # rows that share an id but differ are never dropped silently
    doubled.loc[len(frame), "rate_25_60"] += 1.0
    doubled.to_csv(path, index=False)
    with pytest.raises(ValueError, match="occur in rows that differ"):
        read_pointings(path, deduplicate=True)


def test_every_row_duplicated_runs_no_more(small_table):
    frame = small_table.to_dataframe()
    with pytest.raises(ValueError, match=f"{small_table.n_pointing} identifiers occur"):
        PointingTable.from_dataframe(pd.concat([frame, frame], ignore_index=True))
