"""The one TOML reader: typed getters and one error format naming file, table and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from bayesbg.config import ConfigError, SamplerConfig, TomlTable, read_toml, toml_value

TEXT = """
seed = 3
run_dir = "runs/x"
[data]
dataset = "d.nc"
bands = [1.0, 2, 3.5]
names = ["a", "b"]
flag = true
"""


def table() -> TomlTable:
    return TomlTable.from_text(TEXT, source="fit.toml", base="/data")


def test_typed_getters():
    doc = table()
    data = doc.table("data", {"dataset", "bands", "names", "flag"})
    assert doc.integer("seed") == 3
    assert doc.path("run_dir") == Path("/data/runs/x")
    assert data.numbers("bands") == (1.0, 2.0, 3.5)
    assert data.strings("names") == ("a", "b")
    assert data.boolean("flag") is True
    assert data.integer("missing", default=7) == 7


@pytest.mark.parametrize(("call", "message"), [
    (lambda d: d.table("data", {"dataset"}),
     "fit.toml: data.bands: unknown key; expected one of ['dataset']"),
    (lambda d: d.string("seed"), "fit.toml: seed: expected a string, found 3"),
    (lambda d: d.integer("seed", minimum=5), "fit.toml: seed: expected an integer >= 5, found 3"),
    (lambda d: d.table("data").boolean("dataset"),
     "fit.toml: data.dataset: expected true or false, found 'd.nc'"),
    (lambda d: d.table("data").strings("bands"), "fit.toml: data.bands: expected a list of str"),
    (lambda d: d.table("data").number("nothing"), "fit.toml: data.nothing: missing"),
    (lambda d: d.table("seed"), "fit.toml: seed: expected a table, found 3"),
    (lambda d: d.table("data").numbers("bands", length=2),
     "fit.toml: data.bands: expected a list of 2 numbers"),
])
def test_one_error_format(call, message):
    with pytest.raises(ConfigError) as err:
        call(table())
    assert str(err.value).startswith(message)


def test_booleans_are_not_numbers_and_nan_is_refused():
    doc = TomlTable.from_text("a = true\nb = nan\n", source="c.toml")
    with pytest.raises(ConfigError, match="c.toml: a: expected a finite number"):
        doc.number("a")
    with pytest.raises(ConfigError, match="c.toml: b: expected a finite number"):
        doc.number("b")


def test_invalid_toml_names_the_file(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("seed = = 3\n")
    with pytest.raises(ConfigError, match=r"bad.toml: invalid TOML \(.*line 1"):
        read_toml(path)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_toml(tmp_path / "none.toml")
    with pytest.raises(ConfigError, match="is a directory"):
        read_toml(tmp_path)


def test_dataclass_validation_errors_get_the_file_name():
    doc = TomlTable.from_text("[sampler]\nadapt_delta = 1.5\n", source="s.toml")
    with pytest.raises(ConfigError, match=r"^s.toml: adapt_delta: expected a value in \(0, 1\)"):
        SamplerConfig.from_table(doc.table("sampler"))


def test_toml_value_round_trip():
    text = "\n".join(f"k{i} = {toml_value(v)}" for i, v in
                     enumerate([True, 3, 2.5, 'a "q"', [1, 2.0, "x"]]))
    doc = TomlTable.from_text(text)
    assert doc.raw("k3") == 'a "q"' and doc.raw("k4") == [1, 2.0, "x"]
    with pytest.raises(TypeError):
        toml_value(None)
