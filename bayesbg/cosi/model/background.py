"""Empirical COSI background model: response, tracer and time blocks (docs/equations.md section 1).

The background expected in time bin ``t`` and data-space bin ``c`` when the amplitude of
its block is 1 is

.. math:: Bg[t, c] = \\hat B[c] \\, T[t] \\, N_b / \\sum_{t' \\in b} T[t'] ,

with ``Bhat`` the background response (sums to 1 over ``c``; [COSI-511] eq. 6), ``T`` a
tracer of the background rate and ``N_b`` the measured counts in block ``b``, so that
``A_b = 1`` means "every count of the block is background". Blocks are the intervals
between time nodes, set by one of three schemes ([COSI-511] 3.3.4):

- :func:`equidistant_blocks`: ``n`` equal runs of time bins;
- :func:`altitude_blocks`: a node whenever the altitude crosses a whole km (or another
  step);
- :func:`bayesian_blocks`: Scargle's Bayesian blocks (Scargle et al. 2013, ApJ 764, 167,
  through `astropy.stats.bayesian_blocks`) on the count rate, with the false-alarm
  probability ``p0`` the standard-normal survival probability at a sigma level.

Blocks are given as one 1-based block number per time bin; :func:`scheme_blocks` gives
those of any scheme in `SCHEMES` for a dataset.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr
from astropy import stats as astropy_stats
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from bayesbg.cosi._validation import background_response_array
from bayesbg.cosi.data import CosiDataset, energy_band_bins

__all__ = [
    "SCHEMES",
    "BackgroundModel",
    "altitude_blocks",
    "background_response_from_counts",
    "bayesian_blocks",
    "build_background_model",
    "equidistant_blocks",
    "false_alarm_probability",
    "merge_blocks",
    "read_background_response",
    "scheme_blocks",
]

log = logging.getLogger(__name__)

SCHEMES = ("equidistant", "altitude", "bayesian_blocks")
"""Background time-node schemes ([COSI-511] 3.3.4)."""


@dataclass(frozen=True, eq=False)
class BackgroundModel:
    """A background model ``Bg[t, c] = Bhat[c] T[t] N_b / sum_{t' in b} T[t']``.

    Build one with :func:`build_background_model`, which validates it.

    Attributes
    ----------
    response : `numpy.ndarray`, shape (n_data_bin,)
        Background response ``Bhat[c]``, sums to 1.
    tracer : `numpy.ndarray`, shape (n_time,)
        Tracer ``T[t]`` (any unit; only ratios within a block matter).
    blocks : `numpy.ndarray` of int, shape (n_time,)
        Block of each time bin, 1-based.
    block_counts : `numpy.ndarray`, shape (n_block,)
        Measured counts ``N_b`` per block.
    tracer_name : str
        Name of the tracer.
    """

    response: NDArray[np.float64]
    tracer: NDArray[np.float64]
    blocks: NDArray[np.int64]
    block_counts: NDArray[np.float64]
    tracer_name: str = ""

    @property
    def n_block(self) -> int:
        """Number of background blocks."""
        return int(self.block_counts.size)

    def time_profile(self) -> NDArray[np.float64]:
        """Background counts per time bin for amplitudes of 1, ``T[t] N_b / sum T``, counts.

        Returns
        -------
        profile : `numpy.ndarray`, shape (n_time,)
            Sums to ``N_b`` over the time bins of each block.
        """
        tracer_sum = np.bincount(self.blocks - 1, weights=self.tracer, minlength=self.n_block)
        return self.tracer * self.block_counts[self.blocks - 1] / tracer_sum[self.blocks - 1]

    def expected(self, time: ArrayLike, data_bin: ArrayLike) -> NDArray[np.float64]:
        """``Bg[t, c]`` at given (time, data-space) index pairs, counts.

        Parameters
        ----------
        time, data_bin : array_like of int
            0-based indices of equal shape.

        Returns
        -------
        background : `numpy.ndarray`
        """
        return self.time_profile()[np.asarray(time)] * self.response[np.asarray(data_bin)]


def background_response_from_counts(
    dataset: CosiDataset,
    *,
    energy_min: float | None = None,
    energy_max: float | None = None,
) -> NDArray[np.float64]:
    """Background response from the data summed over time ([COSI-511] eq. 6).

    Without a band, ``Bhat[c] = sum_t d[t, c] / sum_{t, c} d[t, c]``. With a band, the
    spatial shape (over phi x psi_chi) is taken from the energy bins inside the band and
    spread over the dataset's energy bins in proportion to their total counts, so the
    line bin can be modelled with a shape measured in an adjacent continuum band.

    Parameters
    ----------
    dataset : `CosiDataset`
        Measured counts.
    energy_min, energy_max : float, optional
        Energy band, keV (both or neither); needs an energy axis.

    Returns
    -------
    response : `numpy.ndarray`, shape (n_data_bin,)
        Sums to 1.

    Raises
    ------
    ValueError
        If the dataset (or band) has no counts, or only one band edge is given.
    """
    per_bin = dataset.counts_per_data_bin().astype(np.float64)
    if (energy_min is None) != (energy_max is None):
        raise ValueError("energy_min, energy_max: give both band edges or neither")
    if energy_min is not None and energy_max is not None:
        selected = energy_band_bins(dataset, energy_min, energy_max)
        cube = per_bin.reshape(dataset.n_energy, -1)
        shape = cube[selected].sum(axis=0)
        if shape.sum() <= 0:
            raise ValueError(
                f"counts: no counts in the band {energy_min}-{energy_max} keV to build the "
                "background response"
            )
        energy_weight = cube.sum(axis=1)
        per_bin = (energy_weight[:, None] * (shape / shape.sum())[None, :]).ravel()
    total = per_bin.sum()
    if total <= 0:
        raise ValueError("counts: the dataset has no counts to build a background response")
    return per_bin / total


def read_background_response(path: str | Path, *, n_data_bin: int) -> NDArray[np.float64]:
    """Read a background response from a file.

    Parameters
    ----------
    path : str or `~pathlib.Path`
        A ``.npy`` array, or a netCDF file with a ``background_response`` variable (e.g. a
        dataset file written by `CosiDataset.write`).
    n_data_bin : int
        Expected length.

    Returns
    -------
    response : `numpy.ndarray`, shape (n_data_bin,)

    Raises
    ------
    ValueError
        If the variable is missing or invalid (not summing to 1, negative, wrong length).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"background response file {path} does not exist")
    if path.suffix == ".npy":
        values = np.load(path)
    else:
        with xr.open_dataset(path, engine="h5netcdf") as ds:
            if "background_response" not in ds:
                raise ValueError(f"background_response: no such variable in {path}")
            values = ds["background_response"].values
    return background_response_array(values, n_data_bin)


