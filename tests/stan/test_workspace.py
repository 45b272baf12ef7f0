"""CmdStan's files go to per-run directories that killed processes do not leave behind."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bayesbg.stan.workspace import WORKSPACE_PREFIX, new_workspace, remove_stale_workspaces


def test_stale_workspaces_of_dead_processes_are_removed(tmp_path):
    dead = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True).stdout)
    stale = tmp_path / f"{WORKSPACE_PREFIX}p{dead}-0123abcd"
    live = tmp_path / f"{WORKSPACE_PREFIX}p{os.getppid()}-0123abcd"
    other = tmp_path / "tmp1234"
    for path in (stale, live, other):
        path.mkdir()
        (path / "chain-1.csv").write_text("x")
    assert remove_stale_workspaces(tmp_path) == [stale]
    assert live.exists() and other.exists() and not stale.exists()


def test_new_workspace_is_this_process(tmp_path, monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    path = new_workspace()
    assert path.parent == tmp_path and f"p{os.getpid()}-" in path.name


@pytest.mark.stan
def test_a_fit_writes_its_files_into_a_workspace(small_fit):
    csv = small_fit.fit.runset.csv_files[0]
    assert f"{WORKSPACE_PREFIX}p{os.getpid()}-" in csv
