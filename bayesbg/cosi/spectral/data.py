"""COSI counts of a multi-band dataset arranged for the forward-folded spectral fit.

The data space of a :class:`~bayesbg.cosi.CosiDataset` with measured-energy bands is cut
into segments ``s = (band e, time bin t)``; in each the model is (docs/cosi_spectral.md)

    m[s, c] = g[s] P[s, c] + A[block(s)] Bg[s, c],    g[s] = C a[e] sum_j R[t, e, j] F[j]

with ``P[s, c]`` the fraction of the segment's source counts in spatial bin ``c`` (the
imaging response of band e along the source's path, :func:`normalised_patterns`),
``R[t, e, j]`` the energy response along that path
(:meth:`bayesbg.cosi.spectral.response.EnergyResponse.exposure`), ``Bg`` the background
model of band e (:func:`band_background_models`: its own response ``Bhat_e``, tracer and
time nodes) and one background amplitude per band and time block.
:func:`prepare_spectral_counts` gathers the populated bins sorted by segment, the
per-segment totals that give ``sum m`` without visiting empty bins, and validates them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import sparse

from bayesbg.cosi.data import CosiDataset
from bayesbg.cosi.model.background import BackgroundModel, build_background_model

__all__ = [
    "CosiSpectralCounts",
    "band_background_models",
    "band_tracer_name",
    "normalised_patterns",
    "prepare_spectral_counts",
]

log = logging.getLogger(__name__)


def band_tracer_name(name: str, energy_min: float, energy_max: float) -> str:
    """Name of a band's own tracer in a dataset, e.g. ``"photo_event_rate:325-480keV"``."""
    return f"{name}:{energy_min:g}-{energy_max:g}keV"


