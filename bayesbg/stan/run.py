"""Run a compiled Stan model: NUTS sampling, optimisation, generated quantities.

Thin wrappers over :class:`cmdstanpy.CmdStanModel` methods that require an explicit
seed, take cmdstanpy's keyword names (so ``**SamplerConfig().to_kwargs()`` applies), and
turn cmdstanpy failures into :class:`~bayesbg.stan.StanRunError` with the command and the
console tail.

Maximum likelihood versus MAP
-----------------------------
bayesbg programs carry a data switch ``int<lower=0, upper=1> use_priors`` (see
``stan_models/template_fit.stan``): with ``use_priors = 0`` the ``model`` block adds no
prior terms. :func:`optimize` then returns

- the **maximum-likelihood** estimate when ``use_priors = 0`` and ``jacobian=False``
  (CmdStan optimises the log density on the constrained scale without the Jacobian of
  the constraining transforms, so a flat prior leaves the likelihood alone);
- the **MAP** (posterior mode) otherwise: ``use_priors = 1`` (or no switch in the data)
  with ``jacobian=False`` gives the mode of the posterior density of the constrained
  parameters; ``jacobian=True`` gives the mode on the unconstrained scale (the point a
  Laplace approximation is centred on).
"""

from __future__ import annotations

import logging
import math
import secrets
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cmdstanpy
import numpy as np
from numpy.typing import NDArray

from bayesbg.config import check_seed
from bayesbg.logs import library_chatter_to_log
from bayesbg.stan.errors import StanRunError
from bayesbg.stan.workspace import new_workspace

__all__ = [
    "PRIOR_SWITCH",
    "OptimizeResult",
    "StanData",
    "generate_quantities",
    "laplace",
    "mle_estimates",
    "optimize",
    "sample",
]

log = logging.getLogger(__name__)

PRIOR_SWITCH = "use_priors"
"""Name of the data variable that turns a program's priors on (1) or off (0)."""


class StanData(Mapping[str, Any]):
    """Stan data written once as JSON, for several CmdStan runs on the same data.

    The functions of this module write their ``data`` as JSON into the run's directory and
    remove the file when CmdStan has read it. At full scale the data of a COSI spectral
    fit are ~130 MB of JSON (~10 s to write): a problem that is optimised from two starts,
    or approximated and then sampled, passes one `StanData` to every run instead. The
    file lives in a directory of its own (`bayesbg.stan.workspace`), removed by
    :meth:`close` (or the end of a ``with`` block; at exit, or by the next run after a
    kill, otherwise).

    Parameters
    ----------
    data : mapping
        Stan data, ``{name: value}``.

    Attributes
    ----------
    path : `~pathlib.Path`
        The JSON file.

    Examples
    --------
    >>> with StanData(problem.to_stan_data()) as data:  # doctest: +SKIP
    ...     mode = optimize(model, data, seed=1)
    ...     fit = sample(model, data, seed=1)
    """

    def __init__(self, data: Mapping[str, Any]) -> None:
        self._values = dict(data)
        self._directory = new_workspace()
        self.path = self._directory / "data.json"
        cmdstanpy.write_stan_json(str(self.path), self._values)

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def close(self) -> None:
        """Remove the file (the values stay readable)."""
        shutil.rmtree(self._directory, ignore_errors=True)

    def __enter__(self) -> StanData:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def sample(
    model: cmdstanpy.CmdStanModel,
    data: Mapping[str, Any],
    *,
    seed: int,
    chains: int = 4,
    parallel_chains: int | None = None,
    threads_per_chain: int = 1,
    iter_warmup: int = 1000,
    iter_sampling: int = 1000,
    **kwargs: Any,
) -> cmdstanpy.CmdStanMCMC:
    """Draw from the posterior with NUTS (CmdStan ``sample``).

    Parameters
    ----------
    model : `cmdstanpy.CmdStanModel`
        Compiled model, e.g. from `bayesbg.stan.compile_model`.
    data : mapping
        Stan data, ``{name: value}`` matching the program's ``data`` block.
    seed : int
        Random seed in [0, 2**32 - 1]; required, so every run is reproducible.
    chains : int
        Number of chains. Default is 4.
    parallel_chains : int, optional
        Chains run at once; default ``min(chains, cpu_count)``.
    threads_per_chain : int
        Threads per chain (``reduce_sum``; the model must be compiled with threads).
        Default is 1.
    iter_warmup, iter_sampling : int
        Warm-up and kept iterations per chain. Default is 1000 each.
    **kwargs
        Any other keyword of :meth:`cmdstanpy.CmdStanModel.sample` (``inits``,
        ``adapt_delta``, ``max_treedepth``, ``output_dir``, ...). ``show_progress``
        defaults to False.

    Returns
    -------
    fit : `cmdstanpy.CmdStanMCMC`

    Raises
    ------
    ValueError
        If ``seed`` is missing or out of range.
    StanRunError
        If CmdStan fails (the message holds the command and the console tail).
    """
    check_seed(seed)
    kwargs.setdefault("show_progress", False)
    log.info("sampling %s: %d chains, %d + %d iterations, seed %d", model.name, chains,
             iter_warmup, iter_sampling, seed)
    workspace = _workspace(kwargs)
    try:
        with _data_path(data, workspace) as path, library_chatter_to_log():
            return model.sample(data=path, seed=int(seed),
                                chains=chains, parallel_chains=parallel_chains,
                                threads_per_chain=threads_per_chain, iter_warmup=iter_warmup,
                                iter_sampling=iter_sampling, **kwargs)
    except RuntimeError as err:
        raise StanRunError.from_cmdstanpy(f"sampling {model.name}", err) from err


