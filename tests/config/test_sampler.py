"""Tests of bayesbg.config.SamplerConfig."""

from __future__ import annotations

import pytest

from bayesbg.config import SamplerConfig


def test_toml_round_trip(tmp_path):
    config = SamplerConfig(chains=2, parallel_chains=1, adapt_delta=0.95, step_size=0.25,
                           metric="dense_e", adapt_engaged=True)
    path = config.write(tmp_path / "config.toml")
    assert SamplerConfig.read(path) == config


def test_none_fields_are_not_passed_to_cmdstanpy():
    kwargs = SamplerConfig().to_kwargs()
    assert "parallel_chains" not in kwargs
    assert "step_size" not in kwargs
    assert kwargs["chains"] == 4 and kwargs["iter_sampling"] == 1000


def test_unknown_key_is_an_error():
    with pytest.raises(ValueError, match="iter_sampels"):
        SamplerConfig.from_toml("[sampler]\niter_sampels = 10\n")


def test_unknown_table_is_an_error():
    with pytest.raises(ValueError, match="smapler"):
        SamplerConfig.from_toml("[smapler]\nchains = 2\n")


def test_empty_document_gives_defaults():
    assert SamplerConfig.from_toml("") == SamplerConfig()


@pytest.mark.parametrize(
    ("field", "value"),
    [("chains", 0), ("chains", 2.5), ("adapt_delta", 1.0), ("metric", "euclid"),
     ("step_size", -1.0), ("adapt_engaged", "yes"), ("iter_warmup", -1)],
)
def test_invalid_values_name_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        SamplerConfig(**{field: value})


def test_warmup_needed_when_adapting():
    with pytest.raises(ValueError, match="iter_warmup"):
        SamplerConfig(iter_warmup=0)
    assert SamplerConfig(iter_warmup=0, adapt_engaged=False).iter_warmup == 0


def test_adaptation_settings_conflict_with_adaptation_off():
    with pytest.raises(ValueError, match="adapt_delta"):
        SamplerConfig(adapt_engaged=False, adapt_delta=0.9)
    assert "adapt_delta" not in SamplerConfig(adapt_engaged=False).to_kwargs()


def test_replace_validates_and_rejects_unknown_fields():
    assert SamplerConfig().replace(chains=2).chains == 2
    with pytest.raises(ValueError, match="chain"):
        SamplerConfig().replace(chain=2)
    with pytest.raises(ValueError, match="chains"):
        SamplerConfig().replace(chains=-1)


def test_invalid_toml_is_a_value_error():
    with pytest.raises(ValueError, match="invalid TOML"):
        SamplerConfig.from_toml("[sampler\nchains = 2")