def normalised_patterns(templates: NDArray[np.floating] | sparse.sparray
                        ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Rows of a point-source template ``S[t, c]`` divided by their sums.

    Parameters
    ----------
    templates : array or sparse array, shape (n_time, n_spatial)
        Expected counts per unit flux of one band (any normalisation).

    Returns
    -------
    pattern : `numpy.ndarray`, shape (n_time, n_spatial)
        ``P[t, c]``, each row summing to 1 (rows without exposure are 0).
    exposed : `numpy.ndarray` of bool, shape (n_time,)
        Rows with exposure.
    """
    dense = templates.toarray() if sparse.issparse(templates) else np.asarray(templates)
    dense = np.asarray(dense, dtype=np.float64)
    total = dense.sum(axis=1)
    exposed = total > 0
    out = np.zeros_like(dense)
    out[exposed] = dense[exposed] / total[exposed, None]
    return out, exposed


def band_background_models(
    dataset: CosiDataset,
    *,
    blocks: ArrayLike | Sequence[ArrayLike],
    tracer: str,
    responses: Sequence[ArrayLike] | None = None,
) -> list[BackgroundModel]:
    """One background model per measured band of ``dataset``.

    Parameters
    ----------
    dataset : `CosiDataset`
        With energy bands (``energy_edges``).
    blocks : array_like of int, shape (n_time,), or one such per band
        Time nodes: the same blocks for every band, or each band its own.
    tracer : str
        Tracer name; a band uses its own tracer ``band_tracer_name(tracer, lo, hi)`` when
        the dataset has one, else ``tracer``.
    responses : sequence of array_like, shape (n_spatial,) each, optional
        ``Bhat_e`` per band; default the band's slice of the dataset's background
        response (renormalised), else the band's counts summed over time.

    Returns
    -------
    models : list of `bayesbg.cosi.model.BackgroundModel`
        Over the band's spatial data space (phi x psi-chi).
    """
    if dataset.energy_edges is None:
        raise ValueError("dataset: expected energy bands (energy_edges), found none")
    edges = dataset.energy_edges
    n_band = dataset.n_energy
    per_band = np.ndim(blocks) == 2 or (isinstance(blocks, Sequence)
                                        and len(blocks) == n_band
                                        and np.ndim(blocks[0]) == 1)
    if responses is not None and len(responses) != n_band:
        raise ValueError(f"responses: expected {n_band}, one per band, found {len(responses)}")
    models = []
    for e in range(n_band):
        lo, hi = float(edges[e]), float(edges[e + 1])
        band = dataset.select_energy(lo, hi)
        own = band_tracer_name(tracer, lo, hi)
        name = own if own in dataset.tracers else tracer
        response = None if responses is None else responses[e]
        models.append(build_background_model(
            band, blocks=np.asarray(blocks[e] if per_band else blocks), tracer=name,
            response=response))
    return models


@dataclass(frozen=True, eq=False)
class CosiSpectralCounts:
    """The COSI part of a forward-folded fit; build with :func:`prepare_spectral_counts`.

    Attributes
    ----------
    counts : `numpy.ndarray` of int, shape (n_nonzero,)
        Counts ``d > 0`` of the populated bins, sorted by segment.
    sky_pattern : `numpy.ndarray`, shape (n_nonzero,)
        ``P[s, c]`` at the populated bins.
    background : `numpy.ndarray`, shape (n_nonzero,)
        ``Bg[s, c]`` at the populated bins, counts for amplitude 1.
    data_bin : `numpy.ndarray` of int, shape (n_nonzero,)
        Spatial (phi x psi-chi) bin of each populated bin.
    segment_start : `numpy.ndarray` of int, shape (n_segment + 1,)
        0-based: bins of segment s are ``segment_start[s]`` .. ``segment_start[s + 1] - 1``.
    segment_band, segment_time : `numpy.ndarray` of int, shape (n_segment,)
        0-based band and time bin of each segment (band-major: ``s = e T + t``).
    segment_response : `numpy.ndarray`, shape (n_segment, n_true)
        ``R[t, e, j]``: counts per ph cm-2 s-1 in true-energy bin j (cm2 s).
    pattern_total : `numpy.ndarray`, shape (n_segment,)
        ``sum_c P[s, c]`` over all spatial bins (1, or 0 without exposure).
    segment_block : `numpy.ndarray` of int, shape (n_segment,)
        1-based background amplitude of each segment (band e, block b).
    background_total : `numpy.ndarray`, shape (n_amplitude,)
        ``sum Bg`` over all bins of each amplitude (the band's counts in the block).
    block_band : `numpy.ndarray` of int, shape (n_amplitude,)
        0-based band of each amplitude.
    energy_edges, energy_true_edges : `numpy.ndarray`
        keV, measured bands and true-energy bins.
    atmospheric_correction : `numpy.ndarray`, shape (n_band,)
        ``a[e]``, multiplies the source counts of band e.
    background_prior_sd : float
        ``A ~ N+(1, sd)``.
    n_time : int
    """

    counts: NDArray[np.int64]
    sky_pattern: NDArray[np.float64]
    background: NDArray[np.float64]
    data_bin: NDArray[np.int64]
    segment_start: NDArray[np.int64]
    segment_band: NDArray[np.int64]
    segment_time: NDArray[np.int64]
    segment_response: NDArray[np.float64]
    pattern_total: NDArray[np.float64]
    segment_block: NDArray[np.int64]
    background_total: NDArray[np.float64]
    block_band: NDArray[np.int64]
    energy_edges: NDArray[np.float64]
    energy_true_edges: NDArray[np.float64]
    atmospheric_correction: NDArray[np.float64]
    background_prior_sd: float
    n_time: int

    @property
    def n_band(self) -> int:
        """Measured-energy bands."""
        return int(self.energy_edges.size - 1)

    @property
    def n_true(self) -> int:
        """True-energy bins."""
        return int(self.energy_true_edges.size - 1)

    @property
    def n_segment(self) -> int:
        """Segments (band x time bin)."""
        return int(self.segment_band.size)

    @property
    def n_nonzero(self) -> int:
        """Populated bins."""
        return int(self.counts.size)

    @property
    def n_amplitude(self) -> int:
        """Background amplitudes (band x time block)."""
        return int(self.background_total.size)

    def bin_segment(self) -> NDArray[np.int64]:
        """Segment of each populated bin, 0-based."""
        return np.repeat(np.arange(self.n_segment), np.diff(self.segment_start))

    def source_counts(self, bin_flux: ArrayLike, cross_norm: float = 1.0
                      ) -> NDArray[np.float64]:
        """``g[s]``: expected source counts per segment for true-bin fluxes (ph cm-2 s-1)."""
        flux = np.asarray(bin_flux, dtype=float)
        return cross_norm * self.atmospheric_correction[self.segment_band] * \
            (self.segment_response @ flux)

    def log_likelihood(self, bin_flux: ArrayLike, amplitude: ArrayLike, *,
                       cross_norm: float = 1.0) -> float:
        """Poisson ln L (with ``ln d!``) in numpy, the twin of the Stan program's COSI part."""
        from scipy.special import gammaln

        g = self.source_counts(bin_flux, cross_norm)
        a = np.asarray(amplitude, dtype=float)
        segment = self.bin_segment()
        m = g[segment] * self.sky_pattern + a[self.segment_block[segment] - 1] * self.background
        return float(np.dot(self.counts, np.log(m)) - g @ self.pattern_total
                     - a @ self.background_total - gammaln(self.counts + 1.0).sum())


def prepare_spectral_counts(
    dataset: CosiDataset,
    *,
    exposure: ArrayLike,
    patterns: Callable[[int], tuple[NDArray[np.float64], NDArray[np.float64]]]
    | Sequence[NDArray[np.float64]],
    background_models: Sequence[BackgroundModel],
    energy_true_edges: ArrayLike,
    atmospheric_correction: ArrayLike | None = None,
    background_prior_sd: float = 0.1,
) -> CosiSpectralCounts:
    """Gather the populated bins of a multi-band dataset by segment, with models and totals.

    Parameters
    ----------
    dataset : `CosiDataset`
        Counts over time x (energy band, phi, psi-chi).
    exposure : array_like, shape (n_time, n_band, n_true)
        ``R[t, e, j]``, cm2 s (:meth:`EnergyResponse.exposure`), its measured bands those
        of the dataset.
    patterns : callable or sequence
        Per band e, ``P[t, c]`` of shape (n_time, n_spatial) with rows summing to 1 (or 0):
        a sequence, or a function of e returning ``(pattern, exposed)`` as
        :func:`normalised_patterns` does (so only one band is held in memory at a time).
    background_models : sequence of `BackgroundModel`
        One per band (:func:`band_background_models`).
    energy_true_edges : array_like, shape (n_true + 1,)
        keV.
    atmospheric_correction : array_like, shape (n_band,), optional
        Factors on the source counts per band. Default all 1.
    background_prior_sd : float
        ``A ~ N+(1, sd)``. Default 0.1.

    Raises
    ------
    ValueError
        Shapes that disagree, or populated bins with neither source pattern nor background
        (named).
    """
    if dataset.energy_edges is None:
        raise ValueError("dataset: expected energy bands (energy_edges), found none")
    n_time, n_band = dataset.n_time, dataset.n_energy
    n_spatial = dataset.n_phi * dataset.n_psi_chi
    response = np.asarray(exposure, dtype=np.float64)
    true_edges = np.asarray(energy_true_edges, dtype=np.float64)
    if response.shape != (n_time, n_band, true_edges.size - 1):
        raise ValueError(f"exposure: expected shape ({n_time}, {n_band}, "
                         f"{true_edges.size - 1}) (time, band, true bin), found "
                         f"{response.shape}")
    if len(background_models) != n_band:
        raise ValueError(f"background_models: expected {n_band}, one per band, found "
                         f"{len(background_models)}")
    correction = np.ones(n_band) if atmospheric_correction is None else \
        np.asarray(atmospheric_correction, dtype=np.float64)
    if correction.shape != (n_band,) or np.any(~(correction > 0)):
        raise ValueError(f"atmospheric_correction: expected {n_band} positive factors")
    if not background_prior_sd > 0:
        raise ValueError(f"background_prior_sd: expected a positive number, found "
                         f"{background_prior_sd}")

    counts = dataset.counts
    band = np.asarray(counts.col // n_spatial, dtype=np.int64)
    spatial = np.asarray(counts.col % n_spatial, dtype=np.int64)
    time = np.asarray(counts.row, dtype=np.int64)
    segment = band * n_time + time
    order = np.lexsort((spatial, segment))
    band, spatial, time, segment = band[order], spatial[order], time[order], segment[order]
    values = np.asarray(counts.data, dtype=np.int64)[order]
    n_segment = n_band * n_time
    segment_start = np.searchsorted(segment, np.arange(n_segment + 1)).astype(np.int64)

    sky = np.empty(values.size)
    background = np.empty(values.size)
    pattern_total = np.empty(n_segment)
    segment_block = np.empty(n_segment, dtype=np.int64)
    totals, block_band = [], []
    for e in range(n_band):
        pattern = patterns(e)[0] if callable(patterns) else np.asarray(patterns[e])
        if pattern.shape != (n_time, n_spatial):
            raise ValueError(f"patterns[{e}]: expected shape ({n_time}, {n_spatial}), found "
                             f"{pattern.shape}")
        model = background_models[e]
        if model.response.shape != (n_spatial,) or model.blocks.shape != (n_time,):
            raise ValueError(f"background_models[{e}]: built for another data space")
        lo, hi = segment_start[e * n_time], segment_start[(e + 1) * n_time]
        sky[lo:hi] = pattern[time[lo:hi], spatial[lo:hi]]
        background[lo:hi] = model.expected(time[lo:hi], spatial[lo:hi])
        pattern_total[e * n_time:(e + 1) * n_time] = pattern.sum(axis=1)
        segment_block[e * n_time:(e + 1) * n_time] = len(totals) + model.blocks
        totals.extend(model.block_counts.tolist())
        block_band.extend([e] * model.n_block)
    impossible = np.flatnonzero((sky <= 0) & (background <= 0))
    if impossible.size:
        i = impossible[0]
        raise ValueError(f"counts: {impossible.size} populated bins have neither source "
                         f"pattern nor background, e.g. band {band[i]}, time bin {time[i]}, "
                         f"data-space bin {spatial[i]} with {values[i]} counts")
    segment_band = np.repeat(np.arange(n_band), n_time)
    segment_time = np.tile(np.arange(n_time), n_band)
    result = CosiSpectralCounts(
        counts=values, sky_pattern=sky, background=background, data_bin=spatial,
        segment_start=segment_start, segment_band=segment_band, segment_time=segment_time,
        segment_response=response[segment_time, segment_band, :],
        pattern_total=pattern_total, segment_block=segment_block,
        background_total=np.asarray(totals, dtype=np.float64),
        block_band=np.asarray(block_band, dtype=np.int64),
        energy_edges=np.asarray(dataset.energy_edges, dtype=np.float64),
        energy_true_edges=true_edges, atmospheric_correction=correction,
        background_prior_sd=float(background_prior_sd), n_time=n_time)
    log.info("forward-folding data: %d bands x %d time bins, %d populated bins, %d "
             "background amplitudes", n_band, n_time, result.n_nonzero, result.n_amplitude)
    return result