def equidistant_blocks(n_time: int, n_blocks: int) -> NDArray[np.int64]:
    """Block numbers for ``n_blocks`` equal runs of time bins (sizes differ by at most 1).

    Parameters
    ----------
    n_time : int
        Number of time bins.
    n_blocks : int
        Number of blocks, 1 to ``n_time``.

    Returns
    -------
    blocks : `numpy.ndarray` of int, shape (n_time,)
        1-based, non-decreasing.

    Examples
    --------
    >>> equidistant_blocks(7, 3).tolist()
    [1, 1, 1, 2, 2, 3, 3]
    """
    _positive_int("n_time", n_time)
    _positive_int("n_blocks", n_blocks)
    if n_blocks > n_time:
        raise ValueError(f"n_blocks: expected at most n_time = {n_time}, found {n_blocks}")
    return (np.arange(n_time) * n_blocks) // n_time + 1


def altitude_blocks(altitude: ArrayLike, *, step: float = 1.0) -> NDArray[np.int64]:
    """Block numbers with a node whenever the altitude crosses a multiple of ``step``.

    Parameters
    ----------
    altitude : array_like, shape (n_time,)
        Altitude per time bin, km.
    step : float
        Spacing of the marks, km. Default is 1 (whole km, [COSI-511] 3.3.4).

    Returns
    -------
    blocks : `numpy.ndarray` of int, shape (n_time,)
        1-based; a new block starts at every time bin whose altitude lies in a different
        ``step`` interval from the previous one.

    Examples
    --------
    >>> altitude_blocks([33.2, 33.7, 32.9, 32.1, 33.4]).tolist()
    [1, 1, 2, 2, 3]
    """
    values = np.asarray(altitude, dtype=np.float64)
    if values.ndim != 1 or values.size == 0 or not np.all(np.isfinite(values)):
        raise ValueError("altitude: expected a finite 1-D series of altitudes (km)")
    if not step > 0:
        raise ValueError(f"step: expected a positive number (km), found {step}")
    level = np.floor(values / step)
    return np.concatenate([[1], 1 + np.cumsum(level[1:] != level[:-1])]).astype(np.int64)


