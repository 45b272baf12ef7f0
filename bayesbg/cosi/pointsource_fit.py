"""Band spectral fit of a COSI point source: maximum likelihood and NUTS through
``stan_models/cosi_point_source_spectrum.stan`` (docs/cosi_io.md, "Band spectral fit").

Input: binned data and a background model over (Em, Phi, PsiChi) (cosipy histpy files)
and a :class:`~bayesbg.cosi.pointsource.PointSourceResponse`; :func:`load_cosipy_fit_data`
builds all of it from cosipy's files. The model is

    m[c] = sum_e P[e, c] K F[e](alpha, beta, xp) + bkg_norm B[c]

with the Band shape integrated over each true-energy bin by Simpson's rule in ln E
(``n_sub`` sub-intervals per bin, computed in the Stan program).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import arviz as az
import cmdstanpy
import numpy as np
from numpy.typing import NDArray

from bayesbg.config import SamplerConfig
from bayesbg.cosi.io.histpy_files import (
    Histogram,
    read_detector_response,
    read_histogram,
)
from bayesbg.cosi.io.orientation import read_ori
from bayesbg.cosi.pointsource import (
    PointSourceResponse,
    band_bin_integrals,
    point_source_response,
)
from bayesbg.stan import (
    OptimizeResult,
    check_run_dir,
    compile_model,
    optimize,
    sample,
    stan_model_file,
    to_inference_data,
)
from bayesbg.stan.result import FitResult, conclude_fit

__all__ = [
    "PARAMETERS",
    "PointSourceFitResult",
    "SpectrumFitData",
    "cosipy_log_like",
    "expected_counts",
    "fit_point_source_spectrum",
    "load_cosipy_fit_data",
    "maximum_likelihood_spectrum",
    "point_source_spectrum_model",
    "spectrum_fit_data",
]

log = logging.getLogger(__name__)

PARAMETERS = ("K", "alpha", "beta", "xp", "bkg_norm")
"""Band amplitude at the pivot (ph cm-2 s-1 keV-1), indices, peak energy (keV),
background normalisation."""
MODEL_NAME = "cosi_point_source_spectrum"
DEFAULT_ADAPT_DELTA = 0.95
DATA_AXES = ("Em", "Phi", "PsiChi")


@dataclass(frozen=True)
class SpectrumFitData:
    """Data, background and response of a point-source spectral fit, with the priors.

    Attributes
    ----------
    counts : `numpy.ndarray`, shape (n_Em, n_Phi, n_PsiChi)
        Observed counts (non-negative; may be non-integer, e.g. cosipy's test data).
    background : `numpy.ndarray`, same shape
        Background model, counts for ``bkg_norm = 1``.
    response : `bayesbg.cosi.pointsource.PointSourceResponse`
        Exposure (cm2 s) per true-energy bin and data bin.
    pivot : float
        keV, pivot of K. Default is 500 (cosipy's spectral-fit test).
    n_sub : int
        Even Simpson sub-intervals per true-energy bin. Default is 32.
    alpha_bounds, beta_bounds, xp_bounds : tuple of float
        Parameter ranges; defaults (-1.95, 3), (-5, -2), (10, 1e4) keV. beta < -2 makes
        xp the peak of E^2 f(E); the upper bound of beta must be below alpha's lower one.
    log_flux_prior, alpha_prior, beta_prior, log_xp_prior, log_bkg_prior : tuple of float
        Normal priors (mean, sd). The amplitude is sampled as the photon flux over the
        true-energy range (ph cm-2 s-1; K is derived from it): ln flux ~ N(0, 7), very
        wide (1e-6 to 1e6 within 2 sd); alpha ~ N(-1, 1), beta ~ N(-2.3, 0.5) (typical
        Band indices); ln xp ~ N(ln 300, 1.5); ln bkg_norm ~ N(0, 1).
    """

    counts: NDArray[np.float64]
    background: NDArray[np.float64]
    response: PointSourceResponse
    pivot: float = 500.0
    n_sub: int = 32
    alpha_bounds: tuple[float, float] = (-1.95, 3.0)
    beta_bounds: tuple[float, float] = (-5.0, -2.0)
    xp_bounds: tuple[float, float] = (10.0, 1e4)
    log_flux_prior: tuple[float, float] = (0.0, 7.0)
    alpha_prior: tuple[float, float] = (-1.0, 1.0)
    beta_prior: tuple[float, float] = (-2.3, 0.5)
    log_xp_prior: tuple[float, float] = (math.log(300.0), 1.5)
    log_bkg_prior: tuple[float, float] = (0.0, 1.0)

    def __post_init__(self) -> None:
        shape = self.response.exposure.shape[1:]
        for name in ("counts", "background"):
            value = np.asarray(getattr(self, name), dtype=float)
            if value.shape != shape:
                raise ValueError(f"{name}: expected shape {shape} (Em, Phi, PsiChi of the "
                                 f"response), found {value.shape}")
            if not np.all(np.isfinite(value)) or np.any(value < 0):
                raise ValueError(f"{name}: expected finite non-negative counts")
            object.__setattr__(self, name, value)
        if self.n_sub < 2 or self.n_sub % 2:
            raise ValueError(f"n_sub: expected an even number >= 2, found {self.n_sub}")
        if not self.pivot > 0:
            raise ValueError(f"pivot: expected a positive energy in keV, found {self.pivot}")
        for name in ("alpha_bounds", "beta_bounds", "xp_bounds"):
            lo, hi = getattr(self, name)
            if not lo < hi:
                raise ValueError(f"{name}: expected lower < upper, found ({lo}, {hi})")
        if not (self.alpha_bounds[0] > -2.0 and self.beta_bounds[1] < self.alpha_bounds[0]):
            raise ValueError("alpha_bounds, beta_bounds: expected alpha > -2 and the upper "
                             "bound of beta below the lower bound of alpha")
        if self.xp_bounds[0] <= 0:
            raise ValueError(f"xp_bounds: expected positive keV, found {self.xp_bounds}")
        for name in ("log_flux_prior", "alpha_prior", "beta_prior", "log_xp_prior",
                     "log_bkg_prior"):
            mean, sd = getattr(self, name)
            if not (np.isfinite(mean) and sd > 0):
                raise ValueError(f"{name}: expected (finite mean, sd > 0), found ({mean}, {sd})")
        populated = self.counts > 0
        source_zero = self.response.exposure.sum(axis=0) <= 0
        empty = populated & source_zero & (self.background <= 0)
        if np.any(empty):
            raise ValueError(f"counts: {int(empty.sum())} bins hold counts but neither the "
                             f"response nor the background predicts any")

    @property
    def energy_true_edges(self) -> NDArray[np.float64]:
        """True-energy bin edges, keV."""
        return self.response.energy_true_edges

    def to_stan_data(self, *, use_priors: bool = True) -> dict[str, Any]:
        """The ``data`` block of ``cosi_point_source_spectrum.stan``."""
        exposure = self.response.exposure  # (E, M, Phi, PsiChi)
        n_e, n_m = exposure.shape[:2]
        flat_exposure = exposure.reshape(n_e, -1).T  # (bins, E)
        flat_counts = self.counts.ravel()
        flat_background = self.background.ravel()
        populated = np.flatnonzero(flat_counts > 0)
        energy_bin = np.unravel_index(populated, self.counts.shape)[0] + 1
        return {
            "E": int(n_e),
            "energy_true_edges": self.energy_true_edges.tolist(),
            "n_sub": int(self.n_sub),
            "pivot": float(self.pivot),
            "M": int(n_m),
            "N": int(populated.size),
            "counts": flat_counts[populated],
            "energy_bin": energy_bin.astype(int).tolist(),
            "response": flat_exposure[populated],
            "background": flat_background[populated],
            "response_total": exposure.sum(axis=(2, 3)).T,
            "background_total": self.background.sum(axis=(1, 2)),
            "alpha_bounds": list(self.alpha_bounds),
            "beta_bounds": list(self.beta_bounds),
            "xp_bounds": list(self.xp_bounds),
            "log_flux_prior": list(self.log_flux_prior),
            "alpha_prior": list(self.alpha_prior),
            "beta_prior": list(self.beta_prior),
            "log_xp_prior": list(self.log_xp_prior),
            "log_bkg_prior": list(self.log_bkg_prior),
            "use_priors": int(use_priors),
        }


def _check_matching_axes(histogram: Histogram, response: PointSourceResponse,
                         name: str) -> None:
    axes = [histogram.axis(label) for label in DATA_AXES]
    if not np.allclose(axes[0].edges, response.energy_edges):
        raise ValueError(f"{name}: Em edges {axes[0].edges} differ from the response's "
                         f"{response.energy_edges}")
    if not np.allclose(axes[1].edges, response.phi_edges):
        raise ValueError(f"{name}: Phi edges differ from the response's")
    if axes[2].nside != response.psi_chi_nside:
        raise ValueError(f"{name}: PsiChi nside {axes[2].nside} differs from the "
                         f"response's {response.psi_chi_nside}")
    coordsys = axes[2].coordsys or response.coordsys
    if coordsys != response.coordsys:
        raise ValueError(f"{name}: PsiChi binned in {coordsys!r} but the response is in "
                         f"{response.coordsys!r}")


def spectrum_fit_data(data: Histogram, background: Histogram, response: PointSourceResponse,
                      **options: Any) -> SpectrumFitData:
    """Fit data from histpy histograms (projected on Em, Phi, PsiChi) and a response.

    Parameters
    ----------
    data, background : `bayesbg.cosi.io.Histogram`
        Binned data and background model; other axes (Ei, SigmaTau, Dist, Time) are
        summed over.
    response : `bayesbg.cosi.pointsource.PointSourceResponse`
    **options
        Further fields of `SpectrumFitData` (``pivot``, priors, bounds, ``n_sub``).
    """
    _check_matching_axes(data, response, "data")
    _check_matching_axes(background, response, "background")
    return SpectrumFitData(
        counts=data.project(*DATA_AXES).contents,
        background=background.project(*DATA_AXES).contents,
        response=response,
        **options,
    )


def load_cosipy_fit_data(
    data_path: str | Path,
    background_path: str | Path,
    response_path: str | Path,
    orientation_path: str | Path,
    *,
    lon: float,
    lat: float,
    **options: Any,
) -> SpectrumFitData:
    """Read cosipy's files and build the fit data (the PsiChi frame from the data file).

    Parameters
    ----------
    data_path, background_path : str or `~pathlib.Path`
        histpy HDF5 histograms (e.g. ``test_spectral_fit_data.h5``).
    response_path : str or `~pathlib.Path`
        Full detector response (e.g. ``test_full_detector_response.h5``).
    orientation_path : str or `~pathlib.Path`
        MEGAlib ``.ori`` file.
    lon, lat : float
        Galactic position of the source, deg.
    **options
        Fields of `SpectrumFitData`.
    """
    data = read_histogram(data_path)
    background = read_histogram(background_path)
    coordsys = data.axis("PsiChi").coordsys or "spacecraftframe"
    psr = point_source_response(read_detector_response(response_path),
                                read_ori(orientation_path), lon, lat, coordsys=coordsys)
    return spectrum_fit_data(data, background, psr, **options)


def expected_counts(data: SpectrumFitData, params: Mapping[str, float]
                    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Source and background expected counts (Em, Phi, PsiChi) for parameter values.

    ``params`` holds ``K, alpha, beta, xp, bkg_norm`` (see :data:`PARAMETERS`).
    """
    flux = band_bin_integrals(data.energy_true_edges, float(params["K"]),
                              float(params["alpha"]), float(params["beta"]),
                              float(params["xp"]), data.pivot, n_sub=data.n_sub)
    return (data.response.expected_counts(flux),
            float(params["bkg_norm"]) * data.background)


def cosipy_log_like(data: SpectrumFitData, params: Mapping[str, float]) -> float:
    """cosipy's ``COSILike.get_log_like``: ``sum d log(m + 1e-12) - (m + 1e-12)``.

    No ``log d!`` term, and 1e-12 added to every bin's expectation, as cosipy does;
    compare it with cosipy's published values.
    """
    source, background = expected_counts(data, params)
    m = source + background + 1e-12
    return float(np.nansum(data.counts * np.log(m) - m))


def point_source_spectrum_model() -> cmdstanpy.CmdStanModel:
    """The compiled ``stan_models/cosi_point_source_spectrum.stan`` (cached)."""
    return compile_model(stan_model_file(MODEL_NAME))


_STARTS = (
    {"K": 1.0, "alpha": -1.0, "beta": -2.5, "xp": 300.0, "bkg_norm": 1.0},
    {"K": 1e-3, "alpha": -0.5, "beta": -2.2, "xp": 1000.0, "bkg_norm": 1.0},
    {"K": 1e-1, "alpha": 0.5, "beta": -3.0, "xp": 150.0, "bkg_norm": 0.5},
    {"K": 10.0, "alpha": -1.5, "beta": -2.1, "xp": 2000.0, "bkg_norm": 2.0},
)


def _start_values(data: SpectrumFitData, start: Mapping[str, float]) -> dict[str, float]:
    """A starting point inside the bounds with K scaled to the observed excess."""
    values = dict(start)
    values["alpha"] = float(np.clip(values["alpha"], *_inner(data.alpha_bounds)))
    values["beta"] = float(np.clip(values["beta"], *_inner(data.beta_bounds)))
    values["xp"] = float(np.clip(values["xp"], *_inner(data.xp_bounds)))
    source, _ = expected_counts(data, {**values, "K": 1.0, "bkg_norm": 0.0})
    excess = max(data.counts.sum() - values["bkg_norm"] * data.background.sum(),
                 0.1 * data.counts.sum())
    if source.sum() > 0:
        values["K"] = float(excess / source.sum())
    return values


@contextmanager
def _quiet_cmdstanpy() -> Iterator[None]:
    """Silence cmdstanpy's warnings about L-BFGS runs that end in a failed line search
    (expected at a flat maximum; the estimate is kept and compared across starts)."""
    logger = logging.getLogger("cmdstanpy")
    disabled = logger.disabled
    logger.disabled = True
    try:
        yield
    finally:
        logger.disabled = disabled


def _stan_inits(data: SpectrumFitData, values: Mapping[str, float]) -> dict[str, float]:
    """Initial values of the Stan parameters: K becomes the photon flux it implies."""
    shape = band_bin_integrals(data.energy_true_edges, 1.0, values["alpha"], values["beta"],
                               values["xp"], data.pivot, n_sub=data.n_sub)
    inits = {name: float(values[name]) for name in ("alpha", "beta", "xp", "bkg_norm")}
    inits["photon_flux"] = float(values["K"] * shape.sum())
    return inits


def _inner(bounds: tuple[float, float]) -> tuple[float, float]:
    lo, hi = bounds
    pad = 1e-3 * (hi - lo)
    return lo + pad, hi - pad


def maximum_likelihood_spectrum(
    data: SpectrumFitData,
    *,
    seed: int,
    model: cmdstanpy.CmdStanModel | None = None,
    starts: Sequence[Mapping[str, float]] | None = None,
    **kwargs: Any,
) -> OptimizeResult:
    """Maximum-likelihood Band fit (priors off), best of several L-BFGS starts.

    The Band likelihood can have separate local maxima (cosipy's own test moved from one
    to another between versions), so the optimiser is started from several points (K
    scaled to the observed excess) and the highest ``ln L`` is kept.

    Parameters
    ----------
    data : `SpectrumFitData`
    seed : int
    model : `cmdstanpy.CmdStanModel`, optional
        Default :func:`point_source_spectrum_model`.
    starts : sequence of mappings, optional
        Starting values (``K, alpha, beta, xp, bkg_norm``); default four spread points.
    **kwargs
        More keywords of `bayesbg.stan.optimize`.

    Returns
    -------
    result : `bayesbg.stan.OptimizeResult`
        ``log_likelihood`` is the full Poisson ``ln L`` (with ``-sum lgamma(d + 1)``);
        :func:`cosipy_log_like` gives cosipy's convention.
    """
    if not isinstance(data, SpectrumFitData):
        raise TypeError(f"data: expected SpectrumFitData, found {type(data).__name__}")
    model = model if model is not None else point_source_spectrum_model()
    stan_data = data.to_stan_data(use_priors=False)
    kwargs.setdefault("iter", 20000)
    kwargs.setdefault("sig_figs", 15)
    kwargs.setdefault("algorithm", "lbfgs")
    kwargs.setdefault("tol_rel_grad", 1e2)  # tighter than CmdStan's 1e7: a flat maximum
    kwargs.setdefault("tol_rel_obj", 1.0)
    # L-BFGS often ends with "line search failed" at a flat maximum; keep that estimate
    kwargs.setdefault("require_converged", False)
    best: OptimizeResult | None = None
    for start in starts if starts is not None else _STARTS:
        try:
            with _quiet_cmdstanpy():
                result = optimize(model, stan_data, seed=seed, jacobian=False,
                                  inits=_stan_inits(data, _start_values(data, start)),
                                  **kwargs)
        except RuntimeError as err:  # a start that fails is skipped
            log.info("optimisation from %s failed: %s", dict(start), err)
            continue
        log.debug("start %s: ln L = %.6f", dict(start), result.log_likelihood)
        if best is None or result.log_likelihood > best.log_likelihood:
            best = result
    if best is None:
        raise RuntimeError("maximum_likelihood_spectrum: every optimisation start failed")
    return best


class PointSourceFitResult(FitResult):
    """Outcome of :func:`fit_point_source_spectrum`.

    Attributes
    ----------
    inference_data : `arviz.InferenceData`
        ``posterior`` (``K, alpha, beta, xp, bkg_norm``, ``photon_flux`` (the sampled
        amplitude, ph cm-2 s-1), ``bin_flux`` over ``energy_true``, ``source_counts``,
        ``background_counts`` over ``energy``), ``log_likelihood`` (``log_lik`` per Em bin),
        ``posterior_predictive`` (``counts_rep``), ``observed_data`` (``counts`` per Em
        bin), ``constant_data``, ``sample_stats``.
    diagnostics, summary, seed, config, run_dir, fit
        As `bayesbg.stan.FitResult`.
    """


def fit_point_source_spectrum(
    data: SpectrumFitData,
    *,
    seed: int,
    config: SamplerConfig | None = None,
    run_dir: str | Path | None = None,
    overwrite: bool = False,
    truth: Mapping[str, float] | None = None,
    model: cmdstanpy.CmdStanModel | None = None,
    extra: Mapping[str, Any] | None = None,
) -> PointSourceFitResult:
    """Sample the posterior of the Band point-source fit with NUTS.

    Chains start near the maximum-likelihood estimate (found first, priors off),
    each jittered independently by a few per cent (seeded from ``seed``).

    Parameters
    ----------
    data : `SpectrumFitData`
    seed : int
    config : `bayesbg.config.SamplerConfig`, optional
        Default ``SamplerConfig(adapt_delta=0.95)``: the Band shape parameters are
        curved against each other when the data are few, and the smaller steps avoid
        divergent transitions.
    run_dir : str or `~pathlib.Path`, optional
        Write a run directory.
    overwrite : bool
        Replace an existing run directory. Default is False.
    truth : mapping, optional
        Known parameter values for the summary.
    model : `cmdstanpy.CmdStanModel`, optional
    extra : mapping, optional
        More entries for ``summary.json``.

    Returns
    -------
    result : `PointSourceFitResult`
    """
    if not isinstance(data, SpectrumFitData):
        raise TypeError(f"data: expected SpectrumFitData, found {type(data).__name__}")
    config = config if config is not None else SamplerConfig(adapt_delta=DEFAULT_ADAPT_DELTA)
    target = check_run_dir(run_dir, overwrite=overwrite) if run_dir is not None else None
    model = model if model is not None else point_source_spectrum_model()
    mle = maximum_likelihood_spectrum(data, seed=seed, model=model)
    inits = _jittered_inits(data, mle, chains=config.chains, seed=seed)
    stan_data = data.to_stan_data()
    fit = sample(model, stan_data, seed=seed, inits=inits, **config.to_kwargs())
    idata = _inference_data(fit, data)
    return conclude_fit(
        PointSourceFitResult, fit, idata, model=model, stan_data=stan_data, config=config,
        seed=seed, parameters=PARAMETERS,
        truth={k: v for k, v in truth.items() if k in PARAMETERS} if truth else None,
        run_dir=target, overwrite=overwrite,
        extra={
            "model": MODEL_NAME,
            "inits": "maximum-likelihood estimate, jittered per chain",
            "maximum_likelihood": {name: float(mle.estimate[name]) for name in PARAMETERS},
            "problem": {
                "source_lon_deg": data.response.lon,
                "source_lat_deg": data.response.lat,
                "coordsys": data.response.coordsys,
                "n_populated": int(np.count_nonzero(data.counts)),
                "total_counts": float(data.counts.sum()),
                "pivot_keV": data.pivot,
            },
            **dict(extra or {}),
        },
    )


def _jittered_inits(data: SpectrumFitData, mle: OptimizeResult, *, chains: int,
                    seed: int) -> list[dict[str, float]]:
    generator = np.random.default_rng([int(seed), 0xBA4D])
    inits = []
    for _ in range(chains):
        jitter = generator.normal(0.0, 0.03, 5)
        values = {
            "K": float(mle.estimate["K"]) * math.exp(jitter[0]),
            "alpha": float(np.clip(mle.estimate["alpha"] + jitter[1],
                                   *_inner(data.alpha_bounds))),
            "beta": float(np.clip(mle.estimate["beta"] + jitter[2], *_inner(data.beta_bounds))),
            "xp": float(np.clip(mle.estimate["xp"] * math.exp(jitter[3]),
                                *_inner(data.xp_bounds))),
            "bkg_norm": float(max(mle.estimate["bkg_norm"], 1e-3)) * math.exp(jitter[4]),
        }
        inits.append(_stan_inits(data, values))
    return inits


def _inference_data(fit: cmdstanpy.CmdStanMCMC, data: SpectrumFitData) -> az.InferenceData:
    stan = data.to_stan_data()
    n_m = stan["M"]
    return to_inference_data(
        fit,
        log_likelihood="log_lik",
        posterior_predictive="counts_rep",
        observed_data={"counts": data.counts.sum(axis=(1, 2))},
        constant_data={
            "energy_true_edges": data.energy_true_edges,
            "energy_edges": data.response.energy_edges,
            "background_total": stan["background_total"],
        },
        coords={
            "energy": list(range(n_m)),
            "energy_true": list(range(stan["E"])),
            "energy_edge": list(range(n_m + 1)),
            "energy_true_edge": list(range(stan["E"] + 1)),
        },
        dims={
            "bin_flux": ["energy_true"],
            "source_counts": ["energy"],
            "background_counts": ["energy"],
            "log_lik": ["energy"],
            "counts_rep": ["energy"],
            "counts": ["energy"],
            "energy_true_edges": ["energy_true_edge"],
            "energy_edges": ["energy_edge"],
            "background_total": ["energy"],
        },
    )


def with_options(data: SpectrumFitData, **options: Any) -> SpectrumFitData:
    """A copy of ``data`` with other priors, bounds or quadrature (dataclass replace)."""
    return replace(data, **options)
