"""The other instruments of a bright-source joint fit, fitted alone: pulls of the maximum
likelihood against the Laplace sd, and the joint check of the study's tables, to calibrate
that part of the joint fit over realizations (docs/cosi_spectral.md, "Tests against known
truth"; ``analyses/cosi_bright_sources/reference_pulls.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import cmdstanpy
import numpy as np

from bayesbg.cosi.spectral.fit import maximum_likelihood_forward_folded
from bayesbg.cosi.spectral.program import ForwardFoldProblem
from bayesbg.cosi.spectral.study import reference_spectra
from bayesbg.cosi.spectral.tables import PAPER, PHOTON_INDICES, truth_tail_probability
from bayesbg.stan import laplace

__all__ = ["ReferenceFit", "fit_reference_spectra"]


@dataclass(frozen=True)
class ReferenceFit:
    """One realization of a source's other instruments, fitted alone.

    Attributes
    ----------
    names : tuple of str
        Free shapes (their names), constants (data groups after the reference), ``norm``.
    estimate, truth, sd : ndarray, shape (n,)
        Maximum likelihood, injected value, sd of the Laplace approximation (shapes in
        their units, keV for energies; ``norm`` at 1 keV, ph cm-2 s-1 keV-1).
    joint_tail : float
        `truth_tail_probability` of the Laplace draws (indices as they are, the rest as
        logarithms): > 0.0455 for the truth inside the joint 2-sigma region.
    """

    names: tuple[str, ...]
    estimate: np.ndarray
    truth: np.ndarray
    sd: np.ndarray
    joint_tail: float

    @property
    def pulls(self) -> np.ndarray:
        """``(estimate - truth) / sd``."""
        return (self.estimate - self.truth) / self.sd


def fit_reference_spectra(name: str, rng: np.random.Generator, *, seed: int,
                          model: cmdstanpy.CmdStanModel, draws: int = 300) -> ReferenceFit:
    """Simulate a source's other instruments (`reference_spectra`) and fit them alone by
    maximum likelihood, with the Laplace approximation at the maximum.

    Parameters
    ----------
    name : str
        ``"crab"``, ``"cygx1"`` or ``"cena"``.
    rng : `numpy.random.Generator`
        Draws the spectra (the study's: `SourceSimulation.rng` after the COSI counts).
    seed : int
        Seed of the optimiser and of the Laplace draws.
    model : `cmdstanpy.CmdStanModel`
        The forward-folding program (`forward_fold_model`).
    draws : int
        Laplace draws. Default 300.

    Returns
    -------
    `ReferenceFit`
    """
    source = PAPER[name]
    spectrum, _, instruments = reference_spectra(name, rng)
    problem = ForwardFoldProblem(spectrum, instruments=instruments)
    mode = maximum_likelihood_forward_folded(problem, seed=seed, model=model)
    approximation = laplace(model, problem.to_stan_data(use_priors=False), mode, seed=seed,
                            draws=draws)
    constants = list(problem.dataset_names[1:])
    names = (*spectrum.free_parameters, *constants, "norm")
    truth = np.array([*(source.shape()[k] for k in spectrum.free_parameters),
                      *(source.cross_norm[k][0] for k in constants),
                      source.parameters["norm"][0]])
    estimate = np.array([*np.atleast_1d(mode.estimate["shape_free"]),
                         *np.atleast_1d(mode.estimate["cross_norm_free"]),
                         float(mode.estimate["norm"])])
    columns = np.column_stack([
        np.asarray(approximation.stan_variable("shape_free")).reshape(draws, -1),
        np.asarray(approximation.stan_variable("cross_norm_free")).reshape(draws, -1),
        np.asarray(approximation.stan_variable("norm")).reshape(draws, 1)])
    linear = np.array([n in PHOTON_INDICES for n in names])
    tail = truth_tail_probability(np.where(linear, columns, np.log(columns)),
                                  np.where(linear, truth, np.log(truth)))
    return ReferenceFit(names=names, estimate=estimate, truth=truth,
                        sd=columns.std(axis=0), joint_tail=tail)
