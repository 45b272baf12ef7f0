"""The spectral fits of [ISGRI] Tables 2, 3 and Appendix C on a pipeline run's spectra.

The spectra are those the pipeline measured (`bayesbg.isgri.products.region_spectrum`:
21 narrow bands, mCrab per FOV, upper limits below 2 sigma). Each is fitted with
`bayesbg.spectra.fit_spectrum` (NUTS through `bayesbg.stan.conclude_fit`, then the
maximum likelihood for AIC and BIC):

- Table 2: cutoffpl (index 0) + powerlaw (index 1.55), component fluxes in 30-80 keV
  (XSPEC's cflux convention), for GB, L+20 and L-20;
- Table 3: IPM + powerlaw (index 1.55), for the same regions;
- Appendix C: each point source with expcutoff (cutoffpl with index 0) + powerlaw with
  a free index.

The collimator convention scales every band of a spectrum by one factor
(`bayesbg.isgri.products.collimator_scale`); it leaves the shapes and the fractions
unchanged and moves the component fluxes by ``|scale - 1|`` of their value, reported as
their systematic error (`FitQuantity.systematic`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import cmdstanpy
import numpy as np

from bayesbg.config import SamplerConfig
from bayesbg.isgri.paper import PAPER_MODELS
from bayesbg.isgri.pipeline import PipelineResult
from bayesbg.isgri.products import collimator_scale, region_spectrum
from bayesbg.isgri.simulate import IsgriTruth
from bayesbg.spectra.data import SpectralData
from bayesbg.spectra.fit import SpectralFitResult, fit_spectrum, spectral_fit_model
from bayesbg.spectra.spectral_model import SpectralModel

__all__ = [
    "GALACTIC_REGIONS",
    "SPECTRAL_SAMPLER",
    "FitQuantity",
    "PaperFits",
    "fit_paper_spectra",
    "fit_quantities",
]

log = logging.getLogger(__name__)

GALACTIC_REGIONS = ("GB", "L+20", "L-20")
"""The regions of [ISGRI] Tables 2 and 3."""
SPECTRAL_SAMPLER = SamplerConfig(chains=4, iter_warmup=1000, iter_sampling=2500,
                                 metric="dense_e", adapt_delta=0.999)
"""Default NUTS settings of the spectral fits (dense metric: the component fluxes are
strongly correlated; 2500 draws per chain: a component flux near 0 has long tails, and
1000 draws left its tail ESS below 400; ``adapt_delta`` 0.999: with a component flux
piled against 0 the IPM fits had 1-4 divergent transitions in 10,000 at 0.95 and still
one at 0.99, none at 0.999 on the seeds tried; the fits take seconds either way)."""


@dataclass(frozen=True)
class FitQuantity:
    """One fitted quantity: posterior median, 68 % interval, sd, collimator systematic.

    Attributes
    ----------
    median, lower, upper : float
        Median and the 16 % and 84 % quantiles.
    sd : float
        Posterior standard deviation.
    systematic : float
        Collimator systematic (fluxes only; 0 for shapes and fractions).
    """

    median: float
    lower: float
    upper: float
    sd: float
    systematic: float = 0.0


@dataclass(frozen=True, eq=False)
class PaperFits:
    """The fits of one run.

    Attributes
    ----------
    fits : dict
        ``{(spectrum, model key): SpectralFitResult}``; model keys ``"table2"``,
        ``"table3"``, ``"point_source"`` (`bayesbg.isgri.paper.PAPER_MODELS`).
    spectra : dict of str to `bayesbg.spectra.SpectralData`
    scales : dict of str to float
        `bayesbg.isgri.products.collimator_scale` of each spectrum.
    truth : dict
        ``{(spectrum, model key): injected values}`` on a simulation whose injected
        model is the fitted one, else empty.
    """

    fits: dict[tuple[str, str], SpectralFitResult]
    spectra: dict[str, SpectralData]
    scales: dict[str, float]
    truth: dict[tuple[str, str], dict[str, float]]

    def quantities(self, spectrum: str, key: str) -> dict[str, FitQuantity]:
        """`fit_quantities` of one fit, with its collimator systematic."""
        return fit_quantities(self.fits[(spectrum, key)],
                              scale=self.scales.get(spectrum, 1.0))


def fit_quantities(fit: SpectralFitResult, *, scale: float = 1.0) -> dict[str, FitQuantity]:
    """Median, 68 % interval and sd of every reported quantity of a spectral fit.

    Parameters
    ----------
    fit : `bayesbg.spectra.SpectralFitResult`
    scale : float
        Collimator scale of the spectrum (module docstring). Default is 1.

    Returns
    -------
    quantities : dict
        Keys: free shape parameters (``cutoffpl.ecut``), ``<component>.flux``,
        ``flux_total``, ``fraction.<component>``.
    """
    post = fit.inference_data.posterior
    model = fit.spectral_model
    draws: dict[str, np.ndarray] = {}
    for label in model.free_shape_names:
        draws[label] = np.asarray(post[label]).ravel()
    for k, name in enumerate(model.component_names):
        draws[f"{name}.flux"] = np.asarray(post["flux"][..., k]).ravel()
    draws["flux_total"] = np.asarray(post["flux_total"]).ravel()
    for k, name in enumerate(model.component_names):
        draws[f"fraction.{name}"] = np.asarray(post["flux_fraction"][..., k]).ravel()
    out = {}
    relative = abs(scale - 1.0)
    for label, values in draws.items():
        lower, median, upper = np.quantile(values, [0.16, 0.5, 0.84])
        flux = label.endswith(".flux") or label == "flux_total"
        out[label] = FitQuantity(float(median), float(lower), float(upper),
                                 float(np.std(values, ddof=1)),
                                 relative * abs(float(median)) if flux else 0.0)
    return out


def _spectral_truth(result: PipelineResult, truth: IsgriTruth | None, name: str, key: str
                    ) -> dict[str, float] | None:
    """Injected values of a fitted model, when the simulation injected that model."""
    if truth is None:
        return None
    if key == "point_source":
        source = truth.point_source
        if source is None or source.source.name != name:
            return None
        return {k: float(v) for k, v in source.truth.items()}
    injected = {"table2": "cutoffpl", "table3": "ipm"}[key]
    if truth.spectrum.name != injected:
        return None
    region = next((r for r in result.regions if r.name == name), None)
    if region is None:
        return None
    return truth.injected_spectrum(result.region_ids(region), result.background_ids)


def fit_paper_spectra(
    result: PipelineResult, *, seed: int, config: SamplerConfig | None = None,
    model: cmdstanpy.CmdStanModel | None = None,
    regions: Sequence[str] = GALACTIC_REGIONS, truth: IsgriTruth | None = None,
    models: Sequence[str] = ("table2", "table3"),
    spectra: Mapping[str, SpectralData] | None = None, point_sources: bool = True,
) -> PaperFits:
    """Fit Tables 2, 3 (and Appendix C for every point source of the run).

    Parameters
    ----------
    result : `PipelineResult`
        A run with narrow-band spectra.
    seed : int
        Seed of the first fit; fit ``i`` (in the order regions x models, then point
        sources) uses ``seed + i``.
    config : `bayesbg.config.SamplerConfig`, optional
        Default `SPECTRAL_SAMPLER`.
    model : `cmdstanpy.CmdStanModel`, optional
        Compiled ``spectral_fit``; default `bayesbg.spectra.spectral_fit_model`.
    regions : sequence of str
        Default GB, L+20, L-20.
    truth : `bayesbg.isgri.IsgriTruth`, optional
        Injected values for the summaries (simulations).
    models : sequence of str
        Which of ``"table2"``, ``"table3"``. Default both.
    spectra : mapping, optional
        The spectra to fit by name; default `region_spectrum` of the run.
    point_sources : bool
        Fit the Appendix C model to the run's point sources. Default is True.

    Returns
    -------
    fits : `PaperFits`
    """
    if result.spectra.empty:
        raise ValueError("result: the run has no narrow-band spectra (the table has none of "
                         "the 21 bands of 25-185 keV)")
    unknown = [key for key in models if key not in ("table2", "table3")]
    if unknown:
        raise ValueError(f"models: expected 'table2' and/or 'table3', found {unknown}")
    config = config if config is not None else SPECTRAL_SAMPLER
    model = model if model is not None else spectral_fit_model()
    jobs = [(name, key) for name in regions for key in models]
    if point_sources:
        jobs += [(source.source.name, "point_source") for source in result.point_sources]
    data = dict(spectra or {})
    for name, _ in jobs:
        if name not in data:
            data[name] = region_spectrum(result, name)
    fits, injected = {}, {}
    for i, (name, key) in enumerate(jobs):
        expression, fixed, priors = PAPER_MODELS[key]
        spectral_model = SpectralModel.parse(expression, fixed=fixed, priors=priors)
        values = _spectral_truth(result, truth, name, key)
        if values is not None:
            injected[(name, key)] = values
        log.info("spectral fit %d/%d: %s, %s", i + 1, len(jobs), name, expression)
        fits[(name, key)] = fit_spectrum(data[name], spectral_model=spectral_model,
                                         seed=seed + i, config=config, model=model,
                                         truth=values, figure=False)
    scales = {name: collimator_scale(result, name) for name in data}
    return PaperFits(fits, data, scales, injected)