@dataclass(frozen=True, eq=False)
class OptimizeResult:
    """A point estimate from :func:`optimize` and the log-likelihood at it.

    Attributes
    ----------
    kind : str
        ``"maximum likelihood"`` or ``"MAP"`` (see the module docstring).
    estimate : dict of str to `numpy.ndarray`
        Every Stan variable (parameters, transformed parameters, generated quantities)
        at the optimum, in the program's units.
    log_likelihood : float
        ``sum(log_lik)`` at the optimum: the full log-likelihood ``ln L`` (natural log)
        when ``log_lik`` holds complete pointwise log-probabilities.
    n_parameters : int
        Number of scalar parameters (the ``parameters`` block), ``k`` in AIC/BIC.
    n_observations : int
        Number of pointwise ``log_lik`` terms, ``n`` in BIC.
    fit : `cmdstanpy.CmdStanMLE`
        The cmdstanpy result.
    """

    kind: str
    estimate: dict[str, NDArray[np.float64]]
    log_likelihood: float
    n_parameters: int
    n_observations: int
    fit: cmdstanpy.CmdStanMLE = field(repr=False)

    @property
    def aic(self) -> float:
        """Akaike information criterion, ``2 k - 2 ln L``."""
        return 2.0 * self.n_parameters - 2.0 * self.log_likelihood

    @property
    def bic(self) -> float:
        """Bayesian information criterion, ``k ln n - 2 ln L``."""
        return self.n_parameters * math.log(self.n_observations) - 2.0 * self.log_likelihood


