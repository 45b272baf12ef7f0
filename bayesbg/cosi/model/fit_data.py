"""The data of the COSI template fit for its Stan program, and its Poisson likelihood in numpy.

:class:`CosiFitData` holds what ``stan_models/cosi_template_fit.stan`` reads: the
populated (time, data-space) bins with their sky and background models, and the
per-time-bin and per-block totals that give ``sum m`` without visiting the empty bins
(docs/equations.md section 1). :meth:`CosiFitData.to_dense_stan_data` gives the data of the dense
reference program ``benchmarks/cosi_dense_reference.stan`` (small problems only).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import sparse, special

from bayesbg.cosi.data import CosiDataset
from bayesbg.cosi.model.background import BackgroundModel

__all__ = ["CosiFitData", "prepare_fit_data"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class CosiFitData:
    """Inputs of the fast COSI template fit; build with :func:`prepare_fit_data`.

    Attributes
    ----------
    counts : `numpy.ndarray` of int, shape (n_nonzero,)
        Counts ``d > 0`` of the populated bins, sorted by time bin.
    time : `numpy.ndarray` of int, shape (n_nonzero,)
        Time bin of each populated bin, 0-based.
    data_bin : `numpy.ndarray` of int, shape (n_nonzero,)
        Data-space bin of each populated bin, 0-based.
    sky_response : `numpy.ndarray`, shape (n_nonzero, n_template)
        ``S[k, t, c]`` at the populated bins, counts per ph cm-2 s-1.
    background : `numpy.ndarray`, shape (n_nonzero,)
        ``Bg[t, c]`` at the populated bins, counts for A = 1.
    sky_per_time : `numpy.ndarray`, shape (n_time, n_template)
        ``sum_c S[k, t, c]``, counts per ph cm-2 s-1.
    background_per_time : `numpy.ndarray`, shape (n_time,)
        ``sum_c Bg[t, c]``, counts for A = 1.
    time_block : `numpy.ndarray` of int, shape (n_time,)
        Background block of each time bin, 1-based.
    flux_prior_mean, flux_prior_sd : `numpy.ndarray`, shape (n_template,)
        Truncated-normal prior of the fluxes, ph cm-2 s-1.
    background_prior_sd : float
        Prior scale of the amplitudes ``A_b ~ N+(1, sigma_A)``.
    template_names : tuple of str
    dataset : `CosiDataset`
        The dataset (for the dense reference data and predictive checks).
    background_model : `BackgroundModel`
    """

    counts: NDArray[np.int64]
    time: NDArray[np.int64]
    data_bin: NDArray[np.int64]
    sky_response: NDArray[np.float64]
    background: NDArray[np.float64]
    sky_per_time: NDArray[np.float64]
    background_per_time: NDArray[np.float64]
    time_block: NDArray[np.int64]
    flux_prior_mean: NDArray[np.float64]
    flux_prior_sd: NDArray[np.float64]
    background_prior_sd: float
    template_names: tuple[str, ...]
    dataset: CosiDataset = field(repr=False)
    background_model: BackgroundModel = field(repr=False)

    @property
    def n_time(self) -> int:
        """Number of time bins."""
        return int(self.time_block.size)

    @property
    def n_nonzero(self) -> int:
        """Number of populated bins."""
        return int(self.counts.size)

    @property
    def n_template(self) -> int:
        """Number of sky templates."""
        return len(self.template_names)

    @property
    def n_block(self) -> int:
        """Number of background blocks."""
        return int(self.time_block.max())

    def to_stan_data(self, *, use_priors: bool = True, grainsize: int = 0,
                     fused: bool | None = None) -> dict[str, Any]:
        """Data of ``stan_models/cosi_template_fit.stan``.

        Parameters
        ----------
        use_priors : bool
            The program's prior switch; False gives the likelihood alone (maximum
            likelihood with `bayesbg.stan.optimize`). Default is True.
        grainsize : int
            Chunk size in populated bins. Fused: the C++ pass runs over chunks of this
            many bins (0: 8,192), in parallel when the model is compiled with threads
            (``cosi_fit_model(threads=True)`` and ``threads_per_chain > 1``); the result
            does not depend on the number of threads. Plain: 0 for one vectorised pass,
            > 0 for ``reduce_sum`` over chunks of this many bins. Default is 0.
        fused : bool
            Compute ``sum d log m`` and its gradient in one C++ pass
            (``stan_models/functions/populated_bins_loglik.hpp``); False uses the plain
            Stan expression (the readable reference). Default (None) is True.

        Returns
        -------
        data : dict
        """
        if isinstance(grainsize, bool) or not isinstance(grainsize, int) or grainsize < 0:
            raise ValueError(f"grainsize: expected an integer >= 0, found {grainsize!r}")
        return {
            "T": self.n_time,
            "N": self.n_nonzero,
            "K": self.n_template,
            "B": self.n_block,
            "counts": self.counts,
            **self.design_matrix(),
            "nonzero_per_time": np.bincount(self.time, minlength=self.n_time),
            "sky_per_time": self.sky_per_time,
            "background_per_time": self.background_per_time,
            "time_block": self.time_block,
            "flux_prior_mean": self.flux_prior_mean,
            "flux_prior_sd": self.flux_prior_sd,
            "background_prior_sd": self.background_prior_sd,
            "use_priors": int(bool(use_priors)),
            "grainsize": grainsize,
            "fused_likelihood": int(True if fused is None else bool(fused)),
        }

    def design_matrix(self) -> dict[str, NDArray[Any]]:
        """The populated rows of ``m = X theta``, ``theta = (flux, amplitude)``, as 1-based CSR.

        Row ``i`` holds ``S[i, 1..K]`` in columns ``1..K`` and ``Bg[i]`` in column
        ``K + block(i)``.

        Returns
        -------
        design : dict
            ``W`` (stored entries, ``N (K + 1)``), ``design_value``, ``design_column``,
            ``design_row_start`` (length ``N + 1``), as the Stan program names them.
        """
        n, k = self.n_nonzero, self.n_template
        values = np.concatenate([self.sky_response, self.background[:, None]], axis=1)
        columns = np.empty((n, k + 1), dtype=np.int64)
        columns[:, :k] = np.arange(1, k + 1)
        columns[:, k] = k + self.time_block[self.time]
        return {
            "W": n * (k + 1),
            "design_value": values.ravel(),
            "design_column": columns.ravel(),
            "design_row_start": 1 + (k + 1) * np.arange(n + 1, dtype=np.int64),
        }

    def to_dense_stan_data(self, *, use_priors: bool = True,
                           max_bins: int = 2_000_000) -> dict[str, Any]:
        """Data of the dense reference ``benchmarks/cosi_dense_reference.stan``.

        Parameters
        ----------
        use_priors : bool
            The prior switch. Default is True.
        max_bins : int
            Refuse problems with more (time x data-space) bins than this. Default 2e6.

        Returns
        -------
        data : dict
        """
        dataset = self.dataset
        n_bin = dataset.n_time * dataset.n_data_bin
        if n_bin > max_bins:
            raise ValueError(f"max_bins: the dense data would have {n_bin} bins (> {max_bins})")
        counts = dataset.counts.toarray()
        sky = np.stack([_dense(dataset.templates[name]) for name in self.template_names])
        profile = self.background_model.time_profile()
        background = profile[:, None] * self.background_model.response[None, :]
        return {
            "T": dataset.n_time,
            "C": dataset.n_data_bin,
            "K": self.n_template,
            "B": self.n_block,
            "counts": counts,
            "sky_response": sky,
            "background": background,
            "time_block": self.time_block,
            "flux_prior_mean": self.flux_prior_mean,
            "flux_prior_sd": self.flux_prior_sd,
            "background_prior_sd": self.background_prior_sd,
            "use_priors": int(bool(use_priors)),
        }

    def expected_nonzero(self, flux: ArrayLike, amplitude: ArrayLike) -> NDArray[np.float64]:
        """Expected counts ``m`` at the populated bins for given parameters, counts."""
        flux = np.atleast_1d(np.asarray(flux, dtype=np.float64))
        amplitude = np.atleast_1d(np.asarray(amplitude, dtype=np.float64))
        return self.sky_response @ flux + amplitude[self.time_block[self.time] - 1] \
            * self.background

    def fisher_information(self, flux: ArrayLike, amplitude: ArrayLike
                           ) -> NDArray[np.float64]:
        """Observed Fisher information of ``theta = (flux, amplitude)`` at given values.

        The model is linear in ``theta`` (``m = X theta``), so the Hessian of
        ``ln L = sum d ln m - sum m`` is ``-sum_i d_i x_i x_i' / m_i^2`` over the populated
        bins only (an empty bin adds nothing), and the information is its negative.

        Parameters
        ----------
        flux : array_like, shape (n_template,)
            Fluxes, ph cm-2 s-1.
        amplitude : array_like, shape (n_block,)
            Background amplitudes.

        Returns
        -------
        information : `numpy.ndarray`, shape (n_template + n_block, n_template + n_block)
        """
        expected = self.expected_nonzero(flux, amplitude)
        weight = self.counts / expected**2
        k = self.n_template
        block = self.time_block[self.time] - 1
        sky = self.sky_response * np.sqrt(weight)[:, None]
        background = self.background * np.sqrt(weight)
        information = np.zeros((k + self.n_block, k + self.n_block))
        information[:k, :k] = sky.T @ sky
        cross = np.zeros((k, self.n_block))
        diagonal = np.zeros(self.n_block)
        for j in range(k):
            cross[j] = np.bincount(block, weights=sky[:, j] * background,
                                   minlength=self.n_block)
        diagonal[:] = np.bincount(block, weights=background**2, minlength=self.n_block)
        information[:k, k:] = cross
        information[k:, :k] = cross.T
        information[k:, k:] = np.diag(diagonal)
        return information

    def log_likelihood(self, flux: ArrayLike, amplitude: ArrayLike) -> float:
        """Poisson log-likelihood ``ln L`` (natural log, with the log d! terms), in numpy.

        Parameters
        ----------
        flux : array_like, shape (n_template,)
            Fluxes, ph cm-2 s-1.
        amplitude : array_like, shape (n_block,)
            Background amplitudes.

        Returns
        -------
        log_likelihood : float
        """
        flux = np.atleast_1d(np.asarray(flux, dtype=np.float64))
        amplitude = np.atleast_1d(np.asarray(amplitude, dtype=np.float64))
        expected = self.expected_nonzero(flux, amplitude)
        total = float(self.sky_per_time.sum(axis=0) @ flux) + float(
            self.background_per_time @ amplitude[self.time_block - 1])
        return float(np.dot(self.counts, np.log(expected))
                     - special.gammaln(self.counts + 1.0).sum() - total)


def prepare_fit_data(
    dataset: CosiDataset,
    background_model: BackgroundModel,
    *,
    templates: Sequence[str] | None = None,
    flux_prior_mean: float | ArrayLike = 1e-3,
    flux_prior_sd: float | ArrayLike = 3e-3,
    background_prior_sd: float = 0.1,
) -> CosiFitData:
    """Gather the populated bins, models and totals of a fit; validate before Stan runs.

    Parameters
    ----------
    dataset : `CosiDataset`
    background_model : `BackgroundModel`
        From `bayesbg.cosi.model.build_background_model` for this dataset.
    templates : sequence of str, optional
        Sky templates to fit. Default: all of the dataset's.
    flux_prior_mean, flux_prior_sd : float or array_like, shape (n_template,)
        Truncated-normal flux prior, ph cm-2 s-1. Defaults 1e-3 and 3e-3 ([COSI-511] 4.2:
        wide, several times the mean).
    background_prior_sd : float
        ``sigma_A`` of ``A_b ~ N+(1, sigma_A)``. Default is 0.1.

    Returns
    -------
    data : `CosiFitData`

    Raises
    ------
    ValueError
        If no template is given or one is unknown, the background model does not match
        the dataset, the priors are invalid, or a populated bin has zero expected counts
        for every parameter value (the bin is named).
    """
    names = tuple(templates) if templates is not None else dataset.template_names
    if not names:
        raise ValueError("templates: expected at least one sky template, found none")
    for name in names:
        if name not in dataset.templates:
            raise ValueError(
                f"templates: {name!r} is not in the dataset; found {dataset.template_names}"
            )
    if background_model.blocks.shape != (dataset.n_time,) or \
            background_model.response.shape != (dataset.n_data_bin,):
        raise ValueError("background_model: built for another dataset (shapes differ)")
    n_template = len(names)
    prior_mean = _prior("flux_prior_mean", flux_prior_mean, n_template, minimum=0.0)
    prior_sd = _prior("flux_prior_sd", flux_prior_sd, n_template, minimum=None)
    if not np.isfinite(background_prior_sd) or background_prior_sd <= 0:
        raise ValueError(
            f"background_prior_sd: expected a positive number, found {background_prior_sd}"
        )

    counts = dataset.counts
    time = np.asarray(counts.row, dtype=np.int64)
    data_bin = np.asarray(counts.col, dtype=np.int64)
    sky = np.empty((time.size, n_template))
    sky_per_time = np.empty((dataset.n_time, n_template))
    for k, name in enumerate(names):
        template = dataset.templates[name]
        if sparse.issparse(template):
            sky[:, k] = np.asarray(template[time, data_bin]).ravel()
            sky_per_time[:, k] = np.asarray(template.sum(axis=1)).ravel()
        else:
            sky[:, k] = template[time, data_bin]
            sky_per_time[:, k] = template.sum(axis=1, dtype=np.float64)
    profile = background_model.time_profile()
    background = profile[time] * background_model.response[data_bin]
    impossible = np.flatnonzero((background <= 0) & ~np.any(sky > 0, axis=1))
    if impossible.size:
        i = impossible[0]
        raise ValueError(
            f"counts: {impossible.size} populated bins have zero sky response and zero "
            f"background, e.g. time bin {time[i]}, data-space bin {data_bin[i]} with "
            f"{counts.data[i]} counts (check the background response)"
        )
    return CosiFitData(
        counts=np.asarray(counts.data, dtype=np.int64),
        time=time,
        data_bin=data_bin,
        sky_response=sky,
        background=background,
        sky_per_time=sky_per_time,
        background_per_time=profile,
        time_block=background_model.blocks,
        flux_prior_mean=prior_mean,
        flux_prior_sd=prior_sd,
        background_prior_sd=float(background_prior_sd),
        template_names=names,
        dataset=dataset,
        background_model=background_model,
    )


def _prior(name: str, value: float | ArrayLike, n: int,
           minimum: float | None) -> NDArray[np.float64]:
    array = np.broadcast_to(np.asarray(value, dtype=np.float64), (n,)).copy() \
        if np.ndim(value) == 0 else np.asarray(value, dtype=np.float64)
    if array.shape != (n,):
        raise ValueError(f"{name}: expected {n} values, one per template, found {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name}: expected finite values")
    if minimum is not None and np.any(array < minimum):
        raise ValueError(f"{name}: expected values >= {minimum}, found {array.min()}")
    if minimum is None and np.any(array <= 0):
        raise ValueError(f"{name}: expected positive values, found {array.min()}")
    return array


def _dense(template: Any) -> NDArray[np.float64]:
    if sparse.issparse(template):
        return np.asarray(template.toarray(), dtype=np.float64)
    return np.asarray(template, dtype=np.float64)
