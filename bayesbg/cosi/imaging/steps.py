"""Maximum likelihood along a Richardson-Lucy step, jointly with the background amplitudes.

With the sky part of the expected counts fixed up to a step ``lambda`` along a direction,

.. math:: m_i(\\lambda, A) = s_i + \\lambda \\delta_i + A_{b(i)} g_i ,

the Poisson log-likelihood ``sum_i d_i log m_i - sum_i m_i`` is concave in
``theta = (lambda, A_1 .. A_B)`` (``m`` is linear in it). :func:`maximize_step` maximises it
inside box bounds (``0 <= lambda <= lambda_max``, ``A_b >= 0``) by projected Newton
iterations with an Armijo backtracking line search started at the given point, so the
result is never worse than the start. Only populated bins enter the ``d log m`` sum;
``sum_i m_i`` over all bins is ``S0 + lambda S1 + sum_b A_b N_b``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["StepProblem", "maximize_step"]


@dataclass(frozen=True, eq=False)
class StepProblem:
    """Data of a step fit, at the populated bins ``i`` (all arrays of shape (n_selected,)).

    Attributes
    ----------
    counts : `numpy.ndarray`
        ``d_i``.
    sky : `numpy.ndarray`
        ``s_i``, expected sky counts at ``lambda = 0``.
    direction : `numpy.ndarray` or None
        ``delta_i``, sky counts per unit ``lambda``; None for a background-only fit.
    background : `numpy.ndarray`
        ``g_i``, background counts for an amplitude of 1.
    block : `numpy.ndarray` of int
        0-based background block of each bin.
    block_total : `numpy.ndarray`, shape (n_block,)
        ``N_b``: background counts over all bins of block ``b`` for an amplitude of 1.
    sky_total, direction_total : float
        ``S0`` and ``S1``: expected sky counts over all bins at ``lambda = 0`` and per unit
        ``lambda``.
    """

    counts: NDArray[np.float64]
    sky: NDArray[np.float64]
    direction: NDArray[np.float64] | None
    background: NDArray[np.float64]
    block: NDArray[np.int64]
    block_total: NDArray[np.float64]
    sky_total: float
    direction_total: float = 0.0

    @property
    def n_block(self) -> int:
        return int(self.block_total.size)

    def expected(self, step: float, amplitude: NDArray[np.float64]) -> NDArray[np.float64]:
        """``m_i`` at ``(lambda, A)``."""
        value = self.sky + amplitude[self.block] * self.background
        if self.direction is not None and step != 0.0:
            value = value + step * self.direction
        return value

    def total(self, step: float, amplitude: NDArray[np.float64]) -> float:
        """``sum_i m_i`` over all bins, populated or not."""
        return float(self.sky_total + step * self.direction_total
                     + amplitude @ self.block_total)

    def log_likelihood(self, step: float, amplitude: NDArray[np.float64]) -> float:
        """``sum_i d_i log m_i - sum_i m_i`` (without ``-log d_i!``)."""
        m = self.expected(step, amplitude)
        with np.errstate(divide="ignore"):
            return float(self.counts @ np.log(m)) - self.total(step, amplitude)


def maximize_step(
    problem: StepProblem,
    *,
    step: float,
    amplitude: NDArray[np.float64],
    max_step: float = np.inf,
    fit_step: bool = True,
    fit_amplitude: bool = True,
    max_iter: int = 50,
    tolerance: float = 1e-8,
) -> tuple[float, NDArray[np.float64], float]:
    """Maximise the log-likelihood over ``lambda`` and/or ``A`` from a feasible start.

    Parameters
    ----------
    problem : `StepProblem`
    step : float
        Start value of ``lambda`` (inside ``[0, max_step]``).
    amplitude : `numpy.ndarray`, shape (n_block,)
        Start values of ``A`` (non-negative).
    max_step : float
        Upper bound of ``lambda``. Default: none.
    fit_step, fit_amplitude : bool
        Which parameters to fit; the others stay at their start values.
    max_iter : int
        Newton iterations. Default is 50.
    tolerance : float
        Stop when a Newton step is expected to gain, or gains, less than this in
        log-likelihood. Default is 1e-8.

    Returns
    -------
    step : float
    amplitude : `numpy.ndarray`
    gain : float
        Log-likelihood gained over the start (>= 0).
    """
    if problem.direction is None:
        fit_step = False
    theta = np.concatenate([[float(step)], np.asarray(amplitude, dtype=np.float64)])
    lower = np.zeros_like(theta)
    upper = np.concatenate([[max_step], np.full(problem.n_block, np.inf)])
    free = np.concatenate([[fit_step], np.full(problem.n_block, fit_amplitude)])
    if not free.any():
        return float(step), theta[1:].copy(), 0.0
    d = problem.counts
    m = problem.expected(theta[0], theta[1:])
    gained = 0.0
    for _ in range(max_iter):
        ratio = d / m
        weight = ratio / m
        gradient = np.zeros_like(theta)
        hessian = np.zeros((theta.size, theta.size))
        block_g = np.bincount(problem.block, weights=ratio * problem.background,
                              minlength=problem.n_block)
        gradient[1:] = block_g - problem.block_total
        hessian[1:, 1:] = np.diag(np.bincount(
            problem.block, weights=weight * problem.background**2, minlength=problem.n_block))
        if problem.direction is not None:
            gradient[0] = ratio @ problem.direction - problem.direction_total
            hessian[0, 0] = weight @ problem.direction**2
            cross = np.bincount(problem.block, weights=weight * problem.direction
                                * problem.background, minlength=problem.n_block)
            hessian[0, 1:] = cross
            hessian[1:, 0] = cross
        # hessian holds minus the second derivatives (positive semi-definite)
        at_lower = (theta <= lower) & (gradient <= 0)
        at_upper = (theta >= upper) & (gradient >= 0)
        moving = free & ~at_lower & ~at_upper
        if not moving.any():
            break
        sub = hessian[np.ix_(moving, moving)]
        diagonal = np.diag(sub).copy()
        diagonal[diagonal <= 0] = 1.0
        scale = 1.0 / np.sqrt(diagonal)
        scaled = sub * scale[:, None] * scale[None, :] + 1e-12 * np.eye(moving.sum())
        try:
            direction = scale * np.linalg.solve(scaled, scale * gradient[moving])
        except np.linalg.LinAlgError:
            direction = gradient[moving] / diagonal
        if gradient[moving] @ direction < 2.0 * tolerance:  # Newton decrement: converged
            break
        proposal = np.zeros_like(theta)
        proposal[moving] = direction
        t = 1.0
        accepted = False
        current_total = problem.total(theta[0], theta[1:])
        for _ in range(40):
            candidate = np.clip(theta + t * proposal, lower, upper)
            m_new = problem.expected(candidate[0], candidate[1:])
            if np.all(m_new[d > 0] > 0):
                with np.errstate(divide="ignore", invalid="ignore"):
                    change = float(d @ np.log1p((m_new - m) / m)) - (
                        problem.total(candidate[0], candidate[1:]) - current_total)
                if np.isfinite(change) and change >= 1e-4 * (gradient @ (candidate - theta)):
                    accepted = True
                    break
            t *= 0.5
        if not accepted or change < 0:
            break
        theta, m = candidate, m_new
        gained += change
        if change < tolerance:
            break
    return float(theta[0]), theta[1:].copy(), gained
