"""The repository is self-contained: nothing in it points at files outside it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# the project's old domain-notes file and the folder beside the checkout
OUTSIDE = re.compile(r"DOMAIN\.md|\.\./shared\b|shared/seeds|\.\./\.\./")
TEXT_SUFFIXES = {".py", ".md", ".rst", ".stan", ".stanfunctions", ".hpp", ".cpp", ".toml",
                 ".txt", ".sh", ".cfg", ".in", ""}


def _tracked_files() -> list[Path]:
    try:
        out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return [ROOT / name for name in out.splitlines()]


def test_no_file_refers_to_a_path_outside_the_repository():
    this = Path(__file__).resolve()
    offending = []
    for path in _tracked_files():
        if path.resolve() == this or path.suffix not in TEXT_SUFFIXES or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), start=1):
            if OUTSIDE.search(line):
                offending.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offending, "\n".join(offending)
