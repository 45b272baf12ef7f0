"""Sampler diagnostics as a structured, printable result.

Checks and default thresholds (`Thresholds`), following Vehtari et al. (2021) and the
warnings CmdStan's ``diagnose`` prints:

===============  ===========================================  ================
check            value                                        passes when
===============  ===========================================  ================
``r_hat``        largest rank-normalised split R-hat          <= 1.01
``ess_bulk``     smallest bulk effective sample size          >= 100 per chain
``ess_tail``     smallest tail effective sample size          >= 100 per chain
``divergences``  post-warm-up divergent transitions           == 0
``treedepth``    transitions that hit ``max_treedepth``       == 0
``ebfmi``        smallest per-chain energy Bayesian fraction  >= 0.3
                 of missing information (E-BFMI)
===============  ===========================================  ================

R-hat and ESS are computed over the ``posterior`` group (parameters and generated
quantities other than the log-likelihood and predictive draws), skipping scalar entries
that never change (constants have no R-hat). E-BFMI is
``sum(diff(E)**2) / sum((E - mean(E))**2)`` per chain, E the Hamiltonian energy
(Betancourt 2016). Any failed check raises a `SamplerWarning`.

References
----------
Vehtari, Gelman, Simpson, Carpenter, Bürkner (2021), "Rank-normalization, folding, and
localization: an improved R-hat", Bayesian Analysis 16, 667.
Betancourt (2016), "Diagnosing suboptimal cotangent disintegrations in Hamiltonian Monte
Carlo", arXiv:1604.00695.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass

import arviz as az
import numpy as np
import xarray as xr

from bayesbg.stan.errors import SamplerWarning

__all__ = ["ADVICE", "Check", "Diagnostics", "Thresholds", "diagnose"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Thresholds:
    """Pass/fail limits of the sampler checks (see the module docstring).

    Parameters
    ----------
    r_hat_max : float
        Largest acceptable R-hat. Default is 1.01.
    ess_bulk_per_chain_min, ess_tail_per_chain_min : float
        Smallest acceptable bulk / tail ESS divided by the number of chains.
        Default is 100 each (400 for 4 chains).
    divergences_max : int
        Largest acceptable number of divergent transitions. Default is 0.
    treedepth_hits_max : int
        Largest acceptable number of transitions at the maximum tree depth. Default is 0.
    ebfmi_min : float
        Smallest acceptable per-chain E-BFMI. Default is 0.3.
    """

    r_hat_max: float = 1.01
    ess_bulk_per_chain_min: float = 100.0
    ess_tail_per_chain_min: float = 100.0
    divergences_max: int = 0
    treedepth_hits_max: int = 0
    ebfmi_min: float = 0.3


@dataclass(frozen=True)
class Check:
    """One diagnostic: its value, threshold and verdict.

    Attributes
    ----------
    name : str
        Identifier, e.g. ``"r_hat"``.
    label : str
        Human-readable description.
    value : float
        Measured value (worst case over parameters or chains).
    threshold : float
        The limit the value is compared with.
    comparison : str
        ``"<="`` or ``">="``: the check passes when ``value <comparison> threshold``.
    passed : bool
        Verdict.
    where : str
        The parameter or chain that gave the worst value, or ``""``.
    note : str
        Why a check could not be made (then ``passed`` is True and the value NaN), e.g.
        R-hat of a single chain.
    """

    name: str
    label: str
    value: float
    threshold: float
    comparison: str
    passed: bool
    where: str = ""
    note: str = ""

    @property
    def advice(self) -> str:
        """What to do when this check fails (empty when it passed)."""
        return "" if self.passed else ADVICE.get(self.name, "")


@dataclass(frozen=True)
class Diagnostics:
    """Result of :func:`diagnose`: all checks and the run's size.

    Attributes
    ----------
    checks : tuple of `Check`
    n_chains, n_draws : int
        Chains and post-warm-up draws per chain.
    """

    checks: tuple[Check, ...]
    n_chains: int
    n_draws: int

    @property
    def passed(self) -> bool:
        """True when every check passed."""
        return all(check.passed for check in self.checks)

    @property
    def failed(self) -> tuple[Check, ...]:
        """The checks that failed."""
        return tuple(check for check in self.checks if not check.passed)

    def __getitem__(self, name: str) -> Check:
        for check in self.checks:
            if check.name == name:
                return check
        raise KeyError(f"no check named {name!r}; have {[c.name for c in self.checks]}")

    def __iter__(self) -> Iterator[Check]:
        return iter(self.checks)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form: ``passed``, sizes and one entry per check.

        Returns
        -------
        result : dict
        """
        return {
            "passed": self.passed,
            "n_chains": self.n_chains,
            "n_draws": self.n_draws,
            "checks": {c.name: {k: _json_float(v) for k, v in asdict(c).items() if k != "name"}
                       for c in self.checks},
        }

    def render(self) -> str:
        """Plain-text table of the checks with the overall verdict.

        Returns
        -------
        text : str
        """
        verdict = "all checks passed" if self.passed else (
            f"{len(self.failed)} check(s) FAILED: " + ", ".join(c.name for c in self.failed)
        )
        chains = "1 chain" if self.n_chains == 1 else f"{self.n_chains} chains"
        lines = [
            f"Sampler diagnostics ({chains} x {self.n_draws} draws): {verdict}",
            f"  {'check':<34} {'value':>10}  {'threshold':>10}  {'status':<6} worst",
        ]
        for c in self.checks:
            if c.note:
                lines.append(f"  {c.label:<34} {'-':>10}  {'':>10}  {'n/a':<6} {c.note}")
                continue
            status = "ok" if c.passed else "FAIL"
            lines.append(
                f"  {c.label:<34} {_format(c.value):>10}  {c.comparison} {_format(c.threshold):>7}"
                f"  {status:<6} {c.where}".rstrip()
            )
        lines += [f"  what to do ({c.name}): {c.advice}" for c in self.failed if c.advice]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render()


