"""CmdStan's files go to per-run directories that killed processes do not leave behind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bayesbg.stan.workspace import (
    LIBRARY_TMPDIR_RECORD,
    WORKSPACE_PREFIX,
    new_workspace,
    remove_stale_workspaces,
)


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


def _dead_pid() -> int:
    return int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True).stdout)


def test_cmdstanpy_directory_of_a_dead_process_goes_with_its_workspace(tmp_path):
    dead = _dead_pid()
    library = tmp_path / "tmpab12cd34"  # cmdstanpy's mkdtemp() name
    library.mkdir()
    (library / "inits_1.json").write_text("{}")
    stale = tmp_path / f"{WORKSPACE_PREFIX}p{dead}-0123abcd"
    stale.mkdir()
    (stale / LIBRARY_TMPDIR_RECORD).write_text(f"{library}\n")
    assert remove_stale_workspaces(tmp_path) == [library, stale]
    assert not library.exists() and not stale.exists()


def test_a_recorded_directory_elsewhere_or_not_tmp_is_kept(tmp_path):
    outside = tmp_path / "elsewhere" / "tmpab12cd34"
    named = tmp_path / "results"
    for target in (outside, named):
        target.mkdir(parents=True)
        stale = tmp_path / f"{WORKSPACE_PREFIX}p{_dead_pid()}-0123abcd"
        stale.mkdir()
        (stale / LIBRARY_TMPDIR_RECORD).write_text(f"{target}\n")
        assert remove_stale_workspaces(tmp_path) == [stale]
        assert target.is_dir()


def test_a_workspace_records_cmdstanpy_directory(tmp_path, monkeypatch):
    import cmdstanpy

    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    path = new_workspace()
    assert (path / LIBRARY_TMPDIR_RECORD).read_text().strip() == str(cmdstanpy._TMPDIR)


def test_a_killed_process_leaves_nothing_after_the_next_run(tmp_path):
    """A process killed while cmdstanpy holds initial values in its own directory: the
    next run of bayesbg removes that directory with the dead process's workspace."""
    script = tmp_path / "killed.py"
    script.write_text(
        "import os, signal, cmdstanpy\n"
        "from bayesbg.stan.workspace import new_workspace\n"
        "new_workspace()\n"
        "open(os.path.join(cmdstanpy._TMPDIR, 'inits_1.json'), 'w').write('{}')\n"
        "print(cmdstanpy._TMPDIR, flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n")
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         env=env)
    assert run.returncode == -9, run.stderr
    library = Path(run.stdout.strip())
    assert library.parent == tmp_path and library.is_dir()
    assert remove_stale_workspaces(tmp_path)[0] == library
    assert not library.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(WORKSPACE_PREFIX)]
