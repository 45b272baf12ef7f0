"""Validation of bayesbg.template_fit.BinnedCounts: bad inputs name the field."""

from __future__ import annotations

import dataclasses

import astropy.units as u
import numpy as np
import pytest

from bayesbg.template_fit import BinnedCounts


def _valid(**changes):
    fields = dict(
        counts=np.array([3, 0, 5, 2, 7, 1]),
        sky_response=np.array([[1.0, 2.0, 0.0, 1.0, 3.0, 0.5],
                               [0.0, 1.0, 1.0, 2.0, 0.0, 1.0]]) * 1e3,
        background=np.array([2.0, 1.0, 3.0, 2.0, 1.0, 2.0]),
        background_blocks=np.array([1, 1, 1, 2, 2, 2]),
        flux_prior_mean=np.array([1e-3, 1e-3]),
        flux_prior_sd=np.array([3e-3, 3e-3]),
    )
    fields.update(changes)
    return fields


def test_valid_input_builds_stan_data():
    data = BinnedCounts(**_valid())
    stan = data.to_stan_data()
    assert (stan["N"], stan["K"], stan["B"]) == (6, 2, 2)
    assert stan["use_priors"] == 1
    assert data.to_stan_data(use_priors=False)["use_priors"] == 0
    assert stan["counts"].dtype == np.int64
    assert data.template_names == ("template_1", "template_2")
    assert list(stan["block"]) == [1, 1, 1, 2, 2, 2]


def test_arrays_are_read_only_copies():
    counts = np.array([3, 0, 5, 2, 7, 1])
    data = BinnedCounts(**_valid(counts=counts))
    counts[0] = 100
    assert data.counts[0] == 3
    with pytest.raises(ValueError):
        data.counts[0] = 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        data.counts = counts


def test_integer_valued_float_counts_are_accepted():
    data = BinnedCounts(**_valid(counts=np.array([3.0, 0.0, 5.0, 2.0, 7.0, 1.0])))
    assert data.counts.dtype == np.int64


def test_quantities_are_converted_to_documented_units():
    fields = _valid()
    data = BinnedCounts(**_valid(
        sky_response=fields["sky_response"] * u.cm**2 * u.s,
        flux_prior_mean=[1.0, 1.0] * u.Unit("m-2 s-1"),
        flux_prior_sd=[3e-3, 3e-3] * u.Unit("cm-2 s-1"),
    ))
    np.testing.assert_allclose(data.flux_prior_mean, [1e-4, 1e-4])
    with pytest.raises(ValueError, match="flux_prior_sd"):
        BinnedCounts(**_valid(flux_prior_sd=[1.0, 1.0] * u.keV))


@pytest.mark.parametrize(
    ("changes", "field", "detail"),
    [
        ({"counts": np.array([3, -1, 5, 2, 7, 1])}, "counts", "non-negative"),
        ({"counts": np.array([3, 0.5, 5, 2, 7, 1])}, "counts", "non-integer"),
        ({"counts": np.array([3, np.nan, 5, 2, 7, 1])}, "counts", "NaN"),
        ({"counts": np.array([3, np.inf, 5, 2, 7, 1])}, "counts", "inf"),
        ({"counts": np.array([3, 0, 5, 2, 7])}, "sky_response", "shape"),
        ({"counts": np.array([[3, 0, 5, 2, 7, 1]])}, "counts", "dimension"),
        ({"sky_response": np.ones((2, 5))}, "sky_response", "shape"),
        ({"sky_response": np.array([[1.0, 2, 0, 1, 3, 0.5], [0, 0, 0, 0, 0, 0]])},
         "sky_response", "all zeros"),
        ({"sky_response": np.array([[1.0, 2, 0, 1, np.nan, 0.5], [0, 1, 1, 2, 0, 1]])},
         "sky_response", "NaN"),
        ({"sky_response": np.array([[1.0, 2, 0, 1, -3, 0.5], [0, 1, 1, 2, 0, 1]])},
         "sky_response", "negative"),
        ({"background": np.array([2.0, 1.0, 3.0])}, "background", "shape"),
        ({"background": np.array([2.0, 1.0, 3.0, 0.0, 0.0, 0.0])}, "background",
         "block 2 has zero background"),
        ({"background": np.array([2.0, 1.0, -3.0, 2.0, 1.0, 2.0])}, "background", "negative"),
        ({"background_blocks": np.array([1, 1, 1, 3, 3, 3])}, "background_blocks",
         "block 2 has no bins"),
        ({"background_blocks": np.array([0, 1, 1, 2, 2, 2])}, "background_blocks", ">= 1"),
        ({"background_blocks": np.array([1, 1, 2, 2])}, "background_blocks", "shape"),
        ({"background_blocks": np.array([1, 1.5, 1, 2, 2, 2])}, "background_blocks",
         "non-integer"),
        ({"flux_prior_mean": np.array([1e-3])}, "flux_prior_mean", "shape"),
        ({"flux_prior_mean": np.array([-1e-3, 1e-3])}, "flux_prior_mean", ">= 0"),
        ({"flux_prior_sd": np.array([0.0, 1e-3])}, "flux_prior_sd", "positive"),
        ({"background_prior_sd": -0.1}, "background_prior_sd", "positive"),
        ({"background_prior_sd": np.nan}, "background_prior_sd", "NaN"),
        ({"template_names": ("a", "a")}, "template_names", "distinct"),
    ],
)
def test_bad_inputs_raise_value_error_naming_the_field(changes, field, detail):
    with pytest.raises(ValueError, match=field) as info:
        BinnedCounts(**_valid(**changes))
    assert detail in str(info.value)
    assert str(info.value).startswith(field)


def test_counts_where_nothing_is_expected_raise():
    with pytest.raises(ValueError, match="counts: bin 2"):
        BinnedCounts(**_valid(
            sky_response=np.array([[1.0, 2, 0, 1, 3, 0.5], [0, 1, 0, 2, 0, 1]]),
            background=np.array([2.0, 1.0, 0.0, 2.0, 1.0, 2.0]),
        ))


def test_boolean_counts_are_rejected():
    with pytest.raises(ValueError, match="counts: expected integers, found booleans"):
        BinnedCounts(**_valid(counts=np.ones(6, dtype=bool)))
