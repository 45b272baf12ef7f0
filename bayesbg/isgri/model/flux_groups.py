"""Residual fluxes of groups of pointings (region x band) and their bins: the data of
the ISGRI flux mixture ([ISGRI] Appendix A, docs/equations.md section 3; model in
`bayesbg.isgri.model.mixture_likelihood`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["MIN_GROUP_SIZE", "FluxGroups", "robust_scale"]

MIN_GROUP_SIZE = 5
"""Fewest pointings in a group."""


def robust_scale(values: ArrayLike) -> float:
    """``1.4826 * median(|x - median(x)|)``, the Gaussian-equivalent scale.

    Parameters
    ----------
    values : array_like

    Returns
    -------
    scale : float
    """
    x = np.asarray(values, dtype=float)
    return float(1.4826 * np.median(np.abs(x - np.median(x))))


@dataclass(frozen=True)
class FluxGroups:
    """Residual fluxes of several groups (e.g. region x band), the mixture's Stan data.

    Parameters
    ----------
    names : tuple of str
        Group labels, e.g. ``"GB 25-60"``.
    flux : array_like, shape (N,)
        Residual fluxes of all groups concatenated in the order of ``names``, mCrab.
    group_size : array_like of int, shape (G,)
        Pointings per group (>= 5).
    weight_prior : tuple of float
        Dirichlet concentration of (core, low wing, high wing). Default is (5, 1, 1).
    bin_width : float
        Width of the core bins in robust scales ``s``. Default is 0.2.
    core_half_range : float
        The core bins span ``median +- core_half_range * s``. Default is 6.
    wing_bins : int
        Equal bins over each wing beyond the core bins. Default is 20.

    Raises
    ------
    ValueError
        Naming the field: non-finite fluxes, sizes not summing to ``N``, a group with
        fewer than 5 pointings or with all values equal, duplicate names.
    """

    names: tuple[str, ...]
    flux: NDArray[np.float64]  # (N,) mCrab
    group_size: NDArray[np.int64]  # (G,)
    weight_prior: tuple[float, float, float] = (5.0, 1.0, 1.0)
    bin_width: float = 0.2
    core_half_range: float = 6.0
    wing_bins: int = 20

    def __post_init__(self) -> None:
        names = tuple(str(x) for x in self.names)
        flux = np.array(self.flux, dtype=float)
        size = np.array(self.group_size, dtype=np.int64)
        if len(set(names)) != len(names):
            raise ValueError("names: group names must be unique")
        if flux.ndim != 1 or not np.all(np.isfinite(flux)):
            raise ValueError("flux: expected a one-dimensional array of finite mCrab")
        if size.shape != (len(names),):
            raise ValueError(f"group_size: expected {len(names)} sizes, found {size.shape}")
        if int(size.sum()) != flux.size:
            raise ValueError(f"group_size: sizes sum to {int(size.sum())}, expected "
                             f"{flux.size} (len(flux))")
        small = np.flatnonzero(size < MIN_GROUP_SIZE)
        if small.size:
            raise ValueError(f"group_size: group {names[small[0]]!r} has {size[small[0]]} "
                             f"pointings, expected >= {MIN_GROUP_SIZE}")
        weight_prior = tuple(float(x) for x in self.weight_prior)
        if len(weight_prior) != 3 or min(weight_prior) <= 0:
            raise ValueError(f"weight_prior: expected 3 positive numbers, found {weight_prior}")
        if not (self.bin_width > 0 and self.core_half_range > 0):
            raise ValueError(f"bin_width, core_half_range: expected > 0, found "
                             f"{self.bin_width}, {self.core_half_range}")
        if not isinstance(self.wing_bins, int) or self.wing_bins < 1:
            raise ValueError(f"wing_bins: expected an integer >= 1, found {self.wing_bins!r}")
        for array in (flux, size):
            array.setflags(write=False)
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "flux", flux)
        object.__setattr__(self, "group_size", size)
        object.__setattr__(self, "weight_prior", weight_prior)
        for name in names:
            if np.ptp(self.group(name)) <= 0:
                raise ValueError(f"flux: all values of group {name!r} are equal")

    @classmethod
    def from_mapping(cls, groups: Mapping[str, ArrayLike], **kwargs: Any) -> FluxGroups:
        """Build from ``{name: residual fluxes (mCrab)}``.

        Parameters
        ----------
        groups : mapping of str to array_like
        **kwargs
            Other fields (``weight_prior``).

        Returns
        -------
        groups : `FluxGroups`
        """
        arrays = [np.asarray(v, dtype=float).ravel() for v in groups.values()]
        return cls(names=tuple(groups), flux=np.concatenate(arrays) if arrays else np.zeros(0),
                   group_size=np.array([a.size for a in arrays], dtype=np.int64), **kwargs)

    @property
    def n_group(self) -> int:
        """Number of groups ``G``."""
        return len(self.names)

    @property
    def group_start(self) -> NDArray[np.int64]:
        """0-based start of each group in ``flux``."""
        return np.concatenate([[0], np.cumsum(self.group_size)[:-1]]).astype(np.int64)

    def group(self, name: str) -> NDArray[np.float64]:
        """The residual fluxes of one group, mCrab.

        Parameters
        ----------
        name : str

        Returns
        -------
        flux : `numpy.ndarray`
        """
        index = self.names.index(name)
        start = int(self.group_start[index])
        return self.flux[start:start + int(self.group_size[index])]

    def bins(self, name: str) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
        """Bin edges and counts of one group (class docstring).

        Parameters
        ----------
        name : str

        Returns
        -------
        edges : `numpy.ndarray`, shape (n_bin + 1,)
            mCrab; the first and last are ``r_min`` and ``r_max``.
        counts : `numpy.ndarray` of int, shape (n_bin,)
        """
        index = self.names.index(name)
        centre, scale, low, high = (x[index] for x in self._robust())
        core_low = max(centre - self.core_half_range * scale, low)
        core_high = min(centre + self.core_half_range * scale, high)
        n_core = max(int(np.ceil((core_high - core_low) / (self.bin_width * scale))), 1)
        parts = [np.linspace(core_low, core_high, n_core + 1)]
        if low < core_low:
            parts.insert(0, np.linspace(low, core_low, self.wing_bins + 1)[:-1])
        if high > core_high:
            parts.append(np.linspace(core_high, high, self.wing_bins + 1)[1:])
        edges = np.concatenate(parts)
        counts, _ = np.histogram(self.group(name), bins=edges)
        return edges, counts.astype(np.int64)

    def to_stan_data(self, *, use_priors: bool = True, save_log_lik: bool = False
                     ) -> dict[str, Any]:
        """Data of ``isgri_flux_mixture.stan`` (binned; priors from robust statistics).

        Parameters
        ----------
        use_priors : bool
            Priors on (posterior) or off (likelihood only). Default is True.
        save_log_lik : bool
            Write ``log_lik``, the binned log density at each of the N pointings.
            Default is False.

        Returns
        -------
        data : dict
        """
        centre, scale, low, high = self._robust()
        lower, upper, count, start, size, pointing_bin = [], [], [], [], [], []
        offset = 0
        for name in self.names:
            edges, counts = self.bins(name)
            start.append(offset + 1)
            size.append(counts.size)
            lower.append(edges[:-1])
            upper.append(edges[1:])
            count.append(counts)
            if save_log_lik:
                inside = np.searchsorted(edges, self.group(name), side="right") - 1
                pointing_bin.append(offset + 1 + np.clip(inside, 0, counts.size - 1))
            offset += counts.size
        return {
            "G": self.n_group, "K": offset, "bin_start": np.array(start),
            "bin_size": np.array(size), "bin_lower": np.concatenate(lower),
            "bin_upper": np.concatenate(upper), "bin_count": np.concatenate(count),
            "flux_min": low, "flux_max": high, "mu_prior_mean": centre,
            "mu_prior_sd": 10 * scale, "sigma_prior_sd": 5 * scale,
            "weight_prior": np.array(self.weight_prior), "use_priors": int(use_priors),
            "N_log_lik": int(self.flux.size) if save_log_lik else 0,
            "pointing_bin": (np.concatenate(pointing_bin) if save_log_lik
                             else np.zeros(0, dtype=np.int64)),
        }

    def _robust(self) -> tuple[NDArray[np.float64], ...]:
        centre, scale, low, high = (np.zeros(self.n_group) for _ in range(4))
        for g, name in enumerate(self.names):
            values = self.group(name)
            centre[g] = np.median(values)
            spread = np.ptp(values)
            scale[g] = max(robust_scale(values), 1e-3 * spread)
            low[g] = values.min() - 1e-3 * spread
            high[g] = values.max() + 1e-3 * spread
        return centre, scale, low, high
