"""The photon spectrum of a forward-folded fit: its type, parameters, priors, and a numpy
twin of ``stan_models/functions/forward_fold.stanfunctions``.

A :class:`PhotonSpectrum` is a shape (``powerlaw``, ``cutoffpl``, ``bknpower``, ``band``;
the conventions of ``docs/spectra.md`` and, for Band, of astromodels/cosipy), an
amplitude sampled as the unabsorbed photon flux in a band (``flux_band``, ph cm-2 s-1:
what the data constrain, instead of a normalisation at 1 keV that is far outside COSI's
range), and a fixed photoelectric absorption column ``nh`` (Morrison & McCammon 1983,
:mod:`bayesbg.spectra.absorption`). Spectra are integrated over true-energy bins by
Simpson's rule in ln E with steps of at most ``max_step`` in ln E (2 %), the same nodes in
Python and Stan (:func:`quadrature_nodes`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import logsumexp

from bayesbg.cosi.pointsource.spectrum import simpson_log_nodes
from bayesbg.spectra.absorption import mm83_cross_section

__all__ = [
    "SPECTRUM_TYPES",
    "PhotonSpectrum",
    "ShapePrior",
    "log_photon_shape",
    "quadrature_nodes",
]


@dataclass(frozen=True)
class ShapePrior:
    """Bounds and prior of a shape parameter.

    Parameters
    ----------
    lower, upper : float
        Bounds (unit of the parameter).
    prior : {"normal", "lognormal"}
        ``normal(location, scale)`` of the value or of its logarithm.
    location, scale : float
    unit : str
    """

    lower: float
    upper: float
    prior: str
    location: float
    scale: float
    unit: str = ""

    def __post_init__(self) -> None:
        if not self.lower < self.upper:
            raise ValueError(f"bounds: expected lower < upper, found ({self.lower}, "
                             f"{self.upper})")
        if self.prior not in ("normal", "lognormal"):
            raise ValueError(f"prior: expected 'normal' or 'lognormal', found {self.prior!r}")
        if not self.scale > 0:
            raise ValueError(f"scale: expected a positive prior scale, found {self.scale}")


SPECTRUM_TYPES: dict[str, tuple[int, dict[str, ShapePrior]]] = {
    "powerlaw": (1, {"index": ShapePrior(-1.0, 5.0, "normal", 2.0, 1.0)}),
    "cutoffpl": (2, {"index": ShapePrior(-2.0, 4.0, "normal", 1.5, 1.0),
                     "ecut": ShapePrior(5.0, 5000.0, "lognormal", math.log(200.0), 1.5,
                                        "keV")}),
    "bknpower": (3, {"index1": ShapePrior(-1.0, 5.0, "normal", 2.0, 1.0),
                     "break_energy": ShapePrior(10.0, 1000.0, "lognormal", math.log(50.0),
                                                1.0, "keV"),
                     "index2": ShapePrior(-1.0, 5.0, "normal", 2.0, 1.0)}),
    "band": (4, {"alpha": ShapePrior(-1.95, 3.0, "normal", -1.0, 1.0),
                 "beta": ShapePrior(-5.0, -2.0, "normal", -2.3, 0.5),
                 "xp": ShapePrior(10.0, 1e4, "lognormal", math.log(300.0), 1.5, "keV")}),
}
"""Shape types: Stan code and, per parameter in order, the default bounds and prior."""


def log_photon_shape(kind: str, energy: ArrayLike, shape: ArrayLike,
                     pivot: float = 100.0) -> NDArray[np.float64]:
    """ln S(E) of a shape, the twin of the Stan function of the same name.

    Parameters
    ----------
    kind : str
        A key of `SPECTRUM_TYPES`.
    energy : array_like
        keV.
    shape : array_like
        The type's parameters in order (index; index, ecut; index1, break_energy,
        index2; alpha, beta, xp).
    pivot : float
        keV, pivot of the Band function (unused otherwise).

    Returns
    -------
    log_shape : `numpy.ndarray`
        ln(ph cm-2 s-1 keV-1) per unit normalisation (at 1 keV, or the pivot for Band).
    """
    e = np.asarray(energy, dtype=float)
    log_e = np.log(e)
    p = [float(v) for v in np.asarray(shape, dtype=float)]
    if kind == "powerlaw":
        return -p[0] * log_e
    if kind == "cutoffpl":
        return -p[0] * log_e - e / p[1]
    if kind == "bknpower":
        log_break = math.log(p[1])
        return np.where(log_e <= log_break, -p[0] * log_e,
                        (p[2] - p[0]) * log_break - p[2] * log_e)
    if kind == "band":
        alpha, beta, xp = p
        e0 = xp / (2.0 + alpha)
        e_break = (alpha - beta) * e0
        log_pivot = math.log(pivot)
        high = (alpha - beta) * (math.log(e_break) - log_pivot) + beta - alpha
        return np.where(e < e_break, alpha * (log_e - log_pivot) - e / e0,
                        high + beta * (log_e - log_pivot))
    raise ValueError(f"kind: expected one of {sorted(SPECTRUM_TYPES)}, found {kind!r}")


@dataclass(frozen=True)
class Nodes:
    """Quadrature nodes of several bins: ``log_energy``, ``log_weight`` (ln keV, the
    weight including the factor E), ``start`` (0-based) and ``count`` per bin."""

    log_energy: NDArray[np.float64]
    log_weight: NDArray[np.float64]
    start: NDArray[np.int64]
    count: NDArray[np.int64]


def quadrature_nodes(energy_min: ArrayLike, energy_max: ArrayLike, *,
                     max_step: float = 0.02) -> Nodes:
    """Simpson nodes in ln E for bins ``[energy_min, energy_max]`` (keV), each with an even
    number of steps of at most ``max_step`` in ln E (at least 2).

    The relative error of a power law's bin integral is below 1e-9 at the default step;
    across the kink of a broken power law it is about ``max_step^2 |index2 - index1| / 12``
    of the bin (tests).
    """
    lo = np.atleast_1d(np.asarray(energy_min, dtype=float))
    hi = np.atleast_1d(np.asarray(energy_max, dtype=float))
    if lo.shape != hi.shape or np.any(lo <= 0) or np.any(hi <= lo):
        raise ValueError("energy_min, energy_max: expected bins with 0 < min < max keV")
    log_e, log_w, counts = [], [], []
    for a, b in zip(lo, hi, strict=True):
        n_sub = max(2, 2 * math.ceil(math.log(b / a) / max_step / 2))
        energy, weight = simpson_log_nodes([a, b], n_sub)
        log_e.append(np.log(energy[0]))
        log_w.append(np.log(weight[0]))
        counts.append(n_sub + 1)
    count = np.asarray(counts, dtype=np.int64)
    start = np.concatenate([[0], np.cumsum(count)[:-1]]).astype(np.int64)
    return Nodes(np.concatenate(log_e), np.concatenate(log_w), start, count)


@dataclass(frozen=True)
class PhotonSpectrum:
    """A photon spectrum to fold through instrument responses.

    Parameters
    ----------
    kind : str
        ``"powerlaw"``, ``"cutoffpl"``, ``"bknpower"`` or ``"band"`` (`SPECTRUM_TYPES`).
    fixed : mapping of str to float, optional
        Shape parameters held fixed, by name.
    priors : mapping of str to `ShapePrior`, optional
        Bounds and priors replacing the defaults of `SPECTRUM_TYPES`.
    flux_band : tuple of float
        keV, the band of the sampled amplitude (unabsorbed photon flux). Default
        (150, 5000), COSI's range.
    log_flux_prior : tuple of float
        Mean and sd of ln photon_flux (ph cm-2 s-1). Default (ln 1e-2, 3): 5e-5 to 4 ph
        cm-2 s-1 within 2 sd.
    nh : float
        Absorption column, 1e22 cm-2, fixed. Default 0.
    pivot : float
        keV, pivot of the Band function. Default 100.
    """

    kind: str
    fixed: Mapping[str, float] = field(default_factory=dict)
    priors: Mapping[str, ShapePrior] = field(default_factory=dict)
    flux_band: tuple[float, float] = (150.0, 5000.0)
    log_flux_prior: tuple[float, float] = (math.log(1e-2), 3.0)
    nh: float = 0.0
    pivot: float = 100.0

    def __post_init__(self) -> None:
        if self.kind not in SPECTRUM_TYPES:
            raise ValueError(f"kind: expected one of {sorted(SPECTRUM_TYPES)}, found "
                             f"{self.kind!r}")
        names = self.parameter_names
        for key in (*self.fixed, *self.priors):
            if key not in names:
                raise ValueError(f"{key}: not a parameter of {self.kind} (its parameters: "
                                 f"{', '.join(names)})")
        lo, hi = self.flux_band
        if not 0 < lo < hi:
            raise ValueError(f"flux_band: expected 0 < min < max keV, found {self.flux_band}")
        if not (np.isfinite(self.nh) and self.nh >= 0):
            raise ValueError(f"nh: expected a column >= 0 (1e22 cm-2), found {self.nh}")
        if not self.log_flux_prior[1] > 0 or not self.pivot > 0:
            raise ValueError("log_flux_prior sd and pivot: expected positive values")
        object.__setattr__(self, "fixed", {k: float(v) for k, v in self.fixed.items()})
        object.__setattr__(self, "priors", dict(self.priors))

    @property
    def code(self) -> int:
        """The type's code in the Stan program."""
        return SPECTRUM_TYPES[self.kind][0]

    @property
    def parameter_names(self) -> tuple[str, ...]:
        """Shape parameters of the type, in order."""
        return tuple(SPECTRUM_TYPES[self.kind][1])

    @property
    def free_parameters(self) -> tuple[str, ...]:
        """Shape parameters that are fitted."""
        return tuple(n for n in self.parameter_names if n not in self.fixed)

    def prior(self, name: str) -> ShapePrior:
        """Bounds and prior of a shape parameter."""
        return self.priors.get(name, SPECTRUM_TYPES[self.kind][1][name])

    def shape_vector(self, values: Mapping[str, float]) -> NDArray[np.float64]:
        """All shape parameters in order: fixed ones from ``fixed``, free ones from
        ``values``."""
        return np.array([self.fixed[n] if n in self.fixed else float(values[n])
                         for n in self.parameter_names])

    def log_norm(self, photon_flux: float, values: Mapping[str, float]) -> float:
        """ln of the normalisation (ph cm-2 s-1 keV-1 at 1 keV, Band: at the pivot) giving
        ``photon_flux`` (ph cm-2 s-1, unabsorbed) in ``flux_band``."""
        nodes = quadrature_nodes(*self.flux_band)
        terms = nodes.log_weight + log_photon_shape(self.kind, np.exp(nodes.log_energy),
                                                    self.shape_vector(values), self.pivot)
        return math.log(photon_flux) - float(logsumexp(terms))

    def bin_flux(self, edges: ArrayLike, photon_flux: float, values: Mapping[str, float],
                 *, absorbed: bool = True, max_step: float = 0.02) -> NDArray[np.float64]:
        """Photon flux per bin, ph cm-2 s-1 (the Stan program's ``bin_flux``).

        Parameters
        ----------
        edges : array_like, shape (n + 1,)
            Bin edges, keV.
        photon_flux : float
            ph cm-2 s-1 in ``flux_band``, unabsorbed.
        values : mapping
            Free shape parameters.
        absorbed : bool
            Apply the absorption of ``nh``. Default is True.
        max_step : float
            Largest Simpson step in ln E. Default 0.02.
        """
        edges = np.asarray(edges, dtype=float)
        nodes = quadrature_nodes(edges[:-1], edges[1:], max_step=max_step)
        energy = np.exp(nodes.log_energy)
        terms = nodes.log_weight + log_photon_shape(self.kind, energy,
                                                    self.shape_vector(values), self.pivot)
        if absorbed and self.nh > 0:
            terms = terms - self.nh * mm83_cross_section(energy)
        log_bins = np.array([logsumexp(terms[s:s + c]) for s, c in
                             zip(nodes.start, nodes.count, strict=True)])
        return np.exp(self.log_norm(photon_flux, values) + log_bins)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description."""
        return {"kind": self.kind, "fixed": dict(self.fixed),
                "free": {n: vars(self.prior(n)) for n in self.free_parameters},
                "flux_band_keV": list(self.flux_band),
                "log_flux_prior": list(self.log_flux_prior), "nh_1e22": self.nh,
                "pivot_keV": self.pivot}
