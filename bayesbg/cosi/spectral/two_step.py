"""The two-step route of [COSI-PS]: a flux per band from template fits, then a spectral
fit of those band fluxes (docs/cosi_spectral.md, "Two-step route").

Step 1 (:func:`fit_band_fluxes`): in each measured band e, the single-band template fit
(``stan_models/cosi_template_fit.stan``) with the template

    T_e[t, c] = P_e[t, c] sum_j R[t, e, j] w_j / w_e       (counts per ph cm-2 s-1)

whose amplitude is the photon flux in the true band with the same edges if the spectrum
has the fiducial shape ``w`` (a power law of index 2 by default; ``w_j`` its flux in true
bin j); the source's significance in the band is ``sqrt(TS)``, ``TS = 2 (ln L_max -
ln L_0)`` with ``ln L_0`` the background-only maximum (every amplitude 1).

Step 2 (:func:`band_flux_dataset`, then any :class:`ForwardFoldProblem`): the band
fluxes as Gaussian channels (posterior mean and sd) with the response

    M[e, j] = a[e] sum_t R[t, e, j] / sum_t sum_j' R[t, e, j'] w_j' / w_e

(the band-flux estimate expected for a photon flux ``F_j`` in each true bin; for the
fiducial shape exactly the flux in band e), fitted alone or with other instruments as
XSPEC fits the paper's COSI spectra.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import sparse

from bayesbg.config import SamplerConfig
from bayesbg.cosi.data import CosiDataset
from bayesbg.cosi.fit import fit_cosi, maximum_likelihood
from bayesbg.cosi.model.background import BackgroundModel, build_background_model
from bayesbg.cosi.model.fit_data import prepare_fit_data
from bayesbg.cosi.model.program import cosi_fit_model
from bayesbg.cosi.spectral.instruments import InstrumentData
from bayesbg.cosi.spectral.spectrum import PhotonSpectrum

__all__ = ["FIDUCIAL", "BandFlux", "band_flux_dataset", "band_templates", "fit_band_fluxes"]

log = logging.getLogger(__name__)

FIDUCIAL = PhotonSpectrum("powerlaw", fixed={"index": 2.0})
"""The fiducial spectral shape of the band templates: a power law of index 2."""


def _fiducial_weights(energy_true_edges: NDArray[np.float64], band: tuple[float, float],
                      fiducial: PhotonSpectrum) -> tuple[NDArray[np.float64], float]:
    weights = fiducial.bin_flux(energy_true_edges, 1.0, {}, absorbed=False)
    in_band = float(fiducial.bin_flux(np.array(band), 1.0, {}, absorbed=False)[0])
    return weights, in_band


def band_templates(exposure: ArrayLike, energy_true_edges: ArrayLike,
                   energy_edges: ArrayLike, *, fiducial: PhotonSpectrum = FIDUCIAL
                   ) -> NDArray[np.float64]:
    """Counts per ph cm-2 s-1 in band e per time bin for the fiducial shape,
    ``sum_j R[t, e, j] w_j / w_e``, shape (n_band, n_time); ``T_e = P_e x`` this row."""
    response = np.asarray(exposure, dtype=float)
    true_edges = np.asarray(energy_true_edges, dtype=float)
    edges = np.asarray(energy_edges, dtype=float)
    out = np.empty((edges.size - 1, response.shape[0]))
    for e in range(edges.size - 1):
        weights, in_band = _fiducial_weights(true_edges, (edges[e], edges[e + 1]), fiducial)
        out[e] = response[:, e, :] @ weights / in_band
    return out


@dataclass(frozen=True)
class BandFlux:
    """Step 1 in one band: the photon flux (ph cm-2 s-1) for the fiducial shape.

    Attributes
    ----------
    energy_min, energy_max : float
        keV.
    mean, sd, q5, q50, q95 : float
        Posterior of the band flux (NUTS), ph cm-2 s-1.
    ml_flux : float
        Maximum-likelihood flux, ph cm-2 s-1.
    ts : float
        ``2 (ln L_max - ln L_0)``.
    diagnostics_passed : bool
    """

    energy_min: float
    energy_max: float
    mean: float
    sd: float
    q5: float
    q50: float
    q95: float
    ml_flux: float
    ts: float
    diagnostics_passed: bool

    @property
    def significance(self) -> float:
        """``sqrt(TS)`` (0 when the maximum is at zero flux), sigma."""
        return math.sqrt(max(self.ts, 0.0))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values."""
        return {**vars(self), "significance": self.significance}


