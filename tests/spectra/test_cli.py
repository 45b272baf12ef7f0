"""``bayesbg spectrum simulate|fit|compare`` end to end."""

from __future__ import annotations

import json

import pytest

from bayesbg.cli import build_parser, main


def test_spectrum_commands_are_registered():
    parser = build_parser()
    args = parser.parse_args(["spectrum", "compare", "a", "b"])
    assert args.spectrum_command == "compare"
    with pytest.raises(SystemExit):
        parser.parse_args(["spectrum", "fit"])  # --data is required


def test_bad_assignment_is_an_error(tmp_path, capsys):
    status = main(["spectrum", "simulate", "--model", "powerlaw", "--set", "powerlaw.flux",
                   "--output", str(tmp_path / "x.ecsv")])
    assert status == 1
    assert "NAME=NUMBER" in capsys.readouterr().err


@pytest.mark.stan
def test_simulate_fit_compare(tmp_path, capsys, spectral_model):
    spectrum = tmp_path / "gb.ecsv"
    assert main(["spectrum", "simulate", "--region", "GB", "--seed", "3",
                 "--output", str(spectrum)]) == 0
    config = tmp_path / "fit.toml"
    config.write_text("[spectrum]\nfixed = {\"cutoffpl.index\" = 0.0}\n"
                      "[sampler]\nchains = 2\niter_warmup = 300\niter_sampling = 300\n")
    runs = []
    for model, extra in (("cutoffpl", []), ("cutoffpl+powerlaw",
                                            ["--fix", "powerlaw.index=1.55"])):
        run = tmp_path / model
        assert main(["spectrum", "fit", "--model", model, "--data", str(spectrum),
                     "--config", str(config), "--seed", "3", "--run-dir", str(run),
                     *extra]) == 0
        runs.append(run)
        summary = json.loads((run / "summary.json").read_text())
        assert summary["spectral_model"] == model
        assert summary["max_likelihood"]["n_parameters"] == (2 if model == "cutoffpl" else 3)
        assert (run / "spectrum.png").stat().st_size > 10_000
        assert "chi2_red/dof" in (run / "spectrum_table.txt").read_text()
    out = capsys.readouterr().out
    assert "F_powerlaw (30-80 keV)" in out
    assert main(["spectrum", "compare", *map(str, runs)]) == 0
    table = capsys.readouterr().out
    assert "elpd_loo" in table and "dAIC" in table
    assert table.splitlines()[2].startswith("cutoffpl+powerlaw")
    # an existing run is not replaced without --overwrite
    assert main(["spectrum", "fit", "--model", "cutoffpl", "--data", str(spectrum),
                 "--config", str(config), "--run-dir", str(runs[0])]) == 1