def optimize(
    model: cmdstanpy.CmdStanModel,
    data: Mapping[str, Any],
    *,
    seed: int,
    jacobian: bool = False,
    log_likelihood: str = "log_lik",
    **kwargs: Any,
) -> OptimizeResult:
    """Find the maximum-likelihood or MAP estimate (CmdStan ``optimize``, L-BFGS).

    Which one is returned depends on the data switch ``use_priors`` and on ``jacobian``;
    see the module docstring. For maximum likelihood pass data with ``use_priors = 0``,
    e.g. ``BinnedCounts.to_stan_data(use_priors=False)``.

    Parameters
    ----------
    model : `cmdstanpy.CmdStanModel`
        Compiled model.
    data : mapping
        Stan data.
    seed : int
        Random seed (used for initial values and generated-quantity draws).
    jacobian : bool
        Include the Jacobian of the constraining transforms. Default is False.
    log_likelihood : str
        Name of the pointwise log-likelihood variable. Default is ``"log_lik"``.
    **kwargs
        Other keywords of :meth:`cmdstanpy.CmdStanModel.optimize` (``inits``,
        ``algorithm``, ``iter``, ...).

    Returns
    -------
    result : `OptimizeResult`
        Estimate, ``log_likelihood`` = sum of ``log_lik`` at the optimum, ``aic``, ``bic``.

    Raises
    ------
    ValueError
        If ``seed`` is missing or the program has no ``log_likelihood`` variable.
    StanRunError
        If CmdStan fails.
    """
    check_seed(seed)
    switch = data.get(PRIOR_SWITCH)
    kind = "maximum likelihood" if (switch == 0 and not jacobian) else "MAP"
    log.info("optimising %s (%s), seed %d", model.name, kind, seed)
    try:
        workspace = _workspace(kwargs)
        with _data_path(data, workspace) as path, library_chatter_to_log():
            mle = model.optimize(data=path, seed=int(seed),
                                 jacobian=jacobian, **kwargs)
    except RuntimeError as err:
        raise StanRunError.from_cmdstanpy(f"optimising {model.name}", err) from err
    estimate = mle_estimates(mle)
    if log_likelihood not in estimate:
        raise ValueError(
            f"log_likelihood: variable {log_likelihood!r} not in the output of {model.name}; "
            f"found {sorted(estimate)}"
        )
    pointwise = estimate[log_likelihood]
    parameters = model.src_info().get("parameters", {})
    # cmdstanpy leaves zero-size variables out of its output: they count as 0.
    n_parameters = int(sum(np.size(estimate[name]) for name in parameters if name in estimate))
    return OptimizeResult(
        kind=kind,
        estimate=estimate,
        log_likelihood=float(np.sum(pointwise)),
        n_parameters=n_parameters,
        n_observations=int(np.size(pointwise)),
        fit=mle,
    )


def laplace(
    model: cmdstanpy.CmdStanModel,
    data: Mapping[str, Any],
    mode: OptimizeResult,
    *,
    seed: int,
    draws: int = 1000,
    jacobian: bool = False,
    **kwargs: Any,
) -> cmdstanpy.CmdStanLaplace:
    """Draw from the normal approximation at a mode (CmdStan ``laplace``).

    CmdStan computes the Hessian of the log density on the unconstrained scale at
    ``mode`` by finite differences of gradients (two gradients per parameter) and draws
    from the normal distribution with the inverse Hessian as covariance; the draws are
    returned on the constrained scale.

    Parameters
    ----------
    model : `cmdstanpy.CmdStanModel`
        Compiled model.
    data : mapping
        Stan data (those of the optimisation that found ``mode``).
    mode : `OptimizeResult`
        The mode, from :func:`optimize`.
    seed : int
        Random seed of the draws.
    draws : int
        Number of draws. Default is 1000.
    jacobian : bool
        Whether the Jacobian of the constraining transforms is in the density; must be
        the ``jacobian`` the mode was found with (:func:`optimize`'s default is False).
    **kwargs
        Other keywords of :meth:`cmdstanpy.CmdStanModel.laplace_sample`.

    Returns
    -------
    laplace : `cmdstanpy.CmdStanLaplace`

    Raises
    ------
    ValueError
        If ``seed`` or ``draws`` is invalid or ``jacobian`` differs from the mode's.
    StanRunError
        If CmdStan fails (e.g. the Hessian is not negative definite).
    """
    check_seed(seed)
    if not (isinstance(draws, int) and draws >= 2):
        raise ValueError(f"draws: expected an integer >= 2, found {draws!r}")
    log.info("Laplace approximation of %s at the %s, %d draws, seed %d", model.name,
             mode.kind, draws, seed)
    action = f"Laplace approximation of {model.name}"
    try:
        workspace = _workspace(kwargs)
        with _data_path(data, workspace) as path, library_chatter_to_log():
            result = model.laplace_sample(data=path, mode=mode.fit,
                                          draws=draws, jacobian=jacobian, seed=int(seed),
                                          **kwargs)
    except ValueError as err:
        if "jacobian" in str(err).lower():
            raise ValueError(f"jacobian: expected the mode's setting ({err})") from err
        raise
    except RuntimeError as err:
        raise StanRunError.from_cmdstanpy(action, err) from err
    # cmdstanpy 1.2.5 logs a failed laplace run (e.g. a Hessian that is not negative
    # definite) and returns an empty result instead of raising
    try:
        found = int(np.asarray(result.draws()).shape[0])
    except (RuntimeError, ValueError, IndexError, OSError):
        found = 0
    if found != draws:
        console = ""
        for name in sorted(workspace.glob(f"{model.name}*-stdout.txt")):
            try:
                console += name.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
        raise StanRunError(action, command=f"{model.exe_file} ... method=laplace",
                           console_tail="\n".join(console.splitlines()[-10:])
                           or f"{found} of {draws} draws written")
    return result


