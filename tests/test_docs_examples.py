"""Every code block of the README and the docs runs as printed (or says why it cannot).

A fenced block is run according to its language:

- ``python``: executed in a fresh namespace, in a temporary working directory;
- ``toml``: parsed (``tomllib``);
- ``text`` (output, trees, listings) and MyST directives (``{toctree}``): not code,
  nothing to run.

Any other block (``sh``, ``console``, ...) must be preceded by a marker line
``<!-- not-run: <reason> -->``, which may also mark a python or toml block. A block
without a language is an error: label it.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
_FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<lang>\{[\w-]+\}|[\w+-]*)\s*$")
_NOT_RUN = re.compile(r"<!--\s*not-run:\s*(?P<reason>.+?)\s*-->")


def _blocks(page: Path) -> list[tuple[int, str, str, str | None]]:
    """(line, language, code, not-run reason) of every fenced block of a page."""
    lines = page.read_text(encoding="utf-8").splitlines()
    blocks = []
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        start, lang, indent = i + 1, match["lang"], match["indent"]
        previous = next((lines[j] for j in range(i - 1, -1, -1) if lines[j].strip()), "")
        marker = _NOT_RUN.search(previous)
        body = []
        i += 1
        while i < len(lines) and not re.match(rf"^{re.escape(indent)}```\s*$", lines[i]):
            body.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i])
            i += 1
        blocks.append((start, lang, "\n".join(body) + "\n",
                       marker["reason"] if marker else None))
        i += 1
    return blocks


CASES = [pytest.param(page, *block, id=f"{page.relative_to(ROOT)}:{block[0]}")
         for page in PAGES for block in _blocks(page)]


def test_the_block_finder_sees_languages_and_markers(tmp_path):
    page = tmp_path / "p.md"
    page.write_text("a\n\n<!-- not-run: needs a cluster -->\n```sh\nmake x\n```\n"
                    "```python\nx = 1\n```\n  ```\n  plain\n  ```\n")
    found = _blocks(page)
    assert [(lang, reason) for _, lang, _, reason in found] == [
        ("sh", "needs a cluster"), ("python", None), ("", None)]
    assert found[2][2] == "plain\n"


@pytest.mark.parametrize(("page", "line", "lang", "code", "reason"), CASES)
def test_code_block(page, line, lang, code, reason, tmp_path, monkeypatch):
    where = f"{page.relative_to(ROOT)}:{line}"
    if reason is not None:
        pytest.skip(f"{where}: not run: {reason}")
    if lang == "":
        pytest.fail(f"{where}: code block without a language; label it (```text for "
                    "output) or mark it <!-- not-run: reason -->")
    if lang == "text" or lang.startswith("{"):  # output, or a MyST directive (toctree)
        return
    if lang == "toml":
        tomllib.loads(code)
        return
    if lang == "python":
        if "run_dir" in code or "runs/" in code or "Stan" in code:
            pytest.importorskip("cmdstanpy")
        monkeypatch.chdir(tmp_path)
        exec(compile(code, where, "exec"), {"__name__": "__docs__"})  # noqa: S102
        return
    pytest.fail(f"{where}: a ```{lang} block cannot be run by this test; mark it "
                "<!-- not-run: reason -->")