def diagnose(
    idata: az.InferenceData,
    *,
    max_treedepth: int = 10,
    var_names: Sequence[str] | None = None,
    thresholds: Thresholds | None = None,
    warn: bool = True,
) -> Diagnostics:
    """Check a NUTS run for convergence and sampler trouble.

    Parameters
    ----------
    idata : `arviz.InferenceData`
        With ``posterior`` and ``sample_stats`` (``diverging``, ``tree_depth``,
        ``energy``), e.g. from `bayesbg.stan.to_inference_data`.
    max_treedepth : int
        The ``max_treedepth`` the run used. Default is 10 (CmdStan's default).
    var_names : sequence of str, optional
        Posterior variables for R-hat and ESS; default all in ``posterior``.
    thresholds : `Thresholds`, optional
        Limits; default ``Thresholds()``.
    warn : bool
        Emit a `SamplerWarning` listing the failed checks. Default is True.

    Returns
    -------
    diagnostics : `Diagnostics`
    """
    limits = thresholds or Thresholds()
    posterior = idata.posterior
    stats = idata.sample_stats
    n_chains = int(posterior.sizes["chain"])
    n_draws = int(posterior.sizes["draw"])
    names = list(var_names) if var_names is not None else list(posterior.data_vars)
    varying = _varying(posterior, names)

    checks: list[Check] = []
    with np.errstate(divide="ignore", invalid="ignore"):  # constants: NaN, skipped below
        rhat = az.rhat(idata, var_names=names) if names else None
        ess = {
            method: az.ess(idata, var_names=names, method=method) if names else None
            for method in ("bulk", "tail")
        }
    if n_chains < 2:
        checks.append(Check("r_hat", "R-hat (max, rank-normalised)", math.nan,
                            limits.r_hat_max, "<=", True,
                            note="not computed: R-hat needs 2 or more chains"))
    else:
        rhat_value, rhat_where = _extreme(rhat, varying, worst="max")
        check = _check("r_hat", "R-hat (max, rank-normalised)", rhat_value, limits.r_hat_max,
                       "<=")
        checks.append(_with_where(check, rhat_where))
    for method, minimum in (("bulk", limits.ess_bulk_per_chain_min),
                            ("tail", limits.ess_tail_per_chain_min)):
        value, where = _extreme(ess[method], varying, worst="min")
        check = _check(f"ess_{method}", f"ESS {method} (min)", value,
                       minimum * n_chains, ">=")
        checks.append(_with_where(check, where))

    divergent = stats["diverging"].values.astype(bool)
    checks.append(_check("divergences", "divergent transitions",
                         float(divergent.sum()), float(limits.divergences_max), "<="))
    depth = stats["tree_depth"].values
    hits = float((depth >= max_treedepth).sum())
    checks.append(_check("treedepth", f"transitions at max treedepth {max_treedepth}", hits,
                         float(limits.treedepth_hits_max), "<="))
    ebfmi = _ebfmi(stats["energy"].values)
    worst_chain = int(np.nanargmin(ebfmi)) if np.any(np.isfinite(ebfmi)) else 0
    ebfmi_value = float(np.nanmin(ebfmi)) if np.any(np.isfinite(ebfmi)) else math.nan
    check = _check("ebfmi", "E-BFMI (min over chains)", ebfmi_value, limits.ebfmi_min, ">=")
    checks.append(_with_where(check, f"chain {worst_chain + 1}"))

    result = Diagnostics(checks=tuple(checks), n_chains=n_chains, n_draws=n_draws)
    if result.passed:
        log.info("sampler diagnostics: all checks passed")
    elif warn:
        failed = "; ".join(
            f"{c.name} = {_format(c.value)}{f' at {c.where}' if c.where else ''} (needs "
            f"{c.comparison} {_format(c.threshold)}): {c.advice}"
            for c in result.failed
        )
        warnings.warn(f"sampler diagnostics failed: {failed}", SamplerWarning, stacklevel=2)
    return result


