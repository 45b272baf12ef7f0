"""Modified Richardson-Lucy deconvolution of binned COSI data (docs/equations.md section 2).

With the image ``M_j`` (ph cm-2 s-1 per HEALPix pixel), the response ``R_ij`` (cm2 s) and
the background ``b_i = A_b(i) Bg_i``:

.. math::
    m_i = \\sum_j R_{ij} M_j + b_i ,\\qquad
    \\delta M_j = \\frac{M_j}{\\sum_i R_{ij}} \\sum_i \\Big(\\frac{d_i}{m_i} - 1\\Big) R_{ij}
    \\quad ([COSI-PS]\\ eq.\\ 5),\\qquad
    M_j \\leftarrow M_j + \\lambda_k \\, (K \\delta M)_j .

Classic Richardson-Lucy is ``lambda = 1``, no smoothing (``K = 1``) and fixed background
amplitudes. The modifications of [COSI-511] 4.1.1, each switchable:

1. acceleration: ``lambda_k`` maximises the likelihood along the step, bounded by
   ``min over (K dM)_j < 0 of -M_j / (K dM)_j`` so that no pixel goes negative;
2. noise damping: ``K`` a Gaussian kernel on the sphere (:func:`gaussian_kernel`);
3. the background amplitudes ``A_b`` re-fitted by maximum likelihood jointly with
   ``lambda`` every iteration (:func:`maximize_step`).

The start is a flat low-flux map on the pixels whose sensitivity ``sum_i R_ij`` is at
least ``exposure_threshold`` times the largest (the others stay 0), with the background
amplitudes of the background-only fit, optionally lowered by 1-10 %. Every iteration
records ``ln L``, ``TS = 2 (ln L - ln L_background-only)``, the total flux, ``lambda`` and
``A``; the log-likelihood never decreases (the step fit starts from ``lambda = 0`` and
the previous ``A``).
"""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy import sparse, special

from bayesbg.cosi.data import CosiDataset
from bayesbg.cosi.imaging.projection import MatrixFreeResponse, MatrixResponse
from bayesbg.cosi.imaging.smoothing import gaussian_kernel
from bayesbg.cosi.imaging.steps import StepProblem, maximize_step
from bayesbg.cosi.model.background import BackgroundModel

__all__ = ["DeconvolutionResult", "DeconvolutionSettings", "richardson_lucy"]

log = logging.getLogger(__name__)

Response = MatrixFreeResponse | MatrixResponse


@dataclass(frozen=True)
class DeconvolutionSettings:
    """Settings of :func:`richardson_lucy`.

    Parameters
    ----------
    iterations : int
        Richardson-Lucy iterations. Default is 50.
    acceleration : bool
        Choose ``lambda`` by maximum likelihood along the step (else ``lambda = 1``, or the
        positivity bound if that is smaller). Default is True.
    max_acceleration : float
        Upper limit of ``lambda``. Default is 100.
    smoothing_fwhm : float
        FWHM of the Gaussian smoothing of the update, deg; 0 switches it off. Default 0.
    smoothing_target : {"ratio", "update"}
        Smooth the relative update ``dM_j / M_j`` (default; then ``M + dM >= 0`` for
        every ``lambda <= 1``, so the positivity bound never stalls the iteration) or the
        update ``dM`` itself (literally [COSI-511]; pixels near 0 next to negative updates
        can force ``lambda`` to 0).
    refit_background : bool
        Re-fit the background amplitudes every iteration. Default is True.
    exposure_threshold : float
        Pixels with sensitivity below this fraction of the largest are masked (kept at
        0). Default is 0.01.
    background_perturbation : float
        Lower the initial background amplitudes (of the background-only fit) by this
        fraction, 0 to 0.1 ([COSI-PS]: 1-10 %). Default is 0.
    initial_flux : float
        Total flux of the flat start map, ph cm-2 s-1. Default is 1e-4.
    show_progress : bool or None
        tqdm bar over iterations; None: only when standard error is a terminal.
    """

    iterations: int = 50
    acceleration: bool = True
    max_acceleration: float = 100.0
    smoothing_fwhm: float = 0.0
    smoothing_target: str = "ratio"
    refit_background: bool = True
    exposure_threshold: float = 0.01
    background_perturbation: float = 0.0
    initial_flux: float = 1e-4
    show_progress: bool | None = None

    def __post_init__(self) -> None:
        if isinstance(self.iterations, bool) or not isinstance(self.iterations, int) or \
                self.iterations < 1:
            raise ValueError(f"iterations: expected a positive integer, found "
                             f"{self.iterations!r}")
        if self.smoothing_target not in ("ratio", "update"):
            raise ValueError(f"smoothing_target: expected 'ratio' or 'update', found "
                             f"{self.smoothing_target!r}")
        for name in ("acceleration", "refit_background"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name}: expected true or false, found "
                                 f"{getattr(self, name)!r}")
        checks = {
            "max_acceleration": lambda v: v >= 1,
            "smoothing_fwhm": lambda v: 0 <= v < 180,
            "exposure_threshold": lambda v: 0 <= v < 1,
            "background_perturbation": lambda v: 0 <= v <= 0.1,
            "initial_flux": lambda v: v > 0,
        }
        expected = {"max_acceleration": ">= 1", "smoothing_fwhm": "in [0, 180) deg",
                    "exposure_threshold": "in [0, 1)", "background_perturbation":
                    "in [0, 0.1]", "initial_flux": "> 0 ph cm-2 s-1"}
        for name, check in checks.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or \
                    not np.isfinite(value) or not check(value):
                raise ValueError(f"{name}: expected a number {expected[name]}, found {value!r}")


