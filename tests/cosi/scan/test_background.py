"""Background-model scan: an interior AIC minimum at the injected change points, resume, CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bayesbg.cli import main
from bayesbg.cosi import InstrumentSettings, simulate_cosi
from bayesbg.cosi.scan import (
    BackgroundVariant,
    background_variants,
    points_dir,
    scan_background,
)

SMALL = InstrumentSettings(instrument_nside=4, sky_nside=16)

# seed 84: two untracked jumps, at time bins 48 and 72, i.e. on the nodes of 4 equidistant
# blocks (24, 48, 72) but not of 3 (32, 64) or 6 (16, 32, ..., 80)
SEED = 84
CHANGE_POINTS = [48, 72]


@pytest.fixture(scope="module")
def simulated():
    dataset, truth = simulate_cosi(SEED, n_time=96, bin_size=20.0, instrument=SMALL,
                                   n_change_points=2)
    assert truth["change_points"].tolist() == CHANGE_POINTS
    return dataset, truth


@pytest.fixture(scope="module")
def client():
    from dask.distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                      dashboard_address=":0") as cluster, Client(cluster) as dask_client:
        yield dask_client


@pytest.fixture(scope="module")
def scan(cosi_model, simulated, client, tmp_path_factory):
    dataset, _ = simulated
    variants = background_variants(tracers=["photo_event_rate"], n_blocks=[1, 2, 3, 4, 6, 8],
                                   sigma=[3.0, 5.0, 12.0])
    work = tmp_path_factory.mktemp("scan") / "points"
    result = scan_background(dataset, variants, seed=1, work_dir=work, scheduler=client,
                             show_progress=False)
    return result, variants, work


def _nodes(variant, dataset):
    return np.flatnonzero(np.diff(variant.blocks(dataset))) + 1


@pytest.mark.stan
def test_equidistant_aic_minimum_is_interior_at_the_change_points(scan, simulated):
    result, _, _ = scan
    dataset, _ = simulated
    table = result.table
    assert (table["error"] == "").all(), table["error"].tolist()
    equidistant = table.loc[table["scheme"] == "equidistant"].reset_index(drop=True)
    best = int(equidistant["aic"].idxmin())
    assert 0 < best < len(equidistant) - 1  # interior
    assert equidistant.loc[best, "setting"] == 4  # the nodes that hold both jumps
    # missing a jump costs far more than the AIC penalty of extra blocks
    assert equidistant.loc[best - 1, "aic"] - equidistant.loc[best, "aic"] > 50
    assert 0 < equidistant.loc[best + 1, "aic"] - equidistant.loc[best, "aic"]
    assert np.all(table["n_parameters"] == table["n_block"] + 1)
    np.testing.assert_allclose(table["aic"], 2 * table["n_parameters"]
                               - 2 * table["log_likelihood"])


@pytest.mark.stan
def test_selected_variant_captures_the_change_points(scan, simulated):
    result, variants, _ = scan
    dataset, truth = simulated
    assert result.table.loc[result.table["key"] == result.selected.key, "delta_aic"].item() == 0
    nodes = _nodes(result.selected, dataset)
    for change_point in CHANGE_POINTS:
        assert np.min(np.abs(nodes - change_point)) <= 1, (result.selected.key, nodes)
    assert len(CHANGE_POINTS) + 1 <= result.selected_row["n_block"] <= 2 * (len(CHANGE_POINTS)
                                                                          + 1)
    flux = result.selected_row["flux_bulge"]
    assert 0.5 * truth["flux"][0] < flux < 1.5 * truth["flux"][0]
    # Bayesian blocks at a very high sigma level miss the jumps: far worse AIC
    key = "bayesian_blocks-12-photo_event_rate"
    high = result.table.loc[(result.table["key"] == key)
                            | result.table["same_nodes_as"].str.contains(key)]
    assert high["delta_aic"].item() > 50 or high["n_block"].item() >= 3


@pytest.mark.stan
def test_interrupted_scan_resumes_only_the_missing_point(scan, simulated, client):
    result, variants, work = scan
    dataset, _ = simulated
    assert sorted(p.stem for p in work.glob("*.json")) == sorted(v.key for v in result.variants)
    assert len(result.variants) < len(variants)  # some settings gave the same nodes
    missing = "equidistant-3-photo_event_rate"
    (work / f"{missing}.json").unlink()
    again = scan_background(dataset, variants, seed=1, work_dir=work, scheduler=client,
                            show_progress=False)
    assert again.fitted == (missing,)
    assert again.selected == result.selected
    np.testing.assert_allclose(again.table["aic"], result.table["aic"], rtol=0, atol=1e-6)


CONFIG = """
seed = 2

