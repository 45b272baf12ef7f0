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
