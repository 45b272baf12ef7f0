"""Fixtures for the toolchain tests: the CmdStan installation and compiled test programs."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from pathlib import Path

import cmdstanpy
import pytest

from bayesbg.toolchain import cache_dir, ensure_cmdstan

STAN_DIR = Path(__file__).parent / "stan"


@pytest.fixture(scope="session")
def cmdstan_dir() -> Path:
    """The CmdStan directory in use (built by ``bayesbg setup``, which ``make test`` runs)."""
    return ensure_cmdstan()


@pytest.fixture(scope="session")
def test_model(cmdstan_dir: Path) -> Callable[..., cmdstanpy.CmdStanModel]:
    """Compile a program of ``tests/toolchain/stan`` once, cached across runs.

    The cache key covers the program text, the threading option and the CmdStan
    directory, so a changed program or toolchain recompiles.
    """
    models: dict[tuple[str, bool], cmdstanpy.CmdStanModel] = {}

    def get(name: str, threads: bool = False, user_header: str | None = None
            ) -> cmdstanpy.CmdStanModel:
        if (name, threads) not in models:
            source = STAN_DIR / f"{name}.stan"
            header = (STAN_DIR / user_header) if user_header else None
            key = hashlib.sha256(
                source.read_bytes()
                + (header.read_bytes() if header else b"")
                + f"|{threads}|{cmdstan_dir}".encode()
            ).hexdigest()[:16]
            target_dir = cache_dir() / "test-models" / key
            target_dir.mkdir(parents=True, exist_ok=True)
            target = target_dir / source.name
            if not target.exists():
                shutil.copy2(source, target)
            cpp = {"STAN_THREADS": "true"} if threads else None
            extra = {}
            if header:
                extra = {"stanc_options": {"allow-undefined": True}, "user_header": str(header)}
            models[(name, threads)] = cmdstanpy.CmdStanModel(
                stan_file=target, cpp_options=cpp, **extra
            )
        return models[(name, threads)]

    return get