[data]
dataset = "sim.nc"

[background]
tracer = "photo_event_rate"

[scan_background]
n_blocks = [1, 4]
sigma = [5.0]
"""


@pytest.mark.stan
def test_cli_scan_background_writes_a_run_directory(cosi_model, simulated, tmp_path, capfd):
    dataset, _ = simulated
    dataset.write(tmp_path / "sim.nc")
    (tmp_path / "cosi.toml").write_text(CONFIG)
    run_dir = tmp_path / "scan"
    args = ["cosi", "scan-background", str(tmp_path / "cosi.toml"), "--run-dir", str(run_dir),
            "--threads"]
    assert main(args) == 0
    captured = capfd.readouterr()  # file descriptors: the Dask workers' output too
    out = captured.out
    assert "Selected (minimum AIC)" in out and "3 of 3 variants" in out
    for chatter in ("INFO", "distributed", "cmdstanpy", "FutureWarning", "stan_variable"):
        assert chatter not in captured.err + out, chatter
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["run_type"] == "cosi_scan_background"
    assert summary["selected"]["scheme"] in ("equidistant", "bayesian_blocks")
    assert summary["selected"]["n_block"] >= 3
    assert summary["figures"][0]["file"] == "scan_background.png"
    assert summary["selected"]["flux_error"]["bulge"] > 0
    assert {c["name"] for c in summary["checks"]} == {
        "every variant fitted", "AIC minimum inside the scanned range"}
    assert len(summary["tables"][0]["rows"]) == 3
    for name in ("scan_background.png", "scan_background.csv", "report.html"):
        assert (run_dir / name).is_file()
    assert not points_dir(run_dir).exists()  # working area removed once the run is written
    assert main(args) == 1  # an existing run is not replaced without --overwrite
    capfd.readouterr()
    assert main([*args, "--overwrite", "--no-report"]) == 0  # starts over: every variant
    assert "3 of 3 variants fitted" in capfd.readouterr().out
    assert not (run_dir / "report.html").exists()


def test_variants_product_and_validation():
    variants = background_variants(tracers=["a", "b"], n_blocks=[1, 4], sigma=[3.0])
    assert [v.key for v in variants] == ["equidistant-1-a", "equidistant-4-a",
                                         "bayesian_blocks-3-a", "equidistant-1-b",
                                         "equidistant-4-b", "bayesian_blocks-3-b"]
    with pytest.raises(ValueError, match="n_blocks"):
        BackgroundVariant("equidistant", 2.5, "a")
    with pytest.raises(ValueError, match="sigma"):
        BackgroundVariant("bayesian_blocks", 0.0, "a")
    with pytest.raises(ValueError, match="scheme"):
        BackgroundVariant("daily", 1.0, "a")


def test_variants_with_the_same_nodes_are_fitted_once(simulated):
    from bayesbg.cosi.scan import distinct_variants

    dataset, _ = simulated
    variants = background_variants(tracers=["photo_event_rate"], n_blocks=[4],
                                   sigma=[30.0, 40.0, 50.0])
    distinct, equivalent = distinct_variants(dataset, variants)
    keys = [v.key for v in distinct]
    assert keys[0] == "equidistant-4-photo_event_rate" and len(keys) == 2
    assert equivalent[keys[1]] == ["bayesian_blocks-40-photo_event_rate",
                                   "bayesian_blocks-50-photo_event_rate"]


@pytest.mark.stan
def test_flux_errors_follow_the_curvature(scan):
    result, _, _ = scan
    table = result.table
    assert (table["flux_error_bulge"] > 0).all()
    # one block cannot absorb the jumps: its flux is wrong, not more certain
    row = result.selected_row
    assert row["flux_error_bulge"] < 0.5 * row["flux_bulge"]
