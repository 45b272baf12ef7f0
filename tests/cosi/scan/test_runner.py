"""Scan machinery without Stan: resumable Dask points and their fingerprints."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bayesbg.cosi.scan.runner import fingerprint, run_points

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
