"""Template-width scan: the likelihood profile peaks at the simulated bulge width."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bayesbg.cli import main
from bayesbg.cosi import InstrumentSettings, simulate_cosi

SMALL = InstrumentSettings(instrument_nside=4, sky_nside=16)

TRUE_SIGMA = 8.0
SIGMA_L = [4.0, 6.0, 8.0, 10.0, 12.0]
SIGMA_B = [4.0, 8.0, 12.0]

CONFIG = f"""
seed = 1

[data]
dataset = "sim.nc"

[background]
tracer = "photo_event_rate"
scheme = "equidistant"
n_blocks = 2

[scan_template]
sigma_l = {SIGMA_L}
sigma_b = {SIGMA_B}
simulation_seed = 11
instrument_nside = 4
sky_nside = 16
"""


@pytest.mark.stan
def test_cli_scan_template_finds_the_true_width(cosi_model, tmp_path, capsys):
    dataset, truth = simulate_cosi(11, n_time=48, bin_size=20.0, instrument=SMALL,
                                   n_change_points=0, sigma=TRUE_SIGMA, background_to_sky=10.0)
    dataset.write(tmp_path / "sim.nc")
    (tmp_path / "cosi.toml").write_text(CONFIG)
    run_dir = tmp_path / "widths"
    assert main(["cosi", "scan-template", str(tmp_path / "cosi.toml"), "--run-dir",
                 str(run_dir), "--threads", "--no-report"]) == 0
    assert "Best width" in capsys.readouterr().out
    summary = json.loads((run_dir / "summary.json").read_text())
    best = summary["best"]
    # at or next to the truth on the grid
    assert abs(SIGMA_L.index(best["sigma_l"]) - SIGMA_L.index(TRUE_SIGMA)) <= 1
    assert abs(SIGMA_B.index(best["sigma_b"]) - SIGMA_B.index(TRUE_SIGMA)) <= 1
    assert 0.7 * truth["flux"][0] < best["flux"] < 1.3 * truth["flux"][0]
    grid, symmetric = summary["tables"]
    assert len(grid["rows"]) == len(SIGMA_L) * len(SIGMA_B)
    delta = np.array([row[grid["columns"].index("delta")] for row in grid["rows"]])
    assert delta.min() == 0 and np.all(delta >= 0)
    # the symmetric profile (sigma_l = sigma_b) has its minimum at the truth
    sigma = [row[symmetric["columns"].index("sigma")] for row in symmetric["rows"]]
    own = [row[symmetric["columns"].index("delta_symmetric")] for row in symmetric["rows"]]
    assert sigma == [4.0, 8.0, 12.0] and sigma[int(np.argmin(own))] == TRUE_SIGMA
    assert (run_dir / "scan_template.png").is_file()


def test_width_interval_of_a_quadratic_profile():
    from bayesbg.cosi.scan import width_interval

    sigma = [4.0, 6.0, 8.0, 10.0, 12.0, 14.0, 16.0]
    # -2 delta ln L = ((sigma - 9.5) / 1.5)^2: best 9.5, 68 % 8-11, 95 % 6.5-12.5
    log_l = [-0.5 * ((s - 9.5) / 1.5) ** 2 for s in sigma]
    result = width_interval(sigma, log_l, [s / 10 for s in sigma])
    assert result.best == pytest.approx(9.5, abs=0.02)
    assert result.intervals[1.0] == pytest.approx((8.0, 11.0), abs=0.02)
    assert result.intervals[4.0] == pytest.approx((6.5, 12.5), abs=0.02)
    assert result.open_ends == {1.0: [], 4.0: []}
    assert result.flux == pytest.approx(0.95, abs=0.01)
    assert result.flux_range == pytest.approx((0.8, 1.1), abs=0.01)
    # a profile still falling at the grid's end: the interval is open there
    edge = width_interval(sigma[:4], log_l[:4], [1.0] * 4)
    assert edge.open_ends[4.0] == ["upper"] and edge.intervals[4.0][1] == 10.0
    with pytest.raises(ValueError, match="sigma"):
        width_interval([4.0, 6.0], [0.0, 0.0], [1.0, 1.0])


def test_symmetric_scan_table_and_config():
    from bayesbg.cosi.scan import ScanConfig

    text = ('[data]\ndataset = "d.nc"\n[scan_template]\nsymmetric = true\n'
            'sigma_l = [6.0, 8.0]\ngeometry = "g.nc"\n')
    template = ScanConfig.from_toml(text).template
    assert template.symmetric and template.sigma_b == (6.0, 8.0)
    assert template.simulation_seed is None and template.geometry.name == "g.nc"
    with pytest.raises(ValueError, match=r"scan_template\.sigma_b"):
        ScanConfig.from_toml(text + "sigma_b = [6.0]\n")
    with pytest.raises(ValueError, match="exactly one"):
        ScanConfig.from_toml(text + "simulation_seed = 1\n")
