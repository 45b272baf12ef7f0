"""`bayesbg setup` and the choice of CmdStan: idempotent, atomic, versioned, ordered."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bayesbg.toolchain import install, locate
from bayesbg.toolchain.locate import CmdStanNotFoundError, find_cmdstan


def _fake_cmdstan(path: Path) -> Path:
    (path / "bin").mkdir(parents=True)
    (path / "makefile").write_text("CMDSTAN_VERSION := 2.36.0\n")
    (path / "bin" / "stanc").write_text("")
    return path


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """No $CMDSTAN, an empty home and an empty bayesbg cache."""
    monkeypatch.delenv("CMDSTAN", raising=False)
    monkeypatch.delenv("BAYESBG_CMDSTAN", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("BAYESBG_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


def test_missing_cmdstan_error_says_what_to_run(isolated):
    with pytest.raises(CmdStanNotFoundError, match="bayesbg setup"):
        find_cmdstan()


def test_order_of_preference(isolated, monkeypatch):
    official = _fake_cmdstan(isolated / "home" / ".cmdstan" / "cmdstan-2.36.0")
    _fake_cmdstan(isolated / "home" / ".cmdstan" / "cmdstan-2.33.1")
    assert find_cmdstan().path == official
    assert find_cmdstan().source == "cmdstanpy-default"
    env = _fake_cmdstan(isolated / "mine")
    monkeypatch.setenv("CMDSTAN", str(env))
    assert find_cmdstan().path == env and find_cmdstan().source == "CMDSTAN"
    monkeypatch.setenv("CMDSTAN", str(isolated / "nowhere"))
    assert find_cmdstan().path == official  # an invalid $CMDSTAN is skipped


def test_pypi_build_found_when_complete(isolated):
    target = install.pypi_installation()
    _fake_cmdstan(target)
    with pytest.raises(CmdStanNotFoundError):  # no completion record: half-built
        find_cmdstan()
    (target / install._COMPLETE).write_text("{}")
    assert find_cmdstan().path == target and find_cmdstan().source == "bayesbg-pypi"


def test_key_changes_with_sources(monkeypatch):
    key = install.installation_key()
    files = install._source_files()
    files["src/driver.cpp"] += b"// changed\n"
    monkeypatch.setattr(install, "_source_files", lambda: files)
    assert install.installation_key() != key


def test_failed_build_leaves_nothing(isolated, monkeypatch):
    def broken(directory, args, echo):
        raise RuntimeError("compiler exploded")

    monkeypatch.setattr(install, "_run_make", broken)
    with pytest.raises(RuntimeError, match="compiler exploded"):
        install.setup_cmdstan(echo=False)
    root = install.cmdstan_root()
    assert [p.name for p in root.iterdir() if not p.name.startswith(".setup")] == []
    with pytest.raises(CmdStanNotFoundError):
        find_cmdstan()


def test_official_install_fails_fast_without_internet(monkeypatch):
    import socket

    def refuse(*args, **kwargs):
        raise OSError("network unreachable")

    monkeypatch.setattr(socket, "create_connection", refuse)
    with pytest.raises(RuntimeError, match="without --official"):
        install.setup_cmdstan(official=True, echo=False)


@pytest.mark.stan
def test_second_setup_does_nothing(cmdstan_dir):
    if locate.find_cmdstan().path != install.pypi_installation():
        pytest.skip("a real CmdStan is in use; the PyPI build is not the one under test")
    result = install.setup_cmdstan(echo=False)
    assert result.built is False and result.path == cmdstan_dir
    assert result.seconds < 5
    out = subprocess.run(
        [sys.executable, "-m", "bayesbg", "setup"], capture_output=True, text=True, check=True
    )
    assert "nothing to do" in out.stdout


@pytest.mark.stan
def test_installation_is_cmdstanpy_compatible(cmdstan_dir):
    import cmdstanpy

    cmdstanpy.utils.validate_cmdstan_path(str(cmdstan_dir))
    assert cmdstanpy.utils.cmdstan_version() == (2, 35)
    version = subprocess.run(
        ["make", "--no-print-directory", "print-CMDSTAN_VERSION"],
        cwd=cmdstan_dir, capture_output=True, text=True,
    )
    assert version.stdout.strip() == "CMDSTAN_VERSION = 2.35.0"
    for tool in ("stanc", "stansummary", "diagnose"):
        assert (cmdstan_dir / "bin" / tool).is_file()