ADVICE = {
    "r_hat": "Chains disagree. Run longer (e.g. double iter_warmup and iter_sampling), check "
    "for multimodality or a poorly identified parameter, and reparameterise if needed.",
    "ess_bulk": "Too few effective draws for the posterior centre. Draw more iterations or "
    "reparameterise strongly correlated parameters (a dense_e metric can help).",
    "ess_tail": "Too few effective draws in the tails: the 5 % / 95 % quantiles are not "
    "reliable. Draw more iterations.",
    "divergences": "Divergent transitions bias the posterior. Raise adapt_delta (e.g. 0.95 "
    "or 0.99) and, if they remain, reparameterise (e.g. non-centred).",
    "treedepth": "Trajectories hit the maximum tree depth: sampling is inefficient. Raise "
    "max_treedepth or rescale / reparameterise the parameters.",
    "ebfmi": "Low E-BFMI: the momentum resampling explores the energy poorly, often from "
    "heavy tails or a funnel. Reparameterise.",
}
"""What to do when a sampler check fails, by check name (terminal, warning and report)."""


def _check(name: str, label: str, value: float, threshold: float, comparison: str) -> Check:
    if math.isnan(value):
        passed = False
    elif comparison == "<=":
        passed = value <= threshold
    else:
        passed = value >= threshold
    return Check(name=name, label=label, value=float(value), threshold=float(threshold),
                 comparison=comparison, passed=bool(passed))


def _with_where(check: Check, where: str) -> Check:
    return Check(**{**asdict(check), "where": where})


def _varying(posterior: xr.Dataset, names: Sequence[str]) -> dict[str, np.ndarray]:
    """Per variable, a boolean mask (over its non-sample dims) of entries that vary."""
    mask = {}
    for name in names:
        values = posterior[name].values
        flat = values.reshape(values.shape[0] * values.shape[1], -1)
        mask[name] = (np.nanmax(flat, axis=0) > np.nanmin(flat, axis=0)).reshape(
            values.shape[2:]
        )
    return mask


def _extreme(
    dataset: xr.Dataset | None, varying: dict[str, np.ndarray], *, worst: str
) -> tuple[float, str]:
    """Worst value over all varying entries and its label; NaN or inf counts as worst."""
    best_value, best_label = math.nan, ""
    if dataset is None:
        return best_value, best_label
    for name in dataset.data_vars:
        array = dataset[name]
        values = np.asarray(array.values, dtype=float)
        mask = np.broadcast_to(varying.get(name, np.True_), values.shape)
        for index in np.ndindex(values.shape):
            if not mask[index]:
                continue
            value = float(values[index])
            label = _label(array, index)
            if not math.isfinite(value):
                return (math.inf if worst == "max" else 0.0), label
            if (
                math.isnan(best_value)
                or (worst == "max" and value > best_value)
                or (worst == "min" and value < best_value)
            ):
                best_value, best_label = value, label
    return best_value, best_label


def _label(array: xr.DataArray, index: tuple[int, ...]) -> str:
    if not index:
        return str(array.name)
    parts = []
    for dim, i in zip(array.dims, index, strict=True):
        parts.append(str(array[dim].values[i]) if dim in array.coords else str(i))
    return f"{array.name}[{', '.join(parts)}]"


def _ebfmi(energy: np.ndarray) -> np.ndarray:
    """E-BFMI per chain from energies of shape (chain, draw)."""
    energy = np.asarray(energy, dtype=float)
    numerator = np.sum(np.diff(energy, axis=1) ** 2, axis=1)
    denominator = np.sum((energy - energy.mean(axis=1, keepdims=True)) ** 2, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return numerator / denominator


def _format(value: float) -> str:
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf"
    if float(value).is_integer() and abs(value) < 1e9:
        return f"{int(value)}"
    if abs(value) >= 100:
        return f"{value:.0f}"
    return f"{value:.4g}"


def _json_float(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value
