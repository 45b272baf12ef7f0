"""`bayesbg compare` ranks fits of the same data and refuses different data."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from bayesbg.cli import main
from bayesbg.config import SamplerConfig
from bayesbg.report import compare_runs, list_runs
from bayesbg.template_fit import fit_templates, simulate_template_data

pytestmark = pytest.mark.stan

CONFIG = SamplerConfig(chains=4, iter_warmup=400, iter_sampling=400)


@pytest.fixture(scope="module")
def runs(tmp_path_factory, template_model):
    """True 3-block background vs a 1-block variant of the same data, and other data."""
    root = tmp_path_factory.mktemp("compare")
    data, truth = simulate_template_data(
        11, background_amplitude=[0.7, 1.0, 1.3], flux=[2e-3, 1e-3]
    )
    one_block = dataclasses.replace(data, background_blocks=np.ones_like(data.background_blocks))
    other, _ = simulate_template_data(12)
    paths = {}
    for name, dataset in [("three_blocks", data), ("one_block", one_block), ("other", other)]:
        paths[name] = root / name
        fit_templates(dataset, seed=5, config=CONFIG, run_dir=paths[name], model=template_model)
    return paths


def test_true_background_variant_wins(runs, tmp_path):
    result = compare_runs([runs["one_block"], runs["three_blocks"]])
    table = result.table
    assert table.index[0] == "three_blocks"
    assert table.loc["one_block", "elpd_diff"] > 4 * table.loc["one_block", "dse"]
    assert table.loc["three_blocks", "AIC"] < table.loc["one_block", "AIC"]
    assert table.loc["three_blocks", "BIC"] < table.loc["one_block", "BIC"]
    assert table.loc["three_blocks", "weight"] > 0.9
    assert table.loc["three_blocks", "n_parameters"] == 5
    written = result.write(tmp_path / "cmp")
    assert {p.name for p in written} == {"comparison.csv", "comparison.json", "comparison.html"}
    page = (tmp_path / "cmp" / "comparison.html").read_text()
    assert "data:image/png;base64," in page and "three_blocks" in page
    assert json.loads((tmp_path / "cmp" / "comparison.json").read_text())["runs"]
    with pytest.raises(FileExistsError, match="--overwrite"):
        result.write(tmp_path / "cmp")


def test_different_data_is_refused(runs):
    with pytest.raises(ValueError, match="different data"):
        compare_runs([runs["three_blocks"], runs["other"]])


def test_cli_compare_and_runs(runs, tmp_path, capsys):
    status = main(["compare", str(runs["three_blocks"]), str(runs["one_block"]),
                   "--out", str(tmp_path / "out")])
    assert status == 0
    assert "elpd_loo" in capsys.readouterr().out
    assert main(["compare", str(runs["three_blocks"]), str(runs["other"])]) == 1
    assert "different data" in capsys.readouterr().err
    assert main(["runs", str(runs["three_blocks"].parent)]) == 0
    out = capsys.readouterr().out
    assert "three_blocks" in out and "template_fit" in out
    infos = list_runs(runs["three_blocks"].parent)
    assert len(infos) == 3 and all(i.diagnostics in ("pass",) or i.diagnostics.startswith(
        "FAIL") for i in infos)
