"""``bayesbg isgri run``: the run directory, refusal without --overwrite, unknown keys."""

from __future__ import annotations

from bayesbg.cli import main


def test_cli_run_writes_table_and_figures(tmp_path):
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


def test_cli_run_refuses_a_table_with_repeated_scw_ids(small_table, tmp_path, capsys):
    import pandas as pd

    frame = small_table.to_dataframe()
    table = tmp_path / "scw.csv"
    pd.concat([frame, frame.iloc[:2]], ignore_index=True).to_csv(table, index=False)
    config = tmp_path / "isgri.toml"
    config.write_text('input = "scw.csv"\noutput = "out"\n')
    assert main(["isgri", "run", str(config)]) == 1
    error = capsys.readouterr().err
    assert "scw.csv: scw_id: 2 identifiers occur more than once" in error
    assert frame["scw_id"].iloc[0] in error and "deduplicate" in error
    assert not (tmp_path / "out").exists()
