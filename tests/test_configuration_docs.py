"""docs/configuration.md documents every key of every configuration, with valid examples.

Each example on the page is marked ``<!-- config: module.Class -->``. The test reads it
with that class (so it is valid), then asks the reader which keys each of its tables
accepts (an unknown probe key makes the reader list them) and checks that every one of
them appears in the example, as a key or as a commented-out alternative.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from bayesbg.config import ConfigError, TomlTable

PAGE = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"
_MARKED = re.compile(r"<!--\s*config:\s*(?P<target>[\w.]+)\s*-->\s*\n```toml\n(?P<body>.*?)```",
                     re.DOTALL)
_LISTED = re.compile(r"expected one of \[(?P<keys>[^\]]*)\]")
CONFIGS = ["SamplerConfig", "CosiFitConfig", "ScanConfig", "DeconvolveConfig", "BinningConfig",
           "IsgriRunConfig", "SpectrumFitConfig", "SkyModelsConfig", "ResultsConfig", "StudyConfig"]


def _examples() -> list[tuple[str, str]]:
    return [(m["target"], m["body"]) for m in _MARKED.finditer(PAGE.read_text())]


def _reader(target: str):
    module, _, name = target.rpartition(".")
    return getattr(importlib.import_module(module), name)


def _build(cls, text: str):
    document = TomlTable.from_text(text, source="example", base=PAGE.parent)
    if cls.__name__ == "SamplerConfig":
        document.check_keys({"sampler"})
        return cls.from_table(document.table("sampler"))
    return cls.from_table(document)


def test_every_configuration_has_an_example():
    names = [target.rpartition(".")[2] for target, _ in _examples()]
    assert sorted(names) == sorted(CONFIGS)


@pytest.mark.parametrize(("target", "body"), _examples(), ids=lambda v: v.rpartition(".")[2]
                         if isinstance(v, str) and v.startswith("bayesbg") else "")
def test_example_is_valid_and_names_every_key(target, body):
    cls = _reader(target)
    _build(cls, body)  # a valid file
    tables = [""] + re.findall(r"^\[([\w.]+)\]\s*$", body, flags=re.MULTILINE)
    if not target.endswith("SamplerConfig"):  # its keys are on the page once, above
        tables = [t for t in tables if t != "sampler"]
    for table in tables:
        section = body if not table else body.split(f"[{table}]", 1)[1].split("\n[", 1)[0]
        probe = body + "\n__probe__ = 1\n" if not table else body.replace(
            f"[{table}]\n", f"[{table}]\n__probe__ = 1\n", 1)
        if not table:  # keys of the top level go before the first table
            probe = "__probe__ = 1\n" + body
        with pytest.raises(ConfigError) as raised:
            _build(cls, probe)
        listed = _LISTED.search(str(raised.value))
        if listed is None and "." in table:
            continue  # a table of free names (e.g. [sky_models.models]), not of keys
        assert listed, f"{target} [{table}]: no key list in {raised.value}"
        keys = [k.strip().strip("'") for k in listed["keys"].split(",") if k.strip()]
        text = body if not table else section
        for key in keys:
            here = re.search(rf"^#?\s*\[{key}\]|^\s*#?\s*{key}\s*=", text, flags=re.MULTILINE)
            nested = re.search(rf"^\[{re.escape(table)}\.{key}\]" if table else "$^", body,
                               flags=re.MULTILINE)
            if here is None and nested is None:
                pytest.fail(f"docs/configuration.md: {target} [{table or 'top level'}] does "
                            f"not document the key {key!r}")