@dataclass(frozen=True, eq=False)
class DeconvolutionResult:
    """Images and per-iteration records of a deconvolution (index 0: the start).

    Attributes
    ----------
    images : `numpy.ndarray`, shape (n_iter + 1, n_pixel)
        ``M_j`` per iteration, ph cm-2 s-1 per pixel (HEALPix ring order, Galactic).
    log_likelihood : `numpy.ndarray`, shape (n_iter + 1,)
        Poisson ``ln L`` including ``-log d!``.
    ts : `numpy.ndarray`, shape (n_iter + 1,)
        ``2 (ln L - ln L_bg)`` against the background-only maximum likelihood.
    flux : `numpy.ndarray`, shape (n_iter + 1,)
        Total flux of the image, ph cm-2 s-1.
    acceleration : `numpy.ndarray`, shape (n_iter + 1,)
        ``lambda`` (NaN at 0).
    background_amplitude : `numpy.ndarray`, shape (n_iter + 1, n_block)
    seconds : `numpy.ndarray`, shape (n_iter + 1,)
        Wall time since the start of the iterations (0 at 0), s.
    log_likelihood_background : float
        Background-only maximum ``ln L``.
    background_only_amplitude : `numpy.ndarray`, shape (n_block,)
    sensitivity : `numpy.ndarray`, shape (n_pixel,)
        ``sum_i R_ij``, cm2 s.
    mask : `numpy.ndarray` of bool, shape (n_pixel,)
        Pixels that were deconvolved (exposure above the threshold).
    nside : int
    settings : `DeconvolutionSettings`
    """

    images: NDArray[np.float64]
    log_likelihood: NDArray[np.float64]
    ts: NDArray[np.float64]
    flux: NDArray[np.float64]
    acceleration: NDArray[np.float64]
    background_amplitude: NDArray[np.float64]
    seconds: NDArray[np.float64]
    log_likelihood_background: float
    background_only_amplitude: NDArray[np.float64]
    sensitivity: NDArray[np.float64]
    mask: NDArray[np.bool_]
    nside: int
    settings: DeconvolutionSettings = field(default_factory=DeconvolutionSettings)

    @property
    def n_iter(self) -> int:
        """Number of iterations done."""
        return int(self.images.shape[0] - 1)

    def iterations_to_reach(self, ts: float) -> int | None:
        """First iteration whose TS is at least ``ts`` (None if never)."""
        hit = np.flatnonzero(self.ts >= ts)
        return int(hit[0]) if hit.size else None