def merge_blocks(*blocks: ArrayLike) -> NDArray[np.int64]:
    """Blocks whose nodes are the union of the nodes of several block assignments.

    Parameters
    ----------
    *blocks : array_like of int, shape (n_time,) each
        Block numbers per time bin (from any scheme).

    Returns
    -------
    blocks : `numpy.ndarray` of int, shape (n_time,)
        1-based; a new block starts wherever any input starts one.

    Examples
    --------
    >>> merge_blocks([1, 1, 2, 2, 2, 3], [1, 1, 1, 2, 2, 2]).tolist()
    [1, 1, 2, 3, 3, 4]
    """
    if not blocks:
        raise ValueError("blocks: expected at least one block assignment")
    arrays = [np.asarray(b) for b in blocks]
    if any(a.ndim != 1 or a.shape != arrays[0].shape for a in arrays):
        raise ValueError("blocks: expected 1-D block assignments of equal length")
    changes = np.zeros(arrays[0].size - 1, dtype=bool)
    for array in arrays:
        changes |= array[1:] != array[:-1]
    return np.concatenate([[1], 1 + np.cumsum(changes)]).astype(np.int64)


def false_alarm_probability(sigma: float) -> float:
    """False-alarm probability ``p0`` for a sigma level: the standard-normal survival.

    Examples
    --------
    >>> round(false_alarm_probability(3.0), 5)
    0.00135
    """
    if not np.isfinite(sigma) or sigma <= 0:
        raise ValueError(f"sigma: expected a positive number, found {sigma}")
    return float(stats.norm.sf(sigma))


def bayesian_blocks(
    counts: ArrayLike,
    time_edges: ArrayLike,
    *,
    sigma: float = 3.0,
    tracer: ArrayLike | None = None,
) -> NDArray[np.int64]:
    """Block numbers from Scargle's Bayesian blocks on the count rate (Scargle et al. 2013).

    The ``"measures"`` fitness of `astropy.stats.bayesian_blocks` (piecewise-constant
    data with Gaussian errors) runs on the count rate ``d[t] / dt[t]`` with errors
    ``sqrt(d[t]) / dt[t]``: the Gaussian limit of Poisson counts, accurate for hourly bins
    with many counts, and unlike the ``"events"`` fitness exact about bin widths at the
    ends of the series and across gaps. With a tracer the data are instead the ratio of
    counts to the tracer's prediction ``T[t] sum(d) / sum(T)`` (errors
    ``sqrt(d) / prediction``), so the blocks mark the changes the tracer misses.

    Parameters
    ----------
    counts : array_like, shape (n_time,)
        Counts per time bin.
    time_edges : array_like, shape (n_time + 1,)
        Time-bin edges, s.
    sigma : float
        Sigma level of the false-alarm probability, ``p0 = norm.sf(sigma)``. Default is 3.
    tracer : array_like, shape (n_time,), optional
        Tracer to divide out.

    Returns
    -------
    blocks : `numpy.ndarray` of int, shape (n_time,)
        1-based, non-decreasing.
    """
    values = np.asarray(counts, dtype=np.float64)
    edges = np.asarray(time_edges, dtype=np.float64)
    if values.ndim != 1 or edges.shape != (values.size + 1,):
        raise ValueError(
            f"time_edges: expected shape ({values.size + 1},) for {values.size} time bins, "
            f"found {edges.shape}"
        )
    p0 = false_alarm_probability(sigma)
    exposure = np.diff(edges)
    position = 0.5 * (edges[:-1] + edges[1:])
    if tracer is None:
        prediction = exposure
    else:
        trace = np.asarray(tracer, dtype=np.float64)
        if trace.shape != values.shape or np.any(trace <= 0):
            raise ValueError(
                f"tracer: expected {values.size} positive values, found shape {trace.shape}"
            )
        prediction = trace * values.sum() / trace.sum()
    ratio = values / prediction
    error = np.sqrt(np.maximum(values, 1.0)) / prediction
    nodes = astropy_stats.bayesian_blocks(position, ratio, error, fitness="measures", p0=p0)
    interior = np.asarray(nodes)[1:-1]
    blocks = np.searchsorted(interior, position, side="right") + 1
    # renumber so that only blocks holding time bins count
    return np.unique(blocks, return_inverse=True)[1].astype(np.int64) + 1


