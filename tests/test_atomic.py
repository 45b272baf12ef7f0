"""Atomic writes: complete or absent, no leftovers, stale temporaries of killed writers removed."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bayesbg.atomic import (
    atomic_file,
    partial_path,
    remove_stale_partials,
    staging_directory,
    write_text_atomic,
)


def test_write_text_atomic_replaces_and_leaves_nothing_else(tmp_path):
    target = tmp_path / "a.txt"
    write_text_atomic(target, "one\n")
    write_text_atomic(target, "two\n")
    assert target.read_text() == "two\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


def test_refuses_to_overwrite_without_permission(tmp_path):
    target = tmp_path / "a.txt"
    target.write_text("keep")
    with pytest.raises(FileExistsError, match="overwrite"):
        write_text_atomic(target, "new", overwrite=False)
    assert target.read_text() == "keep"


def test_a_directory_is_not_a_file(tmp_path):
    with pytest.raises(IsADirectoryError, match="is a directory"):
        write_text_atomic(tmp_path, "x")


def test_failed_write_removes_the_temporary(tmp_path):
    target = tmp_path / "a.nc"
    with pytest.raises(RuntimeError), atomic_file(target) as partial:
        partial.write_text("half")
        raise RuntimeError("writer failed")
    assert list(tmp_path.iterdir()) == []


def test_partial_names_carry_the_pid_and_keep_the_suffix(tmp_path):
    name = partial_path(tmp_path / "fig.png", keep_suffix=True).name
    assert name.startswith(".fig.png.partial-p") and name.endswith(".png")
    assert f"-p{os.getpid()}-" in name


def test_stale_partials_of_dead_processes_are_removed(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    pid = int(dead.stdout)
    stale_file = tmp_path / f".x.nc.partial-p{pid}-0123abcd"
    stale_dir = tmp_path / f".run.partial-p{pid}-89abcdef"
    live = tmp_path / f".y.nc.partial-p{os.getpid()}-0123abcd"
    other = tmp_path / ".hidden"
    stale_file.write_text("x")
    stale_dir.mkdir()
    (stale_dir / "summary.json").write_text("{}")
    live.write_text("x")
    other.write_text("x")
    removed = remove_stale_partials(tmp_path)
    assert sorted(p.name for p in removed) == sorted([stale_file.name, stale_dir.name])
    assert live.exists() and other.exists()


def test_staging_directory_is_removed_on_error(tmp_path):
    with pytest.raises(ValueError), staging_directory(tmp_path / "run") as staging:
        (staging / "file").write_text("x")
        raise ValueError("failed")
    assert list(tmp_path.iterdir()) == []


def test_unwritable_directory_is_named(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root can write anywhere")
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(PermissionError, match="not writable"):
            write_text_atomic(folder / "a.txt", "x")
    finally:
        folder.chmod(0o700)