def richardson_lucy(
    dataset: CosiDataset,
    response: Response,
    background: BackgroundModel,
    *,
    settings: DeconvolutionSettings | None = None,
    nside: int | None = None,
) -> DeconvolutionResult:
    """Deconvolve a dataset into a HEALPix sky image (see the module docstring).

    Parameters
    ----------
    dataset : `CosiDataset`
        Counts; the response must be built for its populated bins (same order).
    response : `MatrixFreeResponse` or `MatrixResponse`
        From :func:`build_imaging_response` (``.to_matrix()`` for the matrix forms).
    background : `BackgroundModel`
        Background model ``Bg[t, c]`` and blocks, as for template fits.
    settings : `DeconvolutionSettings`, optional
    nside : int, optional
        HEALPix resolution of the image; inferred from the number of pixels by default.

    Returns
    -------
    result : `DeconvolutionResult`
    """
    settings = settings or DeconvolutionSettings()
    counts = dataset.counts
    d = counts.data.astype(np.float64)
    time_index, data_index = counts.row, counts.col
    if background.tracer.size != dataset.n_time or background.response.size != \
            dataset.n_data_bin:
        raise ValueError("background: expected a model built for this dataset's "
                         f"{dataset.n_time} time bins and {dataset.n_data_bin} data bins")
    n_pixel = response.n_pixel
    nside = nside or int(round(np.sqrt(n_pixel / 12)))
    if 12 * nside**2 != n_pixel:
        raise ValueError(f"response: {n_pixel} pixels is not a HEALPix grid")
    probe = response.forward(np.zeros(n_pixel))
    if probe.shape != d.shape:
        raise ValueError(f"response: built for {probe.size} populated bins, the dataset has "
                         f"{d.size}")
    sensitivity = np.asarray(response.sensitivity, dtype=np.float64)
    mask = sensitivity >= settings.exposure_threshold * sensitivity.max()
    mask &= sensitivity > 0
    kernel = gaussian_kernel(nside, settings.smoothing_fwhm) \
        if settings.smoothing_fwhm > 0 else None
    if kernel is not None:
        kernel = sparse.csr_array(kernel[mask][:, mask])

    bg = background.time_profile()[time_index] * background.response[data_index]
    block = (background.blocks[time_index] - 1).astype(np.int64)
    block_total = background.block_counts.astype(np.float64)
    log_factorial = float(special.gammaln(d + 1.0).sum())

    # background-only maximum likelihood
    empty = StepProblem(counts=d, sky=np.zeros_like(d), direction=None, background=bg,
                        block=block, block_total=block_total, sky_total=0.0)
    _, bg_amplitude, _ = maximize_step(empty, step=0.0, amplitude=np.ones(background.n_block),
                                       fit_step=False, max_iter=100)
    ln_l_bg = empty.log_likelihood(0.0, bg_amplitude) - log_factorial

    image = np.zeros(n_pixel)
    image[mask] = settings.initial_flux / mask.sum()
    amplitude = bg_amplitude * (1.0 - settings.background_perturbation)
    sky = response.forward(image)

    def ln_l(sky_counts: NDArray[np.float64], sky_total: float,
             amp: NDArray[np.float64]) -> float:
        problem = StepProblem(counts=d, sky=sky_counts, direction=None, background=bg,
                              block=block, block_total=block_total, sky_total=sky_total)
        return problem.log_likelihood(0.0, amp) - log_factorial

    records: dict[str, list] = {"images": [image.copy()], "ln_l": [], "lam": [np.nan],
                                "amp": [amplitude.copy()], "seconds": [0.0]}
    records["ln_l"].append(ln_l(sky, float(sensitivity @ image), amplitude))
    start = time.perf_counter()
    show = sys.stderr.isatty() if settings.show_progress is None else settings.show_progress
    iterations = range(1, settings.iterations + 1)
    if show:
        from tqdm.auto import tqdm

        iterations = tqdm(iterations, desc="Richardson-Lucy", unit="it")
    for _ in iterations:
        expected = sky + amplitude[block] * bg
        ratio = np.zeros(n_pixel)
        ratio[mask] = response.back(d / expected)[mask] / sensitivity[mask] - 1.0
        if kernel is not None and settings.smoothing_target == "ratio":
            ratio[mask] = kernel @ ratio[mask]
        update = image * ratio
        if kernel is not None and settings.smoothing_target == "update":
            update[mask] = kernel @ update[mask]
        shrinking = update < 0
        bound = float(np.min(-image[shrinking] / update[shrinking])) if shrinking.any() \
            else np.inf
        max_step = min(bound, settings.max_acceleration)
        if settings.acceleration or settings.refit_background or max_step < 1.0:
            direction = response.forward(update)
            problem = StepProblem(counts=d, sky=sky, direction=direction, background=bg,
                                  block=block, block_total=block_total,
                                  sky_total=float(sensitivity @ image),
                                  direction_total=float(sensitivity @ update))
            if settings.acceleration:
                lam, amplitude, _ = maximize_step(
                    problem, step=0.0, amplitude=amplitude, max_step=max_step,
                    fit_amplitude=settings.refit_background)
            else:
                lam = min(1.0, max_step)
                if settings.refit_background:
                    _, amplitude, _ = maximize_step(problem, step=lam, amplitude=amplitude,
                                                    fit_step=False)
            sky = sky + lam * direction
        else:
            lam = 1.0
            sky = None
        image = np.maximum(image + lam * update, 0.0)
        if sky is None:
            sky = response.forward(image)
        records["images"].append(image.copy())
        records["lam"].append(lam)
        records["amp"].append(amplitude.copy())
        records["ln_l"].append(ln_l(sky, float(sensitivity @ image), amplitude))
        records["seconds"].append(time.perf_counter() - start)

    ln_l_values = np.array(records["ln_l"])
    images = np.array(records["images"])
    log.info("Richardson-Lucy: %d iterations in %.1f s, TS %.1f, flux %.3g ph cm-2 s-1",
             settings.iterations, records["seconds"][-1], 2 * (ln_l_values[-1] - ln_l_bg),
             images[-1].sum())
    return DeconvolutionResult(
        images=images,
        log_likelihood=ln_l_values,
        ts=2.0 * (ln_l_values - ln_l_bg),
        flux=images.sum(axis=1),
        acceleration=np.array(records["lam"], dtype=np.float64),
        background_amplitude=np.array(records["amp"]),
        seconds=np.array(records["seconds"]),
        log_likelihood_background=ln_l_bg,
        background_only_amplitude=bg_amplitude,
        sensitivity=sensitivity,
        mask=mask,
        nside=nside,
        settings=settings,
    )
