"""Scan machinery without Stan: resumable Dask points, scan configuration, template builder."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bayesbg.cosi import CosiFitConfig, simulate_cosi
from bayesbg.cosi.scan import BackgroundVariant, background_variants
from bayesbg.cosi.scan_runner import fingerprint, run_points
from bayesbg.cosi.scan_template import TemplateBuilder, template_dataset

CALLS: list[float] = []


def _square(shared, point):
    CALLS.append(point["x"])
    if point["x"] < 0:
        raise ValueError("negative x")
    return {"value": shared["scale"] * point["x"] ** 2}


@pytest.fixture(scope="module")
def client():
    from dask.distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                      dashboard_address=":0") as cluster, Client(cluster) as dask_client:
        yield dask_client


def test_points_resume_and_refit_only_missing(tmp_path, client):
    points = {f"p{i}": {"x": float(i)} for i in range(4)}
    work = tmp_path / "points"
    first = run_points(_square, points, shared={"scale": 2.0}, work_dir=work,
                       fingerprint="a", scheduler=client, show_progress=False)
    assert sorted(first.fitted) == ["p0", "p1", "p2", "p3"]
    assert first.results["p3"] == {"value": 18.0}
    assert sorted(p.name for p in work.iterdir()) == [f"p{i}.json" for i in range(4)]
    (work / "p2.json").unlink()
    CALLS.clear()
    second = run_points(_square, points, shared={"scale": 2.0}, work_dir=work,
                        fingerprint="a", scheduler=client, show_progress=False)
    assert second.fitted == ("p2",) and CALLS == [2.0]
    assert second.results == first.results
    # other inputs (fingerprint) or overwrite: everything again
    third = run_points(_square, points, shared={"scale": 3.0}, work_dir=work,
                       fingerprint="b", scheduler=client, show_progress=False)
    assert len(third.fitted) == 4 and third.results["p3"] == {"value": 27.0}
    fourth = run_points(_square, points, shared={"scale": 3.0}, work_dir=work,
                        fingerprint="b", overwrite=True, scheduler=client,
                        show_progress=False)
    assert len(fourth.fitted) == 4
    stored = json.loads((work / "p1.json").read_text())
    assert stored["fingerprint"] == "b" and stored["point"] == {"x": 1.0}
    assert not list(work.glob(".*tmp*"))  # atomic writes leave no temporaries


def test_failed_point_is_reported_not_stored(tmp_path, client):
    points = {"good": {"x": 1.0}, "bad": {"x": -1.0}}
    run = run_points(_square, points, shared={"scale": 1.0}, work_dir=tmp_path,
                     scheduler=client, show_progress=False)
    assert run.results["bad"]["error"].startswith("ValueError: negative x")
    assert not (tmp_path / "bad.json").exists() and (tmp_path / "good.json").exists()


def test_bad_point_keys_and_workers_raise():
    with pytest.raises(ValueError, match="points"):
        run_points(_square, {"a/b": {"x": 1}}, shared={})
    with pytest.raises(ValueError, match="workers"):
        run_points(_square, {"a": {"x": 1}}, shared={}, workers=0)


def test_fingerprint_sees_array_contents():
    assert fingerprint(np.arange(3), "x") == fingerprint(np.arange(3), "x")
    assert fingerprint(np.arange(3)) != fingerprint(np.arange(3.0))
    assert fingerprint(np.arange(3)) != fingerprint(np.array([0, 1, 3]))


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


SCAN_TOML = """
[data]
dataset = "sim.nc"

[scan_background]
tracers = ["photo_event_rate", "shield_rate"]
n_blocks = [1, 2, 4]
sigma = [2.0, 5.0]

[scan_template]
sigma_l = [6.0, 8.0, 10.0]
sigma_b = [6.0, 8.0]
simulation_seed = 7
instrument_nside = 4
"""


def test_scan_tables_parse_and_errors_name_the_key():
    config = CosiFitConfig.from_toml(SCAN_TOML)
    assert config.scan_background.n_blocks == (1, 2, 4)
    assert config.scan_background.tracers == ("photo_event_rate", "shield_rate")
    assert config.scan_template.sigma_b == (6.0, 8.0)
    assert config.scan_template.instrument_nside == 4
    for old, new, key in (
        ("n_blocks = [1, 2, 4]", "n_blocks = [1, 0]", "scan_background.n_blocks"),
        ("sigma = [2.0, 5.0]", "sigma = [2.0, 5.0]\nnodes = 3", "scan_background.nodes"),
        ("sigma_b = [6.0, 8.0]", "sigma_b = [8.0, 6.0]", "scan_template.sigma_b"),
        ("simulation_seed = 7", "", "scan_template.simulation_seed"),
        ("sigma_l = [6.0, 8.0, 10.0]", "sigma_l = 6.0", "scan_template.sigma_l"),
        ("instrument_nside = 4", "instrument_nside = 0", "scan_template.instrument_nside"),
    ):
        with pytest.raises(ValueError, match=key.replace(".", r"\.")):
            CosiFitConfig.from_toml(SCAN_TOML.replace(old, new))


def test_builder_reproduces_the_simulated_template():
    dataset, _ = simulate_cosi(5, n_time=24, bin_size=20.0, instrument_nside=4, sky_nside=16,
                               sigma=8.0)
    builder = TemplateBuilder.simulated(5, n_time=24, bin_size=20.0, instrument_nside=4,
                                        sky_nside=16)
    np.testing.assert_array_equal(builder.template(8.0, 8.0), dataset.templates["bulge"])
    wider = template_dataset(dataset, builder, 12.0, 4.0)
    assert not np.array_equal(wider.templates["bulge"], dataset.templates["bulge"])
    other = TemplateBuilder.simulated(5, n_time=12, bin_size=20.0, instrument_nside=4)
    with pytest.raises(ValueError, match="builder"):
        template_dataset(dataset, other, 8.0, 8.0)
