
"""Input container of the binned Poisson template fit (docs/equations.md section 1)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import astropy.units as u
import numpy as np
from numpy.typing import ArrayLike, NDArray

from bayesbg.stan.limits import check_stan_int

__all__ = ["BinnedCounts"]

log = logging.getLogger(__name__)

FLUX_UNIT = u.Unit("cm-2 s-1")
"""Unit of the template fluxes F_k (photons cm-2 s-1)."""
RESPONSE_UNIT = u.Unit("cm2 s")
"""Unit of the sky response S: expected counts per unit flux (counts per ph cm-2 s-1)."""


@dataclass(frozen=True)
class BinnedCounts:
    """Counts per data-space bin and the models that predict them.

    The expected counts are (docs/equations.md section 1)

    .. math:: m_i = \\sum_k F_k S_{k i} + A_{b(i)} \\, Bg_i ,

    fitted with ``counts[i] ~ Poisson(m[i])``, priors
    ``F_k ~ N+(flux_prior_mean[k], flux_prior_sd[k])`` and
    ``A_b ~ N+(1, background_prior_sd)``. Bins are flattened (time x Compton data
    space); only populated bins need to be given.

    Parameters
    ----------
    counts : array_like of int, shape (n_bin,)
        Observed counts ``d[i]``: non-negative integers (integer-valued floats accepted).
    sky_response : array_like or `~astropy.units.Quantity`, shape (n_template, n_bin)
        Convolved sky models ``S[k, i]``: expected counts per unit flux, in counts per
        ph cm-2 s-1 (= cm2 s). No template may be all zeros.
    background : array_like, shape (n_bin,)
        Background model ``Bg[i]``: expected counts when the block's amplitude is 1.
    background_blocks : array_like of int, shape (n_bin,)
        Background block ``b(i)`` of each bin, 1-based; blocks ``1 .. n_block`` must all
        hold bins, and each block some background.
    flux_prior_mean, flux_prior_sd : array_like or `~astropy.units.Quantity`, shape (n_template,)
        Prior location ``mu_k`` (>= 0) and scale ``sigma_k`` (> 0) of the fluxes,
        ph cm-2 s-1.
    background_prior_sd : float
        Prior scale ``sigma_A`` of the background amplitudes, dimensionless.
        Default is 0.1 ([COSI-511] 4.2).
    template_names : sequence of str, optional
        Names of the sky templates (coordinates of the ``template`` dimension).
        Default is ``("template_1", ...)``.

    Raises
    ------
    ValueError
        Naming the field, the expectation and what was found, for negative,
        non-integer or non-finite counts, shapes that do not match, an all-zero
        template, a block with no bins or no background, and bins with counts but a
        zero expected rate.

    Notes
    -----
    Stored arrays are read-only numpy copies in the units above; Stan data names:
    ``counts``, ``sky_response``, ``background``, ``block`` (= ``background_blocks``),
    ``flux_prior_mean``, ``flux_prior_sd``, ``background_prior_sd``.
    """

    counts: NDArray[np.int64]  # (n_bin,) observed counts d[i]
    sky_response: NDArray[np.float64]  # (n_template, n_bin) counts per ph cm-2 s-1
    background: NDArray[np.float64]  # (n_bin,) counts for A = 1
    background_blocks: NDArray[np.int64]  # (n_bin,) block of each bin, 1-based
    flux_prior_mean: NDArray[np.float64]  # (n_template,) ph cm-2 s-1
    flux_prior_sd: NDArray[np.float64]  # (n_template,) ph cm-2 s-1
    background_prior_sd: float = 0.1  # dimensionless
    template_names: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        counts = _integers("counts", self.counts, ndim=1, minimum=0)
        check_stan_int("counts", counts)
        n_bin = counts.size
        if n_bin == 0:
            raise ValueError("counts: expected at least one bin, found 0")
        response = _floats("sky_response", self.sky_response, unit=RESPONSE_UNIT, ndim=2)
        if response.shape[1] != n_bin:
            raise ValueError(
                f"sky_response: expected shape (n_template, {n_bin}) to match counts, "
                f"found {response.shape}"
            )
        n_template = response.shape[0]
        if n_template == 0:
            raise ValueError("sky_response: expected at least one template, found 0")
        if np.any(response < 0):
            raise ValueError("sky_response: expected non-negative values, found negatives")
        names = tuple(self.template_names) or tuple(
            f"template_{k + 1}" for k in range(n_template)
        )
        if len(names) != n_template or len(set(names)) != n_template:
            raise ValueError(
                f"template_names: expected {n_template} distinct names, found {names!r}"
            )
        for k in range(n_template):
            if not np.any(response[k] > 0):
                raise ValueError(
                    f"sky_response: template {k + 1} ({names[k]!r}) is all zeros"
                )
        background = _floats("background", self.background, unit=None, ndim=1)
        if background.shape != (n_bin,):
            raise ValueError(
                f"background: expected shape ({n_bin},) to match counts, "
                f"found {background.shape}"
            )
        if np.any(background < 0):
            raise ValueError("background: expected non-negative values, found negatives")
        blocks = _integers("background_blocks", self.background_blocks, ndim=1, minimum=1)
        if blocks.shape != (n_bin,):
            raise ValueError(
                f"background_blocks: expected shape ({n_bin},) to match counts, "
                f"found {blocks.shape}"
            )
        n_block = int(blocks.max())
        bins_per_block = np.bincount(blocks, minlength=n_block + 1)[1:]
        background_per_block = np.bincount(blocks, weights=background, minlength=n_block + 1)[1:]
        for b in range(n_block):
            if bins_per_block[b] == 0:
                raise ValueError(
                    f"background_blocks: block {b + 1} has no bins (blocks must be "
                    f"numbered 1..{n_block} without gaps)"
                )
            if background_per_block[b] <= 0:
                raise ValueError(f"background: block {b + 1} has zero background in all bins")
        rate_possible = (response.sum(axis=0) > 0) | (background > 0)
        impossible = np.flatnonzero((counts > 0) & ~rate_possible)
        if impossible.size:
            raise ValueError(
                f"counts: bin {impossible[0]} has {counts[impossible[0]]} counts but zero "
                "sky response and zero background (expected counts are 0)"
            )
        mean = _floats("flux_prior_mean", self.flux_prior_mean, unit=FLUX_UNIT, ndim=1)
        sd = _floats("flux_prior_sd", self.flux_prior_sd, unit=FLUX_UNIT, ndim=1)
        for name, values in (("flux_prior_mean", mean), ("flux_prior_sd", sd)):
            if values.shape != (n_template,):
                raise ValueError(
                    f"{name}: expected shape ({n_template},), one per template, "
                    f"found {values.shape}"
                )
        if np.any(mean < 0):
            raise ValueError("flux_prior_mean: expected values >= 0, found negatives")
        if np.any(sd <= 0):
            raise ValueError("flux_prior_sd: expected positive values, found values <= 0")
        background_sd = _floats(
            "background_prior_sd", self.background_prior_sd, unit=None, ndim=0
        )
        if background_sd <= 0:
            raise ValueError(
                f"background_prior_sd: expected a positive number, found {float(background_sd)}"
            )
        for name, value in (
            ("counts", counts),
            ("sky_response", response),
            ("background", background),
            ("background_blocks", blocks),
            ("flux_prior_mean", mean),
            ("flux_prior_sd", sd),
        ):
            value.setflags(write=False)
            object.__setattr__(self, name, value)
        object.__setattr__(self, "background_prior_sd", float(background_sd))
        object.__setattr__(self, "template_names", names)

    @property
    def n_bin(self) -> int:
        """Number of bins."""
        return int(self.counts.size)

    @property
    def n_template(self) -> int:
        """Number of sky templates."""
        return int(self.sky_response.shape[0])

    @property
    def n_block(self) -> int:
        """Number of background blocks."""
        return int(self.background_blocks.max())

    def to_stan_data(self, *, use_priors: bool = True) -> dict[str, Any]:
        """Data dictionary for ``stan_models/template_fit.stan``.

        Parameters
        ----------
        use_priors : bool
            Set the program's ``use_priors`` switch; False drops the priors, so that
            `bayesbg.stan.optimize` gives the maximum-likelihood estimate. Default is True.

        Returns
        -------
        data : dict
            ``N, K, B, counts, sky_response, background, block, flux_prior_mean,
            flux_prior_sd, background_prior_sd, use_priors``.
        """
        return {
            "N": self.n_bin,
            "K": self.n_template,
            "B": self.n_block,
            "counts": self.counts,
            "sky_response": self.sky_response,
            "background": self.background,
            "block": self.background_blocks,
            "flux_prior_mean": self.flux_prior_mean,
            "flux_prior_sd": self.flux_prior_sd,
            "background_prior_sd": self.background_prior_sd,
            "use_priors": int(bool(use_priors)),
        }


def _floats(name: str, value: Any, *, unit: u.UnitBase | None, ndim: int) -> NDArray[np.float64]:
    if isinstance(value, u.Quantity):
        if unit is None:
            value = value.to_value(u.dimensionless_unscaled)
        else:
            try:
                value = value.to_value(unit)
            except u.UnitConversionError as err:
                raise ValueError(f"{name}: expected a quantity in {unit}, found {value.unit}") \
                    from err
    try:
        array = np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name}: expected numbers, found {type(value).__name__}") from err
    if array.ndim != ndim:
        raise ValueError(f"{name}: expected {ndim} dimension(s), found shape {array.shape}")
    if not np.all(np.isfinite(array)):
        bad = "NaN" if np.any(np.isnan(array)) else "inf"
        raise ValueError(f"{name}: expected finite values, found {bad}")
    return array


def _integers(name: str, value: ArrayLike, *, ndim: int, minimum: int) -> NDArray[np.int64]:
    raw = np.asarray(value)
    if raw.dtype == bool:
        raise ValueError(f"{name}: expected integers, found booleans")
    if raw.dtype.kind in "iu":
        if raw.ndim != ndim:
            raise ValueError(f"{name}: expected {ndim} dimension(s), found shape {raw.shape}")
        array = raw
    else:
        array = _floats(name, raw, unit=None, ndim=ndim)
    if np.any(array < minimum):
        what = "non-negative integers" if minimum == 0 else f"integers >= {minimum}"
        found = array[array < minimum][0]
        raise ValueError(f"{name}: expected {what}, found {found}")
    if raw.dtype.kind not in "iu":
        fractional = array[array != np.round(array)]
        if fractional.size:
            raise ValueError(f"{name}: expected integers, found non-integer {fractional[0]}")
    return np.array(array, dtype=np.int64)
