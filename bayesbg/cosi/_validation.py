"""Validation helpers of the COSI dataset container (errors name the field)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import sparse

from bayesbg.stan.limits import check_stan_int

__all__ = [
    "Template",
    "background_response_array",
    "canonical_coo",
    "counts_coo",
    "finite_floats",
    "increasing_edges",
    "template_matrix",
    "tracer_series",
]

_RESPONSE_SUM_TOLERANCE = 1e-6

Template = NDArray[np.float32] | sparse.csr_array
"""A convolved sky template: dense float32 or CSR array, shape (n_time, n_data_bin)."""


def background_response_array(value: ArrayLike, n_data_bin: int) -> NDArray[np.float64]:
    """Validate a background response: shape (n_data_bin,), non-negative, summing to 1.

    Parameters
    ----------
    value : array_like
        Candidate ``Bhat[c]``.
    n_data_bin : int
        Expected length.

    Returns
    -------
    response : `numpy.ndarray`
        float64 copy.

    Raises
    ------
    ValueError
        Naming ``background_response``.
    """
    response = finite_floats("background_response", value)
    if response.shape != (n_data_bin,):
        raise ValueError(
            f"background_response: expected shape ({n_data_bin},), one per data-space bin, "
            f"found {response.shape}"
        )
    if np.any(response < 0):
        raise ValueError("background_response: expected non-negative values, found negatives")
    total = float(response.sum())
    if abs(total - 1.0) > _RESPONSE_SUM_TOLERANCE:
        raise ValueError(f"background_response: expected values summing to 1, found {total:.9g}")
    return response


def finite_floats(name: str, value: Any) -> NDArray[np.float64]:
    try:
        array = np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name}: expected numbers, found {type(value).__name__}") from err
    if not np.all(np.isfinite(array)):
        bad = "NaN" if np.any(np.isnan(array)) else "inf"
        raise ValueError(f"{name}: expected finite values, found {bad}")
    return array


def increasing_edges(name: str, value: Any) -> NDArray[np.float64]:
    array = finite_floats(name, value)
    if array.ndim != 1 or array.size < 2:
        raise ValueError(f"{name}: expected at least two edges in 1 dimension, found shape "
                         f"{array.shape}")
    if np.any(np.diff(array) <= 0):
        raise ValueError(f"{name}: expected strictly increasing edges")
    return array


def counts_coo(value: Any, shape: tuple[int, int]) -> sparse.coo_array:
    if sparse.issparse(value):
        coo = sparse.coo_array(value)
        if coo.shape != shape:
            raise ValueError(
                f"counts: expected shape {shape} (time, data_bin) to match time_edges and the "
                f"data space, found {coo.shape}"
            )
        return canonical_coo("counts", coo.row, coo.col, coo.data, shape)
    dense = np.asarray(value)
    if dense.shape != shape:
        raise ValueError(
            f"counts: expected shape {shape} (time, data_bin) to match time_edges and the "
            f"data space, found {dense.shape}"
        )
    rows, cols = np.nonzero(dense)
    return canonical_coo("counts", rows, cols, dense[rows, cols], shape)


def canonical_coo(name: str, rows: ArrayLike, cols: ArrayLike, values: ArrayLike,
                       shape: tuple[int, int]) -> sparse.coo_array:
    """Canonical COO: in range, summed duplicates, sorted by (row, col), zeros dropped."""
    rows = np.asarray(rows)
    cols = np.asarray(cols)
    raw = np.asarray(values)
    if not (rows.shape == cols.shape == raw.shape) or raw.ndim != 1:
        raise ValueError(f"{name}: expected equal-length index and value arrays")
    if raw.size and (rows.min() < 0 or rows.max() >= shape[0]):
        raise ValueError(f"{name}: time index out of range [0, {shape[0]})")
    if raw.size and (cols.min() < 0 or cols.max() >= shape[1]):
        raise ValueError(f"{name}: data-space index out of range [0, {shape[1]})")
    is_counts = name == "counts"
    if raw.dtype == bool:
        raise ValueError(f"{name}: expected numbers, found booleans")
    data = finite_floats(name, raw) if raw.dtype.kind not in "iu" else raw
    if np.any(data < 0):
        what = "non-negative integers" if is_counts else "non-negative values"
        raise ValueError(f"{name}: expected {what}, found {data[data < 0][0]}")
    if is_counts:
        if data.dtype.kind == "f":
            fractional = data[data != np.round(data)]
            if fractional.size:
                raise ValueError(
                    f"counts: expected integers, found non-integer {fractional[0]}"
                )
        data = data.astype(np.int64)
    else:
        data = data.astype(np.float32)
    order = np.lexsort((cols, rows))
    rows, cols, data = rows[order], cols[order], data[order]
    if rows.size > 1:
        new = np.empty(rows.size, dtype=bool)
        new[0] = True
        new[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
        if not new.all():
            starts = np.flatnonzero(new)
            data = np.add.reduceat(data, starts)
            rows, cols = rows[starts], cols[starts]
    if is_counts:
        check_stan_int("counts", data)
    keep = data != 0
    coo = sparse.coo_array(
        (data[keep], (rows[keep].astype(np.int64), cols[keep].astype(np.int64))), shape=shape
    )
    return coo


def tracer_series(value: Any, n_time: int) -> dict[str, NDArray[np.float64]]:
    if not isinstance(value, Mapping) or not value:
        raise ValueError("tracers: expected a mapping of at least one name to a series")
    tracers = {}
    for name, series in value.items():
        label = f"tracers[{name!r}]"
        array = finite_floats(label, series)
        if array.shape != (n_time,):
            raise ValueError(
                f"{label}: expected shape ({n_time},), one per time bin, found {array.shape}"
            )
        if np.any(array < 0):
            raise ValueError(f"{label}: expected non-negative values, found negatives")
        tracers[str(name)] = array
    return tracers


def template_matrix(name: str, value: Any, shape: tuple[int, int]) -> Template:
    label = f"templates[{name!r}]"
    if sparse.issparse(value):
        coo = sparse.coo_array(value)
        if coo.shape != shape:
            raise ValueError(
                f"{label}: expected shape {shape} (time, data_bin), found {coo.shape}"
            )
        template: Template = sparse.csr_array(
            canonical_coo(label, coo.row, coo.col, coo.data, shape)
        )
        total = float(template.sum())
    else:
        dense = np.asarray(value)
        if dense.shape != shape:
            raise ValueError(
                f"{label}: expected shape {shape} (time, data_bin), found {dense.shape}"
            )
        dense = np.array(dense, dtype=np.float32)
        if not np.all(np.isfinite(dense)):
            raise ValueError(f"{label}: expected finite values, found NaN or inf")
        if np.any(dense < 0):
            raise ValueError(f"{label}: expected non-negative values, found negatives")
        dense.setflags(write=False)
        template = dense
        total = float(dense.sum(dtype=np.float64))
    if not total > 0:
        raise ValueError(f"{label}: zero exposure (all entries are 0)")
    return template
