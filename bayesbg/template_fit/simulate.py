"""A small simulator of binned template-fit data with known truth.

The data space is ``n_time`` time bins times ``n_pixel`` Compton data-space bins,
flattened time-major (bin ``i = t * n_pixel + c``). Sky template ``k`` is a Gaussian bump
in the data space at its own position, scaled per time bin by an exposure that varies
with its own phase (a changing pointing), so templates and background are separable.
The background follows docs/equations.md section 1, ``Bg[t, c] = Bhat[c] T[t]``, with a
response ``Bhat`` (sums to 1), a tracer ``T`` and equal, contiguous time blocks; it is
scaled to ``background_counts`` expected counts in total for amplitudes of 1. (Real data
normalise ``Bg`` to the measured counts per block instead; a fixed scale keeps the true
amplitudes well defined.)
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from bayesbg.config import random_generator
from bayesbg.template_fit.data import BinnedCounts

__all__ = ["simulate_template_data"]

log = logging.getLogger(__name__)


def simulate_template_data(
    rng: np.random.Generator | int,
    *,
    n_time: int = 30,
    n_pixel: int = 10,
    n_template: int = 2,
    n_block: int = 3,
    flux: ArrayLike | None = None,
    background_amplitude: ArrayLike | None = None,
    flux_prior_mean: float | ArrayLike = 1e-3,
    flux_prior_sd: float | ArrayLike = 2e-3,
    background_prior_sd: float = 0.1,
    sky_exposure: float = 1.5e6,
    background_counts: float = 6000.0,
    template_names: Sequence[str] | None = None,
) -> tuple[BinnedCounts, dict[str, NDArray[np.float64]]]:
    """Simulate Poisson counts from sky templates plus a blocked background.

    Parameters
    ----------
    rng : `numpy.random.Generator` or int
        Random generator, or a seed for one.
    n_time, n_pixel : int
        Time bins and data-space bins; ``n_time * n_pixel`` bins in all. Default is
        30 x 10 = 300 bins.
    n_template : int
        Sky templates. Default is 2.
    n_block : int
        Background blocks (equal runs of time bins; ``<= n_time``). Default is 3.
    flux : array_like, shape (n_template,), optional
        True fluxes F_k, ph cm-2 s-1. Default: drawn from the prior
        ``N+(flux_prior_mean, flux_prior_sd)``.
    background_amplitude : array_like, shape (n_block,), optional
        True amplitudes A_b. Default: drawn from the prior ``N+(1, background_prior_sd)``.
    flux_prior_mean, flux_prior_sd : float or array_like
        Flux prior, ph cm-2 s-1. Default is 1e-3 and 2e-3.
    background_prior_sd : float
        Amplitude prior scale. Default is 0.1.
    sky_exposure : float
        Sum over all bins of each template's response, cm2 s (expected counts per
        ph cm-2 s-1). Default is 1.5e6 (1500 counts for 1e-3 ph cm-2 s-1).
    background_counts : float
        Expected background counts over all bins for amplitudes of 1. Default is 6000.
    template_names : sequence of str, optional
        Names of the templates. Default is ``("template_1", ...)``.

    Returns
    -------
    data : `BinnedCounts`
        Simulated counts with the models and priors used.
    truth : dict
        ``{"flux": (n_template,), "background_amplitude": (n_block,)}`` true values.

    Examples
    --------
    >>> data, truth = simulate_template_data(1)
    >>> data.n_bin, data.n_template, data.n_block
    (300, 2, 3)
    """
    generator = random_generator(rng)
    for name, value in (("n_time", n_time), ("n_pixel", n_pixel),
                        ("n_template", n_template), ("n_block", n_block)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise ValueError(f"{name}: expected a positive integer, found {value!r}")
    if n_block > n_time:
        raise ValueError(f"n_block: expected at most n_time = {n_time} blocks, found {n_block}")
    for name, value in (("sky_exposure", sky_exposure), ("background_counts", background_counts),
                        ("background_prior_sd", background_prior_sd)):
        if not np.isfinite(value) or value <= 0:
            raise ValueError(f"{name}: expected a positive number, found {value!r}")
    prior_mean = np.broadcast_to(np.asarray(flux_prior_mean, dtype=float), (n_template,)).copy()
    prior_sd = np.broadcast_to(np.asarray(flux_prior_sd, dtype=float), (n_template,)).copy()

    time = np.arange(n_time)
    pixel = np.arange(n_pixel)
    response = np.empty((n_template, n_time, n_pixel))
    for k in range(n_template):
        centre = (k + 1) / (n_template + 1) * (n_pixel - 1)
        shape = np.exp(-0.5 * ((pixel - centre) / max(n_pixel / 6.0, 0.5)) ** 2) + 0.02
        phase = 2 * np.pi * k / n_template
        exposure = 1.0 + 0.6 * np.sin(2 * np.pi * time / n_time + phase)
        response[k] = exposure[:, None] * shape[None, :]
        response[k] *= sky_exposure / response[k].sum()

    background_response = generator.dirichlet(np.full(n_pixel, 10.0))  # Bhat[c]
    tracer = 1.0 + 0.3 * np.sin(3 * np.pi * time / n_time) + 0.05 * generator.standard_normal(
        n_time
    )
    tracer = np.clip(tracer, 0.1, None)  # T[t]
    background = tracer[:, None] * background_response[None, :]
    background *= background_counts / background.sum()
    time_block = (time * n_block) // n_time + 1
    blocks = np.repeat(time_block, n_pixel)

    if flux is None:
        true_flux = _truncated_normal(generator, prior_mean, prior_sd)
    else:
        true_flux = np.broadcast_to(np.asarray(flux, dtype=float), (n_template,)).copy()
    if background_amplitude is None:
        true_amplitude = _truncated_normal(
            generator, np.ones(n_block), np.full(n_block, background_prior_sd)
        )
    else:
        true_amplitude = np.broadcast_to(
            np.asarray(background_amplitude, dtype=float), (n_block,)
        ).copy()

    sky_response = response.reshape(n_template, n_time * n_pixel)
    background_flat = background.reshape(-1)
    expected = true_flux @ sky_response + true_amplitude[blocks - 1] * background_flat
    counts = generator.poisson(expected)
    data = BinnedCounts(
        counts=counts,
        sky_response=sky_response,
        background=background_flat,
        background_blocks=blocks,
        flux_prior_mean=prior_mean,
        flux_prior_sd=prior_sd,
        background_prior_sd=background_prior_sd,
        template_names=tuple(template_names) if template_names is not None else (),
    )
    log.debug("simulated %d bins, %d counts, truth flux=%s amplitude=%s", data.n_bin,
              counts.sum(), true_flux, true_amplitude)
    return data, {"flux": true_flux, "background_amplitude": true_amplitude}


def _truncated_normal(
    generator: np.random.Generator, mean: NDArray[np.float64], sd: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Draws from normals truncated below at 0."""
    lower = (0.0 - mean) / sd
    return np.asarray(
        stats.truncnorm.rvs(lower, np.inf, loc=mean, scale=sd, random_state=generator),
        dtype=float,
    ).reshape(mean.shape)
