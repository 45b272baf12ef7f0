"""`bayesbg prune`: old builds and orphaned models go, the kept build and its models stay."""

from __future__ import annotations

import json
import os
from pathlib import Path

from bayesbg.cli import main
from bayesbg.toolchain.prune import prune_cache


def _installation(root: Path, name: str, *, complete: bool = True) -> Path:
    path = root / name
    (path / "stan").mkdir(parents=True)
    (path / "stan" / "big.bin").write_bytes(b"x" * 1000)
    (path / "makefile").write_text("CMDSTAN_VERSION := 2.35.0\n")
    if complete:
        (path / ".bayesbg-complete.json").write_text("{}")
    return path


def _model(models: Path, key: str, cmdstan: Path | None) -> Path:
    path = models / key
    path.mkdir(parents=True)
    (path / "prog").write_bytes(b"y" * 100)
    if cmdstan is not None:
        record = {"key": key, "cmdstan": f"2.35.0@{cmdstan.resolve()}"}
        (path / "key.json").write_text(json.dumps(record))
    return path


def _layout(tmp_path: Path) -> dict[str, Path]:
    root = tmp_path / "cmdstan"
    models = tmp_path / "models"
    official = _installation(tmp_path, "official-cmdstan")
    paths = {
        "current": _installation(root, "cmdstan-2.35.0-aaaaaaaaaaaa"),
        "old": _installation(root, "cmdstan-2.35.0-bbbbbbbbbbbb"),
        "dead_partial": _installation(root, ".partial-999999999", complete=False),
        "live_partial": _installation(root, f".partial-{os.getpid()}", complete=False),
        "official": official,
    }
    paths["model_current"] = _model(models, "m1", paths["current"])
    paths["model_old"] = _model(models, "m2", paths["old"])
    paths["model_official"] = _model(models, "m3", official)
    paths["model_gone"] = _model(models, "m4", tmp_path / "vanished-cmdstan")
    paths["model_unfinished"] = _model(models, "m5", None)
    paths["root"], paths["models"] = root, models
    return paths


def test_prune_removes_old_builds_and_their_models(tmp_path: Path) -> None:
    paths = _layout(tmp_path)
    report = prune_cache(root=paths["root"], models=paths["models"], keep=[paths["current"]])
    gone = {"old", "dead_partial", "model_old", "model_gone", "model_unfinished"}
    stay = {"current", "live_partial", "official", "model_current", "model_official"}
    for name in gone:
        assert not paths[name].exists(), name
    for name in stay:
        assert paths[name].exists(), name
    assert {p.name for p in report.removed} == {paths[n].name for n in gone}
    assert report.freed_bytes >= 2 * 1000 + 3 * 100
    assert report.kept == [paths["current"]]


def test_dry_run_removes_nothing_but_reports_the_same(tmp_path: Path) -> None:
    paths = _layout(tmp_path)
    dry = prune_cache(root=paths["root"], models=paths["models"], keep=[paths["current"]],
                      dry_run=True)
    assert all(p.exists() for p in dry.removed)
    assert "would remove 5 entries" in dry.describe()
    real = prune_cache(root=paths["root"], models=paths["models"], keep=[paths["current"]])
    assert [p.name for p in real.removed] == [p.name for p in dry.removed]


def test_prune_cli_dry_run(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("BAYESBG_CACHE_DIR", str(tmp_path / "cache"))
    _installation(tmp_path / "builds", "cmdstan-2.35.0-cccccccccccc")
    assert main(["prune", "--dir", str(tmp_path / "builds"), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "would remove" in out and "cmdstan-2.35.0-cccccccccccc" in out
    assert (tmp_path / "builds" / "cmdstan-2.35.0-cccccccccccc").exists()