def scheme_blocks(
    dataset: CosiDataset,
    scheme: str,
    setting: float,
    *,
    tracer: ArrayLike | None = None,
) -> NDArray[np.int64]:
    """Block of each time bin of one time-node scheme for a dataset.

    Parameters
    ----------
    dataset : `CosiDataset`
    scheme : str
        One of `SCHEMES`.
    setting : float
        The scheme's setting: the number of blocks (``"equidistant"``), the altitude
        step in km (``"altitude"``) or the sigma level (``"bayesian_blocks"``).
    tracer : array_like, shape (n_time,), optional
        Bayesian blocks only: find the changes this tracer misses (see
        :func:`bayesian_blocks`). Default: on the count rate.

    Returns
    -------
    blocks : `numpy.ndarray` of int, shape (n_time,)
        1-based.
    """
    if scheme == "equidistant":
        return equidistant_blocks(dataset.n_time, int(setting))
    if scheme == "altitude":
        if dataset.altitude is None:
            raise ValueError("scheme: 'altitude' needs a dataset with altitude")
        return altitude_blocks(dataset.altitude, step=float(setting))
    if scheme == "bayesian_blocks":
        return bayesian_blocks(dataset.counts_per_time(), dataset.time_edges,
                               sigma=float(setting), tracer=tracer)
    raise ValueError(f"scheme: expected one of {SCHEMES}, found {scheme!r}")


def build_background_model(
    dataset: CosiDataset,
    *,
    blocks: ArrayLike,
    tracer: str | ArrayLike,
    response: ArrayLike | None = None,
) -> BackgroundModel:
    """Assemble and validate a background model for a dataset.

    Parameters
    ----------
    dataset : `CosiDataset`
        Measured counts (for ``N_b``) and tracers.
    blocks : array_like of int, shape (n_time,)
        Block of each time bin, 1-based, every block ``1 .. n_block`` used (from
        :func:`equidistant_blocks`, :func:`altitude_blocks` or :func:`bayesian_blocks`).
    tracer : str or array_like, shape (n_time,)
        Name of one of the dataset's tracers, or the series itself.
    response : array_like, shape (n_data_bin,), optional
        Background response. Default: the dataset's ``background_response`` if it has one,
        else :func:`background_response_from_counts`.

    Returns
    -------
    model : `BackgroundModel`

    Raises
    ------
    ValueError
        If the tracer is unknown or invalid, the blocks have the wrong shape or gaps, a
        block has no counts (named, with its time bins) or a zero tracer sum.
    """
    if isinstance(tracer, str):
        if tracer not in dataset.tracers:
            raise ValueError(
                f"tracer: {tracer!r} is not one of the dataset's tracers "
                f"{sorted(dataset.tracers)}"
            )
        series = np.asarray(dataset.tracers[tracer], dtype=np.float64)
        tracer_name = tracer
    else:
        series = np.asarray(tracer, dtype=np.float64)
        tracer_name = "custom"
        if series.shape != (dataset.n_time,):
            raise ValueError(
                f"tracer: expected shape ({dataset.n_time},), found {series.shape}"
            )
        if not np.all(np.isfinite(series)):
            raise ValueError("tracer: expected finite values, found NaN or inf")
        if np.any(series < 0):
            raise ValueError("tracer: expected non-negative values, found negatives")
    block_array = np.asarray(blocks)
    if block_array.shape != (dataset.n_time,) or block_array.dtype.kind not in "iu":
        raise ValueError(
            f"blocks: expected {dataset.n_time} integer block numbers, one per time bin, "
            f"found shape {block_array.shape} of {block_array.dtype}"
        )
    if block_array.min() < 1:
        raise ValueError(f"blocks: expected 1-based block numbers, found {block_array.min()}")
    block_array = block_array.astype(np.int64)
    n_block = int(block_array.max())
    used = np.bincount(block_array, minlength=n_block + 1)[1:]
    if np.any(used == 0):
        raise ValueError(
            f"blocks: block {int(np.flatnonzero(used == 0)[0]) + 1} has no time bins "
            f"(blocks must be numbered 1..{n_block} without gaps)"
        )
    block_counts = np.bincount(block_array - 1, weights=dataset.counts_per_time(),
                               minlength=n_block)
    for b in np.flatnonzero(block_counts <= 0):
        bins = np.flatnonzero(block_array == b + 1)
        raise ValueError(
            f"blocks: background block {b + 1} (time bins {bins[0]}-{bins[-1]}) has no "
            "counts; merge it with a neighbour or drop those time bins"
        )
    tracer_sum = np.bincount(block_array - 1, weights=series, minlength=n_block)
    for b in np.flatnonzero(tracer_sum <= 0):
        raise ValueError(f"tracer: zero in every time bin of background block {b + 1}")
    if response is not None:
        response_array = background_response_array(response, dataset.n_data_bin)
    elif dataset.background_response is not None:
        response_array = dataset.background_response
    else:
        response_array = background_response_from_counts(dataset)
    model = BackgroundModel(
        response=np.asarray(response_array, dtype=np.float64),
        tracer=series,
        blocks=block_array,
        block_counts=block_counts,
        tracer_name=tracer_name,
    )
    log.info("background model: %d blocks, tracer %s", n_block, tracer_name)
    return model


def _positive_int(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name}: expected a positive integer, found {value!r}")