def generate_quantities(
    model: cmdstanpy.CmdStanModel,
    data: Mapping[str, Any],
    previous_fit: cmdstanpy.CmdStanMCMC,
    *,
    seed: int,
    **kwargs: Any,
) -> cmdstanpy.CmdStanGQ:
    """Re-run ``generated quantities`` over the draws of a previous fit.

    Use it for posterior predictive draws on new data (e.g. another binning) without
    resampling.

    Parameters
    ----------
    model : `cmdstanpy.CmdStanModel`
        Compiled model with the same ``parameters`` block as ``previous_fit``.
    data : mapping
        Stan data for the new quantities.
    previous_fit : `cmdstanpy.CmdStanMCMC`
        Draws to evaluate the quantities at.
    seed : int
        Random seed for the ``_rng`` calls.
    **kwargs
        Other keywords of :meth:`cmdstanpy.CmdStanModel.generate_quantities`.

    Returns
    -------
    gq : `cmdstanpy.CmdStanGQ`

    Raises
    ------
    StanRunError
        If CmdStan fails.
    """
    check_seed(seed)
    try:
        workspace = _workspace(kwargs, key="gq_output_dir")
        with _data_path(data, workspace) as path, library_chatter_to_log():
            return model.generate_quantities(data=path,
                                             previous_fit=previous_fit, seed=int(seed),
                                             **kwargs)
    except RuntimeError as err:
        raise StanRunError.from_cmdstanpy(f"generating quantities of {model.name}", err) from err


def mle_estimates(mle: cmdstanpy.CmdStanMLE) -> dict[str, NDArray[np.float64]]:
    """Every variable of an optimisation's output as an array (scalars 0-d), by name.

    Same values as ``mle.stan_variables()``, without cmdstanpy 1.3's warning about the
    future return type of scalar variables.

    Parameters
    ----------
    mle : `cmdstanpy.CmdStanMLE`

    Returns
    -------
    estimate : dict of str to `numpy.ndarray`
    """
    if not mle.converged:
        log.warning("optimisation did not converge (CmdStan's return code); the estimate "
                    "may be off")
    values = mle.optimized_params_np
    return {name: np.asarray(variable.extract_reshape(values))
            for name, variable in mle.metadata.stan_vars.items()}


def _workspace(kwargs: dict[str, Any], *, key: str = "output_dir") -> Path:
    """This run's directory (`bayesbg.stan.workspace`), set as ``key`` unless given."""
    if kwargs.get(key) is None:
        kwargs[key] = str(new_workspace())
    return Path(kwargs[key])


@contextmanager
def _data_path(data: Mapping[str, Any], workspace: Path) -> Iterator[str]:
    """The data's JSON file for one run: a `StanData`'s own file, or the data written
    into the run's directory (not cmdstanpy's) and removed when the run is over."""
    if isinstance(data, StanData):
        if not data.path.is_file():
            raise ValueError(f"data: StanData file {data.path} was removed (closed before "
                             "this run)")
        yield str(data.path)
        return
    path = workspace / f"data-{secrets.token_hex(4)}.json"
    cmdstanpy.write_stan_json(str(path), dict(data))
    try:
        yield str(path)
    finally:
        path.unlink(missing_ok=True)