def fit_band_fluxes(
    dataset: CosiDataset,
    *,
    exposure: ArrayLike,
    patterns: Callable[[int], tuple[NDArray[np.float64], NDArray[np.float64]]]
    | Sequence[NDArray[np.float64]],
    background_models: Sequence[BackgroundModel],
    energy_true_edges: ArrayLike,
    seed: int,
    bands: Sequence[int] | None = None,
    fiducial: PhotonSpectrum = FIDUCIAL,
    config: SamplerConfig | None = None,
    flux_prior_sd: float = 0.1,
) -> list[BandFlux]:
    """Step 1: a template fit per measured band (NUTS and maximum likelihood).

    Parameters
    ----------
    dataset : `CosiDataset`
        Multi-band counts.
    exposure : array_like, shape (n_time, n_band, n_true)
        ``R[t, e, j]``, cm2 s.
    patterns : callable or sequence
        Per band ``P[t, c]`` (as for `prepare_spectral_counts`).
    background_models : sequence of `BackgroundModel`
        One per band.
    energy_true_edges : array_like
        keV.
    seed : int
        Seed of every band's fit.
    bands : sequence of int, optional
        Bands to fit (0-based). Default all.
    fiducial : `PhotonSpectrum`
        Shape of the templates. Default `FIDUCIAL`.
    config : `bayesbg.config.SamplerConfig`, optional
        Default 2 chains x (500 + 500).
    flux_prior_sd : float
        The band flux's prior ``N+(0, sd)``, ph cm-2 s-1: wide. Default 0.1.

    Returns
    -------
    fluxes : list of `BandFlux`
    """
    if dataset.energy_edges is None:
        raise ValueError("dataset: expected energy bands (energy_edges), found none")
    config = config if config is not None else SamplerConfig(chains=2, iter_warmup=500,
                                                             iter_sampling=500)
    edges = dataset.energy_edges
    scale = band_templates(exposure, energy_true_edges, edges, fiducial=fiducial)
    program = cosi_fit_model()
    results = []
    for e in (range(dataset.n_energy) if bands is None else bands):
        lo, hi = float(edges[e]), float(edges[e + 1])
        band = dataset.select_energy(lo, hi)
        pattern = patterns(e)[0] if callable(patterns) else np.asarray(patterns[e])
        model = background_models[e]
        # time bins where nothing is expected (a pointing cut) are left out: the time
        # axis is closed up (only the bins' widths matter to the fit)
        kept = np.flatnonzero((model.time_profile() > 0) | (scale[e] > 0))
        widths = np.diff(band.time_edges)[kept]
        template = sparse.csr_array(sparse.diags_array(scale[e][kept])
                                    @ sparse.csr_array(pattern[kept]), dtype=np.float32)
        fit_dataset = CosiDataset(
            counts=sparse.csr_array(band.counts)[kept],
            time_edges=band.time_edges[0] + np.concatenate([[0.0], np.cumsum(widths)]),
            phi_edges=band.phi_edges, n_psi_chi=band.n_psi_chi,
            tracers={k: v[kept] for k, v in band.tracers.items()},
            templates={"point_source": template}, background_response=model.response,
            altitude=None if band.altitude is None else band.altitude[kept],
            energy_edges=band.energy_edges, psi_chi_centres=band.psi_chi_centres)
        background = build_background_model(
            fit_dataset, blocks=np.unique(model.blocks[kept], return_inverse=True)[1] + 1,
            tracer=model.tracer[kept], response=model.response)
        data = prepare_fit_data(fit_dataset, background, flux_prior_mean=0.0,
                                flux_prior_sd=flux_prior_sd)
        ml = maximum_likelihood(data, seed=seed, model=program)
        null = data.log_likelihood([0.0], np.ones(data.n_block))
        result = fit_cosi(data, seed=seed, config=config, model=program)
        draws = result.inference_data.posterior["flux"].values.ravel()
        q5, q50, q95 = np.quantile(draws, [0.05, 0.5, 0.95])
        results.append(BandFlux(
            energy_min=lo, energy_max=hi, mean=float(draws.mean()),
            sd=float(draws.std(ddof=1)), q5=float(q5), q50=float(q50), q95=float(q95),
            ml_flux=float(np.ravel(ml.estimate["flux"])[0]),
            ts=float(2.0 * (ml.log_likelihood - null)),
            diagnostics_passed=bool(result.diagnostics.passed)))
        log.info("band %g-%g keV: flux %.3g +- %.3g ph cm-2 s-1, TS %.1f", lo, hi,
                 results[-1].mean, results[-1].sd, results[-1].ts)
    return results


def band_flux_dataset(
    fluxes: Sequence[BandFlux],
    *,
    exposure: ArrayLike,
    energy_true_edges: ArrayLike,
    energy_edges: ArrayLike,
    atmospheric_correction: ArrayLike | None = None,
    fiducial: PhotonSpectrum = FIDUCIAL,
    name: str = "COSI",
) -> InstrumentData:
    """Step 2's data: the band fluxes as Gaussian channels with their response ``M[e, j]``.

    Parameters
    ----------
    fluxes : sequence of `BandFlux`
        From :func:`fit_band_fluxes`; their bands must be bands of ``energy_edges``.
    exposure : array_like, shape (n_time, n_band, n_true)
    energy_true_edges, energy_edges : array_like
        keV.
    atmospheric_correction : array_like, shape (n_band,), optional
    fiducial : `PhotonSpectrum`
        The templates' shape of step 1.
    name : str
        Dataset name. Default ``"COSI"``.
    """
    response = np.asarray(exposure, dtype=float).sum(axis=0)  # (band, true)
    true_edges = np.asarray(energy_true_edges, dtype=float)
    edges = np.asarray(energy_edges, dtype=float)
    correction = np.ones(edges.size - 1) if atmospheric_correction is None else \
        np.asarray(atmospheric_correction, dtype=float)
    rows = []
    for flux in fluxes:
        e = int(np.flatnonzero(np.isclose(edges[:-1], flux.energy_min))[0])
        weights, in_band = _fiducial_weights(true_edges, (edges[e], edges[e + 1]), fiducial)
        rows.append(correction[e] * response[e] / (response[e] @ weights / in_band))
    return InstrumentData(
        name=name, true_min=true_edges[:-1], true_max=true_edges[1:],
        response=np.stack(rows), likelihood="gauss",
        value=np.array([f.mean for f in fluxes]), error=np.array([f.sd for f in fluxes]),
        channel_min=np.array([f.energy_min for f in fluxes]),
        channel_max=np.array([f.energy_max for f in fluxes]), unit="ph cm-2 s-1")
